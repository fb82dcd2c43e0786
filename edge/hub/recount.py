"""The summaries recomputed from the events alone, and how the stored ones differ.

`recount(conn)` reads every rep, rep_update and set event, rebuilds what `reps`,
`platform_days`, `platform_day_faults` and `box_sequences` must hold (the rules in
`edge.hub.summaries`) and returns one line per difference: an empty list means the
incremental summaries are exact. Used by the tests, the chain test and an operator who
doubts a figure. `gaps(conn)` lists each box's missing event numbers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import psycopg

TOLERANCE = 1e-6
"""Score and seconds sums are floats added in another order: equal within this."""

_EXPECTED_REPS = """
WITH upd AS (
    SELECT DISTINCT ON (payload ->> 'rep_id') payload ->> 'rep_id' AS rep_id, id,
           payload ->> 'score' AS score
    FROM events WHERE kind = 'rep_update'
    ORDER BY payload ->> 'rep_id', ts DESC, id DESC
), codes AS (
    SELECT rep_id, array_agg(DISTINCT code ORDER BY code) AS codes FROM (
        SELECT id AS rep_id, f ->> 'code' AS code
        FROM events, jsonb_array_elements(payload -> 'faults') f WHERE kind = 'rep'
        UNION ALL
        SELECT payload ->> 'rep_id', f ->> 'code'
        FROM events, jsonb_array_elements(payload -> 'faults') f WHERE kind = 'rep_update'
    ) s GROUP BY rep_id
)
SELECT r.id, r.gym, r.camera, r.day,
       (CASE WHEN u.id IS NULL THEN r.payload ->> 'score' ELSE u.score END)::float8,
       COALESCE(c.codes, '{}'), u.id
FROM events r LEFT JOIN upd u ON u.rep_id = r.id LEFT JOIN codes c ON c.rep_id = r.id
WHERE r.kind = 'rep'
"""
_EXPECTED_SETS = """
SELECT gym, camera, day, count(*),
       sum((payload ->> 't_end_s')::float8 - (payload ->> 't_start_s')::float8)
FROM events WHERE kind = 'set' GROUP BY gym, camera, day
"""
_DAY_COLUMNS = ("reps", "sets", "scored_reps", "score_sum", "set_seconds")


def recount(conn: psycopg.Connection) -> list[str]:
    """Differences between the stored summaries and a recount; [] when they agree."""
    problems: list[str] = []
    days: dict[tuple, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0.0])
    faults: dict[tuple, int] = defaultdict(int)
    stored_reps = {
        row[0]: row[1:]
        for row in conn.execute("SELECT id, score, faults, updated_by FROM reps").fetchall()
    }
    for rep_id, gym, camera, day, score, codes, update_id in conn.execute(_EXPECTED_REPS):
        day_row = days[(gym, camera, day)]
        day_row[0] += 1
        day_row[2] += score is not None
        day_row[3] += score or 0.0
        for code in codes:
            faults[(gym, camera, day, code)] += 1
        stored = stored_reps.pop(rep_id, None)
        expected = (score, sorted(codes), update_id)
        if stored is None:
            problems.append(f"reps {rep_id}: missing (expected {expected})")
        elif not _same_rep((stored[0], sorted(stored[1]), stored[2]), expected):
            problems.append(f"reps {rep_id}: stored {stored}, expected {expected}")
    problems += [f"reps {rep_id}: stored without its event" for rep_id in stored_reps]
    for gym, camera, day, count, seconds in conn.execute(_EXPECTED_SETS):
        day_row = days[(gym, camera, day)]
        day_row[1], day_row[4] = count, seconds
    stored_days = {
        tuple(row[:3]): list(row[3:])
        for row in conn.execute(
            f"SELECT gym, camera, day, {', '.join(_DAY_COLUMNS)} FROM platform_days"
        )
    }
    problems += _compare("platform_days", stored_days, days, _DAY_COLUMNS)
    stored_faults = {
        tuple(row[:4]): [row[4]]
        for row in conn.execute("SELECT gym, camera, day, code, reps FROM platform_day_faults")
    }
    expected_faults = {key: [n] for key, n in faults.items()}
    problems += _compare("platform_day_faults", stored_faults, expected_faults, ("reps",))
    return problems + sequence_differences(conn)


def _counted_sequences(conn: psycopg.Connection) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Each box's first and last event number and how many it has, counted from events."""
    return {
        (gym, box): (first, last, n)
        for gym, box, first, last, n in conn.execute(
            "SELECT gym, box, min(seq), max(seq), count(*) FROM events"
            " WHERE seq IS NOT NULL GROUP BY gym, box"
        )
    }


def sequence_differences(conn: psycopg.Connection) -> list[str]:
    """Boxes whose tally (`box_sequences`) differs from a count of their events; [] if none."""
    counted = _counted_sequences(conn)
    stored = {
        (gym, box): (first, last, n)
        for gym, box, first, last, n in conn.execute(
            "SELECT gym, box, first_seq, last_seq, events FROM box_sequences"
        )
    }
    return [
        f"box_sequences {key}: stored {stored.get(key)}, counted {counted.get(key)}"
        for key in sorted(counted.keys() | stored.keys())
        if stored.get(key) != counted.get(key)
    ]


def gaps(conn: psycopg.Connection) -> dict[tuple[str, str], int]:
    """Per box, how many of its event numbers (`seq`) between its first and last are absent.

    A box numbers every event it emits 1, 2, 3 ... (docs/mqtt.md), so a number missing
    here is an event lost on the way, or one still on its way (a box's spool that has
    not drained yet, events delivered out of order): run it when the boxes are caught up.
    Boxes without a gap are left out.
    """
    counted = _counted_sequences(conn).items()
    return {key: last - first + 1 - n for key, (first, last, n) in counted if last - first + 1 > n}


def _same_rep(stored: tuple, expected: tuple) -> bool:
    return _close(stored[0], expected[0]) and stored[1:] == expected[1:]


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def _compare(
    table: str, stored: dict[tuple, list], expected: dict[tuple, list], columns: tuple[str, ...]
) -> list[str]:
    """Rows that differ; a stored row of zeros stands for a missing one."""
    problems = []
    for key in sorted(set(stored) | set(expected), key=str):
        zeros = [0] * len(columns)
        got, want = stored.get(key, zeros), expected.get(key, zeros)
        for name, a, b in zip(columns, got, want, strict=True):
            if not _close(a, b):
                problems.append(f"{table} {key}: {name} stored {a}, recounted {b}")
    return problems
