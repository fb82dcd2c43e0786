"""Rotated square regions of interest: from alignment points, and as crop <-> image maps."""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from edge.types import Roi

# BlazePose GHUM's training margin around the body box (RectTransformationCalculator
# scale_x/scale_y with square_long) for both the detection and the landmark-derived ROI.
ROI_SCALE = 1.25


def roi_from_alignment(
    centre: np.ndarray, scale_point: np.ndarray, scale: float = ROI_SCALE
) -> Roi:
    """Builds the ROI MediaPipe derives from two alignment points.

    Args:
        centre: (2,) the body centre (mid-hip) in image pixels.
        scale_point: (2,) the point encoding size and direction (towards the head).
        scale: Margin factor applied to the side length.

    Returns:
        A square ROI of side `2 * |scale_point - centre| * scale`, rotated so that
        `scale_point` lies straight above `centre` in the crop.
    """
    dx, dy = float(scale_point[0] - centre[0]), float(scale_point[1] - centre[1])
    rotation = math.pi / 2 - math.atan2(-dy, dx)
    rotation = rotation - 2 * math.pi * math.floor((rotation + math.pi) / (2 * math.pi))
    size = 2.0 * math.hypot(dx, dy) * scale
    return Roi(float(centre[0]), float(centre[1]), size, rotation)


def crop_to_image_matrix(roi: Roi, crop_size: int) -> npt.NDArray[np.float64]:
    """Returns the 2x3 affine map from crop pixels to image pixels (continuous coordinates)."""
    c, s = math.cos(roi.rotation), math.sin(roi.rotation)
    k = roi.size / crop_size
    linear = k * np.array([[c, -s], [s, c]])
    offset = np.array([roi.cx, roi.cy]) - linear @ np.array([crop_size / 2, crop_size / 2])
    return np.hstack([linear, offset[:, None]])


def image_to_crop_matrix(crop_to_image: np.ndarray) -> npt.NDArray[np.float64]:
    """Inverts a 2x3 crop -> image map (`crop_to_image_matrix`) into image -> crop."""
    linear = np.linalg.inv(crop_to_image[:, :2])
    return np.hstack([linear, (-linear @ crop_to_image[:, 2])[:, None]])


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Applies a 2x3 affine map to (..., 2) points."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def crop_roi(image: np.ndarray, roi: Roi, crop_size: int) -> np.ndarray:
    """Cuts the rotated ROI out of an image as a `crop_size` square.

    Pixels outside the frame repeat the border (MediaPipe's ImageToTensor default), which
    keeps a half-visible athlete looking like a person rather than a cut-out.

    Returns:
        (crop_size, crop_size, 3) of the image's dtype (uint8 for a frame) and channel order.
    """
    m = crop_to_image_matrix(roi, crop_size)
    # Sample as MediaPipe's ImageToTensorCalculator does (OpenCV warps the ROI's corners onto
    # the crop's corners in pixel-index coordinates), which is what the model was trained
    # on: crop pixel j reads the image at m @ j. Only the image side moves from continuous
    # to OpenCV's pixel-centre coordinates (-0.5); landmarks projected with `m` then equal
    # MediaPipe's plus exactly 0.5 px (its normalised x * width is a pixel-centre coordinate).
    m_cv = np.hstack([m[:, :2], (m[:, 2] - 0.5)[:, None]])
    return cv2.warpAffine(
        image,
        m_cv,
        (crop_size, crop_size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
