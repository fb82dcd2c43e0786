"""The daemon under load: N cameras (the dev clips, looping) on this box, measured.

For each N, starts the real daemon (`python -m edge run`) on a config with N file cameras
playing the multi-rep dev clips at their own frame rate (like cameras), a real mosquitto,
and a subscriber; after a warm-up it samples for --seconds and reports per N: analysed fps
per camera (target: `analysis_fps`), frames skipped (analysis slots missed because the
box fell behind), the daemon's CPU (share of one core) and RSS, and rep-event latency from
the frame in which the rep completed (`frame_ts`) to the subscriber's receipt (p50/p99).

    .venv/bin/python -m tools.bench_daemon [--cameras 1,2,4,6] [--seconds 60] [--fps 10]

Needs ../shared/data (the dev clips) and mosquitto. Writes docs/daemon-benchmark.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt

from devkit.broker import Mosquitto
from edge.contract import CameraStatus, RepEvent, parse_event
from edge.daemon.app import rss_mb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

CLIPS = [
    "TBY66__Intelligent-Deadlift-Diagnosis-System/sample/0016c_1.mp4",
    "TBY66__Intelligent-Deadlift-Diagnosis-System/sample/0016k_1.mp4",
    "TBY66__Intelligent-Deadlift-Diagnosis-System/sample/0016c_2.mp4",
    "TBY66__Intelligent-Deadlift-Diagnosis-System/sample/0016k_2.mp4",
    "Harshraj4423__DeadLift_BOT/Video.mp4",
    "SiriwanIm__AI-Based-Real-Time-Conventional-Deadlift-Posture-Correction-System-Using-MediaPipe/Testing_Video/Deadlift_edited5.mp4",
]
_WARMUP_S = 8.0


class Receiver:
    """Subscribes to every topic; records rep latencies and the last stats per camera."""

    def __init__(self, port: int) -> None:
        self.latencies: list[float] = []
        self.ids: set[str] = set()
        self.status: dict[str, CameraStatus] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench")
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("hinge/#", qos=1)
        self.client.loop_start()

    def _message(self, client, userdata, msg) -> None:
        received = time.time()
        with self._lock:
            if msg.topic.endswith("/rep"):
                event = parse_event(msg.payload)
                if isinstance(event, RepEvent) and event.id not in self.ids:
                    self.ids.add(event.id)
                    frame = datetime.fromisoformat(str(event.frame_ts)).timestamp()
                    self.latencies.append(received - frame)
            elif msg.topic.endswith("/status") and msg.topic.count("/") == 2:  # a camera's
                status = CameraStatus.from_json(msg.payload)
                self.status[status.camera] = status

    def reset(self) -> None:
        """Forgets the latencies seen so far (end of the warm-up)."""
        with self._lock:
            self.latencies.clear()

    def stop(self) -> None:
        """Disconnects."""
        self.client.loop_stop()
        self.client.disconnect()


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _config(folder: Path, cameras: int, port: int, fps: float, back: bool = True) -> Path:
    lines = [f"mqtt: {{host: 127.0.0.1, port: {port}}}", "cameras:"]
    for i in range(cameras):
        clip = DATA / CLIPS[i % len(CLIPS)]
        lines += [f"  cam{i}:", f"    source: {clip}", "    loop: true", f"    analysis_fps: {fps}"]
    lines += [f"spool: {{path: {folder / 'spool'}}}", "web: {port: 0}", "stats_interval_s: 2"]
    lines += [f"hinge: {{back: {{enabled: {'true' if back else 'false'}}}}}"]
    path = folder / "bench.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(cameras: int, seconds: float, fps: float, back: bool = True) -> dict:
    """One measurement with `cameras` cameras (the back check on or off)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder / "broker")
        broker.start()
        receiver = Receiver(broker.port)
        config = _config(folder, cameras, broker.port, fps, back)
        env = {**os.environ, "OPENCV_LOG_LEVEL": "ERROR"}
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "edge",
                "--log-level",
                "warning",
                "run",
                "--config",
                str(config),
            ],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(_WARMUP_S)
            receiver.reset()
            before = dict(receiver.status)
            cpu0, t0 = _proc_cpu_s(daemon.pid), time.monotonic()
            rss = []
            while time.monotonic() - t0 < seconds:
                time.sleep(1.0)
                rss.append(rss_mb(daemon.pid))
            cpu = (_proc_cpu_s(daemon.pid) - cpu0) / (time.monotonic() - t0)
            after = dict(receiver.status)
        finally:
            daemon.terminate()
            daemon.wait(30)
            receiver.stop()
            broker.stop()
    return _summary(cameras, fps, cpu, rss, receiver.latencies, before, after, seconds)


def _summary(cameras, fps, cpu, rss, latencies, before, after, seconds) -> dict:  # noqa: PLR0913
    analysed = [after[c].fps_analysed for c in after]
    skipped = [
        after[c].frames_skipped - (before[c].frames_skipped if c in before else 0) for c in after
    ]
    slots = fps * seconds * cameras
    lat = np.array(latencies) * 1000.0
    return {
        "cameras": cameras,
        "fps_analysed_mean": float(np.mean(analysed)) if analysed else 0.0,
        "fps_analysed_min": float(np.min(analysed)) if analysed else 0.0,
        "skipped_pct": 100.0 * sum(skipped) / slots,
        "cpu_cores": cpu,
        "rss_mb_max": max(rss) if rss else 0.0,
        "reps": len(latencies),
        "latency_p50_ms": float(np.percentile(lat, 50)) if len(lat) else None,
        "latency_p99_ms": float(np.percentile(lat, 99)) if len(lat) else None,
    }


def report(rows: list[dict], args: argparse.Namespace) -> str:
    """The Markdown table."""
    lines = [
        "# The daemon under load",
        "",
        f"`.venv/bin/python -m tools.bench_daemon --cameras {args.cameras} --seconds "
        f"{args.seconds:g} --fps {args.fps:g} --back {args.back}` on this shared 2-core x86 "
        "box (no GPU), "
        f"{os.cpu_count()} logical CPUs, FP32 landmark model, one inference worker, "
        "one onnxruntime thread. Cameras are the multi-rep dev clips looping at their own "
        "frame rate (360x640 at 60 fps, 640x360 at 25-30 fps), as live cameras would "
        "deliver them. Sampled after an 8 s warm-up.",
        "",
        "| cameras | back check | analysed fps per camera (mean / min) | frames skipped "
        "| CPU (cores) | RSS max (MB) | reps seen | latency p50 / p99 (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        latency = (
            f"{r['latency_p50_ms']:.0f} / {r['latency_p99_ms']:.0f}"
            if r["latency_p50_ms"] is not None
            else "-"
        )
        lines.append(
            f"| {r['cameras']} | {'on' if r.get('back_check', True) else 'off'} "
            f"| {r['fps_analysed_mean']:.1f} / {r['fps_analysed_min']:.1f} "
            f"| {r['skipped_pct']:.1f}% | {r['cpu_cores']:.2f} | {r['rss_mb_max']:.0f} "
            f"| {r['reps']} | {latency} |"
        )
    lines += [
        "",
        "Frames skipped: analysis slots (one per 1/analysis_fps s per camera) missed because "
        "the box was behind, as a share of all slots. Latency: from the wall-clock time of "
        "the frame in which the rep completed (`frame_ts`, the frame's arrival) to the "
        "subscriber's receipt, through the spool and a local mosquitto. Back check: the "
        "mask model in place of the landmark pass on the frames the hinge engine asks for "
        "(docs/back.md); with `--back both` each camera count runs off, then on.",
        "",
    ]
    pairs = {(r["cameras"], r.get("back_check", True)): r for r in rows}
    ratios = [
        f"{n} camera(s) {pairs[(n, True)]['cpu_cores'] / pairs[(n, False)]['cpu_cores']:.2f}x"
        for n in sorted({r["cameras"] for r in rows})
        if (n, True) in pairs and (n, False) in pairs and pairs[(n, False)]["cpu_cores"] > 0
    ]
    if ratios:
        lines += ["CPU with the back check on, over off: " + ", ".join(ratios) + ".", ""]
    return "\n".join(lines)


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", default="1,2,4,6")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument(
        "--back",
        choices=("on", "off", "both"),
        default="on",
        help="the back check (the mask model on a few frames a rep): on, off, or both in turn",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "daemon-benchmark.md")
    args = parser.parse_args()
    if not (DATA / "labels.csv").is_file():
        print(f"needs the dev clips in {DATA}", file=sys.stderr)
        return 2
    rows = []
    checks = {"on": [True], "off": [False], "both": [False, True]}[args.back]
    for n in (int(v) for v in args.cameras.split(",")):
        for back in checks:  # off then on, one after the other: the same box's load
            rows.append({**run(n, args.seconds, args.fps, back), "back_check": back})
            print(json.dumps(rows[-1]))
    args.out.write_text(report(rows, args), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
