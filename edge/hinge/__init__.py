"""The hinge engine: landmarks in, reps, faults, scores and cues out. Pure NumPy.

Nothing here reads a clock, touches I/O, or imports OpenCV, onnxruntime or paho.
"""

from edge.hinge.config import FAULT_CODES, HINGE_EXERCISES, HingeConfig
from edge.hinge.scorer import HingeScorer, score_track

__all__ = ["FAULT_CODES", "HINGE_EXERCISES", "HingeConfig", "HingeScorer", "score_track"]
