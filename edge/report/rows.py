"""The report's reps, read from the replay's events (with their `rep_update`s applied)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from edge.report.draw import LOCKOUT_FAULTS


@dataclass
class RepRow:
    """One `rep` event as the report shows it.

    Attributes:
        event: The `rep` event as emitted (never modified).
        score: The score after any `rep_update` (a lift from the floor's lowering).
        faults: `{code, severity, cue}` after any `rep_update`, worst first.
        metrics: The rep's metrics with an update's `eccentric_s`/`pause_s` applied.
        updated: A `rep_update` changed this rep.
    """

    event: dict[str, Any]
    score: float | None = None
    faults: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    updated: bool = False

    @property
    def id(self) -> str:
        """The rep event's id."""
        return str(self.event["id"])

    @property
    def label(self) -> str:
        """`set 1 rep 2` in short: `1.2`."""
        set_no = str(self.event["set_id"]).rsplit("-", 1)[-1]
        return f"{set_no}.{self.event['rep']}"

    def time_of(self, moment: str) -> float:
        """`start`, `bottom` or `lockout` time of the rep, seconds."""
        return float(self.event[f"t_{moment}_s"])

    def fault_time(self, code: str) -> float:
        """When a fault shows.

        At lockout for top faults, on the way down for a rushed eccentric, at the bottom
        for the rest.
        """
        if code in LOCKOUT_FAULTS:
            return self.time_of("lockout")
        if code == "rushed_eccentric":
            return (self.time_of("start") + self.time_of("bottom")) / 2
        return self.time_of("bottom")

    def fault_codes(self, moment: str | None = None) -> list[str]:
        """Fault codes, optionally only those seen at `bottom` or at `lockout`."""
        codes = [str(f["code"]) for f in self.faults]
        if moment == "lockout":
            return [c for c in codes if c in LOCKOUT_FAULTS]
        if moment == "bottom":
            return [c for c in codes if c not in LOCKOUT_FAULTS]
        return codes


def rep_rows(events: Iterable[dict[str, Any]]) -> list[RepRow]:
    """The `rep` events in order, each with its later `rep_update` applied."""
    rows: dict[str, RepRow] = {}
    for event in events:
        if event["event"] == "rep":
            rows[event["id"]] = RepRow(
                event,
                event.get("score"),
                list(event.get("faults", [])),
                dict(event.get("metrics", {})),
            )
        elif event["event"] == "rep_update" and event.get("rep_id") in rows:
            row = rows[event["rep_id"]]
            row.score = event.get("score")
            row.faults = sorted(
                row.faults + list(event.get("faults", [])), key=lambda f: -f["severity"]
            )
            row.metrics.update(event.get("metrics", {}))
            row.updated = True
    return list(rows.values())


def set_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `set` summaries, in order."""
    return [e for e in events if e["event"] == "set"]
