"""The report's reps, read from the replay's events (with their `rep_update`s applied)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from edge.contract import AnyEvent, Fault, RepEvent, RepMetrics, RepUpdate, SetEvent
from edge.report.draw import LOCKOUT_FAULTS


@dataclass
class RepRow:
    """One `rep` event as the report shows it.

    Attributes:
        event: The `rep` event as emitted.
        score: The score after any `rep_update` (a lift from the floor's lowering).
        faults: Its faults after any `rep_update`, worst first.
        metrics: The rep's metrics with an update's `eccentric_s`/`pause_s` applied.
        updated: A `rep_update` changed this rep.
    """

    event: RepEvent
    score: float | None
    faults: list[Fault]
    metrics: RepMetrics
    updated: bool = False

    @property
    def id(self) -> str:
        """The rep event's id."""
        return self.event.id

    @property
    def label(self) -> str:
        """`set 1 rep 2` in short: `1.2`."""
        set_no = self.event.set_id.rsplit("-", 1)[-1]
        return f"{set_no}.{self.event.rep}"

    def time_of(self, moment: str) -> float:
        """`start`, `bottom` or `lockout` time of the rep, seconds."""
        return float(getattr(self.event, f"t_{moment}_s"))

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
        codes = [str(f.code) for f in self.faults]
        if moment == "lockout":
            return [c for c in codes if c in LOCKOUT_FAULTS]
        if moment == "bottom":
            return [c for c in codes if c not in LOCKOUT_FAULTS]
        return codes


def rep_rows(events: Iterable[AnyEvent]) -> list[RepRow]:
    """The `rep` events in order, each with its later `rep_update` applied."""
    rows: dict[str, RepRow] = {}
    for event in events:
        if isinstance(event, RepEvent):
            rows[event.id] = RepRow(event, event.score, list(event.faults), event.metrics)
        elif isinstance(event, RepUpdate) and event.rep_id in rows:
            row = rows[event.rep_id]
            row.score = event.score
            row.faults = sorted(row.faults + list(event.faults), key=lambda f: -f.severity)
            lowered = event.metrics
            row.metrics = replace(
                row.metrics, eccentric_s=lowered.eccentric_s, pause_s=lowered.pause_s
            )
            row.updated = True
    return list(rows.values())


def set_events(events: Iterable[AnyEvent]) -> list[SetEvent]:
    """The `set` summaries, in order."""
    return [e for e in events if isinstance(e, SetEvent)]
