"""A posed person for the renderer: skeleton, body, clothes and what they hold (pure NumPy).

The renderer draws one athlete and any number of other people (passers-by, a second
athlete) from `Person` records; each brings its own body, appearance and load.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from edge.synth.appearance import Appearance
from edge.synth.geometry import Vec
from edge.synth.kinematics import Skeleton, forward_kinematics
from edge.synth.posture import Posture
from edge.synth.scene import Load
from edge.synth.shape import BodyShape

DEFAULT_LOAD: dict[str, Load] = {
    "rdl": "barbell",
    "deadlift": "barbell",
    "swing": "kettlebell",
    "single_leg_rdl": "kettlebell",
    "good_morning": "none",
    "squat": "none",
}
"""What each exercise is done with unless told otherwise."""
_POSITION_FIELDS = (
    "landmarks_m", "joints_m", "pelvis_m", "spine_m", "neck_top_m", "head_m", "hands_m"
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Person:
    """Someone in the scene, posed for one frame.

    Attributes:
        skeleton: The posed skeleton (world frame).
        shape: Body dimensions (the renderer scales limb girths by it).
        appearance: Skin, clothes and hair.
        load: What the hands hold: "none", "barbell" or "kettlebell".
    """

    skeleton: Skeleton
    shape: BodyShape
    appearance: Appearance = field(default_factory=Appearance)
    load: Load = "none"

    @classmethod
    def posed(
        cls,
        shape: BodyShape,
        posture: Posture,
        appearance: Appearance | None = None,
        load: Load = "none",
    ) -> Person:
        """A person in a posture (`forward_kinematics` of the shape)."""
        skeleton = forward_kinematics(shape, posture)
        return cls(skeleton, shape, appearance or Appearance(), load)


def translated(skeleton: Skeleton, offset_m: Vec) -> Skeleton:
    """Returns the skeleton moved by a (3,) world offset (frames are unchanged)."""
    moved = {name: getattr(skeleton, name) + offset_m for name in _POSITION_FIELDS}
    return dataclasses.replace(skeleton, **moved)
