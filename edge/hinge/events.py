"""Event payloads of the hinge engine: plain, JSON-ready dicts (schema in docs/events.md).

These are the payloads the daemon publishes and `hinge-edge replay --events` writes.
Times are seconds on the stream's clock (`t_*_s`); the daemon adds camera and wall time.
"""

from __future__ import annotations

import math
from typing import Any

SCHEMA_VERSION = 1


def clean(value: Any, digits: int = 3) -> Any:
    """Rounds floats and turns NaN into None (JSON has no NaN), recursively."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, digits)
    if isinstance(value, dict):
        return {k: clean(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v, digits) for v in value]
    return value


def fault_list(severities: dict[str, float], cues: dict[str, str]) -> list[dict[str, Any]]:
    """Faults as `[{code, severity, cue}]`, most severe first."""
    ordered = sorted(severities.items(), key=lambda item: -item[1])
    return [{"code": code, "severity": sev, "cue": cues.get(code, "")} for code, sev in ordered]


def withheld_list(withheld: dict[str, str]) -> list[dict[str, str]]:
    """Verdicts not given, as `[{code, reason}]`."""
    return [{"code": code, "reason": reason} for code, reason in sorted(withheld.items())]


def set_summary(
    set_id: str, reps: list[dict[str, Any]], reason: str, times: tuple[float, float]
) -> dict[str, Any]:
    """The set event that follows a set's last rep."""
    scores = [r["score"] for r in reps if r.get("score") is not None]
    counts: dict[str, int] = {}
    for rep in reps:
        for fault in rep["faults"]:
            counts[fault["code"]] = counts.get(fault["code"], 0) + 1
    exercise = reps[-1]["exercise"] if reps else None
    return clean(
        {
            "schema_version": SCHEMA_VERSION,
            "event": "set",
            "id": set_id,
            "set_id": set_id,
            "exercise": exercise,
            "exercise_confidence": reps[-1].get("exercise_confidence") if reps else None,
            "reps": len(reps),
            "mean_score": sum(scores) / len(scores) if scores else None,
            "fault_counts": counts,
            "tempo": {
                key: _mean([r["metrics"][key] for r in reps])
                for key in ("eccentric_s", "concentric_s", "pause_s", "rep_s")
            },
            "rep_ids": [r["id"] for r in reps],
            "end_reason": reason,
            "t_start_s": times[0],
            "t_end_s": times[1],
        },
        2,
    )


def _mean(values: list[Any]) -> float:
    numbers = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(numbers) / len(numbers) if numbers else math.nan
