"""Depth axes: range noise and dropped pixels on every depth camera.

Invalid-depth convention: a depth pixel equal to ``0.0`` (:data:`INVALID_DEPTH`) carries no
measurement, as in most RGB-D drivers (RealSense, Azure Kinect). The env never outputs 0
(pixels that see nothing hold the far-plane distance, see :mod:`vla_bench.conventions`), so
0 means "dropped" unambiguously; noise never turns a valid pixel into 0 (it is clipped at
:data:`MIN_VALID_DEPTH`) and never revives an invalid one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vla_bench import conventions as cv
from vla_bench.evaluation.perturbations.base import ObservationPerturbation, image_keys

INVALID_DEPTH = 0.0
MIN_VALID_DEPTH = 1e-3  # m


class DepthNoise(ObservationPerturbation):
    """Gaussian range noise, multiplicative and additive with the same ``sigma = level``:
    ``d' = d * (1 + sigma * e1) + sigma * e2``, ``e1, e2 ~ N(0, 1)`` per pixel and step — so
    ``level`` is both the relative error and the error in metres (std ``level * sqrt(1 + d^2)``
    at range ``d``; 1.4 cm at 1 m for level 0.01)."""

    axis = "depth_noise"

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        """Noisy copies of the depth images."""
        out = dict(obs)
        sigma = np.float32(self.level)
        for key in image_keys(obs, cv.OBS_DEPTH):
            d = obs[key]
            rel = self.rng.standard_normal(d.shape, dtype=np.float32)
            add = self.rng.standard_normal(d.shape, dtype=np.float32)
            noisy = np.maximum(d * (1 + sigma * rel) + sigma * add, np.float32(MIN_VALID_DEPTH))
            out[key] = np.where(d > INVALID_DEPTH, noisy, np.float32(INVALID_DEPTH))
        return out


class DepthDropout(ObservationPerturbation):
    """Each depth pixel is set to :data:`INVALID_DEPTH` (0) with probability ``level``,
    independently per pixel and step."""

    axis = "depth_dropout"

    def observation(self, obs: dict[str, Any]) -> dict[str, Any]:
        """Copies of the depth images with dropped pixels."""
        out = dict(obs)
        for key in image_keys(obs, cv.OBS_DEPTH):
            d = obs[key]
            dropped = self.rng.random(d.shape, dtype=np.float32) < self.level
            out[key] = np.where(dropped, np.float32(INVALID_DEPTH), d)
        return out
