import math

import numpy as np
import pytest

from edge.pose.roi import apply_affine, crop_roi, crop_to_image_matrix, roi_from_alignment
from edge.types import Roi


@pytest.mark.parametrize(
    ("scale_point", "rotation"),
    [
        ((100, 50), 0.0),  # head straight up: upright crop
        ((150, 100), math.pi / 2),  # body lying towards +x: turn a quarter clockwise
        ((50, 100), -math.pi / 2),  # body lying towards -x
        ((100, 150), math.pi),  # upside down (normalised to [-pi, pi))
    ],
)
def test_roi_from_alignment_rotation_and_size(scale_point, rotation):
    roi = roi_from_alignment(np.array([100.0, 100.0]), np.array(scale_point, float))
    assert roi.size == pytest.approx(2 * 50 * 1.25)
    assert (roi.cx, roi.cy) == (100.0, 100.0)
    assert math.isclose(abs(roi.rotation), abs(rotation), abs_tol=1e-9) or math.isclose(
        roi.rotation % (2 * math.pi), rotation % (2 * math.pi), abs_tol=1e-9
    )


def test_crop_to_image_maps_crop_centre_and_top_to_the_body_axis():
    roi = roi_from_alignment(np.array([300.0, 200.0]), np.array([380.0, 200.0]))  # head at +x
    m = crop_to_image_matrix(roi, 256)
    np.testing.assert_allclose(apply_affine(m, np.array([128.0, 128.0])), [300, 200], atol=1e-9)
    # the top-centre of the crop is where the head direction points, half a side away
    top = apply_affine(m, np.array([128.0, 0.0]))
    np.testing.assert_allclose(top, [300 + roi.size / 2, 200], atol=1e-9)


def test_crop_roi_samples_the_rotated_region():
    image = np.zeros((400, 400, 3), np.uint8)
    image[100:110, 290:300] = 255  # a bright square right of the centre
    roi = Roi(200.0, 200.0, 256.0, math.pi / 2)  # crop "up" = image +x
    crop = crop_roi(image, roi, 256)
    ys, xs = np.nonzero(crop[..., 0] > 128)
    centre_in_crop = np.array([xs.mean(), ys.mean()])  # crop pixel j samples m @ j
    m = crop_to_image_matrix(roi, 256)
    np.testing.assert_allclose(apply_affine(m, centre_in_crop), [295, 105], atol=0.6)
