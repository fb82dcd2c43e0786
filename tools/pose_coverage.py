"""Runs the pose stage over the labelled clips in ../shared/data and reports coverage.

Coverage = the share of frames on which a pose is found. Keypoints are cached under
`.cache/keypoints/<model>/` so later tools (INT8 comparison, hinge tuning) can reuse them.

    .venv/bin/python -m tools.pose_coverage [--view side] [--model blazepose_full_fp32]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from edge.pose import PoseEstimator, load_pose_models
from edge.pose.config import PoseConfig
from edge.replay import replay

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def cached_keypoints(clip: Path, models: tuple, config: PoseConfig, cache: Path) -> dict:
    """Returns the clip's keypoints, computing and caching them on first use."""
    out = (
        cache
        / config.landmark_model
        / (clip.relative_to(DATA).as_posix().replace("/", "__") + ".npz")
    )
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        replay(clip, PoseEstimator(config, models=models)).track.save(out)
    with np.load(out) as archive:
        return {key: archive[key] for key in archive.files}


def main() -> int:
    """Prints one row per clip and the side-view total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--view", default=None, help="only clips whose view starts with this")
    parser.add_argument("--model", default="blazepose_full_fp32")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "keypoints")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no footage at {DATA}", file=sys.stderr)
        return 1
    config = PoseConfig(landmark_model=args.model)
    models = load_pose_models(config)
    total = found = 0
    print(f"{'clip':60s} {'view':14s} frames  pose%")
    for row in csv.DictReader((DATA / "labels.csv").open()):
        if args.view and not row["view"].startswith(args.view):
            continue
        data = cached_keypoints(DATA / row["path"], models, config, args.cache)
        ok = ~np.isnan(data["xy"][:, 0, 0])
        total, found = total + ok.size, found + int(ok.sum())
        print(f"{row['path'][-60:]:60s} {row['view']:14s} {ok.size:6d} {100 * ok.mean():6.1f}")
    print(f"{'all':60s} {'':14s} {total:6d} {100 * found / max(total, 1):6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
