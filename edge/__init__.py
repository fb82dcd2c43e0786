"""hinge-edge: camera-based hip-hinge coaching on edge hardware."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hinge-edge")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
