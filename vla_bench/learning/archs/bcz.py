"""BC-Z-style policy (Jang et al., 2021): a ResNet whose blocks are FiLM-conditioned on the
instruction's sentence embedding, regressing a chunk of future actions.

Each camera's RGB-D goes through one shared FiLM ResNet; its feature map is read out as
spatial-softmax keypoints and an average-pooled vector. With the proprioceptive state and
the projected sentence embedding, an MLP regresses ``chunk`` actions (Huber loss on the
normalised actions, steps past the episode's end masked). The policy executes the first
``execute`` of them open loop.

Confidence: the spread of Monte-Carlo dropout samples of the head (the mean standard deviation
of ``mc_samples`` predicted chunks); :mod:`..policy` turns it into [0, 1] against the spreads
seen on validation episodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vla_bench.learning.archs.base import Dims
from vla_bench.learning.archs.layers import (
    FiLMObservationEncoder,
    MCDropoutChunkHead,
    add_hindsight,
)


@dataclass(frozen=True)
class Config:
    """BC-Z hyperparameters."""

    image_size: int = 64
    widths: tuple[int, ...] = (32, 64, 96, 128)  # ResNet stages (channels)
    text_dim: int = 128  # sentence embedding projected to this for FiLM
    text_queries: int = 4  # language-queried attention readouts per camera (0: FiLM only)
    align_dim: int = 64  # instruction / goal-view alignment heads (TrainConfig.align_weight)
    hindsight_dim: int = 0  # hindsight-goal head (set by TrainConfig.hindsight_weight)
    hidden: int = 384
    dropout: float = 0.1
    chunk: int = 10  # actions predicted per step
    execute: int = 5  # of which executed open loop
    history: int = 1
    mc_samples: int = 8  # dropout samples for the confidence
    shift: int = 4  # random-shift augmentation (pixels)


PRESETS = {"default": Config(),
           "tiny": Config(image_size=32, widths=(8, 16), text_dim=16, hidden=32, chunk=4,
                          execute=2, mc_samples=4, shift=2)}


class Model(nn.Module):
    """BC-Z: FiLM ResNet + MLP regression of an action chunk."""

    confidence_kind = "spread"

    def __init__(self, cfg: Config, dims: Dims) -> None:
        super().__init__()
        self.cfg, self.dims = cfg, dims
        self.obs = FiLMObservationEncoder(cfg.widths, dims.text_dim, cfg.text_dim,
                                          dims.state_dim, dims.n_cameras,
                                          cfg.text_queries, cfg.align_dim, cfg.hindsight_dim)
        self.head = MCDropoutChunkHead(self.obs.out_dim, cfg.hidden, cfg.chunk,
                                       dims.action_dim, cfg.dropout)

    def features(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The head's input: keypoints and pooled features of every camera, state, text."""
        return self.obs(batch["images"], batch["state"], batch["text"])

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        f = self.features(batch)
        pred = self.head(f, drop=self.training)
        err = F.smooth_l1_loss(pred, batch["actions"], reduction="none", beta=0.1).mean(-1)
        mask = batch["action_mask"].float()
        loss = (err * mask).sum() / mask.sum().clamp(min=1.0)
        metrics = {"huber": float(loss.detach())}
        return add_hindsight(self.obs.hindsight, loss, metrics, f, batch), metrics

    @torch.no_grad()
    def act(self, batch: dict[str, torch.Tensor], memory: Any = None,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, Any]:
        f = self.features(batch)
        spread = self.head.spread(f, self.cfg.mc_samples, self.cfg.execute, generator)
        return self.head(f, drop=False).clamp(-1.0, 1.0), spread, None

    def alignment_loss(self, goal_images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The encoder's instruction / goal-view alignment (see ``FiLMObservationEncoder``)."""
        return self.obs.alignment_loss(goal_images, text)
