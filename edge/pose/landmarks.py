"""BlazePose landmark model: tensor decoding, heatmap refinement and projection (pure NumPy).

Mirrors MediaPipe's `TensorsToPoseLandmarksAndSegmentation` graph for the full model:
39 points (33 body landmarks + 2 auxiliary ROI points + 4 unused), sigmoid visibility and
presence, refinement from the 64x64 heatmap with a 7x7 kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from edge.pose.back import sigmoid
from edge.pose.roi import apply_affine, crop_to_image_matrix, image_to_crop_matrix
from edge.types import NUM_LANDMARKS, Poses, Roi

INPUT_SIZE = 256
NUM_POINTS = 39  # 33 landmarks, 2 auxiliary (ROI centre and scale point), 4 unused
AUX_CENTRE, AUX_SCALE = 33, 34
_REFINE_KERNEL = 7
_REFINE_MIN_CONFIDENCE = 0.5  # RefineLandmarksFromHeatmapCalculator default


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def refine_from_heatmap(xy_norm: np.ndarray, heatmap: np.ndarray) -> npt.NDArray[np.float32]:
    """Moves each point to the confidence-weighted centre of its 7x7 heatmap window.

    Args:
        xy_norm: (P, 2) points normalised to the crop ([0, 1]).
        heatmap: (64, 64, P) logits.

    Returns:
        (P, 2) refined normalised points; points whose window is not confident enough
        (max probability < 0.5) or whose centre lies outside the heatmap stay as they were.
    """
    size = heatmap.shape[0]
    count = xy_norm.shape[0]
    centre = np.trunc(xy_norm * size).astype(np.int64)  # C++ int cast: toward zero
    offsets = np.arange(_REFINE_KERNEL) - _REFINE_KERNEL // 2
    cols = centre[:, 0, None] + offsets  # (P, 7)
    rows = centre[:, 1, None] + offsets
    valid = ((rows >= 0) & (rows < size))[:, :, None] & ((cols >= 0) & (cols < size))[:, None, :]
    window = heatmap[
        np.clip(rows, 0, size - 1)[:, :, None],
        np.clip(cols, 0, size - 1)[:, None, :],
        np.arange(count)[:, None, None],
    ]  # (P, 7, 7)
    conf = _sigmoid(window) * valid
    total = conf.sum(axis=(1, 2))
    safe = np.maximum(total, 1e-12)
    # MediaPipe's convention, which the model was validated with: cell index / size, no
    # half-cell centring (RefineLandmarksFromHeatMap in mediapipe/calculators/util).
    refined = np.stack(
        [
            (conf * cols[:, None, :]).sum(axis=(1, 2)) / safe / size,
            (conf * rows[:, :, None]).sum(axis=(1, 2)) / safe / size,
        ],
        axis=1,
    )
    inside = np.all((centre >= 0) & (centre < size), axis=1)
    use = inside & (conf.max(axis=(1, 2)) >= _REFINE_MIN_CONFIDENCE) & (total > 0)
    return np.where(use[:, None], refined, xy_norm).astype(np.float32)


@dataclass(frozen=True)
class LandmarkResult:
    """One decoded landmark inference.

    Attributes:
        poses: One person (or nobody when the pose flag is below the threshold).
        aux_xy: (2, 2) image pixels of the auxiliary ROI centre and scale point.
        flag: Pose-presence probability.
    """

    poses: Poses
    aux_xy: npt.NDArray[np.float32]
    flag: float


def decode_landmarks(
    outputs: dict[str, np.ndarray], roi: Roi, flag_threshold: float = 0.5
) -> LandmarkResult:
    """Decodes the landmark model's outputs for the crop taken at `roi`.

    Args:
        outputs: `landmarks` (1, 195), `pose_flag` (1, 1), `heatmap` (1, 64, 64, 39),
            `world_landmarks` (1, 117).
        roi: The ROI the crop was cut from.
        flag_threshold: Pose-presence probability below which nobody is reported.

    Returns:
        The person in image pixels (empty `Poses` if the flag is low) and the next ROI's
        alignment points.
    """
    flag = float(outputs["pose_flag"].reshape(-1)[0])  # already a probability
    raw = outputs["landmarks"].reshape(NUM_POINTS, 5)
    xy_norm = refine_from_heatmap(raw[:, :2] / INPUT_SIZE, outputs["heatmap"][0])
    to_image = crop_to_image_matrix(roi, INPUT_SIZE)
    xy = apply_affine(to_image, xy_norm * INPUT_SIZE).astype(np.float32)
    aux = xy[[AUX_CENTRE, AUX_SCALE]]
    if flag < flag_threshold:
        return LandmarkResult(Poses.empty(), aux, flag)
    k = NUM_LANDMARKS
    cos, sin = np.cos(roi.rotation), np.sin(roi.rotation)
    world = outputs["world_landmarks"].reshape(NUM_POINTS, 3)[:k].astype(np.float32)
    world_xy = world[:, :2] @ np.array([[cos, sin], [-sin, cos]], np.float32)
    world = np.concatenate([world_xy, world[:, 2:]], axis=1)
    poses = Poses(
        xy=xy[None, :k],
        z=(raw[None, :k, 2] / INPUT_SIZE * roi.size).astype(np.float32),
        visibility=_sigmoid(raw[None, :k, 3]).astype(np.float32),
        presence=_sigmoid(raw[None, :k, 4]).astype(np.float32),
        world=world[None],
        score=np.array([flag], np.float32),
        roi=roi.as_array()[None],
    )
    return LandmarkResult(poses, aux, flag)


@dataclass(frozen=True)
class CropMask:
    """The person mask of one landmark inference, in the crop it was computed on.

    Crop coordinates: mask pixel (row r, column c) sits at (c, r), the coordinates the
    model's landmarks come in before projection; `crop_to_image` maps them to image
    pixels exactly as the landmarks were mapped.

    Attributes:
        logits: (256, 256) float32 segmentation logits (person > 0), row = crop y.
        crop_to_image: (2, 3) affine map from crop coordinates to image pixels.
        roi: The ROI the crop was cut from.
    """

    logits: npt.NDArray[np.float32]
    crop_to_image: npt.NDArray[np.float64]
    roi: Roi

    def probability(self) -> npt.NDArray[np.float32]:
        """(256, 256) person probability: the sigmoid of the logits."""
        return sigmoid(self.logits)

    def to_crop(self, points_xy: np.ndarray) -> npt.NDArray[np.float64]:
        """Maps (..., 2) image pixels (e.g. `Poses.xy`) into crop coordinates."""
        return apply_affine(image_to_crop_matrix(self.crop_to_image), points_xy)

    def to_image(self, points_xy: np.ndarray) -> npt.NDArray[np.float64]:
        """Maps (..., 2) crop coordinates (e.g. a back edge) into image pixels."""
        return apply_affine(self.crop_to_image, points_xy)


def decode_mask(outputs: dict[str, np.ndarray], roi: Roi) -> CropMask:
    """Takes the mask out of the segmentation-capable model's outputs.

    Args:
        outputs: Must hold `segmentation` (1, 256, 256, 1) logits.
        roi: The ROI the crop was cut from.

    Returns:
        The mask in crop coordinates with its crop-to-image map.
    """
    logits = outputs["segmentation"].reshape(INPUT_SIZE, INPUT_SIZE).astype(np.float32)
    return CropMask(logits, crop_to_image_matrix(roi, INPUT_SIZE), roi)
