"""deploy/hinge-edge.service passes `systemd-analyze verify` without a single warning."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "hinge-edge.service"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (systemd)"
)
def test_unit_verifies_cleanly(tmp_path: Path) -> None:
    # The unit points at /opt/hinge-edge; here the command lives in the test venv.
    venv_command = Path(sys.executable).with_name("hinge-edge")
    unit = tmp_path / UNIT.name
    text = UNIT.read_text(encoding="utf-8")
    unit.write_text(text.replace("/opt/hinge-edge/bin/hinge-edge", str(venv_command)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # unknown keys are only warned about


def test_unit_runs_the_documented_commands() -> None:
    text = UNIT.read_text(encoding="utf-8")
    command, config = "/opt/hinge-edge/bin/hinge-edge", "/etc/hinge-edge/hinge.yaml"
    assert f"ExecStartPre={command} check-config {config}" in text
    assert f"ExecStart={command} run --config {config}" in text
    assert "Restart=always" in text
    assert "StateDirectory=hinge-edge" in text
    assert "User=hinge-edge" in text
