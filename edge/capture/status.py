"""The live state and counters of one camera reader, shared by its threads."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from edge.capture.config import CaptureConfig, ReaderTuning
from edge.capture.frame import FrameSlot
from edge.capture.snapshot import (
    FPS_WINDOW_S,
    CaptureSnapshot,
    CaptureState,
    rate_quality,
)
from edge.capture.source import CaptureSource
from edge.contract import iso

logger = logging.getLogger(__name__)


StateCallback = Callable[[str, CaptureSnapshot], None]


class StatusBoard:
    """The counters and state of one reader, shared by its threads (all methods thread-safe).

    State changes are logged here and passed to `on_state_change` in order, from the thread
    that caused them, without holding the counters' lock.
    """

    def __init__(
        self,
        camera_id: str,
        source: CaptureSource,
        config: CaptureConfig,
        tuning: ReaderTuning,
        slot: FrameSlot,
        on_state_change: StateCallback | None = None,
    ) -> None:
        self._camera_id, self._source, self._slot = camera_id, source, slot
        self._config, self._tuning = config, tuning
        self._callback = on_state_change
        self._lock = threading.Lock()
        self._notify_lock = threading.RLock()  # keeps callbacks in the order of the changes
        self._state = CaptureState.CONNECTING
        self._since = time.time()
        self._nominal_fps = tuning.nominal_fps
        self._counts = dict.fromkeys(
            ("frames_read", "frames_retrieved", "corrupt_frames", "reconnects", "stalls"), 0
        )
        self._epoch = 0
        self._decode_cpu_s = 0.0
        self._last_error: str | None = None
        self._over_budget = False
        self._frame_times: deque[float] = deque(maxlen=4096)
        self._incidents: deque[float] = deque()
        self._last_frame_mono: float | None = None
        self._online_mono: float | None = None
        self._session_mono: float | None = None  # open session: progress since its opening

    @property
    def state(self) -> CaptureState:
        """The current state."""
        with self._lock:
            return self._state

    def session_opened(self, now: float, file_fps: float | None) -> int:
        """Notes a successful opening; returns the new stream epoch."""
        with self._lock:
            self._epoch += 1
            self._session_mono = now
            if self._tuning.nominal_fps is None and file_fps is not None:
                self._nominal_fps = file_fps
            return self._epoch

    def session_closed(self) -> None:
        """Notes the capture was released (the stall check pauses until the next opening)."""
        with self._lock:
            self._session_mono = None

    def frame_arrived(self, now: float, fresh: bool = True) -> None:
        """Counts one good frame; the first of a session makes the state `online`.

        Args:
            now: Monotonic time it arrived.
            fresh: False for a stale frame drained after a read timeout: it does not reset
                the stall check.
        """
        with self._lock:
            self._counts["frames_read"] += 1
            self._frame_times.append(now)
            self._last_frame_mono = now
            if fresh:
                self._session_mono = now
            was_online = self._state is CaptureState.ONLINE
            if not was_online:
                self._online_mono = now
        if not was_online:
            self.set_state(CaptureState.ONLINE)

    def spent_decoding(self, cpu_s: float) -> None:
        """Adds the reader thread's CPU seconds for one frame (grab, and retrieve if any)."""
        with self._lock:
            self._decode_cpu_s += cpu_s

    def count(self, name: str) -> None:
        """Adds one to a counter (`frames_retrieved`, `corrupt_frames`, `reconnects`, `stalls`)."""
        with self._lock:
            self._bump(name)

    def _bump(self, name: str) -> None:
        self._counts[name] += 1
        if name in ("reconnects", "stalls"):
            self._incidents.append(time.monotonic())

    def set_over_budget(self, over: bool) -> None:
        """Records whether the restart budget is exceeded."""
        with self._lock:
            self._over_budget = over

    def check_stall(self, now: float) -> bool:
        """Marks an open session `stalled` if it had no frame for `stall_timeout_s`.

        Returns:
            True if this call detected a new stall (the caller asks for a reopening).
        """

        def quiet() -> bool:
            since = self._session_mono
            return since is not None and now - since > self._config.stall_timeout_s

        return self.mark_stalled(f"no frame for {self._config.stall_timeout_s:g} s", quiet)

    def mark_stalled(self, error: str, only_if: Callable[[], bool] | None = None) -> bool:
        """Makes a `connecting` or `online` stream `stalled` and counts the stall.

        Returns:
            True if the state changed (False if it was stalled already, or not live).
        """

        def live() -> bool:
            state_ok = self._state in (CaptureState.CONNECTING, CaptureState.ONLINE)
            return state_ok and (only_if is None or only_if())

        return self.set_state(CaptureState.STALLED, error, only_if=live, bump="stalls")

    def set_state(
        self,
        state: CaptureState,
        error: str | None = None,
        only_if: Callable[[], bool] | None = None,
        bump: str | None = None,
    ) -> bool:
        """Changes the state (and last error), logs it and calls back; `stopped` is final.

        Args:
            state: The new state.
            error: The error that caused it (already redacted), kept as `last_error`.
            only_if: Checked under the lock; the change happens only if it returns True.
            bump: A counter to add one to with the change (before the callback sees it).

        Returns:
            True if the state changed.
        """
        with self._notify_lock:
            with self._lock:
                if self._state is CaptureState.STOPPED or (only_if is not None and not only_if()):
                    return False
                if error is not None:
                    self._last_error = error
                if state is self._state:
                    return False
                self._state, self._since = state, time.time()
                if bump is not None:
                    self._bump(bump)
                snap = self._snapshot_locked(time.monotonic())
            self._log_change(snap)
            if self._callback is not None:
                self._notify(snap)
            return True

    def note_error(self, error: str) -> None:
        """Keeps an error (already redacted) as `last_error` without a state change."""
        with self._lock:
            self._last_error = error

    def snapshot(self) -> CaptureSnapshot:
        """Returns the state and counters now."""
        with self._lock:
            return self._snapshot_locked(time.monotonic())

    def _snapshot_locked(self, now: float) -> CaptureSnapshot:
        skipped, last_seq = self._slot.stats()
        fps = self._fps(now)
        online_long = self._online_mono is not None and now - self._online_mono >= FPS_WINDOW_S
        while self._incidents and self._incidents[0] <= now - self._tuning.restart_window_s:
            self._incidents.popleft()
        last = self._last_frame_mono
        return CaptureSnapshot(
            camera_id=self._camera_id,
            source=self._source.display,
            kind=str(self._source.kind),
            state=self._state,
            quality=rate_quality(
                self._state, len(self._incidents), fps if online_long else None, self._nominal_fps
            ),
            since=iso(self._since),
            fps_in=fps,
            nominal_fps=self._nominal_fps,
            frames_skipped=skipped,
            stream_epoch=self._epoch,
            decode_cpu_s=self._decode_cpu_s,
            last_seq=last_seq,
            last_frame_age_s=None if last is None else max(0.0, now - last),
            last_error=self._last_error,
            over_budget=self._over_budget,
            **self._counts,
        )

    def _fps(self, now: float) -> float:
        if self._state is not CaptureState.ONLINE or self._online_mono is None:
            return 0.0
        span = min(FPS_WINDOW_S, now - self._online_mono)
        if span < 0.2:
            return 0.0
        recent = sum(1 for t in reversed(self._frame_times) if t > now - span)
        return recent / span

    def _log_change(self, snap: CaptureSnapshot) -> None:
        if snap.state in (CaptureState.STALLED, CaptureState.OFFLINE):
            logger.warning(
                "%s: %s (%s): %s", self._camera_id, snap.state, snap.source, snap.last_error
            )
        else:
            logger.info("%s: %s (%s)", self._camera_id, snap.state, snap.source)

    def _notify(self, snap: CaptureSnapshot) -> None:
        try:
            self._callback(self._camera_id, snap)  # type: ignore[misc]
        except Exception:
            logger.exception("%s: on_state_change callback failed", self._camera_id)
