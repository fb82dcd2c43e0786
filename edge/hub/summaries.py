"""The daily summaries' arithmetic: a rep's state under its updates, and the deltas.

Per platform (gym, camera) and day (the event's date in the hub's time zone):
reps; sets; mean score = score_sum / scored_reps over each rep's latest score (its
rep_update's, if any: the latest by (ts, id) when there were several); fault rate per
code = reps with that code (the rep's or its updates', once per rep) / reps; minutes in
use = set_seconds / 60, summed over set events of (t_end_s - t_start_s). `recount` in
`edge.hub.recount` computes the same from the events alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg

PlatformDay = tuple[str, str, date]


@dataclass(frozen=True)
class RepState:
    """A rep as its `reps` row holds it: score, fault codes, the update applied."""

    score: float | None
    codes: tuple[str, ...]
    updated_by: str | None
    updated_ts: datetime | None


def apply_updates(
    state: RepState, updates: Iterable[tuple[str, datetime, dict[str, Any]]]
) -> RepState:
    """The rep after its updates (id, ts, payload): codes added, the latest score kept."""
    score, codes = state.score, list(state.codes)
    updated_by, updated_ts = state.updated_by, state.updated_ts
    for update_id, ts, payload in sorted(updates, key=lambda u: (u[1], u[0])):
        codes += [c for c in dict.fromkeys(f["code"] for f in payload["faults"]) if c not in codes]
        if updated_by is None or (ts, update_id) > (updated_ts, updated_by):
            score, updated_by, updated_ts = payload["score"], update_id, ts
    return RepState(score, tuple(codes), updated_by, updated_ts)


@dataclass
class _Day:
    reps: int = 0
    sets: int = 0
    scored_reps: int = 0
    score_sum: float = 0.0
    set_seconds: float = 0.0

    def any(self) -> bool:
        return bool(
            self.reps or self.sets or self.scored_reps or self.score_sum or self.set_seconds
        )


_UPSERT_DAYS = """
INSERT INTO platform_days AS p (gym, camera, day, reps, sets, scored_reps, score_sum, set_seconds)
SELECT * FROM unnest(%s::text[], %s::text[], %s::date[], %s::int[], %s::int[], %s::int[],
                     %s::float8[], %s::float8[])
ON CONFLICT (gym, camera, day) DO UPDATE SET
    reps = p.reps + EXCLUDED.reps, sets = p.sets + EXCLUDED.sets,
    scored_reps = p.scored_reps + EXCLUDED.scored_reps,
    score_sum = p.score_sum + EXCLUDED.score_sum,
    set_seconds = p.set_seconds + EXCLUDED.set_seconds
"""
_UPSERT_FAULTS = """
INSERT INTO platform_day_faults AS f (gym, camera, day, code, reps)
SELECT * FROM unnest(%s::text[], %s::text[], %s::date[], %s::text[], %s::int[])
ON CONFLICT (gym, camera, day, code) DO UPDATE SET reps = f.reps + EXCLUDED.reps
"""


@dataclass
class Deltas:
    """What one transaction adds to `platform_days` and `platform_day_faults`."""

    days: dict[PlatformDay, _Day] = field(default_factory=dict)
    faults: dict[tuple[str, str, date, str], int] = field(default_factory=dict)

    def add_set(self, gym: str, camera: str, day: date, seconds: float) -> None:
        """A new set event."""
        entry = self.days.setdefault((gym, camera, day), _Day())
        entry.sets += 1
        entry.set_seconds += seconds

    def add_rep(
        self, gym: str, camera: str, day: date, old: RepState | None, new: RepState
    ) -> None:
        """A new rep (`old` None) or a rep revised from `old` to `new`."""
        entry = self.days.setdefault((gym, camera, day), _Day())
        old_score = old.score if old is not None else None
        entry.reps += old is None
        entry.scored_reps += (new.score is not None) - (old_score is not None)
        entry.score_sum += (new.score or 0.0) - (old_score or 0.0)
        old_codes = set(old.codes) if old is not None else set()
        for code in new.codes:
            if code not in old_codes:
                key = (gym, camera, day, code)
                self.faults[key] = self.faults.get(key, 0) + 1

    def write(self, cur: psycopg.Cursor) -> None:
        """Adds the deltas, rows in key order (the lock order of every worker)."""
        days = sorted((k, v) for k, v in self.days.items() if v.any())
        if days:
            columns: list[list[Any]] = [[k[i] for k, _ in days] for i in range(3)]
            for name in ("reps", "sets", "scored_reps", "score_sum", "set_seconds"):
                columns.append([getattr(v, name) for _, v in days])
            cur.execute(_UPSERT_DAYS, columns)
        faults = sorted(self.faults.items())
        if faults:
            columns = [[k[i] for k, _ in faults] for i in range(4)] + [[n for _, n in faults]]
            cur.execute(_UPSERT_FAULTS, columns)
