"""Load a ``vla-bench generate`` dataset with LeRobot's own ``LeRobotDataset`` and check it.

Runs inside the LeRobot venv that ``scripts/lerobot_interop.sh`` builds (lerobot pins
torch < 2.11, which clashes with ours), so it imports nothing from vla_bench: what it compares
against is what our writer put on disk (the parquet files, ``meta/vla_bench_episodes.jsonl``
and the mp4 files, decoded here with PyAV).

    python scripts/lerobot_check_dataset.py DATASET_DIR

Checks, printing one line each and exiting 1 on the first failure:
1. LeRobot opens the dataset from the local path (no hub access) and agrees on the number of
   episodes and frames, the fps and the feature names.
2. Episode boundaries: LeRobot's ``dataset_from_index``/``dataset_to_index`` per episode equal
   our frame counts, and every item's ``episode_index``/``frame_index`` matches its position.
3. Actions and states: every frame's ``action`` and ``observation.state`` equal our parquet
   rows exactly.
4. Tasks: every frame's ``task`` string is the instruction our episode record holds.
5. Frames: LeRobot's decoded video frames (its default decoder) match PyAV's decoding of the
   same mp4 within 2/255 mean absolute difference, for the first, middle and last frame of
   every episode.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import av
import numpy as np
import pandas as pd


def fail(msg: str) -> None:
    print(f"FAIL  {msg}")
    sys.exit(1)


def ok(msg: str) -> None:
    print(f"ok    {msg}")


def decode_all(path: Path) -> np.ndarray:
    """Every frame of an mp4 as uint8 [T, H, W, 3] (PyAV)."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def main(root: Path) -> int:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    info = json.loads((root / "meta" / "info.json").read_text())
    ours = [json.loads(line) for line in
            (root / "meta" / "vla_bench_episodes.jsonl").read_text().splitlines() if line]
    backend = os.environ.get("VIDEO_BACKEND") or None  # None: LeRobot's default (torchcodec)
    ds = LeRobotDataset(repo_id=f"local/{root.name}", root=root, video_backend=backend)

    # 1. metadata
    if ds.meta.total_episodes != info["total_episodes"] or ds.num_episodes != len(ours):
        fail(f"episodes: lerobot {ds.num_episodes}, ours {len(ours)}")
    if ds.meta.total_frames != info["total_frames"] or len(ds) != info["total_frames"]:
        fail(f"frames: lerobot {len(ds)}, ours {info['total_frames']}")
    if ds.fps != info["fps"]:
        fail(f"fps: lerobot {ds.fps}, ours {info['fps']}")
    if set(ds.meta.features) != set(info["features"]):
        fail(f"features differ: {sorted(set(ds.meta.features) ^ set(info['features']))}")
    cams = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    ok(f"LeRobotDataset opened {root}: {ds.num_episodes} episodes, {len(ds)} frames, "
       f"{ds.fps} fps, cameras {cams}")

    # 2. episode boundaries
    data = pd.concat([pd.read_parquet(p) for p in sorted((root / "data").rglob("*.parquet"))])
    data = data.sort_values("index").reset_index(drop=True)
    episodes = ds.meta.episodes
    for e in range(ds.num_episodes):
        rows = data[data["episode_index"] == e]
        lo, hi = int(episodes[e]["dataset_from_index"]), int(episodes[e]["dataset_to_index"])
        if (lo, hi) != (int(rows["index"].min()), int(rows["index"].max()) + 1):
            fail(f"episode {e}: lerobot frames [{lo}, {hi}), ours "
                 f"[{rows['index'].min()}, {rows['index'].max() + 1})")
    lengths = ", ".join(str(int(episodes[e]["length"])) for e in range(ds.num_episodes))
    ok(f"episode boundaries agree ({lengths} frames)")

    # 3-4. every frame's action, state, indices and task (video decoding off for speed)
    tasks_by_episode = {e: rec["instruction"] for e, rec in enumerate(ours)}
    for i in range(len(ds)):
        row = data.iloc[i]
        item = ds.hf_dataset[i]
        if int(item["episode_index"]) != int(row["episode_index"]) or \
                int(item["frame_index"]) != int(row["frame_index"]):
            fail(f"frame {i}: indices differ")
        for key in ("action", "observation.state"):
            if not np.array_equal(np.asarray(item[key], np.float32),
                                  np.asarray(row[key], np.float32)):
                fail(f"frame {i}: {key} differs")
        task = ds.meta.tasks.index[int(item["task_index"])]
        if task != tasks_by_episode[int(row["episode_index"])]:
            fail(f"frame {i}: task {task!r}, ours {tasks_by_episode[int(row['episode_index'])]!r}")
    ok(f"actions, states, indices and tasks of all {len(ds)} frames equal ours")

    # 5. decoded frames
    worst = 0.0
    for e in range(ds.num_episodes):
        lo, hi = int(episodes[e]["dataset_from_index"]), int(episodes[e]["dataset_to_index"])
        for cam in cams:
            ref = decode_all(root / info["video_path"].format(
                video_key=cam, chunk_index=e // info["chunks_size"],
                file_index=e % info["chunks_size"]))
            if len(ref) != hi - lo:
                fail(f"episode {e} {cam}: mp4 has {len(ref)} frames, parquet {hi - lo}")
            for k in (0, (hi - lo) // 2, hi - lo - 1):
                frame = ds[lo + k][cam]  # float [3, H, W] in [0, 1]
                got = np.clip(np.asarray(frame).transpose(1, 2, 0) * 255.0, 0, 255)
                diff = float(np.abs(got - ref[k].astype(np.float64)).mean())
                worst = max(worst, diff)
                if diff > 2.0:
                    fail(f"episode {e} {cam} frame {k}: mean |lerobot - pyav| = {diff:.2f}")
    ok(f"decoded frames ({ds.video_backend}) match PyAV's (worst mean abs difference "
       f"{worst:.3f} / 255)")
    print("LeRobot accepts the dataset.")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]).resolve()))
