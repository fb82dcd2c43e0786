"""A local RTSP server for tests: a video file in a loop, or a moving test pattern, as H.264.

Runs under the system Python (/usr/bin/python3), which has PyGObject; the project venv does
not. Needs Debian's python3-gi, gir1.2-gst-rtsp-server-1.0, gir1.2-gst-plugins-base-1.0,
gstreamer1.0-plugins-{base,good,ugly} (x264enc), gstreamer1.0-libav (decoding clips) and,
for --encoded, gstreamer1.0-plugins-bad (h264parse, h265parse).

    /usr/bin/python3 devkit/rtsp_server.py --port 8554 [--clip clip.mp4] [--path /cam]
    /usr/bin/python3 devkit/rtsp_server.py --port 8554 --clip h264.mp4 --encoded
    /usr/bin/python3 devkit/rtsp_server.py --check   # exit 0, or 1 naming what is missing

It prints `ready rtsp://127.0.0.1:PORT/PATH` on stdout once it listens. A clip is decoded
into memory at start (keep it small) and pushed through appsrc frame after frame, starting
again at the end with timestamps running on, so clients see one endless live stream. Every
client gets its own pipeline (starting at the clip's first frame).

With `--encoded` the clip (H.264 or H.265 in MP4, no B-frames, starting with a keyframe) is
served as it is, without decoding or encoding anything: its access units are read into
memory at start and sent in a loop, as a camera sends what its encoder made. The server then
costs next to nothing, so a benchmark measures the client's decoding alone.
"""

from __future__ import annotations

import argparse
import sys

ELEMENTS = ("appsrc", "videotestsrc", "videoconvert", "x264enc", "rtph264pay", "decodebin")


def _import_gst():
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    return GLib, Gst, GstRtspServer


def check() -> str | None:
    """Returns what is missing to serve RTSP, or None if everything is there."""
    try:
        _, gst, _ = _import_gst()
    except (ImportError, ValueError) as err:
        return f"PyGObject / GstRtspServer typelib not available: {err}"
    missing = [name for name in ELEMENTS if gst.ElementFactory.find(name) is None]
    if missing:
        return "GStreamer elements missing: " + ", ".join(missing)
    return None


def pull_samples(gst, launch: str):
    """Runs a pipeline ending in `appsink name=sink` and yields its samples to the end."""
    pipeline = gst.parse_launch(launch)
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(gst.State.PLAYING)
    try:
        while True:
            sample = sink.emit("try-pull-sample", 5 * gst.SECOND)
            if sample is None:
                return
            yield sample
    finally:
        pipeline.set_state(gst.State.NULL)


def decode_clip(gst, path: str) -> tuple[list[bytes], str, int, int]:
    """Decodes a clip to I420 frames in memory; returns frames, caps, fps numerator/denominator."""
    frames: list[bytes] = []
    caps = None
    launch = (
        f'filesrc location="{path}" ! decodebin ! videoconvert ! '
        "video/x-raw,format=I420 ! appsink name=sink sync=false"
    )
    for sample in pull_samples(gst, launch):
        caps = sample.get_caps()
        buffer = sample.get_buffer()
        frames.append(buffer.extract_dup(0, buffer.get_size()))
    if not frames or caps is None:
        raise SystemExit(f"no frame could be decoded from {path}")
    structure = caps.get_structure(0)
    ok, num, den = structure.get_fraction("framerate")
    if not ok or num <= 0:
        num, den = 25, 1
    return frames, caps.to_string(), num, den


def read_units(gst, path: str) -> tuple[list[tuple[bytes, int, bool]], str, str, int]:
    """Reads a clip's access units; returns (data, pts, keyframe) each, caps, codec, duration.

    The codec is "h264" or "h265" (byte-stream, one access unit a buffer, parameter sets
    before every keyframe so a client may join at any keyframe); the duration is one loop's.
    """
    discover = gst.parse_launch(f'filesrc location="{path}" ! qtdemux ! fakesink')
    discover.set_state(gst.State.PAUSED)
    discover.get_state(5 * gst.SECOND)
    pad = discover.get_by_name("qtdemux0").get_static_pad("video_0")
    caps = pad.get_current_caps() if pad is not None else None
    discover.set_state(gst.State.NULL)
    if caps is None:
        raise SystemExit(f"no video stream in {path}")
    codec = "h265" if caps.get_structure(0).get_name() == "video/x-h265" else "h264"
    launch = (
        f'filesrc location="{path}" ! qtdemux ! {codec}parse config-interval=-1 ! '
        f"video/x-{codec},stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
    )
    units: list[tuple[bytes, int, bool]] = []
    out_caps, end = None, 0
    for sample in pull_samples(gst, launch):
        out_caps = sample.get_caps()
        buffer = sample.get_buffer()
        key = not buffer.has_flags(gst.BufferFlags.DELTA_UNIT)
        units.append((buffer.extract_dup(0, buffer.get_size()), buffer.pts, key))
        end = max(end, buffer.pts + buffer.duration)
    if not units or out_caps is None or not units[0][2]:
        raise SystemExit(f"no access units, or no keyframe first, in {path}")
    return units, out_caps.to_string(), codec, end - units[0][1]


def make_encoded_factory(gst, rtsp, clip: str):
    """A media factory sending the clip's own access units in a loop (nothing re-encoded)."""
    units, caps, codec, loop_ns = read_units(gst, clip)
    start = units[0][1]
    factory = rtsp.RTSPMediaFactory()
    factory.set_launch(
        f'( appsrc name=src format=time is-live=true caps="{caps}" ! {codec}parse '
        f"! rtp{codec}pay name=pay0 pt=96 config-interval=1 )"
    )

    def configure(_factory, media) -> None:
        source = media.get_element().get_by_name_recurse_up("src")
        count = [0]

        def need_data(src, _length) -> None:
            loop, index = divmod(count[0], len(units))
            data, pts, key = units[index]
            buffer = gst.Buffer.new_wrapped(data)
            buffer.pts = buffer.dts = pts - start + loop * loop_ns
            if not key:
                buffer.set_flags(gst.BufferFlags.DELTA_UNIT)
            count[0] += 1
            src.emit("push-buffer", buffer)

        source.connect("need-data", need_data)

    factory.connect("media-configure", configure)
    return factory


def make_factory(gst, rtsp, clip: str | None):
    """A media factory for the clip (looped through appsrc) or for a live test pattern."""
    encode = (
        "videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 "
        "! rtph264pay name=pay0 pt=96 config-interval=1"
    )
    factory = rtsp.RTSPMediaFactory()
    if clip is None:
        factory.set_launch(
            "( videotestsrc is-live=true pattern=ball ! "
            f"video/x-raw,width=160,height=120,framerate=15/1 ! {encode} )"
        )
        return factory
    frames, caps, num, den = decode_clip(gst, clip)
    duration = gst.util_uint64_scale_int(gst.SECOND, den, num)
    factory.set_launch(f'( appsrc name=src format=time caps="{caps}" ! {encode} )')

    def configure(_factory, media) -> None:
        source = media.get_element().get_by_name_recurse_up("src")
        count = [0]

        def need_data(src, _length) -> None:
            buffer = gst.Buffer.new_wrapped(frames[count[0] % len(frames)])
            buffer.pts = buffer.dts = count[0] * duration
            buffer.duration = duration
            count[0] += 1
            src.emit("push-buffer", buffer)

        source.connect("need-data", need_data)

    factory.connect("media-configure", configure)
    return factory


def main() -> int:
    """Parses arguments and serves until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--path", default="/cam")
    parser.add_argument("--clip", help="video file to loop; default: a moving test pattern")
    parser.add_argument(
        "--encoded",
        action="store_true",
        help="send the clip's H.264/H.265 as it is (no re-encoding)",
    )
    parser.add_argument("--check", action="store_true", help="only check the dependencies")
    args = parser.parse_args()
    problem = check()
    if args.check or problem:
        print(problem or "ok", flush=True)
        return 1 if problem else 0
    glib, gst, rtsp = _import_gst()
    server = rtsp.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    if args.encoded and args.clip:
        factory = make_encoded_factory(gst, rtsp, args.clip)
    else:
        factory = make_factory(gst, rtsp, args.clip)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 1
    print(f"ready rtsp://127.0.0.1:{args.port}{args.path}", flush=True)
    glib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
