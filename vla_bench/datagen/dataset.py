"""``DemoDataset``: a torch ``Dataset`` over a generated directory (LeRobot v3 or HDF5).

Each item is one frame::

    {"observation.images.<cam>": uint8 tensor [3, H, W] (CHW, RGB; decoded video frame for
                                 LeRobot, so H.264-lossy; exact for HDF5),
     "observation.state": float32 [n], "action": float32 [a],
     "instruction": str, "episode_index": int, "frame_index": int,
     # with action_chunk=K:
     "action_chunk": float32 [K, a]  (actions t..t+K-1; past the episode end: zeros),
     "action_chunk_mask": bool [K]   (True where the action is real)}

torch is imported by this module only (never by ``import vla_bench`` or the CLI). Videos are decoded one episode
at a time and the last few episodes are cached, so iterate roughly in order for speed.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.utils.data

from vla_bench.datagen import require_format
from vla_bench.datagen.check import detect_format


class DemoDataset(torch.utils.data.Dataset):
    """Frames of a generated dataset; see the module docstring for the item layout."""

    def __init__(self, root: str | Path, action_chunk: int | None = None,
                 cameras: Sequence[str] | None = None, cache_episodes: int = 4) -> None:
        self.root = Path(root)
        self.format = detect_format(self.root)
        require_format(self.format)
        self.action_chunk = action_chunk
        self._cache: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()
        self._cache_size = cache_episodes
        if self.format == "lerobot":
            self._load_lerobot()
        else:
            self._load_hdf5()
        all_cams = self.cameras
        if cameras is not None:
            unknown = [c for c in cameras if c not in all_cams]
            if unknown:
                raise ValueError(f"cameras {unknown} not in the dataset ({all_cams})")
            self.cameras = list(cameras)
        self._starts = np.concatenate([[0], np.cumsum(self.lengths)])

    # -- loading ---------------------------------------------------------------------------
    def _load_lerobot(self) -> None:
        import pyarrow.parquet as pq

        from vla_bench.datagen import lerobot as lr

        self.info = json.loads((self.root / "meta/info.json").read_text())
        eps = sorted(pq.read_table(self.root / lr.EPISODES_PATH).to_pylist(),
                     key=lambda e: e["episode_index"])
        self.episodes = eps
        self.lengths = [e["length"] for e in eps]
        self.instructions = [e["tasks"][0] for e in eps]
        self.cameras = [k.split(".", 2)[2] for k, f in self.info["features"].items()
                        if f["dtype"] == "video"]
        states, actions = [], []
        for e in eps:
            path = self.root / self.info["data_path"].format(
                chunk_index=e["data/chunk_index"], file_index=e["data/file_index"])
            t = pq.read_table(path, columns=["observation.state", "action", "episode_index"])
            t = t.filter(np.asarray(t["episode_index"]) == e["episode_index"])
            states.append(np.stack(t["observation.state"].to_numpy(zero_copy_only=False)))
            actions.append(np.stack(t["action"].to_numpy(zero_copy_only=False)))
        self.states = [s.astype(np.float32) for s in states]
        self.actions = [a.astype(np.float32) for a in actions]

    def _load_hdf5(self) -> None:
        import h5py

        self._h5_path = self.root / "demos.hdf5"
        with h5py.File(self._h5_path, "r") as f:
            data = f["data"]
            names = sorted(data, key=lambda k: int(k.split("_")[-1]))
            self._demo_names = names
            self.lengths = [len(data[n]["actions"]) for n in names]
            self.instructions = [str(data[n].attrs["instruction"]) for n in names]
            self.states = [data[n]["obs/state"][()] for n in names]
            self.actions = [data[n]["actions"][()] for n in names]
            self.cameras = [k[4:] for k in data[names[0]]["obs"] if k.startswith("rgb_")]
            self.info = dict(data.attrs)
        self._h5 = None

    def _frames(self, ep: int, cam: str) -> np.ndarray:
        key = (ep, cam)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if self.format == "lerobot":
            import imageio.v3 as iio

            from vla_bench.datagen.lerobot import image_key

            e = self.episodes[ep]
            vk = image_key(cam)
            path = self.root / self.info["video_path"].format(
                video_key=vk, chunk_index=e[f"videos/{vk}/chunk_index"],
                file_index=e[f"videos/{vk}/file_index"])
            frames = iio.imread(path)
        else:
            import h5py

            if self._h5 is None:  # opened lazily, per process (DataLoader workers)
                self._h5 = h5py.File(self._h5_path, "r")
            frames = self._h5["data"][self._demo_names[ep]]["obs"][f"rgb_{cam}"][()]
        self._cache[key] = frames
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return frames

    def episode_rgb(self, ep: int, cam: str) -> np.ndarray:
        """uint8 ``[T, H, W, 3]``: every RGB frame of episode ``ep`` from camera ``cam``."""
        return self._frames(ep, cam)

    def episode_depth(self, ep: int, cam: str) -> np.ndarray | None:
        """float32 ``[T, H, W, 1]`` metres of episode ``ep`` from camera ``cam``, or ``None``
        when the dataset was generated without depth."""
        from vla_bench.datagen.staging import decode_depth

        if self.format == "lerobot":
            spec = self.info.get("vla_bench", {}).get("depth")
            if not spec:
                return None
            from vla_bench.datagen.lerobot import depth_key, locate

            path = self.root / spec["path"].format(
                depth_key=depth_key(cam), **locate(self.episodes[ep]["episode_index"]))
            if not path.exists():
                return None
            with np.load(path) as z:
                return decode_depth(z[spec["array"]])
        import h5py

        if self._h5 is None:
            self._h5 = h5py.File(self._h5_path, "r")
        obs = self._h5["data"][self._demo_names[ep]]["obs"]
        key = f"depth_{cam}"
        return decode_depth(obs[key][()]) if key in obs else None

    # -- Dataset API -----------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._starts[-1])

    def locate(self, index: int) -> tuple[int, int]:
        """Global frame index -> (episode, frame)."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} frames")
        ep = int(np.searchsorted(self._starts, index, side="right") - 1)
        return ep, int(index - self._starts[ep])

    def __getitem__(self, index: int) -> dict[str, Any]:
        ep, t = self.locate(int(index))
        item: dict[str, Any] = {}
        for cam in self.cameras:
            frame = self._frames(ep, cam)[t]
            item[f"observation.images.{cam}"] = torch.from_numpy(
                np.ascontiguousarray(frame.transpose(2, 0, 1)))
        item["observation.state"] = torch.from_numpy(self.states[ep][t])
        item["action"] = torch.from_numpy(self.actions[ep][t])
        item["instruction"] = self.instructions[ep]
        item["episode_index"] = ep
        item["frame_index"] = t
        if self.action_chunk:
            k = self.action_chunk
            acts = self.actions[ep][t:t + k]
            chunk = np.zeros((k, acts.shape[1]), np.float32)
            chunk[:len(acts)] = acts
            mask = np.zeros(k, bool)
            mask[:len(acts)] = True
            item["action_chunk"] = torch.from_numpy(chunk)
            item["action_chunk_mask"] = torch.from_numpy(mask)
        return item

