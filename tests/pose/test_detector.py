import numpy as np
import pytest

from edge.pose import detector


def test_anchor_layout_matches_the_model():
    anchors = detector.make_anchors()
    assert anchors.shape == (2254, 2)
    # stride 8: 28x28 cells, 2 anchors each, first cell centre at half a cell
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(anchors[1], anchors[0])
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28])
    # stride 32 layers merge: the last 7x7 grid has 6 anchors per cell
    tail = anchors[-6:]
    np.testing.assert_allclose(tail, np.repeat([[6.5 / 7, 6.5 / 7]], 6, axis=0))
    assert len(np.unique(anchors[28 * 28 * 2 : 28 * 28 * 2 + 14 * 14 * 2], axis=0)) == 14 * 14


def _raw_outputs(anchor_index, box_px, keypoints_px, logit=5.0):
    """Builds raw detector outputs with one confident candidate at an anchor."""
    anchors = detector.make_anchors()
    boxes = np.zeros((1, 2254, 12), np.float32)
    scores = np.full((1, 2254, 1), -10.0, np.float32)
    centre_px = anchors[anchor_index] * 224
    cx, cy, w, h = box_px
    boxes[0, anchor_index, :4] = [cx - centre_px[0], cy - centre_px[1], w, h]
    boxes[0, anchor_index, 4:] = (np.asarray(keypoints_px) - centre_px).reshape(-1)
    scores[0, anchor_index, 0] = logit
    return {"boxes": boxes, "scores": scores}, anchors


def test_decode_returns_box_and_keypoints_in_image_pixels():
    # A 448x448 image letterboxed into 224: scale 0.5, no padding.
    image = np.zeros((448, 448, 3), np.uint8)
    _, mapping = detector.letterbox(image, (0, 0, 448, 448))
    kps = [[112, 150], [112, 40], [112, 90], [112, 60]]
    outputs, anchors = _raw_outputs(500, (112, 60, 30, 30), kps)
    found = detector.postprocess(outputs, anchors, mapping)
    assert len(found) == 1
    assert found.score[0] == pytest.approx(1 / (1 + np.exp(-5.0)), rel=1e-5)
    np.testing.assert_allclose(found.keypoints[0], np.asarray(kps) * 2, atol=1e-3)
    np.testing.assert_allclose(found.box[0], [194, 90, 254, 150], atol=1e-3)


def test_decode_drops_low_scores():
    outputs, anchors = _raw_outputs(10, (50, 50, 20, 20), [[50, 50]] * 4, logit=-1.0)
    _, mapping = detector.letterbox(np.zeros((224, 224, 3), np.uint8), (0, 0, 224, 224))
    assert len(detector.postprocess(outputs, anchors, mapping, min_score=0.5)) == 0


def test_letterbox_pads_the_short_side_with_black_and_maps_back():
    image = np.full((100, 400, 3), 255, np.uint8)  # wide region: padding top and bottom
    tensor, mapping = detector.letterbox(image, (0, 0, 400, 100))
    assert tensor.shape == (1, 224, 224, 3)
    assert tensor[0, 0, 0, 0] == -1.0 and tensor[0, 112, 112, 0] == pytest.approx(1.0)
    assert mapping.pad_y == (224 - 56) // 2 and mapping.pad_x == 0
    corners = mapping.to_image(
        np.array([[0, mapping.pad_y / 224], [1, (mapping.pad_y + 56) / 224]])
    )
    np.testing.assert_allclose(corners, [[0, 0], [400, 100]], atol=1e-3)


def test_letterbox_of_a_region_offsets_back_to_the_full_frame():
    image = np.zeros((720, 1280, 3), np.uint8)
    _, mapping = detector.letterbox(image, (458, 0, 822, 720))  # a pillarboxed portrait
    new_w = round(364 * 224 / 720)
    left, right = mapping.pad_x / 224, (mapping.pad_x + new_w) / 224
    edges = mapping.to_image(np.array([[left, 0.0], [right, 1.0]]))
    np.testing.assert_allclose(edges, [[458, 0], [822, 720]], atol=2.0)  # within a rounded pixel


def test_weighted_nms_merges_overlapping_boxes_by_score():
    score = np.array([0.9, 0.6, 0.8], np.float32)
    box = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    kps = np.zeros((3, 4, 2), np.float32)
    kps[1] += 1.0
    s, b, k = detector.weighted_nms(score, box, kps, 0.3)
    assert s.tolist() == pytest.approx([0.9, 0.8])
    np.testing.assert_allclose(b[0], [0.4, 0, 10.4, 10], atol=1e-5)  # weights 0.6 / 0.4
    np.testing.assert_allclose(k[0], 0.4, atol=1e-5)
    np.testing.assert_allclose(b[1], box[2])


def test_weighted_nms_of_nothing_is_nothing():
    s, b, k = detector.weighted_nms(
        np.zeros(0, np.float32), np.zeros((0, 4), np.float32), np.zeros((0, 4, 2), np.float32), 0.3
    )
    assert s.shape == (0,) and b.shape == (0, 4) and k.shape == (0, 4, 2)
