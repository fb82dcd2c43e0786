"""The pose section under its old address: `PoseConfig` lives in `edge/pose/config.py`.

Kept because tools and tests import it from here; each stage's section is defined in its
own package (`edge.config_base` holds what they share), and nothing is defined here.
"""

from edge.pose.config import PoseConfig

__all__ = ["PoseConfig"]
