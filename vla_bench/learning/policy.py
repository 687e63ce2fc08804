"""A trained checkpoint as a policy: ``make_policy("bcz", checkpoint="baselines/.../bcz")``.

The policy sees what any non-privileged policy sees: the observation (cameras, proprioceptive
state, instruction) and the :class:`~vla_bench.policies.base.PolicySpec`. It builds the model's
inputs with :mod:`.inputs`, exactly as training did, and returns a
:class:`~vla_bench.policies.base.PolicyOutput` with the first ``execute`` actions of the
predicted chunk and a confidence.

Confidence: each ``act``'s step signal is a probability for token and confidence-head models,
and for sampling models ``1 - F(spread)``, where ``F`` is the distribution of the spreads the
model showed on its held-out validation episodes (a spread larger than any seen there gives
0, smaller than any gives 1). The reported confidence is the mean of the step signals so far
in the episode, so the last one, the episode's, summarises the whole episode and is known
before its outcome.

``inference`` overrides the settings that change only how a trained model acts, e.g.
``{"temperature": 1.0, "sample_steps": 25}`` for diffusion (see the arch module's
``INFERENCE_FIELDS``); the other architectures have none.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError
from vla_bench.learning.archs.base import acting_parameters


class LearnedPolicy:
    """Runs a checkpoint written by ``vla-bench train``."""

    cameras = cv.DEFAULT_CAMERAS  # what the shipped baselines were trained on

    def __init__(self, checkpoint: str | Path, arch: str | None = None, device: str = "cpu",
                 execute: int | None = None, threads: int | None = None,
                 inference: dict[str, Any] | None = None) -> None:
        import torch

        from vla_bench.learning import checkpoint as ckpt
        from vla_bench.learning.inputs import Normalizer
        from vla_bench.learning.text import shared_encoder

        if threads:
            torch.set_num_threads(int(threads))
        self.model, self.meta = ckpt.load(checkpoint, device=device, arch=arch,
                                          inference=inference)
        self.arch = self.meta["arch"]
        self.device = device
        self.norm = Normalizer.from_dict(self.meta["normalizer"])
        layout = self.meta["layout"]
        self.layout_cameras = tuple(layout["cameras"])
        self.image_size = int(layout["image_size"])
        self.action_names = tuple(layout["action_names"])
        self.state_names = tuple(layout["state_names"])
        # the state entries the model was trained on (all, for checkpoints that predate it)
        self.state_columns = np.asarray(layout.get("state_columns",
                                                   range(len(self.state_names))), np.int64)
        cfg = self.model.cfg
        self.execute = int(execute) if execute is not None else cfg.execute
        if not 1 <= self.execute <= cfg.chunk:
            raise ConfigError(f"execute must be in [1, {cfg.chunk}] (the model predicts "
                              f"{cfg.chunk} actions per step), got {execute}")
        self.reference = np.asarray(self.meta.get("confidence_reference") or [], np.float64)
        self.text = shared_encoder()
        self._gen = torch.Generator().manual_seed(0)
        self._instruction: str | None = None
        self._memory: Any = None
        self._signals: list[float] = []

    # -- the policy protocol ------------------------------------------------------------------
    def setup(self, spec: Any) -> None:
        """Refuse an env whose action or state layout differs from the training data's."""
        if tuple(spec.action_layout) != self.action_names:
            raise ConfigError(f"this {self.arch} checkpoint was trained on actions "
                              f"{list(self.action_names)}, the env has {list(spec.action_layout)}; "
                              "evaluate it with the robot and control mode it was trained on")
        if tuple(spec.state_layout) != self.state_names:
            raise ConfigError(f"this {self.arch} checkpoint was trained on a different state "
                              f"layout ({len(self.state_names)} entries) than the env's "
                              f"({len(spec.state_layout)}); use the robot it was trained on")
        names = tuple(c.name for c in spec.cameras)
        if names[:len(self.layout_cameras)] != self.layout_cameras:
            raise ConfigError(f"this checkpoint needs cameras {list(self.layout_cameras)} in "
                              f"that order; the env has {list(names)}")

    def seed(self, seed: int) -> None:
        """Sampling (diffusion noise, dropout samples) repeats for the same episode seed."""
        self._gen.manual_seed(int(seed) & 0x7FFF_FFFF_FFFF_FFFF)

    def reset(self, instruction: str) -> None:
        self._instruction = instruction
        self._memory = None
        self._signals = []

    def act(self, obs: Mapping[str, Any]) -> Any:
        import torch

        from vla_bench.learning.inputs import obs_images, to_float
        from vla_bench.policies.base import PolicyOutput

        instruction = str(obs.get(cv.OBS_INSTRUCTION, self._instruction or ""))
        feats = self.text.encode([instruction])
        images = obs_images(obs, self.layout_cameras, self.image_size)
        state = self.norm.norm_state(np.asarray(obs[cv.OBS_STATE], np.float32))
        state = state[self.state_columns]
        batch = {
            "images": to_float(torch.from_numpy(images)[None]),
            "state": torch.from_numpy(state)[None],
            "text": torch.from_numpy(self.norm.norm_text(feats.sentence)),
            "text_tokens": torch.from_numpy(feats.tokens),
            "text_mask": torch.from_numpy(feats.mask),
        }
        batch = {k: v.to(self.device) for k, v in batch.items()}
        actions, signal, self._memory = self.model.act(batch, self._memory, self._gen)
        chunk = self.norm.denorm_action(actions[0, :self.execute].float().cpu().numpy())
        self._signals.append(self._step_confidence(float(signal[0])))
        return PolicyOutput(action=None, action_chunk=chunk,
                            confidence=float(np.mean(self._signals)))

    def episode_confidence(self) -> float | None:
        """The mean step confidence of the episode (what the last ``act`` reported)."""
        return float(np.mean(self._signals)) if self._signals else None

    def num_parameters(self) -> int:
        """Parameters the policy acts with: the frozen text encoder and the training-only
        auxiliary heads (hindsight goals, instruction / goal-view alignment) not counted."""
        return acting_parameters(self.model)

    # -- helpers ------------------------------------------------------------------------------
    def _step_confidence(self, signal: float) -> float:
        if self.model.confidence_kind == "probability":
            return float(np.clip(signal, 0.0, 1.0))
        if not len(self.reference):
            raise ConfigError(f"{self.arch} checkpoint lacks its confidence reference; "
                              "re-train it with this version of vla-bench train")
        # 1 - F(spread): the fraction of validation spreads at least this large
        return float(1.0 - np.searchsorted(self.reference, signal, side="left")
                     / len(self.reference))


def _factory(arch: str) -> Any:
    def make(checkpoint: str | Path, **kwargs: Any) -> LearnedPolicy:
        return LearnedPolicy(checkpoint, arch=arch, **kwargs)

    make.__name__ = f"make_{arch}"
    make.__doc__ = f"The {arch} policy from a checkpoint written by vla-bench train."
    make.cameras = LearnedPolicy.cameras  # type: ignore[attr-defined]
    return make


make_rt1 = _factory("rt1")
make_openvla = _factory("openvla")
make_bcz = _factory("bcz")
make_diffusion = _factory("diffusion")
make_memory = _factory("memory")
make_advanced = _factory("advanced")
