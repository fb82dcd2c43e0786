"""The daemon: cameras in, rep events out over MQTT, a status page beside it.

Start order: broker link (and a local broker if none is configured) with its spool,
models, cameras, the scheduler, the web side, the stats loop. Stop order is the reverse:
no new frames, each camera's open set summarised into the spool, `stopped` published
and the spool flushed within a timeout (what is left is delivered at the next start).
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import secrets
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge import __version__
from edge.capture import CameraReader, CaptureSnapshot
from edge.contract import (
    SCHEMA_VERSION,
    AnyEvent,
    CameraState,
    CameraStats,
    CameraStatus,
    MqttStats,
    RepEvent,
    RepUpdate,
    SetEvent,
    SpoolStats,
    Stats,
    now_iso,
)
from edge.daemon.broker import HOST, LocalBroker
from edge.daemon.metrics import Metrics
from edge.daemon.pipeline import CameraPipeline
from edge.daemon.scheduler import Scheduler, resolve_workers
from edge.daemon.stills import BottomFrame, render_still
from edge.daemon.web import Hub, WebServer, open_users
from edge.errors import EdgeError
from edge.pose import PoseEstimator, load_mask_model, load_pose_models
from edge.pose.runtime import OnnxModel
from edge.publish import MqttConfig, Publisher, Spool
from edge.publish.sequence import BoxSequence
from edge.settings import ENV_PREFIX, AppSettings
from edge.zone import Zone

logger = logging.getLogger(__name__)

_RECENT_REPS = 50
_STOP_FLUSH_S = 5.0
_SIGNAL_CHECK_S = 0.5


def new_run_id() -> str:
    """A short id unique to this start of the daemon: UTC time plus 4 random hex digits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + secrets.token_hex(2)


def broker_section(mqtt: MqttConfig) -> MqttConfig:
    """The `mqtt` section the publisher gets: a null host is the local broker's address."""
    return mqtt if mqtt.host is not None else mqtt.model_copy(update={"host": HOST})


class Daemon:
    """Runs the whole service; `start()`, then `stop()` (or `run()` until a signal)."""

    def __init__(self, settings: AppSettings) -> None:
        """Prepares everything that cannot fail later; nothing runs before `start()`."""
        self.settings = settings
        self.run_id = new_run_id()
        self.started_mono = time.monotonic()
        self.hub = Hub()
        self.stop_event = threading.Event()
        self._stop_requested = False  # set by signal handlers (`request_stop`), no lock
        self._broker = LocalBroker(settings.mqtt.port) if settings.mqtt.host is None else None
        self._spool: Spool | None = None
        self.publisher: Publisher | None = None
        self._upstream_spool: Spool | None = None
        self.upstream: Publisher | None = None  # the central broker's (docs/chain.md)
        self._sequence: BoxSequence | None = None
        self._cameras: dict[str, tuple[CameraReader, CameraPipeline]] = {}
        self._states: dict[str, CameraState] = {}
        self._reps: dict[str, deque[RepEvent]] = {}
        self._stills: dict[str, bytes] = {}
        self._scheduler: Scheduler | None = None
        self.web: WebServer | None = None
        self._metrics = Metrics(self.snapshot)
        self._cpu = (time.monotonic(), _cpu_seconds())
        self._lock = threading.Lock()

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Starts every part.

        Raises:
            EdgeError: A part cannot start (models missing or altered, spool locked,
                local broker impossible, web port taken): nothing is left running.
        """
        try:
            self._start_parts()
        except BaseException:
            self.stop()
            raise

    def _start_parts(self) -> None:
        s = self.settings
        if self._broker is not None:
            self._broker.start()
        gym, box = s.site.gym, s.site.box
        self._spool = Spool(s.spool)
        self.publisher = Publisher(
            broker_section(s.mqtt), self._spool, run_id=self.run_id, site=s.site
        )
        self.publisher.start()
        if gym is not None and box is not None:
            self._sequence = BoxSequence(self._spool)
            if s.upstream is not None:
                upstream_spool = s.spool.model_copy(update={"path": s.spool.path / "upstream"})
                self._upstream_spool = Spool(upstream_spool)
                self.upstream = Publisher(
                    s.upstream.for_site(gym, box),
                    self._upstream_spool,
                    run_id=self.run_id,
                    site=s.site,
                )
                self.upstream.start()
        models = load_pose_models(s.pose)
        # The back check's mask model, shared like the others (docs/back.md)
        mask = load_mask_model(s.pose) if s.hinge.back.enabled else None
        for camera_id, cam in s.cameras.items():
            if cam.enabled:
                self._add_camera(camera_id, models, mask)
        self._scheduler = Scheduler(list(self._cameras.values()), resolve_workers(s.pose))
        self.web = self._bind_web()
        # What start-up built (models, settings, modules' tables) lives as long as the
        # daemon: frozen out of the collector's sight, it is not walked again by every full
        # collection, a pause of 0.1 s on the 2-core test box that held /healthz and every
        # event stream behind the GIL (tests/web/test_abuse.py).
        gc.freeze()
        for reader, _ in self._cameras.values():
            reader.start()
        self._scheduler.start()
        self.web.start()
        threading.Thread(target=self._stats_loop, name="stats", daemon=True).start()
        logger.info(
            "hinge-edge %s running (run %s): %d camera(s), events to %s",
            __version__,
            self.run_id,
            len(self._cameras),
            self.publisher.topics.prefix + "/#",
        )

    def _bind_web(self) -> WebServer:
        host, port = self.settings.web.host, self.settings.web.port
        users = open_users(self.settings.web, self.settings.spool.path)
        try:
            return WebServer(self.settings.web, self, self.hub, users)
        except OSError as err:
            raise EdgeError(
                f"cannot serve the status page on {host}:{port} ({err.strerror or err}): "
                f"set web.port to a free port, or stop what listens on web.port {port} "
                f"(without a config file: {ENV_PREFIX}WEB__PORT={port + 1})"
            ) from err

    def _add_camera(self, camera_id: str, models: tuple, mask: OnnxModel | None = None) -> None:
        cam = self.settings.cameras[camera_id]
        reader = CameraReader(camera_id, cam.source, cam, self._on_capture_state)
        zone = Zone([tuple(p) for p in cam.zone]) if cam.zone else None
        estimator = PoseEstimator(self.settings.pose, zone, models=models, mask_model=mask)
        pipeline = CameraPipeline(
            camera_id,
            cam.analysis_fps,
            estimator,
            self.settings.hinge_for(camera_id),
            session_id=f"{camera_id}-{self.run_id}",
            sink=self,
        )
        if cam.images:  # privacy: no frame is kept for a camera without `images: true`
            pipeline.enable_stills()
        self._cameras[camera_id] = (reader, pipeline)
        self._reps[camera_id] = deque(maxlen=_RECENT_REPS)

    def run(self) -> None:
        """Starts, runs until `request_stop()` (SIGTERM / SIGINT) or `stop_event`, then stops."""
        self.start()
        # Polled: a signal the kernel hands to another thread (a camera's, a pose worker's)
        # only flags it for the main thread, whose Python handler runs once it wakes; in an
        # untimed wait it would sleep through SIGTERM and Ctrl-C.
        while not self._stop_requested and not self.stop_event.wait(_SIGNAL_CHECK_S):
            pass
        self.stop()

    def request_stop(self) -> None:
        """Asks `run()` to stop; the one call a signal handler may make.

        It takes no lock. `stop_event.set()` does, and a second signal (Ctrl-C in a
        terminal, then the SIGTERM of a script around the daemon) ran its handler inside
        the first one's `set()`, which then waited forever on the lock its own thread held.
        """
        self._stop_requested = True

    def stop(self) -> None:
        """Stops every part that runs, in reverse order; safe to call more than once."""
        self.stop_event.set()  # ends the stats loop too when called without `run()`
        if self.web is not None:
            self.web.stopping.set()
        if self._scheduler is not None:
            self._scheduler.stop()
        for reader, _ in self._cameras.values():
            reader.stop(timeout_s=2.0)
        for _, pipeline in self._cameras.values():
            pipeline.close()  # the open set's summary goes to the spool
        for publisher in self._publishers():
            publisher.stop(_STOP_FLUSH_S)
        self.publisher = self.upstream = None
        for spool in (self._spool, self._upstream_spool):
            if spool is not None:
                spool.close()
        self._spool = self._upstream_spool = None
        if self._broker is not None:
            self._broker.stop()
        if self.web is not None:
            self.web.stop()
            self.web = None
        self._cameras.clear()
        logger.info("hinge-edge stopped (run %s)", self.run_id)

    # ------------------------------------------------------------- sink
    def on_event(self, camera_id: str, event: AnyEvent, frame_ts_wall: float) -> None:
        """Stamps an event, spools and publishes it, and shows it on the page."""
        site = self.settings.site
        message = event.stamped(camera_id, time.time(), frame_ts_wall).sited(site.gym, site.box)
        if self._sequence is not None:
            message = message.numbered(self._sequence.next())
        payload = message.to_json()
        for publisher in self._publishers():
            topics = publisher.topics
            topic = topics.set(camera_id) if isinstance(event, SetEvent) else topics.rep(camera_id)
            publisher.publish_event(message.id, topic, payload)
        self.hub.publish(message.kind, message)
        if isinstance(message, RepEvent):
            self._reps[camera_id].append(message)
            logger.info(
                "%s: rep %d (%s) score %s, faults %s: %s",
                camera_id,
                message.rep,
                message.exercise,
                message.score,
                ", ".join(f.code for f in message.faults) or "none",
                message.cue,
            )
        elif isinstance(message, RepUpdate):
            self._apply_update(camera_id, message)
        else:
            logger.info("%s: set %s ended, %d reps", camera_id, message.set_id, message.reps)

    def _apply_update(self, camera_id: str, update: RepUpdate) -> None:
        """Keeps the rep history of /api/state as a consumer applying updates would."""
        for i, rep in enumerate(self._reps[camera_id]):
            if rep.id == update.rep_id:
                self._reps[camera_id][i] = rep.revised(update)

    def on_still(self, camera_id: str, rep: RepEvent, bottom: BottomFrame) -> None:
        """Draws the rep's still and keeps it (the newest only) for /api/still/<camera>."""
        cam = self.settings.cameras.get(camera_id)
        if cam is None or not cam.images:
            return
        try:
            self._stills[camera_id] = render_still(bottom, rep)
        except Exception:  # a picture must never cost the rep event that follows
            logger.exception("camera %s: the still of rep %s failed", camera_id, rep.rep)

    def on_state(self, camera_id: str, state: CameraState) -> None:
        """Publishes a camera's changed live state (retained)."""
        state = state.sited(self.settings.site.gym, self.settings.site.box)
        with self._lock:
            self._states[camera_id] = state
        payload = state.to_json()
        for publisher in self._publishers():
            publisher.publish_retained(publisher.topics.state(camera_id), payload)
        self.hub.publish("state", state)

    def _on_capture_state(self, camera_id: str, snap: CaptureSnapshot) -> None:
        logger.info("camera %s: %s (%s)", camera_id, snap.state, snap.last_error or "no error")
        self._publish_status(camera_id, snap)

    def _publish_status(self, camera_id: str, snap: CaptureSnapshot) -> CameraStatus:
        status = self._camera_status(camera_id, snap)
        payload = status.to_json()
        for publisher in self._publishers():
            publisher.publish_retained(publisher.topics.camera_status(camera_id), payload)
        self.hub.publish("status", status)
        return status

    def _publishers(self) -> list[Publisher]:
        """The local broker's publisher and, on a box that forwards, the upstream one."""
        return [p for p in (self.publisher, self.upstream) if p is not None]

    def _camera_status(self, camera_id: str, snap: CaptureSnapshot) -> CameraStatus:
        pipeline = self._cameras[camera_id][1] if camera_id in self._cameras else None
        now = time.monotonic()
        return CameraStatus(
            camera=camera_id,
            state=snap.state.value,
            quality=snap.quality.value,
            fps_in=round(snap.fps_in, 2),
            fps_analysed=round(pipeline.counters.fps(now), 2) if pipeline else 0.0,
            frames_skipped=pipeline.counters.skipped if pipeline else 0,
            reconnects=snap.reconnects,
            stalls=snap.stalls,
            last_frame_age_s=(
                round(snap.last_frame_age_s, 2) if snap.last_frame_age_s is not None else None
            ),
            last_error=snap.last_error,
            ts=now_iso(),
            pose=pipeline.counters.pose_cost() if pipeline else None,
            gym=self.settings.site.gym,
            box=self.settings.site.box,
        )

    # ------------------------------------------------------------- web backend
    def snapshot(self) -> dict[str, Any]:
        """Every camera's status, live state, counters and recent reps; the broker link."""
        cameras = {}
        for camera_id, (reader, pipeline) in list(self._cameras.items()):
            with self._lock:
                state = self._states.get(camera_id)
            snap = reader.snapshot()
            cameras[camera_id] = {
                "status": self._camera_status(camera_id, snap).to_dict(),
                "state": state.to_dict() if state is not None else None,
                "counters": {
                    "reps": pipeline.counters.reps,
                    "sets": pipeline.counters.sets,
                    "analysed": pipeline.counters.analysed,
                    "cpu_s": {"decode": snap.decode_cpu_s, **pipeline.counters.cpu_s},
                    "passes": {
                        name: {"calls": count.calls, "seconds": count.seconds}
                        for name, count in pipeline.counters.passes.items()
                    },
                },
                "reps": [rep.to_dict() for rep in self._reps.get(camera_id, ())],
                "images": self.settings.cameras[camera_id].images,
            }
        mqtt = self.publisher.stats() if self.publisher is not None else _NO_MQTT
        document = {  # /api/state: the page's document (no schema of its own), not MQTT
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started_mono, 1),
            "cameras": cameras,
            "mqtt": mqtt,
            "ts": now_iso(),
        }
        if self.upstream is not None:
            document["upstream"] = self.upstream.stats()
        return document

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy while the analysis workers run; cameras and broker are reported."""
        working = self._scheduler is not None and self._scheduler.alive
        cameras = {c: str(r.snapshot().state) for c, (r, _) in self._cameras.items()}
        mqtt = self.publisher.connection_state if self.publisher is not None else "stopped"
        spool = _spool_health(self.publisher.stats() if self.publisher is not None else _NO_MQTT)
        degraded = mqtt != "connected" or any(s != "online" for s in cameras.values())
        degraded = degraded or spool["problem"] is not None
        details = {
            "status": "ok",
            "run_id": self.run_id,
            "workers": working,
            "cameras": cameras,
            "mqtt": mqtt,
            "spool": spool,
        }
        if self.upstream is not None:  # the central broker: its link and its own spool
            upstream = self.upstream.stats()
            details["upstream"] = {
                "connection": self.upstream.connection_state,
                **_spool_health(upstream),
            }
            degraded = degraded or not upstream["connected"] or upstream["problem"] is not None
        status = "ok" if working and not degraded else ("degraded" if working else "down")
        details["status"] = status
        return working, details

    def metrics(self) -> bytes:
        """Prometheus exposition."""
        return self._metrics.exposition()

    def still(self, camera_id: str) -> bytes | None:
        """The last rep's still, only where the operator switched images on."""
        cam = self.settings.cameras.get(camera_id)
        if cam is None or not cam.images:
            return None
        return self._stills.get(camera_id)

    # ------------------------------------------------------------- stats
    def _stats_loop(self) -> None:
        interval = self.settings.stats_interval_s
        while not self.stop_event.wait(interval):
            try:
                self.publish_stats()
            except Exception:  # stats must never take the daemon down
                logger.exception("stats failed")

    def publish_stats(self) -> Stats:
        """Refreshes every camera's retained status and publishes `<prefix>/stats`."""
        cameras = {}
        for camera_id, (reader, _) in list(self._cameras.items()):
            status = self._publish_status(camera_id, reader.snapshot())
            cameras[camera_id] = CameraStats(
                status.fps_in,
                status.fps_analysed,
                status.frames_skipped,
                status.reconnects,
                status.state,
                status.pose,
            )
        mqtt = self.publisher.stats() if self.publisher is not None else _NO_MQTT
        stats = Stats(
            run_id=self.run_id,
            uptime_s=round(time.monotonic() - self.started_mono, 1),
            cpu_percent=round(self._cpu_percent(), 1),
            rss_mb=round(rss_mb(), 1),
            cameras=cameras,
            spool=SpoolStats(mqtt["pending"], mqtt["dropped"]),
            mqtt=MqttStats(mqtt["connected"], mqtt["reconnects"], mqtt["published"]),
            ts=now_iso(),
            gym=self.settings.site.gym,
            box=self.settings.site.box,
        )
        payload = stats.to_json()
        for publisher in self._publishers():  # upstream: the box's heartbeat for the hub
            publisher.publish_now(publisher.topics.stats, payload)
        return stats

    def _cpu_percent(self) -> float:
        now, cpu = time.monotonic(), _cpu_seconds()
        then, cpu_then = self._cpu
        self._cpu = (now, cpu)
        return 100.0 * (cpu - cpu_then) / max(now - then, 1e-6)


_NO_MQTT: dict[str, Any] = {
    "connected": False,
    "connection_state": "stopped",
    "reconnects": 0,
    "published": 0,
    "in_flight": 0,
    "pending": 0,
    "dropped": 0,
    "held_in_memory": 0,
    "dropped_by_reason": {},
    "problem": None,
    "last_error": None,
}


def _spool_health(mqtt: dict[str, Any]) -> dict[str, Any]:
    """The spool's part of the health details: what waits, what was lost, what is wrong."""
    keys = ("pending", "held_in_memory", "dropped", "dropped_by_reason", "problem")
    return {key: mqtt[key] for key in keys}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process (default: this one), MB (Linux /proc; else our peak)."""
    statm = Path(f"/proc/{pid}/statm")
    if statm.is_file():
        pages = int(statm.read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
