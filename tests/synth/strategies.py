"""Hypothesis strategies for synthetic-athlete tests."""

from __future__ import annotations

from hypothesis import strategies as st

from edge.synth.body import BodyShape, LegPose, Posture


def angles(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


shapes = st.builds(
    BodyShape,
    height_m=angles(1.5, 2.0),
    girth_scale=angles(0.85, 1.25),
    leg_ratio=angles(0.9, 1.1),
)

legs = st.builds(
    LegPose,
    hip_flex_deg=angles(-30, 130),
    knee_flex_deg=angles(0, 130),
    ankle_deg=angles(-20, 40),
)

postures = st.builds(
    Posture,
    hip_flex_deg=angles(-20, 140),
    knee_flex_deg=angles(0, 130),
    ankle_deg=angles(-10, 40),
    spine_flex_deg=angles(-20, 60),
    neck_flex_deg=angles(-50, 40),
    shoulder_flex_deg=angles(-30, 150),
    elbow_flex_deg=angles(0, 140),
    stance_width_m=angles(0.0, 0.6),
    left=st.none() | legs,
    right=st.none() | legs,
    stance=st.sampled_from(["both", "left", "right"]),
    root_x_m=angles(-3, 3),
    root_z_m=angles(-3, 3),
    yaw_deg=angles(-180, 180),
)
