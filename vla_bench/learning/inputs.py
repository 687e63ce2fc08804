"""Model inputs, built the same way for training (from the frame cache) and inference (from a
live observation), so a trained model never sees a different preprocessing.

Images
    Each camera's RGB and depth are resized by area averaging to ``size x size`` and packed as
    ``uint8 [4, size, size]`` (channels R, G, B, depth). Depth is stored as
    ``round(255 * clip(depth / DEPTH_MAX, 0, 1))``: 2.4 cm steps up to 6 m; farther is 6 m.
    :func:`to_float` makes the network input: RGB in ``[-0.5, 0.5]``, depth in ``[0, 1]``.
Actions
    Each dimension is scaled by its 1st and 99th percentile over the training data
    (:class:`Normalizer`) to ``[-1, 1]`` and clipped, as OpenVLA bins its actions; dimensions
    that never move in the data are held at their constant. Discretising architectures cut
    the normalised range into ``BINS`` equal bins.
State
    z-scored by the training mean and standard deviation.
Instruction
    MiniLM's sentence embedding (384) and its token embeddings (``[TEXT_TOKENS, 384]`` with a
    mask), from :mod:`.text`. The sentence embedding is centred on the training episodes' mean
    and divided by their mean per-dimension standard deviation: every instruction of a task
    shares most of its embedding (cosine 0.9 between "the red printer" and "the blue printer"),
    and the part that names the goal is what the network must see. One scale for all
    dimensions, not one per dimension, so an unseen phrasing is not blown up along directions
    the training sentences never moved in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vla_bench import conventions as cv

DEPTH_MAX = 6.0  # metres
BINS = 256  # action tokens per dimension (RT-1, OpenVLA)
TEXT_TOKENS = 32  # MiniLM word pieces kept per instruction (ours have fewer than 24)


def pack_images(rgb: np.ndarray, depth: np.ndarray | None, size: int) -> np.ndarray:
    """uint8 ``[N, H, W, 3]`` RGB and float ``[N, H, W, 1]`` depth (metres) -> uint8
    ``[N, 4, size, size]``. Missing depth is packed as zeros."""
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float()
    if depth is None:
        d = torch.zeros_like(x[:, :1])
    else:
        d = torch.from_numpy(np.ascontiguousarray(depth, dtype=np.float32)).permute(0, 3, 1, 2)
        d = (d / DEPTH_MAX).clamp(0.0, 1.0) * 255.0
    x = torch.cat([x, d], dim=1)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="area")
    return x.round_().clamp_(0, 255).to(torch.uint8).numpy()


def obs_images(obs: Mapping[str, Any], cameras: Sequence[str], size: int) -> np.ndarray:
    """uint8 ``[V, 4, size, size]`` from an observation of an env built with ``cameras``
    (the first camera fills ``rgb``/``depth``, the others ``rgb_<cam>``/``depth_<cam>``)."""
    frames = []
    for i, cam in enumerate(cameras):
        sfx = "" if i == 0 else f"_{cam}"
        rgb = obs.get(cv.OBS_RGB + sfx)
        if rgb is None:
            raise KeyError(f"the observation has no {cv.OBS_RGB + sfx!r} (camera {cam!r}); "
                           f"evaluate with cameras={list(cameras)}")
        depth = obs.get(cv.OBS_DEPTH + sfx)
        frames.append(pack_images(rgb[None], None if depth is None else depth[None], size)[0])
    return np.stack(frames)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``[..., 4, S, S]`` -> float: RGB in [-0.5, 0.5], depth in [0, 1]."""
    x = images.float() / 255.0
    return torch.cat([x[..., :3, :, :] - 0.5, x[..., 3:, :, :]], dim=-3)


@dataclass
class Normalizer:
    """Training-data statistics: action percentiles and state moments (saved in checkpoints)."""

    action_low: np.ndarray
    action_high: np.ndarray
    state_mean: np.ndarray
    state_std: np.ndarray
    text_mean: np.ndarray
    text_scale: np.ndarray  # shape (1,)

    @classmethod
    def fit(cls, actions: np.ndarray, states: np.ndarray, sentences: np.ndarray) -> Normalizer:
        """Statistics of ``[N, A]`` actions, ``[N, S]`` states and ``[E, 384]`` sentence
        embeddings (one per training episode)."""
        low = np.percentile(actions, 1, axis=0).astype(np.float32)
        high = np.percentile(actions, 99, axis=0).astype(np.float32)
        scale = np.asarray([max(float(sentences.std(0).mean()), 1e-6)], np.float32)
        return cls(low, high, states.mean(0).astype(np.float32),
                   states.std(0).astype(np.float32), sentences.mean(0).astype(np.float32),
                   scale)

    def norm_text(self, sentence: np.ndarray) -> np.ndarray:
        """Sentence embeddings centred and scaled by the training instructions'."""
        return ((sentence - self.text_mean) / self.text_scale).astype(np.float32)

    @property
    def _span(self) -> np.ndarray:
        return np.maximum(self.action_high - self.action_low, 1e-6)

    @property
    def moving(self) -> np.ndarray:
        """Action dimensions that vary in the data (the others are held constant)."""
        return (self.action_high - self.action_low) > 1e-6

    def norm_action(self, a: np.ndarray) -> np.ndarray:
        """Actions -> ``[-1, 1]`` (clipped)."""
        x = 2.0 * (a - self.action_low) / self._span - 1.0
        return np.clip(np.where(self.moving, x, 0.0), -1.0, 1.0).astype(np.float32)

    def denorm_action(self, x: np.ndarray) -> np.ndarray:
        """``[-1, 1]`` -> actions, clipped to the env's ``[-1, 1]`` bounds."""
        a = self.action_low + (np.clip(x, -1.0, 1.0) + 1.0) * 0.5 * self._span
        a = np.where(self.moving, a, self.action_low)
        return np.clip(a, -1.0, 1.0).astype(np.float32)

    def norm_state(self, s: np.ndarray) -> np.ndarray:
        """z-scored state."""
        return ((s - self.state_mean) / (self.state_std + 1e-3)).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-serialisable form (checkpoint metadata)."""
        return {k: getattr(self, k).tolist() for k in _FIELDS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Sequence[float]]) -> Normalizer:
        """Inverse of :meth:`to_dict`."""
        return cls(*(np.asarray(d[k], np.float32) for k in _FIELDS))


_FIELDS = ("action_low", "action_high", "state_mean", "state_std", "text_mean", "text_scale")


def action_bins(x: torch.Tensor) -> torch.Tensor:
    """Normalised actions in ``[-1, 1]`` -> bin indices in ``[0, BINS)``."""
    return ((x.clamp(-1.0, 1.0) + 1.0) * 0.5 * BINS).long().clamp_(0, BINS - 1)


def bin_centres(idx: torch.Tensor) -> torch.Tensor:
    """Bin indices -> normalised actions (bin centres)."""
    return (idx.float() + 0.5) / BINS * 2.0 - 1.0
