"""What decoding one camera costs, and what each cheaper path saves, measured on this box.

Camera-like streams are encoded once from a rendered athlete (`hinge-edge synth`, 1280x720
at 30 fps) with ffmpeg/libx264 and cached under .cache/decode/ (never committed): 1080p and
720p H.264 main streams at 30 fps (4 and 2 Mbit/s, a keyframe every 2 s, no B-frames, a
little temporal noise as a sensor gives), a 640x360 10 fps substream and a 1080p H.265
stream. Each is served over RTSP on loopback as it is (devkit/rtsp_server.py
--encoded: nothing re-encoded, the server costs next to nothing) and read in real time by
OpenCV's FFmpeg backend for --seconds per way of reading; the CPU this process used over
that time is the camera's decode cost, reported in cores and as a ratio against plain
`read()` of the same stream in the same run:

- `read()`: every frame decoded and converted to BGR (what the reader did before).
- `grab()` + `retrieve()` at 10 fps: every frame decoded, one in 3 converted.
- the same with FFmpeg's decoder on one thread (`CAP_PROP_N_THREADS`) instead of one per core.
- `edge.capture.CameraReader` itself with a consumer that wants 10 frames a second.
- FFmpeg options through OPENCV_FFMPEG_CAPTURE_OPTIONS (`skip_frame;nonref`,
  `skip_frame;nokey`, `lowres;1`): reported as honoured only if the frames returned
  change (fewer frames, or smaller ones).
- the substream and H.265 main stream, read.

    .venv/bin/python -m tools.bench_decode [--seconds 8] [--out docs/decode-benchmark.md]

Needs ffmpeg (libx264, libx265) and the RTSP test server's system packages
(`make system-deps`).
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2

from devkit.rtsp import encoded_rtsp
from edge.capture.config import CaptureConfig
from edge.capture.reader import CameraReader

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "decode"
RENDER = CACHE / "render-720p30.mp4"
ANALYSIS_FPS = 10.0
_WARMUP_S = 2.0
_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"


@dataclass(frozen=True)
class Encoding:
    """One camera-like stream: how ffmpeg makes it from the rendered clip."""

    name: str
    label: str
    filters: str
    codec: list[str]


ENCODINGS = {
    e.name: e
    for e in (
        Encoding(
            "h264-1080p30",
            "1080p H.264, 30 fps, 4 Mbit/s",
            "scale=1920:1080:flags=bicubic,noise=alls=4:allf=t",
            ["-c:v", "libx264", "-profile:v", "main", "-b:v", "4M", "-maxrate", "4M"],
        ),
        Encoding(
            "h264-720p30",
            "720p H.264, 30 fps, 2 Mbit/s",
            "noise=alls=4:allf=t",
            ["-c:v", "libx264", "-profile:v", "main", "-b:v", "2M", "-maxrate", "2M"],
        ),
        Encoding(
            "h264-360p10",
            "substream 640x360 H.264, 10 fps, 0.5 Mbit/s",
            "scale=640:360:flags=bicubic,fps=10,noise=alls=4:allf=t",
            ["-c:v", "libx264", "-profile:v", "main", "-b:v", "512k", "-maxrate", "512k"],
        ),
        Encoding(
            "h265-1080p30",
            "1080p H.265, 30 fps, 2.5 Mbit/s",
            "scale=1920:1080:flags=bicubic,noise=alls=4:allf=t",
            ["-c:v", "libx265", "-tag:v", "hvc1", "-b:v", "2500k", "-x265-params", "log-level=1"],
        ),
    )
}


def render_source() -> Path:
    """The rendered athlete the streams are made from (rendered once, about 2 minutes)."""
    if not RENDER.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "edge", "--log-level", "warning", "synth", str(RENDER)]
        command += ["--exercise", "rdl", "--reps", "4", "--view", "side_left"]
        command += ["--size", "1280x720", "--fps", "30"]
        subprocess.run(command, check=True)
    return RENDER


def encoded(name: str) -> Path:
    """The cached encode `name` (one of ENCODINGS), made with ffmpeg if missing."""
    encoding = ENCODINGS[name]
    path = CACHE / f"{name}.mp4"
    if path.is_file():
        return path
    source = render_source()
    fps = 10 if "fps=10" in encoding.filters else 30
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-i", str(source), "-vf", encoding.filters, *encoding.codec]
    command += ["-preset", "veryfast", "-bf", "0", "-g", str(2 * fps), "-bufsize", "8M"]
    command += ["-pix_fmt", "yuv420p", "-an", str(path.with_suffix(".part.mp4"))]
    subprocess.run(command, check=True)
    path.with_suffix(".part.mp4").rename(path)
    return path


@contextmanager
def served(name: str) -> Iterator[str]:
    """Serves the encode over RTSP on loopback as it is; yields the URL."""
    with encoded_rtsp(encoded(name)) as url:
        yield url


@dataclass
class Measured:
    """One way of reading one stream."""

    cores: float
    fps_in: float
    fps_out: float
    shape: tuple[int, ...] | None


def _open(url: str, threads: int | None, options: str = "") -> cv2.VideoCapture:
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 2000]
    if threads is not None:
        params += [cv2.CAP_PROP_N_THREADS, threads]
    saved = os.environ.get(_OPTIONS_ENV)
    if options:  # replaces OpenCV's own default for RTSP (TCP), so that goes in again
        os.environ[_OPTIONS_ENV] = f"rtsp_transport;tcp|{options}"
    try:
        capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    finally:
        os.environ.pop(_OPTIONS_ENV, None)
        if saved is not None:
            os.environ[_OPTIONS_ENV] = saved
    if not capture.isOpened():
        raise RuntimeError(f"cannot open {url}")
    return capture


def measure_capture(
    url: str, seconds: float, grab_only: bool, threads: int | None = None, options: str = ""
) -> Measured:
    """Reads `url` in real time: read() every frame, or grab() all and retrieve() 10 fps."""
    capture = _open(url, threads, options)
    grabbed = retrieved = 0
    shape = None
    started = time.monotonic()
    due = cpu0 = t0 = None
    try:
        while True:
            now = time.monotonic()
            if t0 is None and now - started >= _WARMUP_S:
                cpu0, t0, due, grabbed, retrieved = time.process_time(), now, now, 0, 0
            if t0 is not None and now - t0 >= seconds:
                break
            if not capture.grab():
                raise RuntimeError(f"{url}: grab() failed")
            grabbed += 1
            if grab_only and due is not None and now < due:
                continue
            ok, image = capture.retrieve()
            if ok:
                retrieved, shape = retrieved + 1, image.shape
            if due is not None:
                due += 1.0 / ANALYSIS_FPS
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
    finally:
        capture.release()
    return Measured(cpu / wall, grabbed / wall, retrieved / wall, shape)


def measure_reader(url: str, seconds: float) -> Measured:
    """The daemon's own reader, with a consumer taking 10 frames a second."""
    reader = CameraReader("bench", url, CaptureConfig(read_timeout_s=2.0))
    stop = threading.Event()
    taken = [0]
    shape: list[tuple[int, ...] | None] = [None]

    def consume() -> None:
        last, due = 0, time.monotonic()
        while not stop.is_set():
            frame = reader.latest(last)
            if frame is not None and time.monotonic() >= due:
                last, taken[0], shape[0] = frame.seq, taken[0] + 1, frame.image.shape
                due += 1.0 / ANALYSIS_FPS
                reader.want_next(due, 1.0 / ANALYSIS_FPS)
            time.sleep(0.004)

    consumer = threading.Thread(target=consume, daemon=True)
    reader.start()
    consumer.start()
    try:
        time.sleep(_WARMUP_S)
        snap0, cpu0, t0 = reader.snapshot(), time.process_time(), time.monotonic()
        time.sleep(seconds)
        snap, cpu, wall = reader.snapshot(), time.process_time() - cpu0, time.monotonic() - t0
    finally:
        stop.set()
        consumer.join(2)
        reader.stop(5)
    fps_in = (snap.frames_read - snap0.frames_read) / wall
    fps_out = (snap.frames_retrieved - snap0.frames_retrieved) / wall
    return Measured(cpu / wall, fps_in, fps_out, shape[0])


def _way(grab_only: bool, threads: int | None = None, options: str = "") -> Callable:
    return functools.partial(measure_capture, grab_only=grab_only, threads=threads, options=options)


WAYS: list[tuple[str, Callable[[str, float], Measured]]] = [
    ("read() every frame", _way(False)),
    ("grab() all, retrieve() 10 fps", _way(True)),
    ("read(), 1 decoder thread", _way(False, 1)),
    ("grab()/retrieve() 10 fps, 1 decoder thread", _way(True, 1)),
    ("CameraReader (decode_threads: 1), consumer at 10 fps", measure_reader),
    ("read(), skip_frame;nonref", _way(False, None, "skip_frame;nonref")),
    ("read(), skip_frame;nokey", _way(False, None, "skip_frame;nokey")),
    ("read(), lowres;1", _way(False, None, "lowres;1")),
]


def _row(stream: str, way: str, m: Measured, base: Measured) -> str:
    honoured = ""
    if "skip_frame" in way or "lowres" in way:
        changed = m.shape != base.shape or m.fps_out < 0.9 * base.fps_out
        honoured = " (honoured)" if changed else " (not honoured: same frames)"
    size = f"{m.shape[1]}x{m.shape[0]}" if m.shape else "-"
    return (
        f"| {stream} | {way}{honoured} | {m.fps_in:.1f} | {m.fps_out:.1f} | {size} "
        f"| {m.cores:.3f} | {m.cores / base.cores:.2f} |"
    )


def bench(seconds: float) -> list[str]:
    """Every way on every stream; the Markdown rows."""
    rows = []
    plans = [
        ("h264-1080p30", WAYS),
        ("h264-720p30", WAYS),
        ("h265-1080p30", WAYS[:3]),
        ("h264-360p10", WAYS[:1]),
    ]
    base_1080: Measured | None = None
    for name, ways in plans:
        with served(name) as url:
            base = measure_capture(url, seconds, False)
            if name == "h264-1080p30":
                base_1080 = base
            for way, run in ways:
                m = base if way == ways[0][0] else run(url, seconds)
                rows.append(_row(ENCODINGS[name].label, way, m, base))
                print(rows[-1], flush=True)
            if base_1080 is not None and name != "h264-1080p30":
                ratio = base.cores / base_1080.cores
                rows.append(
                    f"| {ENCODINGS[name].label} | read(), against 1080p H.264 read() "
                    f"| | | | {base.cores:.3f} | {ratio:.2f} |"
                )
    return rows


def report(rows: list[str], seconds: float) -> str:
    """The Markdown page."""
    return "\n".join(
        [
            "# What decoding a camera costs",
            "",
            f"`.venv/bin/python -m tools.bench_decode --seconds {seconds:g}` on this shared "
            f"2-core x86 box ({os.cpu_count()} logical CPUs), OpenCV {cv2.__version__} "
            "(its bundled FFmpeg). Streams: a rendered athlete encoded like a camera "
            "(no B-frames, keyframe every 2 s) and served over RTSP on loopback as it is; "
            f"each way of reading runs {seconds:g} s after a {_WARMUP_S:g} s warm-up. Cores: "
            "CPU seconds of this process per second (decoding and conversion in OpenCV's and "
            "FFmpeg's threads); ratio: against `read()` of every frame of the same stream in "
            "the same run. fps in / out: frames grabbed / frames converted to BGR a second.",
            "",
            "| stream | way of reading | fps in | fps out | frame | cores | ratio |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "What it means for an operator: docs/cameras.md.",
            "",
        ]
    )


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "decode-benchmark.md")
    args = parser.parse_args()
    for name in ENCODINGS:
        encoded(name)
    rows = bench(args.seconds)
    args.out.write_text(report(rows, args.seconds), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
