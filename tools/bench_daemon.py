"""The daemon under load: N cameras on this box, measured.

For each N, starts the real daemon (`python -m edge run`) on a config with N cameras, a
real mosquitto and a subscriber; after a warm-up it samples for --seconds and reports per
N: analysed fps per camera (target: `analysis_fps`; mean and min), frames skipped
(analysis slots missed because the box fell behind), the daemon's CPU (share of one core)
and RSS, rep-event latency from the frame in which the rep completed (`frame_ts`) to the
subscriber's receipt (p50/p99), where the CPU went (decode, pose, scoring, publish:
the daemon's `hinge_stage_cpu_seconds` on /metrics), and the pose passes' ms a call and
masked frames a rep (the back check's cost: `hinge_pose_calls`, `_inference_seconds`).

Sources (--source, one or more, comma-separated):
- `dev`: the multi-rep dev clips (../shared/data) as file cameras looping at their own rate.
- `rtsp1080`, `rtsp720`: a rendered athlete encoded once as 1080p / 720p H.264 at 30 fps
  (tools/bench_decode.py, cached under .cache/decode/), served over RTSP on loopback as it
  is (nothing re-encoded), every camera a client of that server.
- `rtsp360`: the same as a 640x360 10 fps substream.

    .venv/bin/python -m tools.bench_daemon [--source dev,rtsp1080] [--cameras 1,2,4,8,12]
        [--seconds 30] [--fps 10] [--back on|off|both]

Needs mosquitto, and ../shared/data for `dev`, ffmpeg and the RTSP test server's packages
for `rtsp*`. Writes docs/daemon-benchmark.md (and .json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt

from devkit.broker import Mosquitto, free_port
from edge.contract import CameraStatus, RepEvent, parse_event
from edge.daemon.app import rss_mb
from edge.daemon.pipeline import STAGES
from edge.daemon.scheduler import resolve_workers
from edge.pose.config import PoseConfig
from tools.bench_decode import served

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
_WARMUP_S = 8.0  # after every camera is online
_ONLINE_TIMEOUT_S = 120.0
RTSP_SOURCES = {"rtsp1080": "h264-1080p30", "rtsp720": "h264-720p30", "rtsp360": "h264-360p10"}
SOURCE_LABELS = {
    "dev": "dev clips (files, 360x640 at 60 fps, 640x360 at 25-30 fps)",
    "rtsp1080": "1080p H.264 30 fps over RTSP",
    "rtsp720": "720p H.264 30 fps over RTSP",
    "rtsp360": "640x360 H.264 10 fps substream over RTSP",
}
STAGE_NAMES = ("decode", *STAGES)
_CPU_LINE = re.compile(r'^hinge_stage_cpu_seconds_total\{camera="([^"]+)",stage="(\w+)"\} (\S+)$')
_POSE_LINE = re.compile(
    r'^hinge_pose_(calls|inference_seconds)_total\{camera="([^"]+)",pass="(\w+)"\} (\S+)$'
)
_REPS_LINE = re.compile(r'^hinge_reps_total\{camera="([^"]+)"\} (\S+)$')


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


def _box_busy_s() -> float:
    """CPU seconds every process on the box has used (all cores, from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc; tools.bench_chain)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _config(folder: Path, urls: list[str], port: int, fps: float, back: bool = True) -> Path:
    lines = [f"mqtt: {{host: 127.0.0.1, port: {port}}}", "cameras:"]
    for i, url in enumerate(urls):
        lines += [f"  cam{i}:", f"    source: {url}", f"    analysis_fps: {fps}"]
        if "://" not in url:
            lines.append("    loop: true")
    lines += [f"spool: {{path: {folder / 'spool'}}}", f"web: {{port: {free_port()}}}"]
    lines += ["stats_interval_s: 2"]
    lines += [f"hinge: {{back: {{enabled: {'true' if back else 'false'}}}}}"]
    path = folder / "bench.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _scrape(port: int, token: str) -> dict[str, float]:
    """The daemon's figures so far, summed over the cameras (its /metrics; `sum_metrics`)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return sum_metrics(response.read().decode())


def sum_metrics(text: str) -> dict[str, float]:
    """The figures of a /metrics text, summed over the cameras.

    CPU seconds per stage (keyed by the stage), each pose pass's `calls:<pass>` and
    `seconds:<pass>` (landmark, mask), and `reps`.
    """
    totals = dict.fromkeys(STAGE_NAMES, 0.0) | {"reps": 0.0}
    for line in text.splitlines():
        if match := _CPU_LINE.match(line):
            key, value = match[2], match[3]
        elif match := _POSE_LINE.match(line):
            key, value = f"{match[1].split('_')[-1]}:{match[3]}", match[4]
        elif match := _REPS_LINE.match(line):
            key, value = "reps", match[2]
        else:
            continue
        totals[key] = totals.get(key, 0.0) + float(value)
    return totals


def pose_cost(before: dict[str, float], after: dict[str, float]) -> dict[str, float | None]:
    """Between two `sum_metrics`: each pass's ms a call, masked frames a rep (None: none)."""
    delta = {k: after[k] - before.get(k, 0.0) for k in after}
    out: dict[str, float | None] = {}
    for name in ("landmark", "mask"):
        calls = delta.get(f"calls:{name}", 0.0)
        out[f"{name}_ms"] = 1e3 * delta.get(f"seconds:{name}", 0.0) / calls if calls else None
    masks, reps = delta.get("calls:mask", 0.0), delta.get("reps", 0.0)
    out["masks_per_rep"] = masks / reps if reps else None
    return out


def _wait_online(receiver: Receiver, cameras: int, daemon: subprocess.Popen) -> float:
    """Waits until every camera reports online (RTSP opens take seconds each); seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < _ONLINE_TIMEOUT_S and daemon.poll() is None:
        states = [s.state for s in dict(receiver.status).values()]
        if len(states) == cameras and all(state == "online" for state in states):
            break
        time.sleep(0.5)
    return time.monotonic() - t0


def _scrape_token(config: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "edge", "scrape-token", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()[0]


def run(source: str, cameras: int, seconds: float, fps: float, back: bool = True) -> dict:
    """One measurement with `cameras` cameras of `source` (the back check on or off)."""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        if source == "dev":
            urls = [str(DATA / CLIPS[i % len(CLIPS)]) for i in range(cameras)]
        else:
            # one server per camera, as each camera is its own: a single GStreamer server
            # process serving 12 clients let some starve and others burst (fps_in 0 and 44)
            urls = [stack.enter_context(served(RTSP_SOURCES[source])) for _ in range(cameras)]
        broker = Mosquitto(folder / "broker")
        broker.start()
        stack.callback(broker.stop)
        receiver = Receiver(broker.port)
        stack.callback(receiver.stop)
        config = _config(folder, urls, broker.port, fps, back)
        web_port = int(re.findall(r"web: \{port: (\d+)\}", config.read_text())[0])
        token = _scrape_token(config)
        env = {**os.environ, "OPENCV_LOG_LEVEL": "ERROR"}
        command = [sys.executable, "-m", "edge", "--log-level", "warning", "run"]
        daemon = subprocess.Popen(
            [*command, "--config", str(config)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            online_s = _wait_online(receiver, cameras, daemon)
            time.sleep(_WARMUP_S)
            receiver.reset()
            before = dict(receiver.status)
            stages0 = _scrape(web_port, token)
            cpu0, box0, t0 = process_cpu_s(daemon.pid), _box_busy_s(), time.monotonic()
            rss = []
            while time.monotonic() - t0 < seconds:
                time.sleep(1.0)
                rss.append(rss_mb(daemon.pid))
            wall = time.monotonic() - t0
            cpu = (process_cpu_s(daemon.pid) - cpu0) / wall
            others = (_box_busy_s() - box0) / wall - cpu
            stages = _scrape(web_port, token)
            after = dict(receiver.status)
        finally:
            daemon.terminate()
            daemon.wait(30)
    row = _summary(cameras, fps, cpu, rss, receiver.latencies, before, after, seconds)
    row["stage_cores"] = {k: (stages[k] - stages0.get(k, 0.0)) / wall for k in STAGE_NAMES}
    row["pose_cost"] = pose_cost(stages0, stages)
    row["other_cores"] = others  # the rest of the box: the broker, this tool, other users
    row["online_s"] = online_s
    return {"source": source, **row}


def _summary(cameras, fps, cpu, rss, latencies, before, after, seconds) -> dict:  # noqa: PLR0913
    analysed = [after[c].fps_analysed for c in after]
    delivered = [after[c].fps_in for c in after]
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
        "fps_in_min": float(np.min(delivered)) if delivered else 0.0,
        "per_camera": {c: [after[c].fps_in, after[c].fps_analysed] for c in sorted(after)},
        "cpu_cores": cpu,
        "rss_mb_max": max(rss) if rss else 0.0,
        "reps": len(latencies),
        "latency_p50_ms": float(np.percentile(lat, 50)) if len(lat) else None,
        "latency_p99_ms": float(np.percentile(lat, 99)) if len(lat) else None,
    }


def report(rows: list[dict], args: argparse.Namespace) -> str:
    """The Markdown page: one table per source."""
    pose = PoseConfig()
    workers = resolve_workers(pose)
    lines = [
        "# The daemon under load",
        "",
        f"`.venv/bin/python -m tools.bench_daemon --source {args.source} --cameras "
        f"{args.cameras} --seconds {args.seconds:g} --fps {args.fps:g} --back {args.back}` "
        f"on this shared 2-core x86 box (no GPU), {os.cpu_count()} logical CPUs; the "
        f"default pose section: landmark model `{pose.landmark_model}`, `workers: "
        f"{pose.workers}` ({workers} here), {pose.threads} onnxruntime thread(s) each; "
        "cameras decoded on their own reader thread (`decode_threads: 1`), frames between "
        "analysis slots grabbed, not converted. Sampled for the seconds given, 8 s after "
        "every camera reported online.",
        "",
    ]
    for source in dict.fromkeys(r.get("source", "dev") for r in rows):
        lines += [
            f"## {SOURCE_LABELS[source]}",
            "",
            "| cameras | back check | analysed fps per camera (mean / min) | frames skipped "
            "| CPU (cores) | RSS max (MB) | reps seen | latency p50 / p99 (ms) "
            "| cores: decode / pose / scoring / publish | rest of the box (cores) "
            "| all online after (s) | ms a call: landmark / mask (masks a rep) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in (r for r in rows if r.get("source", "dev") == source):
            latency = (
                f"{r['latency_p50_ms']:.0f} / {r['latency_p99_ms']:.0f}"
                if r["latency_p50_ms"] is not None
                else "-"
            )
            stages = r.get("stage_cores", {})
            breakdown = " / ".join(f"{stages.get(k, 0.0):.2f}" for k in STAGE_NAMES)
            others = max(0.0, r.get("other_cores", 0.0))  # /proc/stat's ticks: a hair below 0
            lines.append(
                f"| {r['cameras']} | {'on' if r.get('back_check', True) else 'off'} "
                f"| {r['fps_analysed_mean']:.1f} / {r['fps_analysed_min']:.1f} "
                f"| {r['skipped_pct']:.1f}% | {r['cpu_cores']:.2f} | {r['rss_mb_max']:.0f} "
                f"| {r['reps']} | {latency} | {breakdown} | {others:.2f} "
                f"| {r.get('online_s', 0.0):.0f} | {_cost_cell(r.get('pose_cost', {}))} |"
            )
        lines += ["", *_verdicts([r for r in rows if r.get("source", "dev") == source]), ""]
    lines += [
        "Frames skipped: analysis slots (one per 1/analysis_fps s per camera) missed because "
        "the box was behind, as a share of all slots. Latency: from the wall-clock time of "
        "the frame in which the rep completed (`frame_ts`, the frame's arrival) to the "
        "subscriber's receipt, through the spool and a local mosquitto. Cores by stage: "
        "CPU seconds a second, summed over the cameras, from the daemon's "
        "`hinge_stage_cpu_seconds` (decode: the reader threads, reading, decoding and "
        "converting; pose, scoring, publish: the analysis workers); the rest of the CPU "
        "column is the web side, stats, MQTT client and Python's own overhead. Rest of the "
        "box: CPU every other process used meanwhile (the broker, the RTSP servers, this tool, "
        "and whatever else the shared box ran: the daemon had at most 2 minus that). Back "
        "check: "
        "the mask model in place of the landmark pass on the frames the hinge engine asks "
        "for (docs/back.md); ms a call: the model's inference alone over the sample, from "
        "the daemon's `hinge_pose_inference_seconds` over `hinge_pose_calls`, and masked "
        "frames over `hinge_reps`. Decode costs per stream: docs/decode-benchmark.md; camera "
        "settings: docs/cameras.md.",
        "",
    ]
    return "\n".join(lines)


def _cost_cell(cost: dict[str, float | None]) -> str:
    """`landmark / mask (masks a rep)`, ms; `-` where a figure is missing."""

    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    landmark, mask, per_rep = (cost.get(k) for k in ("landmark_ms", "mask_ms", "masks_per_rep"))
    return f"{show(landmark)} / {show(mask)} ({show(per_rep)})"


def _verdicts(rows: list[dict]) -> list[str]:
    """The issue's goal checked on the rows (8 and 12 cameras), with the costliest stage.

    8 cameras: 10 analysed fps each, under 5% skipped, p99 under 200 ms, RSS under 500 MB;
    12 cameras: no camera below 80% of the mean analysed fps.
    """
    out = []
    for r in rows:
        stages = r.get("stage_cores", {})
        top = max(stages, key=stages.get) if stages else "-"
        share = stages.get(top, 0.0) / max(1e-9, sum(stages.values())) if stages else 0.0
        where = f"most CPU in {top} ({share:.0%} of the stages' {sum(stages.values()):.2f} cores)"
        if r["cameras"] == 8:
            checks = {
                "10 analysed fps": r["fps_analysed_min"] >= 9.5,
                "under 5% skipped": r["skipped_pct"] < 5.0,
                "p99 under 200 ms": (r["latency_p99_ms"] or 1e9) < 200.0,
                "RSS under 500 MB": r["rss_mb_max"] < 500.0,
            }
            missed = [k for k, ok in checks.items() if not ok]
            verdict = "met" if not missed else "not met (" + ", ".join(missed) + ")"
            out.append(f"- 8 cameras: goal {verdict}; {where}.")
        elif r["cameras"] == 12:
            floor = r["fps_analysed_min"] / max(1e-9, r["fps_analysed_mean"])
            spread = "evenly" if floor >= 0.8 else "unevenly"
            out.append(
                f"- 12 cameras: skips spread {spread} (slowest camera at {floor:.0%} of the "
                f"mean analysed fps); {where}."
            )
    return out


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source", default="dev,rtsp1080,rtsp360", help="dev, rtsp1080, rtsp720, rtsp360"
    )
    parser.add_argument("--cameras", default="1,2,4,8,12")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument(
        "--back",
        choices=("on", "off", "both"),
        default="on",
        help="the back check (the mask model on a few frames a rep): on, off, or both in turn",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "daemon-benchmark.md")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the page from the .json next to it"
    )
    args = parser.parse_args()
    if args.report_only:
        rows = json.loads(args.out.with_suffix(".json").read_text())
        args.out.write_text(report(rows, args), encoding="utf-8")
        return 0
    sources = args.source.split(",")
    unknown = [s for s in sources if s != "dev" and s not in RTSP_SOURCES]
    if unknown:
        parser.error(f"unknown source(s): {', '.join(unknown)}")
    if "dev" in sources and not (DATA / "labels.csv").is_file():
        print(f"needs the dev clips in {DATA}", file=sys.stderr)
        return 2
    rows = []
    checks = {"on": [True], "off": [False], "both": [False, True]}[args.back]
    for source in sources:
        for n in (int(v) for v in args.cameras.split(",")):
            for back in checks:  # off then on, one after the other: the same box's load
                rows.append({**run(source, n, args.seconds, args.fps, back), "back_check": back})
                print(json.dumps(rows[-1]), flush=True)
    args.out.write_text(report(rows, args), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
