"""The pose stage: BlazePose GHUM (detector + full landmark model) on onnxruntime."""

from edge.pose.config import PoseConfig
from edge.pose.estimator import PoseEstimator, PoseStage, load_mask_model, load_pose_models

__all__ = ["PoseConfig", "PoseEstimator", "PoseStage", "load_mask_model", "load_pose_models"]
