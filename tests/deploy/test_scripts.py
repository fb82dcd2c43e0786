"""The deployment's shell scripts pass shellcheck."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [
    ROOT / "tools" / "arm64_proof.sh",
    ROOT / "tools" / "run_demo.sh",
    ROOT / "deploy" / "mosquitto" / "make-passwd.sh",
]


@pytest.mark.skipif(
    shutil.which("shellcheck") is None, reason="shellcheck not installed (apt install shellcheck)"
)
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_is_clean(script: Path) -> None:
    result = subprocess.run(
        ["shellcheck", "--format=gcc", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
