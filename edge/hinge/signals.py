"""Per-frame signals of one athlete: joint angles, depth, hip travel, spine and head.

Image coordinates, y down. `facing` is +1 when the athlete faces image +x. Every angle is
in degrees and measured on the side facing the camera (the more visible one); a signal
whose landmarks are not visible enough is NaN. Plain floats and `math`: this runs once
per frame per athlete and must cost a small fraction of the pose model's time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge.hinge.config import SignalConfig, ViewConfig
from edge.hinge.filters import OneEuro, TimeAverage
from edge.hinge.layout import JOINTS, NOSE, Layout, joint_indices

NAN = math.nan
_J = {name: i for i, name in enumerate(JOINTS)}
_SIDE_SWITCH = 0.05  # mean visibility advantage the other side needs before we switch sides
_SIDE_SMOOTHING_S = 1.0  # time constant of that mean
_FACING_RATE = 0.1  # weight of a new facing vote (toe-heel or nose-ear direction)
_UPRIGHT = 0.35  # shoulder within this many torso lengths of above the hip: upright
_HEIGHT_PER_SHOULDER_WIDTH = 3.2  # shoulder-to-ankle height over biacromial width, adults
_DEPTH_MIN, _DEPTH_MAX = -0.25, 0.85  # outside: the landmarks do not describe a body
_FOLD_WEIGHT = 0.5  # torso fold counts half: horizontal torso ~ shoulder drop of a hinge
# From the side a torso may read this much more folded than its lean (`_side_fold`): a
# camera 25 deg above or below the athlete foreshortens the upright torso about that much
# (1 - cos 25 deg) against the hinged one.
_FOLD_SLACK = 0.1
# 3-D hip flexion over this many degrees reads as depth 1: a torso-horizontal hinge (about
# 90 deg of flexion) reads about 0.45, as the shoulder drop of the same hinge from the side.
_HIP_FLEX_PER_DEPTH = 200.0
_WIDTH_SMOOTHING_S = 1.0  # time constant of the view width that weighs the 3-D depth
_LOAD_JOINTS = ("shoulder", "hip", "knee", "wrist", "ankle")
_STRAIGHT_DEG = 160.0  # hips and knees straighter than this (3-D): standing, "up" is learned
_UP_LEARN_RATE = 0.05  # weight of one standing frame in the athlete's "up"
_UPSIDE_DOWN_DEG = 120.0  # torso further from upright than this: no hinge, a misread pose
_SQUARE_ON = 2.0  # view width over the front threshold past which the 3-D depth fades out
_JUMP_TORSOS = 0.6  # hips moving this many torso lengths...
_JUMP_S = 0.25  # ...within this time is a different person or a cut, not motion
_JUMP_CONFIRM = 4  # frames the new place must hold before it is believed
SMOOTHED = (
    "depth",
    "torso_deg",
    "hip_deg",
    "knee_deg",
    "shin_deg",
    "hip_back_norm",
    "hip_height_norm",
    "shoulder_height_norm",
    "spine_dev_norm",
    "spine_dev3d_norm",
    "head_ext_deg",
    "torso_len_px",
    "hip3d_deg",
    "knee3d_deg",
    "hip_height3d_norm",
    "shoulder_height3d_norm",
)


@dataclass(frozen=True)
class BackShape:
    """The back's outline on one frame, from the pose model's person mask.

    Fractions of torso length, measured against the chord joining the dorsal edge's two
    ends (see `edge.pose.back.measure_back`); NaN where the edge was not measurable.

    Attributes:
        bulge: How far the back rounds out behind its end chord (rounded back).
        bulge_upper: The same over the thoracic half.
        bulge_lower: The same over the lumbar half.
        arch: How far the lower back dips in below the chord (an arched lower back).
    """

    bulge: float = NAN
    bulge_upper: float = NAN
    bulge_lower: float = NAN
    arch: float = NAN


@dataclass(slots=True)
class FrameSignals:
    """What one frame says about the athlete (NaN = not measurable on this frame).

    Attributes:
        t_s: Time of the frame.
        depth: How far down the athlete is, for every view: the larger of the shoulder
            drop (a fraction of the standing shoulder-to-ankle height) and half the torso
            fold (1 - vertical torso extent / torso length). 0 standing tall, about 0.4-0.5
            with the torso horizontal. The fold alone still reads when the feet are hidden
            (a bar's plates in front of the shins).
        torso_deg: Torso inclination from vertical, forward positive, backward negative.
        hip_deg: Hip angle shoulder-hip-knee, 180 standing straight.
        knee_deg: Knee angle hip-knee-ankle, 180 straight.
        shin_deg: Shin inclination from vertical, knee forward positive.
        hip_back_norm: Hip behind the ankle, in leg lengths.
        hip_height_norm: Hip above the ankle, in leg lengths.
        shoulder_height_norm: Shoulder above the ankle, in leg lengths.
        spine_dev_norm: Shoulder off the ear-hip line towards the back, in torso lengths,
            in the picture.
        spine_dev3d_norm: The same in the pose model's 3-D landmarks, in the body's own
            plane: what an oblique camera's picture foreshortens.
        head_ext_deg: Face (ear -> nose) turned up from the torso's perpendicular: 0 head
            in line with the torso, positive looking up, negative chin tucked.
        torso_len_px: Shoulder-to-hip length in pixels.
        hip3d_deg: Hip angle shoulder-hip-knee in the pose model's 3-D (world) landmarks,
            180 straight, mean of the two sides: the same for every camera, where the
            picture's hip angle foreshortens from the front and from above or below.
        knee3d_deg: Knee angle hip-knee-ankle in 3-D, likewise.
        knee3d_bent_deg: The more bent of the two 3-D knee angles (the stance leg's in a
            single-leg RDL, where the free leg's straight knee would halve a mean).
        split3d_deg: Difference of the two 3-D hip angles: near 0 in a two-legged hinge,
            large when one leg stays in line with the torso (a single-leg RDL).
        hip_height3d_norm: Hip above the ankle along the athlete's up in 3-D, in leg
            lengths (the picture's `hip_height_norm` foreshortens from a front-oblique or a
            low camera).
        shoulder_height3d_norm: Shoulder above the ankle likewise.
        hip_fold_deg: The more folded of the two sides' picture hip angles (the stance
            leg's in a single-leg RDL, where the near side may be the free leg).
        width_norm: Mean of shoulder and hip width over torso length (the view cue).
        wrist_up_norm: Wrists above the hips, in torso lengths.
        wrist_sh_norm: Wrist-to-shoulder distance, in torso lengths (small: load at the
            shoulders, as in a squat or good morning).
        arm_down: Cosine of the arm's angle from hanging straight down (1 hanging, 0 held
            out horizontally).
        elbow3d_deg: Elbow angle shoulder-elbow-wrist in 3-D, mean of the two sides (about
            150-180 with the arms straight, a hanging load; bent when the hands hold the
            load up at the chest or a bar on the back).
        wrist_ankle_norm: Wrists above the ankles, in leg lengths.
        foot_lift_norm: Height difference of the two ankles, in leg lengths.
        visibility: Mean visibility of the landmarks the angles used.
        side: 0 when the left side faces the camera, 1 the right.
        back_bulge: The back's outline rounding out (`BackShape.bulge`), on the frames the
            mask model saw; NaN on the others.
        back_bulge_upper: Its thoracic half.
        back_bulge_lower: Its lumbar half.
        back_arch: The lower back dipping in (`BackShape.arch`).
        depth_raw: `depth` before smoothing (to time the bottom of a rep exactly).
        jumped: The body moved further than a person can between two frames (another
            person was picked up, or the video cut): history was reset on this frame.
    """

    t_s: float
    depth: float = NAN
    torso_deg: float = NAN
    hip_deg: float = NAN
    knee_deg: float = NAN
    shin_deg: float = NAN
    hip_back_norm: float = NAN
    hip_height_norm: float = NAN
    shoulder_height_norm: float = NAN
    spine_dev_norm: float = NAN
    spine_dev3d_norm: float = NAN
    head_ext_deg: float = NAN
    torso_len_px: float = NAN
    hip3d_deg: float = NAN
    knee3d_deg: float = NAN
    knee3d_bent_deg: float = NAN
    split3d_deg: float = NAN
    hip_height3d_norm: float = NAN
    shoulder_height3d_norm: float = NAN
    hip_fold_deg: float = NAN
    width_norm: float = NAN
    wrist_up_norm: float = NAN
    wrist_sh_norm: float = NAN
    arm_down: float = NAN
    elbow3d_deg: float = NAN
    wrist_ankle_norm: float = NAN
    foot_lift_norm: float = NAN
    back_bulge: float = NAN
    back_bulge_upper: float = NAN
    back_bulge_lower: float = NAN
    back_arch: float = NAN
    depth_raw: float = NAN
    visibility: float = 0.0
    side: int = 0
    jumped: bool = False


def _interior(a: tuple, b: tuple, c: tuple) -> float:
    """Angle a-b-c at b, degrees in [0, 180]."""
    ux, uy, vx, vy = a[0] - b[0], a[1] - b[1], c[0] - b[0], c[1] - b[1]
    return math.degrees(abs(math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)))


def _mid3(world: list, a: int, b: int) -> list:
    return [(world[a][k] + world[b][k]) / 2 for k in range(3)]


def _sub3(a: list, b: list) -> list:
    return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]


def _dot3(a: list, b: list) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _length3(a: list) -> float:
    return math.sqrt(_dot3(a, a))


def _interior3(a: list, b: list, c: list) -> float:
    """Angle a-b-c at b of 3-D points, degrees in [0, 180] (NaN if a segment is empty)."""
    u = (a[0] - b[0], a[1] - b[1], a[2] - b[2])
    v = (c[0] - b[0], c[1] - b[1], c[2] - b[2])
    cross = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    dot = u[0] * v[0] + u[1] * v[1] + u[2] * v[2]
    norm = math.sqrt(cross[0] ** 2 + cross[1] ** 2 + cross[2] ** 2)
    return math.degrees(math.atan2(norm, dot)) if norm or dot else NAN


def _dist(a: tuple, b: tuple) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class SignalExtractor:
    """Turns landmarks into smoothed `FrameSignals`, one frame at a time."""

    def __init__(
        self, config: SignalConfig, layout: Layout, view: ViewConfig | None = None
    ) -> None:
        """Creates an extractor for one athlete (`view`: where side ends and front begins)."""
        self.config = config
        self.view = view or ViewConfig()
        self._left, self._right = joint_indices(layout)
        self._elbows = (self._left[_J["elbow"]], self._right[_J["elbow"]])
        self._nose = NOSE[layout]
        self._filters = {
            name: OneEuro(config.min_cutoff_hz, config.beta, config.derivative_cutoff_hz)
            for name in SMOOTHED
        }
        self.reset()

    def reset(self, keep_anchor: bool = False) -> None:
        """Forgets the athlete (new person, or back after a long gap)."""
        self._side = 0
        self._side_lead = TimeAverage(_SIDE_SMOOTHING_S)  # the right side's visibility lead
        self._xy: list = []
        self._facing = 0.0
        self._scale_px = 0.0
        self._scale_t = NAN
        self._torso_max_px = 0.0
        self._width = TimeAverage(_WIDTH_SMOOTHING_S)  # the view width, for the 3-D depth
        self._up = [0.0, -1.0, 0.0]  # the pose model's world y points down
        if not keep_anchor:
            self._anchor: tuple[float, float, float] | None = None  # mid-hip x, y, t
        self._jump: list[tuple[float, float, float]] | None = None
        for f in self._filters.values():
            f.reset()

    def _points(self, xy: list, vis: list, indices: list) -> list:
        """Per joint: (x, y) if visible enough, else None."""
        floor = self.config.min_visibility
        return [
            None if i is None or vis[i] < floor or xy[i][0] != xy[i][0] else (xy[i][0], xy[i][1])
            for i in indices
        ]

    def _choose_side(self, t_s: float, vis: list) -> int:
        core = (_J["shoulder"], _J["hip"], _J["knee"], _J["ankle"])
        left = sum(vis[self._left[j]] for j in core) / 4
        right = sum(vis[self._right[j]] for j in core) / 4
        # The lead averaged over time rather than per frame: the same evidence at every
        # frame rate (at 10 fps, a per-frame threshold sees a third of the chances to cross
        # that it sees at 30 fps).
        lead = self._side_lead(t_s, right - left)
        if (lead if self._side == 0 else -lead) > _SIDE_SWITCH:
            self._side = 1 - self._side
        return self._side

    def _update_facing(self, near: list, nose: tuple | None) -> float:
        """Which way the athlete faces in the image, voted over time.

        Toes ahead of heels is the sure cue (feet stay put through a rep). Nose ahead of
        ear is only asked while the torso is upright: bent over with the head down, the
        nose can sit behind the ear and would flip every angle's sign.
        """
        votes = []
        toe, heel, ear = near[_J["toe"]], near[_J["heel"]], near[_J["ear"]]
        sh, hip = near[_J["shoulder"]], near[_J["hip"]]
        if toe and heel and abs(toe[0] - heel[0]) > 1.0:
            votes.append(toe[0] - heel[0])
        elif nose and ear and sh and hip and abs(sh[0] - hip[0]) < _UPRIGHT * _dist(sh, hip):
            votes.append(nose[0] - ear[0])
        for v in votes:
            self._facing += _FACING_RATE * ((1.0 if v > 0 else -1.0) - self._facing)
        return 1.0 if self._facing >= 0 else -1.0

    def update(self, t_s: float, xy: list, vis: list, world: list | None = None) -> FrameSignals:
        """Measures one frame.

        Args:
            t_s: Frame time in seconds (any origin; must increase).
            xy: Landmarks as a list of `[x, y]` image pixels (NaN for missing).
            vis: Visibility per landmark in [0, 1].
            world: Optional 3-D landmarks `[x, y, z]` in metres (the pose model's world
                output), for the view-independent joint angles.

        Returns:
            The frame's signals, smoothed; NaN fields where landmarks were missing.
        """
        jump = self._jumped(t_s, xy, vis)
        if jump == "glitch":
            return FrameSignals(t_s=t_s)  # nothing measurable: treated like a missed frame
        jumped = jump == "new"
        if jumped:
            self.reset(keep_anchor=True)
        side = self._choose_side(t_s, vis)
        near = self._points(xy, vis, self._left if side == 0 else self._right)
        left = self._points(xy, vis, self._left)
        right = self._points(xy, vis, self._right)
        nose_vis = vis[self._nose] >= self.config.min_visibility
        facing = self._update_facing(near, xy[self._nose] if nose_vis else None)
        raw = FrameSignals(t_s=t_s, side=side, jumped=jumped)
        _measure_side(raw, near, facing)
        if abs(raw.torso_deg) > _UPSIDE_DOWN_DEG:  # head below the hips: a misfit pose
            return FrameSignals(t_s=t_s)
        nose = xy[self._nose] if nose_vis and xy[self._nose][0] == xy[self._nose][0] else None
        ear, sh, hip = near[_J["ear"]], near[_J["shoulder"]], near[_J["hip"]]
        if nose and ear and sh and hip:
            _measure_head(raw, nose, ear, sh, hip, facing)
        _measure_both(raw, left, right)
        if world is not None:
            self._measure_3d(raw, world, vis)
        self._xy = xy
        width = self._width(t_s, raw.width_norm)
        frontal = self._frontal(width)
        fold = self._side_fold(self._fold(raw, near), raw.torso_deg, frontal)
        depth = _nanmax(self._depth(t_s, raw, vis, near), _FOLD_WEIGHT * fold)
        depth = _nanmax(depth, self._depth_3d(width, frontal, raw))
        # Shoulders below the ankles, or far above them, is no body: a misfit pose.
        raw.depth = raw.depth_raw = depth if _DEPTH_MIN <= depth <= _DEPTH_MAX else NAN
        raw.visibility = (
            sum(
                vis[(self._left, self._right)[side][_J[j]]]
                for j in ("shoulder", "hip", "knee", "ankle")
            )
            / 4
        )
        for name, filt in self._filters.items():
            value = getattr(raw, name)
            if not math.isnan(value):  # a missing value stays missing (not the last one held)
                setattr(raw, name, filt(t_s, value))
        return raw

    def _frontal(self, width: float) -> float:
        """How far the view is from the side: 0 at or below the side threshold, 1 front."""
        side, front = self.view.side_max_width_norm, self.view.front_min_width_norm
        if math.isnan(width):
            return 0.0
        return min(1.0, max(0.0, (width - side) / (front - side)))

    @staticmethod
    def _side_fold(fold: float, lean_deg: float, frontal: float) -> float:
        """The torso's fold, held to what its lean allows the more the view is a side one.

        Seen from the side the torso folds in the picture's plane: its fold is its lean's
        (1 - cos lean). A torso that only looks shorter while it stays upright is seen from
        above or below (a high corner camera foreshortens the standing torso against the
        hinged one it learned its length from), or a hip landmark that slid: read as a
        fold it holds the depth of a standing athlete a rep deep and the lockout is never
        seen. From the front the fold *is* the torso shortening towards the camera (the
        lean does not show), so there it is taken as measured.
        """
        if math.isnan(fold) or math.isnan(lean_deg):
            return fold
        lean = 1.0 - math.cos(math.radians(min(abs(lean_deg), 90.0)))
        return frontal * fold + (1.0 - frontal) * min(fold, lean + _FOLD_SLACK)

    def _depth_3d(self, width: float, frontal: float, s: FrameSignals) -> float:
        """Depth from the 3-D hip flexion, weighted by how far the view is from the side.

        From the side the picture shows the fold itself and the 2-D depth is the better
        witness (the 3-D estimate errs most when a plate hides the hips); from the front or
        obliquely, the fold foreshortens in the picture and a hinge from a low camera can
        look like a nod, while the 3-D hip angle still flexes by the whole movement.
        `width`: the view width, averaged over time; `frontal`: its weight (`_frontal`).
        """
        front = self.view.front_min_width_norm
        # Square on, the thighs fold straight towards the camera: the one movement a single
        # picture cannot put a depth on, and the 3-D hip angle errs most (it reads a hip
        # bent by 60 deg in a lifter standing tall). There the 2-D shoulder drop and the
        # torso's foreshortening are the better witnesses.
        frontal *= min(1.0, max(0.0, (_SQUARE_ON * front - width) / front))
        if math.isnan(s.hip3d_deg) or not frontal > 0:
            return NAN
        return frontal * (180.0 - s.hip3d_deg) / _HIP_FLEX_PER_DEPTH

    def _measure_3d(self, s: FrameSignals, world: list, vis: list) -> None:
        """Hip and knee angles in the pose model's 3-D landmarks, both sides averaged."""
        hips, knees, heights = [], [], []
        floor = self.config.min_visibility
        for side in (self._left, self._right):
            sh, hip, knee, ankle = (side[_J[j]] for j in ("shoulder", "hip", "knee", "ankle"))
            if min(vis[sh], vis[hip], vis[knee]) >= floor:
                hips.append(_interior3(world[sh], world[hip], world[knee]))
            if min(vis[hip], vis[knee], vis[ankle]) >= floor:
                knees.append(_interior3(world[hip], world[knee], world[ankle]))
            if min(vis[sh], vis[hip], vis[knee], vis[ankle]) >= floor:
                heights.append(self._heights(world[sh], world[hip], world[knee], world[ankle]))
        s.hip3d_deg = sum(hips) / len(hips) if hips else NAN
        self._head_and_dowel_3d(s, world, vis)
        self._arms_3d(s, world, vis)
        if heights:
            s.hip_height3d_norm = sum(h for h, _ in heights) / len(heights)
            s.shoulder_height3d_norm = sum(h for _, h in heights) / len(heights)
        s.split3d_deg = abs(hips[0] - hips[1]) if len(hips) == 2 else NAN
        s.knee3d_deg = sum(knees) / len(knees) if knees else NAN
        s.knee3d_bent_deg = min(knees) if knees else NAN

    def _arms_3d(self, s: FrameSignals, world: list, vis: list) -> None:
        """Where the load is, in 3-D: the wrists against the shoulders, hips and ankles.

        Replaces the picture's arm measures, which foreshorten from the front (hands at the
        chest look like hands hanging) and tilt with a camera looking up or down. "Up" is
        the athlete's own: the ankles-to-shoulders line while standing straight, learned
        (camera's up until then), so a pitched camera does not tilt it.
        """
        pairs = {j: (self._left[_J[j]], self._right[_J[j]]) for j in _LOAD_JOINTS}
        self._elbows_3d(s, world, vis, pairs)
        if min(vis[i] for pair in pairs.values() for i in pair) < self.config.min_visibility:
            return
        sh, hip, knee, wrist, ankle = (_mid3(world, *pairs[j]) for j in _LOAD_JOINTS)
        torso = _length3(_sub3(sh, hip))
        leg = _length3(_sub3(hip, knee)) + _length3(_sub3(knee, ankle))
        if torso <= 0 or leg <= 0:
            return
        if s.hip3d_deg >= _STRAIGHT_DEG and s.knee3d_deg >= _STRAIGHT_DEG:
            self._learn_up(_sub3(sh, ankle))
        up = self._up
        arm = _sub3(wrist, sh)
        reach = _length3(arm)
        s.wrist_sh_norm = reach / torso
        s.arm_down = -_dot3(arm, up) / reach if reach > 0 else NAN
        s.wrist_up_norm = _dot3(_sub3(wrist, hip), up) / torso
        s.wrist_ankle_norm = _dot3(_sub3(wrist, ankle), up) / leg

    def _heights(self, sh: list, hip: list, knee: list, ankle: list) -> tuple[float, float]:
        """Hip and shoulder above the ankle along the athlete's up, in 3-D leg lengths."""
        leg = _length3(_sub3(hip, knee)) + _length3(_sub3(knee, ankle))
        if leg <= 0:
            return NAN, NAN
        return _dot3(_sub3(hip, ankle), self._up) / leg, _dot3(_sub3(sh, ankle), self._up) / leg

    def _elbows_3d(self, s: FrameSignals, world: list, vis: list, pairs: dict) -> None:
        """The 3-D elbow angle, mean of the arms seen (the near one alone from the side)."""
        elbows = [
            _interior3(world[sh], world[el], world[wr])
            for sh, el, wr in zip(pairs["shoulder"], self._elbows, pairs["wrist"], strict=True)
            if el is not None and min(vis[sh], vis[el], vis[wr]) >= self.config.min_visibility
        ]
        elbows = [a for a in elbows if not math.isnan(a)]
        s.elbow3d_deg = sum(elbows) / len(elbows) if elbows else NAN

    def _learn_up(self, body: list) -> None:
        """Moves the athlete's "up" towards one standing frame's ankles-to-shoulders line."""
        length = _length3(body)
        if length <= 0:
            return
        mixed = [u + _UP_LEARN_RATE * (b / length - u) for u, b in zip(self._up, body, strict=True)]
        norm = _length3(mixed)
        self._up = [m / norm for m in mixed]

    def _head_and_dowel_3d(self, s: FrameSignals, world: list, vis: list) -> None:
        """Head pitch and the dowel line (`_dowel_3d`) in 3-D.

        The head: the face (ears -> nose) against the torso's long axis, the same from
        every camera, where the picture's ear-nose line foreshortens as the athlete turns
        towards the camera. 0 face perpendicular to the torso, positive turned up (looking
        up), as the picture's measure.
        """
        pairs = [(self._left[_J[j]], self._right[_J[j]]) for j in ("ear", "shoulder", "hip")]
        needed = [self._nose, *(i for pair in pairs for i in pair)]
        if min(vis[i] for i in needed) < self.config.min_visibility:
            return
        ear, sh, hip = (_mid3(world, *pair) for pair in pairs)
        angle = _interior3(_sub3(world[self._nose], ear), [0.0, 0.0, 0.0], _sub3(sh, hip))
        if not math.isnan(angle):
            s.head_ext_deg = 90.0 - angle
        self._dowel_3d(s, world, (ear, sh, hip), pairs[2])

    def _dowel_3d(self, s: FrameSignals, world: list, trunk: tuple, hips: tuple) -> None:
        """The dowel line in 3-D: the shoulders off the ear-hip line, towards the back.

        In the body's own plane (the one through the ear-hip line square to the hips'
        left-right axis), where an oblique camera's picture foreshortens the offset and
        mixes in the trunk's twist. From the side the picture is that plane already, and
        better: the hips' left-right axis then points along the camera's depth, the
        direction the pose model estimates worst (docs/hinge.md). `trunk`: the ears',
        shoulders' and hips' midpoints.
        """
        ear, sh, hip = trunk
        dowel, across = _sub3(ear, hip), _sub3(world[hips[1]], world[hips[0]])
        back = [
            across[1] * dowel[2] - across[2] * dowel[1],
            across[2] * dowel[0] - across[0] * dowel[2],
            across[0] * dowel[1] - across[1] * dowel[0],
        ]
        norm, torso = _length3(back), _length3(_sub3(sh, hip))
        if not (norm > 0 and torso > 0):
            return
        if _dot3(_sub3(world[self._nose], ear), back) > 0:  # the face looks the other way
            norm = -norm
        s.spine_dev3d_norm = _dot3(_sub3(sh, hip), back) / (norm * torso)

    def _depth(self, t_s: float, s: FrameSignals, vis: list, near: list) -> float:
        """Shoulder drop relative to the standing shoulder-to-ankle height."""
        sh = self._best_y(vis, _J["shoulder"])
        an = self._best_y(vis, _J["ankle"])
        hip, knee, ankle = near[_J["hip"]], near[_J["knee"]], near[_J["ankle"]]
        if sh is None or an is None or not (hip and knee and ankle):
            return NAN
        height = s.torso_len_px + _dist(hip, knee) + _dist(knee, ankle)
        # Facing the camera, every segment foreshortens as the athlete folds towards it,
        # but the shoulders' width does not: it bounds the height from below (the
        # shoulder-to-ankle height is about 3.2 shoulder widths in adults).
        lsh, rsh = (
            self._seen(vis, self._left[_J["shoulder"]]),
            self._seen(vis, self._right[_J["shoulder"]]),
        )
        if lsh and rsh:
            height = max(height, _HEIGHT_PER_SHOULDER_WIDTH * _dist(lsh, rsh))
        if not math.isnan(height):
            dt = 0.0 if math.isnan(self._scale_t) else max(0.0, t_s - self._scale_t)
            decayed = self._scale_px * (1.0 - self.config.scale_decay_per_s) ** dt
            self._scale_px, self._scale_t = max(height, decayed), t_s
        if self._scale_px <= 0:
            return NAN
        return 1.0 - (an - sh) / self._scale_px

    def _fold(self, s: FrameSignals, near: list) -> float:
        """1 - vertical extent of the torso / its length (0 upright, 1 horizontal)."""
        sh, hip = near[_J["shoulder"]], near[_J["hip"]]
        if not (sh and hip):
            return NAN
        self._torso_max_px = max(self._torso_max_px * 0.999, s.torso_len_px)
        return 1.0 - (hip[1] - sh[1]) / self._torso_max_px

    def _jumped(self, t_s: float, xy: list, vis: list) -> str:
        """Checks the hips against where they just were.

        Returns:
            "" for normal motion; "glitch" when the hips teleported (the frame is not to be
            trusted); "new" when the teleported position has held for a few frames: a
            different person, or a cut in the video.
        """
        hips = [self._left[_J["hip"]], self._right[_J["hip"]]]
        shoulders = [self._left[_J["shoulder"]], self._right[_J["shoulder"]]]
        joints = hips + shoulders
        if min(vis[i] for i in joints) < self.config.min_visibility or any(
            xy[i][0] != xy[i][0] for i in joints
        ):
            return ""
        hx, hy = (xy[hips[0]][0] + xy[hips[1]][0]) / 2, (xy[hips[0]][1] + xy[hips[1]][1]) / 2
        sx = (xy[shoulders[0]][0] + xy[shoulders[1]][0]) / 2
        sy = (xy[shoulders[0]][1] + xy[shoulders[1]][1]) / 2
        reach = _JUMP_TORSOS * math.hypot(hx - sx, hy - sy)
        here = (hx, hy, t_s)
        anchor = self._anchor
        if anchor is None or t_s - anchor[2] > _JUMP_S or _far(anchor, here) <= reach:
            self._anchor, self._jump = here, None
            return ""
        # Teleported: hold judgement until the new place has been seen a few frames running.
        same = self._jump is not None and _far(self._jump[-1], here) <= reach
        self._jump = [*self._jump, here] if same else [here]
        if len(self._jump) < _JUMP_CONFIRM:
            return "glitch"
        self._anchor, self._jump = here, None
        return "new"

    def _seen(self, vis: list, index: int) -> tuple | None:
        point = self._xy[index]
        if vis[index] < self.config.min_visibility or point[0] != point[0]:
            return None
        return point[0], point[1]

    def _best_y(self, vis: list, joint: int) -> float | None:
        """The y of the better-seen of a left/right pair, if it is seen well enough.

        The far side's ankle or shoulder is often guessed (low visibility) and wrong by a
        lot; averaging it in would move the depth signal by as much as a rep.
        """
        left, right = self._left[joint], self._right[joint]
        best = left if vis[left] >= vis[right] else right
        if vis[best] < self.config.depth_min_visibility:
            return None
        return self._xy[best][1]


def _far(a: tuple, b: tuple) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _nanmax(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    return a if math.isnan(b) else max(a, b)


def _measure_side(s: FrameSignals, p: list, f: float) -> None:
    """Angles of the near side (p: joints in `JOINTS` order, None where unseen)."""
    ear, sh, hip, knee, ankle = (p[_J[n]] for n in ("ear", "shoulder", "hip", "knee", "ankle"))
    wrist = p[_J["wrist"]]
    if sh and hip:
        s.torso_len_px = _dist(sh, hip)
        s.torso_deg = math.degrees(math.atan2(f * (sh[0] - hip[0]), hip[1] - sh[1]))
        if wrist:
            torso = max(s.torso_len_px, 1e-6)
            arm = _dist(wrist, sh)
            s.wrist_up_norm = (hip[1] - wrist[1]) / torso
            s.wrist_sh_norm = arm / torso
            s.arm_down = (wrist[1] - sh[1]) / arm if arm > 0 else NAN
    if sh and hip and knee:
        s.hip_deg = _interior(sh, hip, knee)
    if hip and knee and ankle:
        leg = _dist(hip, knee) + _dist(knee, ankle)
        s.knee_deg = _interior(hip, knee, ankle)
        s.hip_back_norm = f * (ankle[0] - hip[0]) / leg
        s.hip_height_norm = (ankle[1] - hip[1]) / leg
        if sh:
            s.shoulder_height_norm = (ankle[1] - sh[1]) / leg
        if wrist:
            s.wrist_ankle_norm = (ankle[1] - wrist[1]) / leg
    if knee and ankle:
        s.shin_deg = math.degrees(math.atan2(f * (knee[0] - ankle[0]), ankle[1] - knee[1]))
    if ear and sh and hip:
        _measure_dowel(s, ear, sh, hip, f)


def _measure_dowel(s: FrameSignals, ear: tuple, sh: tuple, hip: tuple, f: float) -> None:
    """Spine against the dowel line (back of the head, upper back, sacrum)."""
    ax, ay = ear[0] - hip[0], ear[1] - hip[1]
    length = math.hypot(ax, ay)
    if length > 0:
        nx, ny = f * ay / length, -f * ax / length  # unit normal pointing to the back
        s.spine_dev_norm = ((sh[0] - hip[0]) * nx + (sh[1] - hip[1]) * ny) / s.torso_len_px


def _measure_head(
    s: FrameSignals, nose: tuple, ear: tuple, sh: tuple, hip: tuple, f: float
) -> None:
    """Head pitch against the torso: the face (ear -> nose) turning up is extension.

    The ear sits close to the head's pivot, so the ear-shoulder line barely moves when the
    athlete looks up; the ear-nose line turns with the face.
    """
    ux, uy = sh[0] - hip[0], sh[1] - hip[1]
    vx, vy = nose[0] - ear[0], nose[1] - ear[1]
    angle = math.degrees(math.atan2(ux * vy - uy * vx, ux * vx + uy * vy))
    s.head_ext_deg = 90.0 - f * angle


def _measure_both(s: FrameSignals, left: list, right: list) -> None:
    """Cues that need both sides: view width and single-leg stance."""
    lsh, rsh, lhip, rhip = (
        left[_J["shoulder"]],
        right[_J["shoulder"]],
        left[_J["hip"]],
        right[_J["hip"]],
    )
    lan, ran, lkn = left[_J["ankle"]], right[_J["ankle"]], left[_J["knee"]]
    folded = [
        _interior(sh, hip, knee)
        for sh, hip, knee in ((lsh, lhip, lkn), (rsh, rhip, right[_J["knee"]]))
        if sh and hip and knee
    ]
    s.hip_fold_deg = min(folded) if folded else NAN
    if lsh and rsh and lhip and rhip:
        torso = _dist(
            ((lsh[0] + rsh[0]) / 2, (lsh[1] + rsh[1]) / 2),
            ((lhip[0] + rhip[0]) / 2, (lhip[1] + rhip[1]) / 2),
        )
        if torso > 0:
            s.width_norm = (abs(lsh[0] - rsh[0]) + abs(lhip[0] - rhip[0])) / (2 * torso)
    if lan and ran and lhip and lkn:
        leg = _dist(lhip, lkn) + _dist(lkn, lan)
        s.foot_lift_norm = abs(lan[1] - ran[1]) / max(leg, 1e-6)
