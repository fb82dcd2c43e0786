"""The model manifest (`models/manifest.json`) and the integrity check run before any load."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.errors import ModelError

MANIFEST_NAME = "manifest.json"
# The same variable as the config key `pose.models_dir` (docs/config.md), so one setting
# serves `replay` and the daemon alike.
MODELS_DIR_ENV = "HINGE_EDGE_POSE__MODELS_DIR"
_REMEDY = (
    "restore the models/ folder from the release (git checkout -- models/) "
    "or rebuild it with `make models`"
)


@dataclass(frozen=True)
class ModelSpec:
    """One model as the manifest describes it.

    Attributes:
        name: Stable name used in config and on the command line (`--model NAME`).
        file: File name inside the models folder.
        role: `detector` or `landmarks`.
        precision: `fp32` or `int8`.
        sha256: Hex digest the file must have.
        size_bytes: Exact file size.
        inputs: Input tensor name -> shape.
        outputs: Output tensor name -> shape.
        extra: Every other manifest field (source, licence, figures), kept for reports.
    """

    name: str
    file: str
    role: str
    precision: str
    sha256: str
    size_bytes: int
    inputs: dict[str, list[int]]
    outputs: dict[str, list[int]]
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> ModelSpec:
        """Builds a spec from one manifest entry.

        Raises:
            ModelError: A required field is missing.
        """
        required = ("name", "file", "role", "precision", "sha256", "bytes", "inputs", "outputs")
        missing = [key for key in required if key not in entry]
        if missing:
            raise ModelError(f"manifest entry {entry.get('name', '?')!r} lacks {missing}")
        known = {key: entry[key] for key in required}
        extra = {key: value for key, value in entry.items() if key not in required}
        return cls(
            name=known["name"],
            file=known["file"],
            role=known["role"],
            precision=known["precision"],
            sha256=known["sha256"],
            size_bytes=int(known["bytes"]),
            inputs=known["inputs"],
            outputs=known["outputs"],
            extra=extra,
        )


def default_models_dir() -> Path:
    """Returns `$HINGE_EDGE_POSE__MODELS_DIR`, else the `models/` folder of this source tree."""
    env = os.environ.get(MODELS_DIR_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"


def load_manifest(models_dir: Path) -> dict[str, ModelSpec]:
    """Reads the manifest of a models folder.

    Returns:
        Specs keyed by model name.

    Raises:
        ModelError: The manifest is missing or unreadable.
    """
    path = models_dir / MANIFEST_NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ModelError(f"no model manifest at {path}: {_REMEDY}") from err
    except (OSError, json.JSONDecodeError) as err:
        raise ModelError(f"model manifest {path} is unreadable ({err}): {_REMEDY}") from err
    specs = [ModelSpec.from_json(entry) for entry in document.get("models", [])]
    return {spec.name: spec for spec in specs}


def find_model(manifest: dict[str, ModelSpec], name: str, role: str) -> ModelSpec:
    """Looks a model up by name and checks its role.

    Raises:
        ModelError: Unknown name (the message lists the known ones) or wrong role.
    """
    spec = manifest.get(name)
    if spec is None:
        known = ", ".join(sorted(s.name for s in manifest.values() if s.role == role))
        raise ModelError(f"no model named {name!r} in the manifest; {role} models: {known}")
    if spec.role != role:
        raise ModelError(f"model {name!r} is a {spec.role} model, not a {role} model")
    return spec


def sha256_file(path: Path) -> str:
    """Returns the hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model_file(spec: ModelSpec, models_dir: Path) -> Path:
    """Checks that a model file exists and is byte-for-byte what the manifest says.

    Returns:
        The verified path.

    Raises:
        ModelError: Missing, truncated or altered file; the message names the file and the fix.
    """
    path = models_dir / spec.file
    if not path.is_file():
        raise ModelError(f"model file {path} ({spec.name}) is missing: {_REMEDY}")
    size = path.stat().st_size
    if size != spec.size_bytes:
        kind = "truncated" if size < spec.size_bytes else "larger than expected"
        raise ModelError(
            f"model file {path} ({spec.name}) is {kind}: {size} bytes, the manifest says "
            f"{spec.size_bytes}: {_REMEDY}"
        )
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise ModelError(
            f"model file {path} ({spec.name}) was altered: sha256 {actual[:16]}..., the "
            f"manifest says {spec.sha256[:16]}...: {_REMEDY}"
        )
    return path


# Pose modules that do not decide the landmarks: the scripted stand-in for tests, the
# back contour drawn from the mask (an output of its own), and this file (the models'
# bytes are pinned by manifest.json, which is hashed).
_NOT_LANDMARKS = ("__init__.py", "back.py", "manifest.py", "scripted.py")


def landmark_code_digest(models_dir: str | Path) -> str:
    """sha256 of what decides the landmarks: the pose code and the models' manifest.

    The one key of every landmark cache (the dev clips', the synthetic suite's, the real
    clips' in the tests): a change to the pose code or to a model (the manifest pins
    every model's bytes) makes them all stale.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        if path.name not in _NOT_LANDMARKS:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update((Path(models_dir) / MANIFEST_NAME).read_bytes())
    return digest.hexdigest()


def mask_frames_digest() -> str:
    """sha256 of the hinge engine's code: it picks the frames the mask model sees.

    A cache of back outlines holds the frames one engine asked for; another engine would
    have asked for others, so the outlines are keyed by this beside the landmark key.
    """
    hinge = Path(__file__).resolve().parents[1] / "hinge"
    digest = hashlib.sha256()
    for path in sorted(hinge.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
