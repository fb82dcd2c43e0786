"""Landmark layouts the engine accepts, mapped onto the joints it uses."""

from __future__ import annotations

from typing import Literal

Layout = Literal["blazepose33", "coco17"]

# Per joint: (left index, right index); None where the layout has no such point.
_BLAZEPOSE: dict[str, tuple[int, int]] = {
    "ear": (7, 8),
    "shoulder": (11, 12),
    "elbow": (13, 14),
    "wrist": (15, 16),
    "hip": (23, 24),
    "knee": (25, 26),
    "ankle": (27, 28),
    "heel": (29, 30),
    "toe": (31, 32),
}
_COCO: dict[str, tuple[int, int]] = {
    "ear": (3, 4),
    "shoulder": (5, 6),
    "elbow": (7, 8),
    "wrist": (9, 10),
    "hip": (11, 12),
    "knee": (13, 14),
    "ankle": (15, 16),
}
JOINTS = ("ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "toe")
NOSE = {"blazepose33": 0, "coco17": 0}
SIZES = {"blazepose33": 33, "coco17": 17}


def joint_indices(layout: Layout) -> tuple[list[int | None], list[int | None]]:
    """Returns the left and right landmark index of every joint in `JOINTS` order."""
    table = _BLAZEPOSE if layout == "blazepose33" else _COCO
    left = [table[j][0] if j in table else None for j in JOINTS]
    right = [table[j][1] if j in table else None for j in JOINTS]
    return left, right


def layout_for(count: int) -> Layout:
    """Guesses the layout from the number of landmarks.

    Raises:
        ValueError: A count that is neither 33 (BlazePose) nor 17 (COCO).
    """
    for name, size in SIZES.items():
        if size == count:
            return name  # type: ignore[return-value]
    raise ValueError(f"expected 33 (BlazePose) or 17 (COCO) landmarks, got {count}")
