"""A rep's frames as arrays, its baseline (standing) values, and its metrics."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields

import numpy as np

from edge.hinge.reps import RepBoundary
from edge.hinge.signals import FrameSignals

_FIELDS = tuple(f.name for f in fields(FrameSignals))
_BASELINE_FIELDS = (
    "hip_deg",
    "knee_deg",
    "torso_deg",
    "spine_dev_norm",
    "spine_dev3d_norm",
    "head_ext_deg",
    "torso_len_px",
)
LOCKOUT_WINDOW_S = 0.5  # the end of the rise judged as "the top" of a rep
_TEMPO_LOW, _TEMPO_HIGH = 0.1, 0.9  # a phase is timed between these shares of the depth
_TEMPO_SMOOTH_S = 0.1  # the depth's running mean for timing phases spans about this
_PAUSE_FRACTION = 0.1  # within this fraction of the rep's depth counts as pausing at bottom


def nan_reduce(func, values: np.ndarray) -> float:
    """`np.nanmax`/`nanmin`/`nanmedian` that return NaN for all-NaN input, quietly."""
    if values.size == 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(func(values))


class RepWindow:
    """The frames of one rep (or one lowering) as arrays, one per `FrameSignals` field."""

    def __init__(self, frames: list[FrameSignals]) -> None:
        """Stacks the frames (in time order)."""
        table = np.array([[getattr(f, n) for n in _FIELDS] for f in frames], np.float64)
        table = table.reshape(len(frames), len(_FIELDS))
        self.columns = {name: table[:, i] for i, name in enumerate(_FIELDS)}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["t_s"])

    def between(self, t0: float, t1: float) -> RepWindow:
        """The frames with `t0 <= t <= t1`."""
        keep = (self["t_s"] >= t0) & (self["t_s"] <= t1)
        sub = RepWindow.__new__(RepWindow)
        sub.columns = {name: col[keep] for name, col in self.columns.items()}
        return sub

    def at(self, name: str, t_s: float) -> float:
        """The value of a field at the frame nearest `t_s` (NaN if empty)."""
        if not len(self):
            return math.nan
        return float(self[name][int(np.argmin(np.abs(self["t_s"] - t_s)))])


@dataclass
class Baseline:
    """The athlete standing tall, learned from the tops of reps (EMA per field)."""

    hip_deg: float = math.nan
    knee_deg: float = math.nan
    torso_deg: float = math.nan
    spine_dev_norm: float = math.nan
    spine_dev3d_norm: float = math.nan
    head_ext_deg: float = math.nan
    torso_len_px: float = math.nan
    time_constant_s: float = 0.3
    last_t_s: float = math.nan

    def update(self, frame: FrameSignals) -> None:
        """Learns from one frame taken at the top.

        An average over time, not over frames: a camera analysed at 10 fps learns the same
        baseline as one at 30.
        """
        gap = frame.t_s - self.last_t_s if not math.isnan(self.last_t_s) else 0.0
        rate = 1.0 - math.exp(-min(max(gap, 0.0), self.time_constant_s) / self.time_constant_s)
        self.last_t_s = frame.t_s
        for name in _BASELINE_FIELDS:
            value, old = getattr(frame, name), getattr(self, name)
            if math.isnan(value):
                continue
            setattr(self, name, value if math.isnan(old) else old + rate * (value - old))

    def filled_from(self, top: RepWindow) -> Baseline:
        """This baseline, with fields never learned taken from `top` (the rep's own lockout)."""
        out = Baseline(**{k: v for k, v in vars(self).items()})
        for name in _BASELINE_FIELDS:
            if math.isnan(getattr(out, name)):
                setattr(out, name, nan_reduce(np.nanmedian, top[name]))
        return out


def rep_metrics(window: RepWindow, rep: RepBoundary, base: Baseline) -> dict[str, float]:
    """The per-rep metrics docs/hinge.md lists (NaN where a view could not measure one)."""
    eccentric, concentric = phase_durations(window, rep)
    top = window.between(rep.lockout_t_s - LOCKOUT_WINDOW_S, rep.lockout_t_s)
    start_back = window.at("hip_back_norm", rep.bottom_t_s if rep.from_floor else rep.start_t_s)
    return {
        "depth_norm": rep.depth,
        "max_torso_deg": nan_reduce(np.nanmax, window["torso_deg"]),
        "min_hip_deg": nan_reduce(np.nanmin, window["hip_deg"]),
        "min_knee_deg": nan_reduce(np.nanmin, window["knee_deg"]),
        "max_shin_deg": nan_reduce(np.nanmax, window["shin_deg"]),
        "hip_travel_norm": nan_reduce(np.nanmax, window["hip_back_norm"]) - start_back,
        "spine_deviation_norm": nan_reduce(np.nanmax, window["spine_dev_norm"])
        - base.spine_dev_norm,
        "head_deviation_deg": nan_reduce(np.nanmax, window["head_ext_deg"]) - base.head_ext_deg,
        "lockout_hip_deg": nan_reduce(np.nanmax, top["hip_deg"]),
        "lockout_torso_deg": nan_reduce(np.nanmin, top["torso_deg"]),
        "eccentric_s": eccentric,
        "concentric_s": concentric,
        "pause_s": pause_seconds(window, rep),
        "rep_s": rep.lockout_t_s - (rep.bottom_t_s if rep.from_floor else rep.start_t_s),
    }


def _crossing(t: np.ndarray, depth: np.ndarray, level: float, last: bool) -> float:
    """First time the depth reaches `level` (or the last time it is still short of it).

    Interpolated between the frames on either side, so a phase's time does not move by
    a whole frame (66 ms at 15 fps) with the frame rate or the frames' phase.
    """
    hits = np.flatnonzero(depth >= level) if not last else np.flatnonzero(depth <= level)
    if not hits.size:
        return math.nan
    k = int(hits[-1] if last else hits[0])
    j = k + 1 if last else k - 1  # the neighbouring frame on the other side of `level`
    if not 0 <= j < len(t) or depth[j] == depth[k]:
        return float(t[k])
    share = (level - depth[k]) / (depth[j] - depth[k])
    return float(t[k] + min(max(share, 0.0), 1.0) * (t[j] - t[k]))


def _running_mean(t: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """A running mean over about `_TEMPO_SMOOTH_S` (an odd number of frames, 1 at 10 fps)."""
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    frames = max(1, int(_TEMPO_SMOOTH_S / dt) | 1) if dt > 0 else 1
    frames = min(frames, (len(raw) - 1) | 1)  # "same" mode: never longer than the signal
    filled = np.nan_to_num(raw, nan=np.nanmean(raw))
    return np.convolve(filled, np.ones(frames) / frames, mode="same")


def phase_durations(window: RepWindow, rep: RepBoundary) -> tuple[float, float]:
    """Eccentric and concentric time, measured between 10% and 90% of the rep's depth.

    Thresholds rather than the segmenter's times: an athlete eases out of the top and
    into the bottom, and where exactly "moving" begins is otherwise a matter of noise.
    On a lightly smoothed depth: the live filter's lag would stretch a fast descent.
    """
    t, raw = window["t_s"], window["depth_raw"]
    if not len(window) or np.all(np.isnan(raw)):
        return math.nan, math.nan
    # A short running mean: steadier than raw landmarks, without the filter's lag.
    depth = _running_mean(t, raw)
    b = int(np.argmin(np.abs(t - rep.bottom_t_s)))
    deepest = nan_reduce(np.nanmax, depth)
    eccentric = math.nan
    if not rep.from_floor:
        before = depth[: b + 1]
        top = nan_reduce(np.nanmin, before)
        lo, hi = top + _TEMPO_LOW * (deepest - top), top + _TEMPO_HIGH * (deepest - top)
        eccentric = _crossing(t[: b + 1], before, hi, False) - _crossing(
            t[: b + 1], before, lo, True
        )
    after = depth[b:]
    top = nan_reduce(np.nanmin, after)
    lo, hi = top + _TEMPO_LOW * (deepest - top), top + _TEMPO_HIGH * (deepest - top)
    arrived = np.flatnonzero(after <= lo)
    concentric = math.nan
    if arrived.size:
        end = b + int(arrived[0]) + 1
        # From the last moment still deep to the first back near the top.
        rise_t, rise = t[b:end], -depth[b:end]
        concentric = _crossing(rise_t, rise, -lo, False) - _crossing(rise_t, rise, -hi, True)
    return eccentric, concentric


def pause_seconds(window: RepWindow, rep: RepBoundary) -> float:
    """Time spent near the deepest point (within 10% of the rep's depth)."""
    depth = window["depth"]
    if not len(window) or np.all(np.isnan(depth)):
        return math.nan
    near = depth >= np.nanmax(depth) - _PAUSE_FRACTION * max(rep.depth, 1e-6)
    t = window["t_s"]
    dt = np.diff(t, append=t[-1])
    return float(dt[near].sum())
