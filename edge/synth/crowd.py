"""Other people in a clip: passers-by walking across the picture and a second athlete.

`Extras` says who to add: a number of passers-by and / or a second athlete placed from
the clip's seed, or explicit `PasserBy` / `SecondAthlete` placements (see
`edge.synth.placement` for the camera-relative `depth_m` / `across_m`). `cast_crowd`
resolves them around a `Stage` into a `Crowd`, which poses everyone frame by frame.
Nobody is placed where they would walk through the athlete, their load or each other.
Pure NumPy.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from edge.synth.appearance import Appearance
from edge.synth.geometry import Vec
from edge.synth.motion import DEFAULT_TEMPO, MotionSpec, RepTruth, plan, sample
from edge.synth.person import DEFAULT_LOAD, Person
from edge.synth.placement import (
    Footprint,
    Stage,
    check_place,
    draw_lane,
    draw_platform,
    lifter_footprint,
    walker_lane,
    wall_gap_needed_m,
)
from edge.synth.posture import Posture
from edge.synth.scene import Load
from edge.synth.shape import BodyShape
from edge.synth.walk import step_length_m, walking_skeleton

MAX_PASSERS_BY = 6


@dataclass(frozen=True)
class PasserBy:
    """Someone walking straight across the picture.

    Attributes:
        depth_m: Where they walk, along the view from the athlete: negative in front
            (between the camera and the athlete), positive behind.
        enter_s: When they step into the picture (negative: already in it at the start).
        speed_m_s: Walking speed, metres per second (0.5-2.5).
        leftward: Walk from the right of the picture to the left.
        shape: Their body; None draws one from the seed.
        appearance: Their clothes; None draws them from the seed.
    """

    depth_m: float = -1.5
    enter_s: float = 0.0
    speed_m_s: float = 1.35
    leftward: bool = False
    shape: BodyShape | None = None
    appearance: Appearance | None = None

    def __post_init__(self) -> None:
        if not 0.5 <= self.speed_m_s <= 2.5:
            raise ValueError(f"a passer-by walks at 0.5-2.5 m/s, got speed_m_s={self.speed_m_s}")


@dataclass(frozen=True)
class SecondAthlete:
    """Someone doing their own set on a neighbouring platform.

    Attributes:
        across_m: Sideways offset from the athlete in the picture (positive: right).
        depth_m: Along the view from the athlete (positive: behind, negative: in front).
        exercise: Their exercise (with its usual load); None draws one from the seed.
        yaw_deg: Their facing relative to the athlete's (0 the same way, 180 opposite).
        lead_in_s: When their first rep starts, seconds.
        speed: Their tempo factor (`MotionSpec.speed`).
        shape: Their body; None draws one from the seed.
        appearance: Their clothes; None draws them from the seed.
    """

    across_m: float = 2.0
    depth_m: float = 1.0
    exercise: str | None = None
    yaw_deg: float = 0.0
    lead_in_s: float = 0.5
    speed: float = 1.0
    shape: BodyShape | None = None
    appearance: Appearance | None = None

    def __post_init__(self) -> None:
        if self.exercise is not None and self.exercise not in DEFAULT_LOAD:
            known = ", ".join(sorted(DEFAULT_LOAD))
            raise ValueError(f"unknown exercise {self.exercise!r} for the second athlete: {known}")


@dataclass(frozen=True)
class Extras:
    """Who else is in the clip besides the athlete.

    Attributes:
        passers_by: How many passers-by to place from the seed (0-6), or explicit ones.
        second_athlete: True to place a second athlete from the seed, or an explicit one.
    """

    passers_by: int | tuple[PasserBy, ...] = 0
    second_athlete: bool | SecondAthlete = False

    def __post_init__(self) -> None:
        if isinstance(self.passers_by, int):
            if not 0 <= self.passers_by <= MAX_PASSERS_BY:
                raise ValueError(
                    f"passers_by must be 0-{MAX_PASSERS_BY} (or explicit PasserBy placements), "
                    f"got {self.passers_by}"
                )
        else:
            object.__setattr__(self, "passers_by", tuple(self.passers_by))

    @property
    def wanted(self) -> bool:
        """True when anyone besides the athlete is asked for."""
        return bool(self.passers_by) or self.second_athlete is not False


@dataclass(frozen=True, eq=False)
class Walker:
    """A resolved passer-by: their path across the picture.

    Attributes:
        plan: The placement, with body and clothes filled in.
        start_xz_m: (2,) floor point under their pelvis at `plan.enter_s`.
        direction_xz: (2,) unit walking direction on the floor.
        exit_s: When they are out of the picture again.
        footprint: Their lane on the floor.
    """

    plan: PasserBy
    start_xz_m: Vec
    direction_xz: Vec
    exit_s: float
    footprint: Footprint

    def person_at(self, index: int, t_s: float) -> Person:
        """The walker at a clip time (`index` unused: the gait is a function of time)."""
        del index
        shape, speed = self.plan.shape or BodyShape(), self.plan.speed_m_s
        walked = speed * (t_s - self.plan.enter_s)
        pelvis = self.start_xz_m + walked * self.direction_xz
        yaw = math.degrees(math.atan2(self.direction_xz[0], self.direction_xz[1]))
        step = step_length_m(speed)
        skeleton = walking_skeleton(shape, walked / step, step, pelvis, yaw)
        return Person(skeleton, shape, self.plan.appearance or Appearance())

    def describe(self) -> dict[str, Any]:
        """The truth file's description of this passer-by."""
        plan = self.plan
        return {
            "kind": "passer_by",
            "depth_m": round(plan.depth_m, 3),
            "enter_s": round(plan.enter_s, 4),
            "exit_s": round(self.exit_s, 4),
            "speed_m_s": round(plan.speed_m_s, 3),
            "direction": "leftward" if plan.leftward else "rightward",
            "height_m": round((plan.shape or BodyShape()).height_m, 4),
        }


@dataclass(frozen=True, eq=False)
class Neighbour:
    """A resolved second athlete: their set, frame by frame.

    Attributes:
        plan: The placement, with exercise, body and clothes filled in.
        load: What they hold.
        root_xz_m: (2,) floor point under their feet.
        postures: Their posture at each clip frame (held at the end of their set).
        reps: When their reps happen.
        footprint: Their platform on the floor.
    """

    plan: SecondAthlete
    load: Load
    root_xz_m: Vec
    postures: tuple[Posture, ...]
    reps: tuple[RepTruth, ...]
    footprint: Footprint

    def person_at(self, index: int, t_s: float) -> Person:
        """The second athlete at a clip frame (`t_s` unused: the set was sampled per frame)."""
        del t_s
        posture = self.postures[min(index, len(self.postures) - 1)]
        shape = self.plan.shape or BodyShape()
        return Person.posed(shape, posture, self.plan.appearance, self.load)

    def describe(self) -> dict[str, Any]:
        """The truth file's description of the second athlete."""
        plan = self.plan
        return {
            "kind": "second_athlete",
            "across_m": round(plan.across_m, 3),
            "depth_m": round(plan.depth_m, 3),
            "yaw_deg": round(plan.yaw_deg, 2),
            "root_m": [round(float(v), 4) for v in self.root_xz_m],
            "exercise": plan.exercise,
            "load": self.load,
            "height_m": round((plan.shape or BodyShape()).height_m, 4),
            "reps": [{k: round(v, 4) for k, v in dataclasses.asdict(r).items()} for r in self.reps],
        }


_Member = TypeVar("_Member", Walker, Neighbour)


@dataclass(frozen=True, eq=False)
class Crowd:
    """Everyone besides the athlete, resolved for one clip.

    Attributes:
        members: The passers-by and the second athlete (second athlete first).
        wall_gap_m: The least wall distance behind the athlete that keeps them all in
            front of the wall.
    """

    members: tuple[Walker | Neighbour, ...]
    wall_gap_m: float

    def people_at(self, index: int, t_s: float) -> list[Person]:
        """Everyone posed at clip frame `index` (time `t_s`)."""
        return [m.person_at(index, t_s) for m in self.members]

    def describe(self) -> list[dict[str, Any]]:
        """The truth file's `others`: one description per member, in order."""
        return [m.describe() for m in self.members]


def cast_crowd(extras: Extras, stage: Stage, rng: np.random.Generator) -> Crowd:
    """Places and dresses everyone `extras` asks for around the athlete.

    Args:
        extras: Who to add.
        stage: The camera, the athlete and the clip's frame times.
        rng: Draws placements, bodies and clothes not given explicitly.

    Returns:
        The crowd.

    Raises:
        ValueError: An explicit placement would walk through someone, or come nearer
            the camera than 1 m.
    """
    athlete = lifter_footprint(
        "the athlete", stage.athlete_xz_m, stage.yaw_deg, stage.load, stage.exercise
    )
    taken = [athlete]
    # Explicit placements first: the ones drawn from the seed then avoid them.
    walkers: list[Walker] = []
    if not isinstance(extras.passers_by, int):
        for k, passer in enumerate(extras.passers_by):
            walkers.append(_place(_walker(passer, stage, rng, f"passer-by {k + 1}"), taken, stage))
    neighbours: list[Neighbour] = []
    if isinstance(extras.second_athlete, SecondAthlete):
        neighbours.append(_place(_neighbour(extras.second_athlete, stage, rng), taken, stage))
    elif extras.second_athlete:
        neighbour = _neighbour(_sample_neighbour(rng, stage, taken), stage, rng)
        neighbours.append(neighbour)
        taken.append(neighbour.footprint)
    for _ in range(extras.passers_by if isinstance(extras.passers_by, int) else 0):
        passer = _sample_passer(rng, stage, taken)
        walker = _walker(passer, stage, rng, f"passer-by {len(walkers) + 1}")
        walkers.append(walker)
        taken.append(walker.footprint)
    members = (*neighbours, *walkers)
    return Crowd(members, wall_gap_needed_m(stage, [m.footprint for m in members]))


def _place(member: _Member, taken: list[Footprint], stage: Stage) -> _Member:
    """Checks an explicit placement against everyone placed so far, then takes its floor."""
    check_place(member.footprint, taken, stage)
    taken.append(member.footprint)
    return member


def _walker(passer: PasserBy, stage: Stage, rng: np.random.Generator, name: str) -> Walker:
    shape = passer.shape or BodyShape.sample(rng)
    look = passer.appearance or _street_clothes(rng)
    passer = dataclasses.replace(passer, shape=shape, appearance=look)
    lane, half = walker_lane(stage, passer.depth_m, passer.leftward, name)
    start = lane.centre_xz_m - half * lane.along_xz
    exit_s = passer.enter_s + 2.0 * half / passer.speed_m_s
    return Walker(passer, start, lane.along_xz, exit_s, lane)


def _street_clothes(rng: np.random.Generator) -> Appearance:
    """Gym clothes, more often full length (someone passing through, not training)."""
    look = Appearance.sample(rng)
    if rng.random() < 0.5:
        look = dataclasses.replace(look, bottom="leggings", sleeves="long")
    return look


def _sample_passer(rng: np.random.Generator, stage: Stage, taken: list[Footprint]) -> PasserBy:
    """A passer-by on a free lane, in the picture at some time during the clip."""
    depth, enter, speed, leftward = draw_lane(rng, stage, taken)
    return PasserBy(depth_m=depth, enter_s=enter, speed_m_s=speed, leftward=leftward)


def _sample_neighbour(
    rng: np.random.Generator, stage: Stage, taken: list[Footprint]
) -> SecondAthlete:
    """A second athlete 1.5-3 m to the side or behind, mostly inside the picture."""
    exercise = str(rng.choice(sorted(DEFAULT_LOAD)))
    yaw = float(rng.choice([0.0, 0.0, 180.0]) + rng.uniform(-15.0, 15.0))
    lead_in, speed = float(rng.uniform(0.0, 2.0)), float(rng.uniform(0.85, 1.15))
    load = DEFAULT_LOAD[exercise]
    lifter = lifter_footprint("", stage.athlete_xz_m, stage.yaw_deg + yaw, load, exercise)
    across, depth = draw_platform(rng, stage, taken, lifter)
    return SecondAthlete(across, depth, exercise, yaw, lead_in, speed)


def _neighbour(chosen: SecondAthlete, stage: Stage, rng: np.random.Generator) -> Neighbour:
    """Dresses the second athlete and samples their set at the clip's frames."""
    exercise = chosen.exercise or str(rng.choice(sorted(DEFAULT_LOAD)))
    shape = chosen.shape or BodyShape.sample(rng)
    look = chosen.appearance or Appearance.sample(rng)
    chosen = dataclasses.replace(chosen, exercise=exercise, shape=shape, appearance=look)
    load, yaw = DEFAULT_LOAD[exercise], stage.yaw_deg + chosen.yaw_deg
    rep_s = sum(DEFAULT_TEMPO[exercise]) * chosen.speed
    reps = int(np.clip(math.ceil((stage.duration_s - chosen.lead_in_s) / rep_s) + 1, 1, 40))
    spec = MotionSpec(
        exercise, reps, speed=chosen.speed, lead_in_s=chosen.lead_in_s, tail_s=1.0, yaw_deg=yaw
    )
    phases, truth = plan(spec)
    _, postures = sample(phases, stage.fps)
    root = stage.at(chosen.across_m, chosen.depth_m)
    placed = tuple(
        dataclasses.replace(p, root_x_m=float(root[0]), root_z_m=float(root[1]))
        for p in postures[: len(stage.times_s)]
    )
    started = tuple(r for r in truth if r.start_s <= stage.duration_s)
    fp = lifter_footprint("the second athlete", root, yaw, load, exercise)
    return Neighbour(chosen, load, root, placed, started, fp)
