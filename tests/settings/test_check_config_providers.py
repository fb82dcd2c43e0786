"""`hinge-edge check-config` on `pose.providers` (no GPU on this box: CUDA is refused)."""

from __future__ import annotations

import onnxruntime as ort
import pytest

from edge.cli import main
from tests.settings.conftest import MINIMAL


@pytest.fixture(autouse=True)
def _logging(restore_logging) -> None:
    """main() installs its own log handler; put the root logger back afterwards."""


def test_check_config_names_the_bad_provider(tmp_path, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(MINIMAL + "pose:\n  providers: [CUDAExecutionProvider, Bogus]\n")
    assert main(["check-config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "pose.providers" in err and "unknown onnxruntime execution provider(s) Bogus" in err


def test_check_config_accepts_auto(tmp_path, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(MINIMAL + "pose:\n  providers: auto\n")
    assert main(["check-config", str(config)]) == 0
    assert capsys.readouterr().out.startswith("config OK")


@pytest.mark.skipif(
    "CUDAExecutionProvider" in ort.get_available_providers(), reason="this box offers CUDA"
)
def test_check_config_refuses_a_provider_this_box_lacks(tmp_path, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(MINIMAL + "pose:\n  providers: [CUDAExecutionProvider]\n")
    assert main(["check-config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "pose.providers" in err
    assert "CUDAExecutionProvider not offered by this onnxruntime build" in err
