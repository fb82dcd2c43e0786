"""BlazePose person detector: letterbox, SSD anchor decoding and weighted NMS (pure NumPy).

The constants reproduce MediaPipe's `pose_detection_cpu` graph for `pose_detection.tflite`
(SsdAnchorsCalculator + TensorsToDetectionsCalculator + NonMaxSuppressionCalculator).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

INPUT_SIZE = 224
# SSD anchor layout: 5 layers, strides 8,16,32,32,32, 2 anchors per cell for every layer
# (one aspect ratio + the interpolated scale), fixed anchor size -> 28*28*2 + 14*14*2 + 7*7*6.
_STRIDES = (8, 16, 32, 32, 32)
_ANCHORS_PER_LAYER = 2
NUM_ANCHORS = 2254
_SCORE_CLIP = 100.0  # TensorsToDetections score_clipping_thresh
NUM_KEYPOINTS = 4  # mid-hip, full-body scale point, mid-shoulder, upper-body scale point


def make_anchors() -> npt.NDArray[np.float32]:
    """Returns the (2254, 2) anchor centres, normalised to the 224x224 input, in model order."""
    centres = []
    layer = 0
    while layer < len(_STRIDES):
        stride = _STRIDES[layer]
        same = sum(1 for s in _STRIDES[layer:] if s == stride)  # layers sharing this stride merge
        cells = int(np.ceil(INPUT_SIZE / stride))
        per_cell = _ANCHORS_PER_LAYER * same
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
        layer += same
    anchors = np.concatenate(centres).astype(np.float32)
    assert anchors.shape == (NUM_ANCHORS, 2)
    return anchors


@dataclass(frozen=True)
class Letterbox:
    """How an image region was fitted into the square detector input.

    Attributes:
        x0: Left of the region in image pixels.
        y0: Top of the region in image pixels.
        scale: Input pixels per image pixel.
        pad_x: Zero padding on the left, in input pixels.
        pad_y: Zero padding on the top, in input pixels.
    """

    x0: float
    y0: float
    scale: float
    pad_x: float
    pad_y: float

    def to_image(self, points_norm: np.ndarray) -> np.ndarray:
        """Maps (..., 2) points normalised to the detector input back to image pixels."""
        input_px = points_norm * INPUT_SIZE
        pad = np.array([self.pad_x, self.pad_y], np.float32)
        origin = np.array([self.x0, self.y0], np.float32)
        return (input_px - pad) / self.scale + origin


def letterbox(
    image_bgr: np.ndarray, region: tuple[int, int, int, int]
) -> tuple[npt.NDArray[np.float32], Letterbox]:
    """Fits an image region into the detector's 224x224 input, keeping its aspect ratio.

    Args:
        image_bgr: (H, W, 3) uint8 BGR frame (converted to RGB after shrinking: cheaper).
        region: `(x0, y0, x1, y1)` integer pixel box to look at (the whole frame, the
            non-black content of a pillarboxed frame, or a platform zone).

    Returns:
        The (1, 224, 224, 3) float32 tensor in [-1, 1] and the mapping back to the image.
    """
    x0, y0, x1, y1 = region
    crop = image_bgr[y0:y1, x0:x1]
    h, w = crop.shape[:2]
    scale = INPUT_SIZE / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = cv2.resize(crop, (new_w, new_h), interpolation=cv2.INTER_AREA)
    pad_x, pad_y = (INPUT_SIZE - new_w) // 2, (INPUT_SIZE - new_h) // 2
    # Padding reads as black (-1), like MediaPipe's zero border on a [0, 255] image.
    canvas = np.full((INPUT_SIZE, INPUT_SIZE, 3), -1.0, np.float32)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = (
        cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0
    )
    box = Letterbox(float(x0), float(y0), scale, float(pad_x), float(pad_y))
    return canvas[None], box


@dataclass(frozen=True)
class Detections:
    """Person detections in image pixels.

    Attributes:
        score: (M,) float32 probability.
        box: (M, 4) float32 `[x0, y0, x1, y1]` of the detected face/head box.
        keypoints: (M, 4, 2) float32: mid-hip, full-body scale point, mid-shoulder,
            upper-body scale point.
    """

    score: npt.NDArray[np.float32]
    box: npt.NDArray[np.float32]
    keypoints: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.score.shape[0])


def decode(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, min_score: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decodes the raw SSD outputs of one image.

    Args:
        raw_boxes: (2254, 12) `[cx, cy, w, h, kx0, ky0, ... kx3, ky3]` in input pixels,
            relative to the anchor centre.
        raw_scores: (2254,) logits.
        anchors: (2254, 2) anchor centres from `make_anchors`.
        min_score: Probability below which candidates are dropped.

    Returns:
        `(score (M,), box (M, 4) normalised x0,y0,x1,y1, keypoints (M, 4, 2) normalised)`.
    """
    logits = np.clip(raw_scores.astype(np.float64), -_SCORE_CLIP, _SCORE_CLIP)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = scores >= min_score
    raw = raw_boxes[keep] / INPUT_SIZE
    centre = anchors[keep]
    cxcy = raw[:, :2] + centre
    half = raw[:, 2:4] / 2
    box = np.concatenate([cxcy - half, cxcy + half], axis=1)
    keypoints = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + centre[:, None, :]
    return scores[keep].astype(np.float32), box.astype(np.float32), keypoints.astype(np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    tl = np.maximum(box[:2], boxes[:, :2])
    br = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(
    score: np.ndarray, box: np.ndarray, keypoints: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's WEIGHTED non-maximum suppression.

    Each surviving detection keeps the best score of its cluster and the score-weighted mean
    of the cluster's boxes and keypoints (smoother than plain NMS from frame to frame).

    Returns:
        The merged `(score, box, keypoints)`, best first.
    """
    order = np.argsort(-score, kind="stable")
    score, box, keypoints = score[order], box[order], keypoints[order]
    remaining = np.arange(len(score))
    out_s, out_b, out_k = [], [], []
    while remaining.size:
        overlap = _iou(box[remaining[0]], box[remaining]) > iou_threshold
        cluster = remaining[overlap]
        weights = score[cluster] / score[cluster].sum()
        out_s.append(score[cluster[0]])
        out_b.append((box[cluster] * weights[:, None]).sum(axis=0))
        out_k.append((keypoints[cluster] * weights[:, None, None]).sum(axis=0))
        remaining = remaining[~overlap]
    if not out_s:
        return score[:0], box[:0], keypoints[:0]
    return np.array(out_s, np.float32), np.array(out_b, np.float32), np.array(out_k, np.float32)


def postprocess(
    outputs: dict[str, np.ndarray],
    anchors: np.ndarray,
    mapping: Letterbox,
    min_score: float = 0.5,
    iou_threshold: float = 0.3,
) -> Detections:
    """Turns the detector's outputs into detections in image pixels."""
    score, box, keypoints = decode(
        outputs["boxes"][0], outputs["scores"][0, :, 0], anchors, min_score
    )
    score, box, keypoints = weighted_nms(score, box, keypoints, iou_threshold)
    box_px = mapping.to_image(box.reshape(-1, 2, 2)).reshape(-1, 4)
    return Detections(score, box_px.astype(np.float32), mapping.to_image(keypoints))
