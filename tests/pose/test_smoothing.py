import numpy as np

from edge.pose.smoothing import OneEuroFilter


def test_first_sample_passes_through_and_a_still_input_stays():
    f = OneEuroFilter()
    x = np.array([[100.0, 200.0], [100.0, 50.0]])
    np.testing.assert_allclose(f.apply(x, 300.0), x)
    for _ in range(10):
        np.testing.assert_allclose(f.apply(x, 300.0), x, atol=1e-4)


def test_jitter_is_damped_but_a_real_move_is_followed():
    f = OneEuroFilter()
    x = np.array([[100.0, 200.0]])
    f.apply(x, 300.0)
    jitter = f.apply(x + 3.0, 300.0)  # 1 % of the object: mostly ignored
    assert np.all(jitter - x < 1.0)
    f.reset()
    f.apply(x, 300.0)
    for i in range(1, 16):  # a steady 0.5 object sizes per second
        out = f.apply(x + 5.0 * i, 300.0)
    assert np.all(out - x > 0.5 * 75.0)  # within half the distance after half a second


def test_reset_forgets_the_history():
    f = OneEuroFilter()
    f.apply(np.zeros(2), 1.0)
    f.reset()
    np.testing.assert_allclose(f.apply(np.full(2, 7.0), 1.0), 7.0)
