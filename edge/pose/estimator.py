"""The pose stage: detector -> rotated ROI -> landmarks, tracking one athlete per camera."""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np

from edge.errors import ModelError
from edge.pose import detector, landmarks
from edge.pose.config import PoseConfig
from edge.pose.content import ContentArea
from edge.pose.manifest import default_models_dir, find_model, load_manifest
from edge.pose.roi import crop_roi, roi_from_alignment
from edge.pose.runtime import OnnxModel
from edge.pose.smoothing import OneEuroFilter
from edge.types import Poses, Roi
from edge.zone import Zone

logger = logging.getLogger(__name__)

_MIN_ROI_PX = 16.0  # an ROI smaller than this cannot hold a person the model can read
_ZONE_MARGIN = 0.25  # when zooming into the zone, add this fraction of its size per side
_TILE_ASPECT = 1.3  # a picture wider (or taller) than this is also searched in square tiles
_LEFT_HIP, _RIGHT_HIP = 23, 24
# Crop sizes tried on a tracked athlete before falling back to the detector: the model's
# pose probability is unstable under heavy occlusion (a plate over the torso) and often
# recovers on a slightly larger crop, where the detector would find nobody.
_RETRY_SCALES = (1.0, 1.15)
_MAX_SMOOTHED_GAP_S = 0.05  # frames further apart (below 20 fps) are not smoothed: see process
# A track lost this recently is picked up again only near where it was (see _acquire), within
# this many of its crop sizes: not a bystander elsewhere in the picture.
_REACQUIRE_S = 2.0
_REACQUIRE_FRAMES = 30  # the same, for frames that come without a time
_REACQUIRE_RADIUS = 1.0
# The segmentation-capable landmark model (tools/build_models.py): the default model with
# its person-mask head kept, run only on the frames a caller asks a mask for.
MASK_MODEL = "blazepose_full_seg_fp32"
MASK_ROLE = "landmark_mask"


class PoseStage(Protocol):
    """What a camera pipeline needs of its pose stage.

    `PoseEstimator`, or in tests `edge.pose.scripted.ScriptedPoseEstimator`.
    """

    def process(self, bgr: np.ndarray, t_s: float | None = None) -> Poses:
        """The athlete's landmarks in one frame (empty when nobody qualifies)."""
        ...

    def reset(self) -> None:
        """Forgets the tracked athlete (a new stream)."""
        ...


class PoseEstimator:
    """Finds and follows the athlete in one camera's frames.

    The detector runs only to acquire (or re-acquire) the athlete; after that each frame's
    ROI comes from the previous frame's auxiliary landmarks, as in MediaPipe's tracking mode.
    Unlike MediaPipe, a lost track is re-acquired on the same frame rather than the next.

    With a mask model, `process_with_mask` runs it instead of the landmark model on the
    frames a caller chooses and also returns the person mask of the crop; `process` never
    touches it.

    Not thread-safe: one estimator per camera (the models may be shared via `models`).
    """

    def __init__(
        self,
        config: PoseConfig,
        zone: Zone | None = None,
        models: tuple[OnnxModel, OnnxModel] | None = None,
        mask_model: OnnxModel | None = None,
    ) -> None:
        """Creates an estimator.

        Args:
            config: The pose section of the configuration.
            zone: Platform zone; the athlete is the person whose hips are inside it.
            models: Already loaded `(detector, landmark)` models to share between cameras.
            mask_model: The segmentation-capable landmark model (`load_mask_model`), needed
                only for `process_with_mask`.

        Raises:
            ModelError: A model is missing, altered or has the wrong interface.
        """
        self.config = config
        self.zone = zone or Zone()
        self.detector_model, self.landmark_model = models or load_pose_models(config)
        self.mask_model = mask_model
        self._want_mask = False
        self._mask: landmarks.CropMask | None = None
        self._anchors = detector.make_anchors()
        self._content = ContentArea()
        self._roi: Roi | None = None
        self._aux_filter = OneEuroFilter()  # MediaPipe smooths the next-ROI points too
        self._search_turn = 0
        self._last_t_s: float | None = None
        self._lost: _LostTrack | None = None
        self.detector_runs = 0
        self.frames = 0
        self.seconds: dict[str, float] = defaultdict(float)  # per-stage time, for benchmarks

    def reset(self) -> None:
        """Forgets the tracked athlete (e.g. after a stream reconnect)."""
        self._drop_track()
        self._lost = None

    def _drop_track(self) -> None:
        """Stops following the athlete, remembering where they were (see `_acquire`)."""
        if self._roi is not None:
            self._lost = _LostTrack(self._roi, self._last_t_s, self.frames)
        self._roi = None
        self._aux_filter.reset()

    def process(self, bgr: np.ndarray, t_s: float | None = None) -> Poses:
        """Returns the athlete's landmarks in one BGR frame (empty when nobody qualifies).

        The frame stays BGR: only the small model inputs are converted to RGB.

        Args:
            bgr: The frame.
            t_s: Its time in seconds, when known. Frames further apart than
                `_MAX_SMOOTHED_GAP_S` (a camera analysed at 10-15 fps) place the next crop
                from this frame's landmarks alone: MediaPipe's smoothing of the crop points
                is tuned for 30 fps and, at lower rates, lags the body until the crop
                slips off it.
        """
        self.frames += 1
        if t_s is not None:
            if self._last_t_s is not None and t_s - self._last_t_s > _MAX_SMOOTHED_GAP_S:
                self._aux_filter.reset()
            self._last_t_s = t_s
        if self._roi is not None:
            tracked = self._roi
            for scale in _RETRY_SCALES:  # the pose flag can dip at one crop and not the next
                poses = self._track(bgr, replace(tracked, size=tracked.size * scale))
                if len(poses):
                    return poses
        roi = self._acquire(bgr)
        return Poses.empty() if roi is None else self._track(bgr, roi)

    def process_with_mask(
        self, bgr: np.ndarray, t_s: float | None = None
    ) -> tuple[Poses, landmarks.CropMask | None]:
        """Like `process`, with the mask model in place of the landmark model, plus its mask.

        The crop is chosen exactly as `process` chooses it and the mask model is the
        landmark model with its segmentation head kept, so the landmarks are the same
        (and tracking goes on unchanged from the next frame); the mask comes in the
        crop's coordinates with the map back to the image. About twice the cost of a
        landmark pass (docs/back.md): meant for a few chosen frames.

        Args:
            bgr: The frame.
            t_s: Its time in seconds, when known (see `process`).

        Returns:
            The athlete's landmarks, and the mask of the crop they came from (None when
            nobody qualifies).

        Raises:
            ModelError: The estimator was made without a mask model.
        """
        if self.mask_model is None:
            raise ModelError(
                f"no mask model: load one with load_mask_model ({MASK_MODEL}) and pass it "
                "to PoseEstimator(mask_model=...)"
            )
        self._want_mask, self._mask = True, None
        try:
            poses = self.process(bgr, t_s)
        finally:
            self._want_mask = False
        mask, self._mask = self._mask, None
        return poses, (mask if len(poses) else None)

    def _track(self, bgr: np.ndarray, roi: Roi) -> Poses:
        """Runs the landmark model at `roi`; on success sets the next frame's ROI."""
        result = self._landmarks(bgr, roi)
        hips = result.poses.xy[:, [_LEFT_HIP, _RIGHT_HIP]].mean(axis=1)
        if not len(result.poses) or not self._in_zone(hips, bgr).all():
            self._drop_track()
            return Poses.empty()
        centre, scale_point = result.aux_xy
        box_side = 2.0 * float(np.hypot(*(scale_point - centre)))
        aux = self._aux_filter.apply(result.aux_xy, box_side)
        nxt = roi_from_alignment(aux[0], aux[1])
        self._roi = nxt if nxt.size >= _MIN_ROI_PX else None
        self._lost = None
        return result.poses

    def _landmarks(self, bgr: np.ndarray, roi: Roi) -> landmarks.LandmarkResult:
        t0 = time.perf_counter()
        crop = crop_roi(bgr, roi, landmarks.INPUT_SIZE)
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)  # 10x cheaper than a ::-1 strided astype
        tensor = rgb[None].astype(np.float32) * np.float32(1 / 255)
        t1 = time.perf_counter()
        if self._want_mask:
            return self._landmarks_and_mask(tensor, roi, t1 - t0)
        outputs = self.landmark_model.run(tensor)
        t2 = time.perf_counter()
        result = landmarks.decode_landmarks(outputs, roi, self.config.pose_flag_threshold)
        t3 = time.perf_counter()
        self.seconds["crop"] += t1 - t0
        self.seconds["landmark_inference"] += t2 - t1
        self.seconds["landmark_decode"] += t3 - t2
        return result

    def _landmarks_and_mask(
        self, tensor: np.ndarray, roi: Roi, crop_s: float
    ) -> landmarks.LandmarkResult:
        """The mask model on a prepared crop: landmarks as usual, the mask kept aside."""
        assert self.mask_model is not None  # process_with_mask checked it
        t1 = time.perf_counter()
        outputs = self.mask_model.run(tensor)
        t2 = time.perf_counter()
        result = landmarks.decode_landmarks(outputs, roi, self.config.pose_flag_threshold)
        self._mask = landmarks.decode_mask(outputs, roi)
        self.seconds["crop"] += crop_s
        self.seconds["mask_inference"] += t2 - t1
        self.seconds["mask_decode"] += time.perf_counter() - t2
        return result

    def _in_zone(self, points_px: np.ndarray, bgr: np.ndarray) -> np.ndarray:
        if self.zone.is_full_frame:
            return np.ones(len(points_px), bool)
        return self.zone.contains(points_px, (bgr.shape[1], bgr.shape[0]))

    def _acquire(self, bgr: np.ndarray) -> Roi | None:
        """Looks for the athlete: the whole picture, then closer looks, within a budget.

        The detector sees the picture shrunk to 224x224, where a small or distant athlete
        in a wide frame is only a few dozen pixels tall. When the whole picture yields
        nobody, the search goes on over closer regions (the zone, square tiles along a wide
        picture), a few per frame in turn, so an empty platform costs a bounded number of
        detector runs per frame while every region is visited within a few frames.

        An athlete lost moments ago (`_REACQUIRE_S`: a fast pull the crop could not follow,
        a plate across the body) is looked for where they were, first by a closer look
        there, and only a person found near that place is taken: a bystander on a bench
        elsewhere in the picture, often the clearer detection while the lifter is folded
        over the bar, must not take over the set. After that the best person anywhere wins.
        """
        content = self._content.update(bgr)
        near = self._recently_lost()
        roi = self._detect(bgr, content, near)
        regions = self._search_regions(bgr, content)
        if near is not None and (around := _around(near, content)) is not None:
            regions.insert(0, around)
        for _ in range(min(len(regions), self.config.max_detector_runs - 1)):
            if roi is not None:
                break
            roi = self._detect(bgr, regions[self._search_turn % len(regions)], near)
            self._search_turn += 1
        return roi

    def _recently_lost(self) -> Roi | None:
        """Where the athlete was tracked last, if that was moments ago (else None)."""
        lost = self._lost
        if lost is None:
            return None
        if lost.t_s is not None and self._last_t_s is not None:
            recent = self._last_t_s - lost.t_s <= _REACQUIRE_S
        else:
            recent = self.frames - lost.frame <= _REACQUIRE_FRAMES
        if not recent:
            self._lost = None
        return lost.roi if recent else None

    def _search_regions(
        self, bgr: np.ndarray, content: tuple[int, int, int, int]
    ) -> list[tuple[int, int, int, int]]:
        """Closer regions to search: the zone's box, and square tiles along a wide picture."""
        regions = []
        if not self.zone.is_full_frame:
            regions.append(self._zone_region(bgr, content))
        x0, y0, x1, y1 = content
        width, height = x1 - x0, y1 - y0
        side, long_side = min(width, height), max(width, height)
        if long_side > _TILE_ASPECT * side:
            count = int(np.ceil(long_side / side)) + 1  # overlapping tiles: nobody is cut
            for start in np.linspace(0, long_side - side, count).astype(int):
                if width >= height:
                    regions.append((x0 + start, y0, x0 + start + side, y1))
                else:
                    regions.append((x0, y0 + start, x1, y0 + start + side))
        return [r for r in regions if r is not None]

    def _zone_region(
        self, bgr: np.ndarray, content: tuple[int, int, int, int]
    ) -> tuple[int, int, int, int] | None:
        """The zone's box plus a margin, inside the picture, if it is much smaller than it."""
        x0, y0, x1, y1 = self.zone.bbox_px((bgr.shape[1], bgr.shape[0]))
        mx, my = (x1 - x0) * _ZONE_MARGIN, (y1 - y0) * _ZONE_MARGIN
        box = (
            max(content[0], int(x0 - mx)),
            max(content[1], int(y0 - my)),
            min(content[2], int(x1 + mx)),
            min(content[3], int(y1 + my)),
        )
        area = (box[2] - box[0]) * (box[3] - box[1])
        content_area = (content[2] - content[0]) * (content[3] - content[1])
        return box if 0 < area < 0.5 * content_area else None

    def _detect(
        self, bgr: np.ndarray, region: tuple[int, int, int, int], near: Roi | None = None
    ) -> Roi | None:
        """Detects people in `region` and returns the ROI of the best one in the zone.

        With `near`, only people whose hips are within `_REACQUIRE_RADIUS` of its size from
        its centre qualify.
        """
        t0 = time.perf_counter()
        tensor, mapping = detector.letterbox(bgr, region)
        outputs = self.detector_model.run(tensor)
        found = detector.postprocess(
            outputs, self._anchors, mapping, self.config.min_detection_score, self.config.nms_iou
        )
        self.seconds["detector"] += time.perf_counter() - t0
        self.detector_runs += 1
        inside = self._in_zone(found.keypoints[:, 0], bgr)
        if near is not None:
            offset = found.keypoints[:, 0] - np.array([near.cx, near.cy], np.float32)
            inside &= np.hypot(offset[:, 0], offset[:, 1]) <= _REACQUIRE_RADIUS * near.size
        if not inside.any():
            return None
        best = int(np.flatnonzero(inside)[np.argmax(found.score[inside])])
        roi = roi_from_alignment(found.keypoints[best, 0], found.keypoints[best, 1])
        if abs(roi.rotation) > math.radians(self.config.max_tilt_deg):
            roi = replace(roi, rotation=roi.rotation - math.copysign(math.pi, roi.rotation))
        return roi if roi.size >= _MIN_ROI_PX else None


@dataclass(frozen=True)
class _LostTrack:
    """Where and when the athlete was last tracked (the crop meant for the next frame)."""

    roi: Roi
    t_s: float | None
    frame: int


def _around(roi: Roi, content: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """A square of twice the crop's size around it, inside the picture's content (or None)."""
    x0, y0, x1, y1 = content
    box = (
        max(x0, int(roi.cx - roi.size)),
        max(y0, int(roi.cy - roi.size)),
        min(x1, int(roi.cx + roi.size)),
        min(y1, int(roi.cy + roi.size)),
    )
    return box if box[2] - box[0] >= _MIN_ROI_PX and box[3] - box[1] >= _MIN_ROI_PX else None


def load_pose_models(config: PoseConfig) -> tuple[OnnxModel, OnnxModel]:
    """Loads and verifies the detector and landmark models named in the config."""
    models_dir = config.models_dir or default_models_dir()
    manifest = load_manifest(models_dir)
    det = find_model(manifest, config.detector_model, "detector")
    lmk = find_model(manifest, config.landmark_model, "landmarks")
    return (
        OnnxModel(det, models_dir, config.threads, config.providers),
        OnnxModel(lmk, models_dir, config.threads, config.providers),
    )


def load_mask_model(config: PoseConfig, name: str = MASK_MODEL) -> OnnxModel:
    """Loads and verifies the segmentation-capable landmark model (for `process_with_mask`).

    Args:
        config: The pose section (models folder, threads, providers).
        name: Its manifest name; the entry must have the `landmark_mask` role.

    Raises:
        ModelError: The model is missing, altered or has the wrong interface.
    """
    models_dir = config.models_dir or default_models_dir()
    spec = find_model(load_manifest(models_dir), name, MASK_ROLE)
    return OnnxModel(spec, models_dir, config.threads, config.providers)
