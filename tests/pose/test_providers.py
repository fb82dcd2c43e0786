"""onnxruntime execution providers from the config (`pose.providers`): CPU, `auto`, errors.

This box has no GPU and the CPU build of onnxruntime: the CUDA/TensorRT path is covered by
`resolve_providers` on a given offer list (what onnxruntime-gpu offers on a Jetson); a real
GPU session is not opened here.
"""

from __future__ import annotations

import logging

import onnxruntime as ort
import pytest
from pydantic import ValidationError

from edge.errors import ModelError
from edge.pose.config import PoseConfig
from edge.pose.estimator import load_pose_models
from edge.pose.runtime import CPU, resolve_providers, slow_int8_kernels

GPU = ["TensorrtExecutionProvider", "CUDAExecutionProvider", CPU]
NO_GPU_HERE = "CUDAExecutionProvider" not in ort.get_available_providers()


def test_a_list_and_auto_are_accepted() -> None:
    assert PoseConfig(providers=[CPU]).providers == (CPU,)
    assert PoseConfig(providers="auto").providers == "auto"
    assert PoseConfig().providers == (CPU,)  # the default: CPU, named


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        (["CUDAProvider"], "unknown onnxruntime execution provider(s) CUDAProvider; known: "),
        ([CPU, "cpu"], "unknown onnxruntime execution provider(s) cpu"),
        ([], "name at least one provider, or 'auto'"),
        ("gpu", "Input should be 'auto'"),
    ],
)
def test_a_provider_onnxruntime_does_not_know_is_refused(providers, message) -> None:
    with pytest.raises(ValidationError) as caught:
        PoseConfig(providers=providers)
    assert message in str(caught.value)


@pytest.mark.skipif(not NO_GPU_HERE, reason="this onnxruntime offers CUDA")
def test_a_known_provider_this_build_lacks_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        PoseConfig(providers=["CUDAExecutionProvider", CPU])
    text = str(caught.value)
    assert "CUDAExecutionProvider not offered by this onnxruntime build" in text
    assert f"onnxruntime {ort.__version__} offers" in text and "onnxruntime-gpu" in text


def test_auto_takes_tensorrt_then_cuda_where_offered() -> None:
    assert resolve_providers("auto", GPU) == GPU
    assert resolve_providers("auto", ["CUDAExecutionProvider", CPU]) == [
        "CUDAExecutionProvider",
        CPU,
    ]


def test_auto_falls_back_to_the_cpu_with_a_log_line(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="edge.pose.runtime"):
        assert resolve_providers("auto", ["AzureExecutionProvider", CPU]) == [CPU]
    assert (
        "pose.providers auto: TensorrtExecutionProvider, CUDAExecutionProvider not offered "
        "by this onnxruntime build, using CPUExecutionProvider"
    ) in caplog.text


def test_auto_on_a_gpu_build_logs_nothing(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="edge.pose.runtime"):
        resolve_providers("auto", GPU)
    assert not caplog.records


def test_a_named_provider_not_on_offer_fails_to_load() -> None:
    # A config made in code and never validated (model_construct) still cannot run on CPU
    # behind the operator's back.
    with pytest.raises(ModelError, match="does not offer CUDAExecutionProvider"):
        resolve_providers(("CUDAExecutionProvider",), [CPU])


def test_auto_loads_the_models_on_this_box(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="edge.pose.runtime"):
        detector, landmarks = load_pose_models(PoseConfig(providers="auto"))
    for model in (detector, landmarks):
        assert model._session.get_providers() == resolve_providers("auto")
    assert "CPUExecutionProvider)" in caplog.text  # the load line names what runs


X86_NO_VNNI = "processor : 0\nflags : fpu sse2 avx avx2 fma\n"


@pytest.mark.parametrize(
    ("cpuinfo", "machine", "slow"),
    [
        (X86_NO_VNNI, "x86_64", True),  # this box: AMD EPYC, AVX2 only
        (X86_NO_VNNI.replace("fma", "fma avx512_vnni"), "x86_64", False),
        (X86_NO_VNNI.replace("fma", "fma avx_vnni"), "x86_64", False),
        ("Features : fp asimd asimddp", "aarch64", False),  # a Pi 5's Cortex-A76
        ("", "x86_64", False),  # nothing known: no warning
    ],
)
def test_slow_int8_kernels_means_x86_without_vnni(cpuinfo, machine, slow) -> None:
    assert slow_int8_kernels(cpuinfo, machine) is slow


@pytest.mark.skipif(not slow_int8_kernels(), reason="this CPU has VNNI (or is not x86)")
def test_an_int8_model_on_this_cpu_warns(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="edge.pose.runtime"):
        load_pose_models(PoseConfig(landmark_model="blazepose_full_int8_qat"))
        assert "INT8 and this x86 CPU has no VNNI" in caplog.text
        caplog.clear()
        load_pose_models(PoseConfig())
    assert not caplog.records  # FP32: nothing to say
