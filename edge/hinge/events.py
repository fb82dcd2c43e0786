"""The hinge engine's event parts: faults, withheld verdicts and the set summary.

The event types themselves, their schema version and their JSON are `edge.contract`'s
(docs/events.md). Times are seconds on the stream's clock (`t_*_s`); the daemon and
`hinge-edge replay` stamp the camera and the wall-clock time.
"""

from __future__ import annotations

import math
from typing import Any

from edge.contract import Fault, RepEvent, SetEvent, Tempo, Withheld


def fault_list(severities: dict[str, float], cues: dict[str, str]) -> tuple[Fault, ...]:
    """Faults, most severe first."""
    ordered = sorted(severities.items(), key=lambda item: -item[1])
    return tuple(Fault(code, sev, cues.get(code, "")) for code, sev in ordered)  # type: ignore[arg-type]


def withheld_list(withheld: dict[str, str]) -> tuple[Withheld, ...]:
    """Verdicts not given, by code."""
    return tuple(Withheld(code, reason) for code, reason in sorted(withheld.items()))


def set_summary(
    set_id: str, reps: list[RepEvent], reason: str, times: tuple[float, float]
) -> SetEvent:
    """The set event that follows a set's last rep (`reps` as the set's scoring left them)."""
    scores = [r.score for r in reps if r.score is not None]
    counts: dict[str, int] = {}
    for rep in reps:
        for fault in rep.faults:
            counts[fault.code] = counts.get(fault.code, 0) + 1
    return SetEvent(
        id=set_id,
        set_id=set_id,
        exercise=reps[-1].exercise if reps else None,
        exercise_confidence=reps[-1].exercise_confidence if reps else None,
        reps=len(reps),
        mean_score=sum(scores) / len(scores) if scores else None,
        fault_counts=counts,
        tempo=Tempo(
            *(
                _mean([getattr(r.metrics, key) for r in reps])
                for key in ("eccentric_s", "concentric_s", "pause_s", "rep_s")
            )
        ),
        rep_ids=tuple(r.id for r in reps),
        end_reason=reason,  # type: ignore[arg-type]
        t_start_s=times[0],
        t_end_s=times[1],
    )


def _mean(values: list[Any]) -> float:
    numbers = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(numbers) / len(numbers) if numbers else math.nan
