import numpy as np
import pytest

from edge.pose.content import ContentArea, find_content_box
from edge.zone import Zone


def _pillarboxed(width=1280, height=720, content=(458, 822)):
    rng = np.random.default_rng(0)
    image = np.zeros((height, width, 3), np.uint8)
    image[:, content[0] : content[1]] = rng.integers(40, 220, (height, content[1] - content[0], 3))
    return image


def test_pillarbox_is_found():
    x0, y0, x1, y1 = find_content_box(_pillarboxed())
    assert abs(x0 - 458) <= 4 and abs(x1 - 822) <= 4 and (y0, y1) == (0, 720)


def test_caption_in_the_bar_is_not_picture():
    image = _pillarboxed()
    image[650:670, 40:400] = 255  # burned-in caption inside the left bar
    x0, _, _, _ = find_content_box(image)
    assert abs(x0 - 458) <= 4


def test_black_frame_is_the_whole_frame():
    assert find_content_box(np.zeros((90, 160, 3), np.uint8)) == (0, 0, 160, 90)


def test_content_area_only_grows():
    area = ContentArea(interval=1)
    first = area.update(_pillarboxed())
    dark = _pillarboxed()
    dark[:, 458:600] = 0  # part of the picture goes dark
    assert area.update(dark) == first


@pytest.mark.parametrize(
    ("point", "inside"),
    [((640, 360), True), ((100, 360), False), ((640, 10), False), ((float("nan"), 1), False)],
)
def test_zone_contains(point, inside):
    zone = Zone([(0.25, 0.1), (0.75, 0.1), (0.75, 0.9), (0.25, 0.9)])
    assert zone.contains(np.array([point]), (1280, 720))[0] == inside


@pytest.mark.parametrize("polygon", [[(0, 0), (1, 1)], [(0, 0), (1.5, 0), (1, 1)]])
def test_bad_zone_is_refused_with_a_reason(polygon):
    with pytest.raises(ValueError, match="zone"):
        Zone(polygon)
