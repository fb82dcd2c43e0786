"""`CameraReader`: one thread per camera that keeps only the newest frame, and reconnects.

Threads per camera:
- `capture:<camera_id>` opens the source, reads frames into a one-slot buffer, and on
  failure releases and reopens it with exponential backoff and a restart budget. It alone
  touches the `cv2.VideoCapture`: releasing a capture from another thread while `read()` is
  blocked in it crashes the process (segfault, seen with OpenCV 4.14 on a frozen RTSP server).
- `capture:<camera_id>:watchdog` wakes a few times a second; when an open stream has
  delivered no fresh frame for `stall_timeout_s`, it marks it `stalled` at once (and calls
  back) and asks the reader to reopen as soon as its blocked `read()` returns.

A read that times out also counts as a stall (the state becomes `stalled`, then the source is
reopened); a read that fails at once (connection closed) makes it `offline`. A blocked read is
bounded by the FFmpeg read timeout, which must be given at open time. Seen here: a frozen
HTTP MJPEG server makes `read()` fail after 1x `read_timeout_s`; a frozen RTSP (H.264) server
makes it return two stale frames the decoder still held, one per timeout, and fail at the
third (3x). `stop(timeout_s)` never waits longer than asked: a reader still blocked is left
to end by itself (daemon thread) and releases its capture then.

Every frame is grabbed (FFmpeg reads and decodes it: H.264 frames depend on each other), but
only the frames a consumer will use are retrieved, that is converted to a BGR image: all of
them until the consumer says when it wants its next one (`want_next`), then one per
analysis slot (docs/cameras.md has the measured saving). Grabbed frames count for the frame
rate, the stall check and the file pacing as retrieved ones do.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from enum import Enum

import cv2

from edge.capture.config import CaptureConfig, ReaderTuning
from edge.capture.frame import Frame, FrameSlot
from edge.capture.opener import check_image, open_capture
from edge.capture.pacing import Backoff, FilePacer, RestartBudget
from edge.capture.snapshot import CaptureSnapshot, CaptureState
from edge.capture.source import CaptureSource, SourceKind, parse_source
from edge.capture.status import StateCallback, StatusBoard
from edge.errors import SourceError

logger = logging.getLogger(__name__)

MIN_LOOP_S = 0.5
"""A looping file that plays in less than this (a single frame, a container that reports
0 fps so nothing paces it) is reopened with backoff, and reported offline meanwhile,
instead of being reopened as fast as it opens (7 times a second at 143% of a core)."""


class _Outcome(Enum):
    STOPPED = "stopped"
    ENDED = "ended"
    LOOP = "loop"
    FAILED = "failed"
    REOPEN = "reopen"


@dataclass
class _Session:
    """One opening of the source, as the reader thread sees it."""

    capture: cv2.VideoCapture
    fps: float
    epoch: int
    opened: float
    pacer: FilePacer | None  # files only
    good: int = 0
    last_fresh: float = 0.0

    def __post_init__(self) -> None:
        self.last_fresh = self.opened


class CameraReader:
    """Reads one camera in its own thread and keeps only the newest frame.

    Usage:
        reader = CameraReader("platform-1", "rtsp://user:pw@cam/stream1", CaptureConfig())
        reader.start()
        frame = reader.latest(after_seq=last_seq)  # None when nothing newer
        reader.snapshot().as_dict()
        reader.stop(timeout_s=5)

    `on_state_change(camera_id, snapshot)` is called on every state change, in order, from
    the thread that caused it (`capture:<id>`; its watchdog for some `stalled`; the caller
    of `stop()` for `stopped`); it must return quickly; exceptions from it are logged. The
    initial `connecting` is not a change: read `snapshot()` after `start()` for it.
    """

    def __init__(
        self,
        camera_id: str,
        source: str,
        config: CaptureConfig | None = None,
        on_state_change: StateCallback | None = None,
        tuning: ReaderTuning | None = None,
    ) -> None:
        """Parses the source; nothing is opened before `start()`.

        Args:
            camera_id: The camera's id (in logs, thread names and snapshots).
            source: What to read (`edge.capture.parse_source`).
            config: The camera's capture section (a daemon camera entry is one); default:
                the section's defaults.
            on_state_change: Called on every state change (see the class).
            tuning: Reopening pace, restart budget, nominal rate; default: the defaults.

        Raises:
            SourceError: The source string is malformed.
        """
        self.camera_id = camera_id
        self._source = parse_source(source)
        self._config = config or CaptureConfig()
        self._tuning = tuning or ReaderTuning()
        self._slot = FrameSlot()
        self._status = StatusBoard(
            camera_id, self._source, self._config, self._tuning, self._slot, on_state_change
        )
        self._stop = threading.Event()
        self._reopen = threading.Event()
        self._threads: list[threading.Thread] = []
        self._backoff = Backoff(self._tuning.backoff_min_s, self._tuning.backoff_max_s)
        self._budget = RestartBudget(self._tuning.restart_budget, self._tuning.restart_window_s)
        self._seq = 0
        self._over_budget = False
        self._fast_loop = False  # the last session of a looping file ended too soon

    @property
    def source(self) -> CaptureSource:
        """The parsed source (`.display` is the redacted form)."""
        return self._source

    def start(self) -> None:
        """Starts the reader and watchdog threads (returns at once; opening is in the thread).

        Raises:
            RuntimeError: Called twice.
        """
        if self._threads:
            raise RuntimeError(f"camera reader {self.camera_id} was already started")
        self._threads = [
            threading.Thread(target=self._run, name=f"capture:{self.camera_id}", daemon=True),
            threading.Thread(
                target=self._watch, name=f"capture:{self.camera_id}:watchdog", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stops reading; the state becomes `stopped`. Never waits longer than `timeout_s`.

        Returns:
            True if both threads ended in time; False if the reader is still blocked in
            OpenCV (it releases the capture and ends on its own when the call returns).
        """
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        self._status.set_state(CaptureState.STOPPED)
        stuck = [
            t.name for t in self._threads if t.is_alive() and t is not threading.current_thread()
        ]
        if stuck:
            logger.warning(
                "%s: %s still blocked in OpenCV after %.1f s; it ends when the call times out",
                self.camera_id,
                ", ".join(stuck),
                timeout_s,
            )
        return not stuck

    def latest(self, after_seq: int = 0) -> Frame | None:
        """Returns the newest frame newer than `after_seq` (marks it taken); never blocks."""
        return self._slot.take(after_seq)

    def want_next(self, at_mono: float, max_age_s: float) -> None:
        """Converts only the first frame at or after `at_mono`; the ones before are grabbed.

        Args:
            at_mono: When the consumer will next call `latest` (`time.monotonic()` clock).
            max_age_s: While that frame waits untaken, a newer one replaces it once it is
                older than this (a late consumer still gets a recent frame).
        """
        self._slot.want(at_mono, max_age_s)

    def snapshot(self) -> CaptureSnapshot:
        """Returns the state and counters now."""
        return self._status.snapshot()

    # --- watchdog thread -------------------------------------------------------------------

    def _watch(self) -> None:
        period_s = min(0.25, self._config.stall_timeout_s / 4)
        reader = self._threads[0]
        while not self._stop.wait(period_s) and reader.is_alive():
            if self._status.check_stall(time.monotonic()):
                self._reopen.set()

    # --- reader thread ---------------------------------------------------------------------

    def _run(self) -> None:
        outcome = _Outcome.LOOP  # the first opening comes without a wait
        while not self._stop.is_set():
            if outcome is not _Outcome.LOOP and not self._wait_before_reopen():
                break
            try:
                outcome = self._session()
            except Exception as err:  # the thread must survive anything one session does
                logger.exception(
                    "%s: unexpected error reading %s", self.camera_id, self._source.display
                )
                error = self._source.scrub(f"unexpected error: {err!r}")
                self._status.set_state(CaptureState.OFFLINE, error)
                outcome = _Outcome.FAILED
            if outcome in (_Outcome.STOPPED, _Outcome.ENDED):
                break

    def _wait_before_reopen(self) -> bool:
        """Waits the backoff (the longest once over budget); False if stopped meanwhile."""
        now = time.monotonic()
        self._budget.record(now)
        over = self._budget.exceeded(now)
        delay_s = self._tuning.backoff_max_s if over else self._backoff.next_delay()
        if over != self._over_budget:
            self._over_budget = over
            self._status.set_over_budget(over)
            if over:
                logger.error(
                    "%s: more than %d reopenings within %g s; retrying every %g s from now on",
                    self.camera_id,
                    self._tuning.restart_budget,
                    self._tuning.restart_window_s,
                    delay_s,
                )
            else:
                logger.info("%s: back within the restart budget", self.camera_id)
        logger.debug("%s: reopening %s in %.1f s", self.camera_id, self._source.display, delay_s)
        if self._stop.wait(delay_s):
            return False
        self._status.count("reconnects")
        return True

    def _session(self) -> _Outcome:
        """Opens the source once, reads until it fails, ends, stalls or is stopped."""
        self._reopen.clear()
        try:
            capture, fps = open_capture(self._source, self._config)
        except SourceError as err:
            self._fail(str(err))
            return _Outcome.FAILED
        try:
            return self._read_frames(capture, fps)
        finally:
            self._status.session_closed()
            capture.release()

    def _read_frames(self, capture: cv2.VideoCapture, fps: float) -> _Outcome:
        is_file = self._source.kind is SourceKind.FILE
        opened = time.monotonic()
        epoch = self._status.session_opened(opened, fps if is_file and fps > 0 else None)
        session = _Session(capture, fps, epoch, opened, FilePacer(self._stop) if is_file else None)
        while True:
            asked, cpu0 = time.monotonic(), time.thread_time()
            ok = capture.grab()
            waited_s = time.monotonic() - asked
            if self._stop.is_set():
                return _Outcome.STOPPED
            if self._reopen.is_set():  # the watchdog saw a stall while grab() was blocked
                return _Outcome.REOPEN
            if not ok:
                return self._end_of_stream(session, waited_s)
            accepted = self._accept(session, waited_s)
            self._status.spent_decoding(time.thread_time() - cpu0)
            if not accepted:
                return _Outcome.STOPPED

    def _accept(self, session: _Session, waited_s: float) -> bool:
        """Paces (files) one grabbed frame, and delivers it if wanted; False if stopped.

        A live read that returned a frame only after the read timeout got a stale frame: the
        timeout fired and OpenCV drained one the decoder still held (a frozen RTSP server
        yields 2 such frames here, one per timeout). It is delivered but does not count as
        progress for the stall check.
        """
        if session.pacer is not None:
            stream_s = self._file_position(session.capture, session.good, session.fps)
            session.pacer.wait(stream_s)
            if self._stop.is_set():
                return False
        else:
            stream_s = time.monotonic() - session.opened
        now = time.monotonic()
        if self._slot.wanted(now):
            ok, image = session.capture.retrieve()
            problem = check_image(image) if ok else "retrieve() failed after a good grab()"
            if problem is not None:
                self._status.count("corrupt_frames")
                logger.debug("%s: corrupt frame skipped: %s", self.camera_id, problem)
                return True
            self._status.count("frames_retrieved")
            self._seq += 1
            frame = Frame(
                self.camera_id, self._seq, image, now, time.time(), stream_s, session.epoch
            )
            self._slot.put(frame)
        session.good += 1
        if session.good == 1 and not self._fast_loop:
            self._backoff.reset()
        fresh = session.pacer is not None or waited_s < 0.95 * self._config.read_timeout_s
        self._status.frame_arrived(now, fresh)
        if fresh:
            session.last_fresh = now
        return True

    def _end_of_stream(self, session: _Session, waited_s: float) -> _Outcome:
        """Decides what a failed read means: end of file, a stall (timed out) or a dead stream.

        `waited_s` is how long the failed read took: about `read_timeout_s` means a timeout.
        """
        if self._source.kind is SourceKind.FILE and session.good > 0:
            if self._config.loop:
                return self._loop(session)
            self._status.set_state(CaptureState.ENDED)
            return _Outcome.ENDED
        if self._source.kind is SourceKind.FILE:
            self._fail(f"no frame could be decoded from {self._source.display}")
        elif waited_s >= 0.8 * self._config.read_timeout_s:  # the read timed out: no data
            quiet_s = time.monotonic() - session.last_fresh
            stalled = self._status.mark_stalled(f"no frame for {quiet_s:.1f} s (read timed out)")
            if not stalled and self._status.state is not CaptureState.STALLED:
                self._fail(f"read from {self._source.display} timed out")
        else:
            self._fail(f"stream {self._source.display} closed or broken (read failed)")
        return _Outcome.FAILED

    def _loop(self, session: _Session) -> _Outcome:
        """Loops a file at once, or, if it played too fast to be a stream, with backoff."""
        played_s = time.monotonic() - session.opened
        self._fast_loop = played_s < MIN_LOOP_S
        if self._fast_loop:
            self._fail(
                f"{self._source.display} played in {played_s:.2f} s ({session.good} frames, "
                f"its container says {session.fps:g} fps): looping it with backoff"
            )
            return _Outcome.FAILED
        logger.debug("%s: end of %s, looping", self.camera_id, self._source.display)
        return _Outcome.LOOP

    def _fail(self, error: str) -> None:
        if not self._status.set_state(CaptureState.OFFLINE, error):
            logger.debug("%s: still offline: %s", self.camera_id, error)

    @staticmethod
    def _file_position(capture: cv2.VideoCapture, index: int, fps: float) -> float:
        pos_ms = capture.get(cv2.CAP_PROP_POS_MSEC)
        if math.isfinite(pos_ms) and pos_ms >= 0:
            return pos_ms / 1000.0
        return index / fps if fps > 0 else 0.0
