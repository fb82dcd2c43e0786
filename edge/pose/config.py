"""The pose stage's config section (`pose:`): which models, threads, and its thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from edge.config_base import StrictModel, resolve_path


class PoseConfig(StrictModel):
    """The pose stage: which models, how many threads, and its decision thresholds."""

    models_dir: Path | None = Field(
        default=None,
        description="Folder with the ONNX models and manifest.json; default: the shipped models/",
    )
    detector_model: str = Field(
        default="blazepose_detector", description="Manifest name of the person detector"
    )
    landmark_model: str = Field(
        default="blazepose_full_fp32",
        description=(
            "Manifest name of the landmark model "
            "(INT8 options: blazepose_full_int8_qat, blazepose_full_int8)"
        ),
    )
    threads: int = Field(default=1, ge=1, le=16, description="onnxruntime intra-op threads")
    workers: int | Literal["auto"] = Field(
        default="auto",
        description="Daemon: inference threads shared by all cameras (one camera is analysed "
        "by one at a time), 1-16; auto: the cores this process may use (CPU affinity and "
        "cgroup quota) divided by threads, at least 1",
    )
    providers: tuple[str, ...] | Literal["auto"] = Field(
        default=("CPUExecutionProvider",),
        description="onnxruntime execution providers in order of preference, each one this "
        "onnxruntime build offers (`python -c 'import onnxruntime as o; "
        "print(o.get_available_providers())'`); `auto`: TensorRT, then CUDA, where the build "
        "offers them (onnxruntime-gpu, Jetson), else CPU, with a log line",
    )
    min_detection_score: float = Field(
        default=0.5, gt=0, lt=1, description="Detector probability needed to acquire a person"
    )
    nms_iou: float = Field(default=0.3, gt=0, lt=1, description="Weighted-NMS IoU threshold")
    max_detector_runs: int = Field(
        default=2,
        ge=1,
        le=8,
        description="Detector runs per frame at most while nobody is tracked: the whole "
        "picture, then closer regions (zone, tiles) in turn",
    )
    max_tilt_deg: float = Field(
        default=135.0,
        gt=90,
        le=180,
        description="A person the detector finds tilted further than this from upright "
        "(degrees: the hips-to-head direction in the picture) is taken as upright, the "
        "detector's direction misread (a plate hiding the legs of a side-on athlete turned "
        "it head down, and the landmark model then tracked the body upside down). No hinge "
        "tips the trunk past about 110 deg; 180 turns the check off (a camera whose "
        "picture hangs upside down)",
    )
    pose_flag_threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Landmark-model pose probability below which the track is dropped",
    )

    def worker_count(self, cores: int) -> int:
        """The inference threads to start on a box where `cores` cores may be used.

        `auto` keeps workers x onnxruntime threads within the cores: one session run per
        worker at a time, each on `threads` cores, so they never queue for a core.
        """
        if self.workers == "auto":
            return max(1, cores // self.threads)
        return self.workers

    @field_validator("workers")
    @classmethod
    def _workers_in_range(cls, workers: int | str) -> int | str:
        if isinstance(workers, int) and not 1 <= workers <= 16:
            raise ValueError("workers must be auto or 1-16")
        return workers

    @field_validator("providers")
    @classmethod
    def _providers_on_offer(cls, providers: str | tuple[str, ...]) -> str | tuple[str, ...]:
        from edge.pose.runtime import check_providers  # onnxruntime only when validating

        check_providers(providers)
        return providers

    @field_validator("models_dir")
    @classmethod
    def _relative_to_the_config(cls, models_dir: Path | None) -> Path | None:
        return None if models_dir is None else resolve_path(models_dir)
