"""Memory-augmented policy: each step's features attend to an episodic memory of the features
of the previous ``history - 1`` steps, then an MLP regresses a chunk of future actions.

Per step, the cameras' RGB-D go through one FiLM ResNet conditioned on the projected sentence
embedding; spatial-softmax keypoints and average-pooled features of every camera, the state
and the text are projected to a step feature (``d_model``). The memory is the step features of
the last ``history - 1`` steps; a small causal transformer reads it: the current step's query
attends to the memory slots and to itself, with a learned per-head attention bias for each
relative age (0 .. history-1, as T5's relative position bias), so "how long ago" is all the
model knows about a slot's position, at training and at inference alike. An MLP on the
current step's output regresses ``chunk`` actions (Huber loss on the normalised actions, steps
past the episode's end masked); the policy executes the first ``execute``.

Training sees windows of ``history`` consecutive steps ``[B, T, ...]``; every step of a window
predicts its own chunk attending only to earlier valid steps of the window (causal mask, never
to steps past the episode's end), which is what inference sees: ``act`` gets one step, appends
its feature to the memory it returned last time (``None`` at an episode's start) and keeps the
newest ``history - 1`` (detached). Early steps of a window have a short memory, like the first
steps of an episode.

Confidence: the spread of Monte-Carlo dropout samples of the head (the mean standard deviation
over ``mc_samples`` predicted executed chunks; dropout masks drawn from ``generator``);
:mod:`..policy` turns it into [0, 1] against the spreads seen on validation episodes.

Simplified vs the seed's MemoryAugmentedVLA (100 learned slots, top-k retrieval, a write
network): the memory is a FIFO of recent step features, as in history-conditioned policies
(RT-1's 6-frame window, Octo's observation history), read by attention; nothing is learned
about what to write, and the horizon is ``history`` steps, not the whole episode.
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
    """Memory-augmented policy hyperparameters."""

    image_size: int = 64
    widths: tuple[int, ...] = (16, 32, 48, 64)  # ResNet stages: run on every step of a window
    text_dim: int = 64  # sentence embedding projected to this for FiLM
    text_queries: int = 4  # language-queried attention readouts per camera (0: FiLM only)
    align_dim: int = 64  # instruction / goal-view alignment heads (TrainConfig.align_weight)
    hindsight_dim: int = 0  # hindsight-goal head (set by TrainConfig.hindsight_weight)
    d_model: int = 160  # step feature / memory slot width
    heads: int = 4
    layers: int = 2  # causal transformer over the memory
    hidden: int = 256  # action head
    dropout: float = 0.1  # in the head only (the Monte-Carlo confidence samples it)
    chunk: int = 4
    execute: int = 2
    history: int = 8  # steps in a training window = memory slots + the current step
    mc_samples: int = 8
    shift: int = 4  # random-shift augmentation (pixels)


PRESETS = {"default": Config(),
           "tiny": Config(image_size=32, widths=(8, 16), text_dim=16, d_model=32, heads=2,
                          layers=1, hidden=32, history=3, mc_samples=4, shift=2)}


class Block(nn.Module):
    """A pre-norm transformer layer taking a float attention bias ``[B, H, T, T]`` (torch's
    TransformerEncoder fast path returns NaN for per-head float masks at inference). No
    dropout: ``act`` stays deterministic whatever the module's mode."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # [B, H, T, d / H]
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return x + self.ff(self.norm2(x))


class Model(nn.Module):
    """FiLM ResNet step encoder + causal attention over recent steps + MLP chunk regression."""

    confidence_kind = "spread"

    def __init__(self, cfg: Config, dims: Dims) -> None:
        super().__init__()
        self.cfg, self.dims = cfg, dims
        self.encoder = FiLMObservationEncoder(cfg.widths, dims.text_dim, cfg.text_dim,
                                              dims.state_dim, dims.n_cameras,
                                              cfg.text_queries, cfg.align_dim,
                                              cfg.hindsight_dim)
        self.step = nn.Sequential(nn.Linear(self.encoder.out_dim,
                                            cfg.d_model), nn.LayerNorm(cfg.d_model))
        self.reader = nn.ModuleList(Block(cfg.d_model, cfg.heads) for _ in range(cfg.layers))
        self.age_bias = nn.Parameter(torch.zeros(cfg.heads, max(cfg.history, 1)))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = MCDropoutChunkHead(cfg.d_model, cfg.hidden, cfg.chunk, dims.action_dim,
                                       cfg.dropout)

    def encode(self, images: torch.Tensor, state: torch.Tensor, text: torch.Tensor
               ) -> torch.Tensor:
        """Step features ``[N, d_model]`` of ``N`` steps (``text`` already per step)."""
        return self.step(self.encoder(images, state, text))

    def read(self, feats: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Causal attention over ``feats [B, T, d]``: step ``t`` sees valid steps ``<= t``
        within ``history``, biased by their age ``t - s``. Returns ``[B, T, d]``."""
        b, t, _ = feats.shape
        pos = torch.arange(t, device=feats.device)
        age = pos[:, None] - pos[None, :]  # [T(query), T(key)]
        allowed = (age >= 0) & (age < self.cfg.history)
        allowed = allowed[None] & (valid[:, None, :] | torch.eye(t, dtype=torch.bool,
                                                                  device=feats.device)[None])
        bias = self.age_bias[:, age.clamp(0, self.age_bias.shape[1] - 1)]  # [H, T, T]
        mask = bias[None].masked_fill(~allowed[:, None], float("-inf"))  # [B, H, T, T]
        h = feats
        for block in self.reader:
            h = block(h, mask)
        return self.norm(h)

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        images, state = batch["images"], batch["state"]
        actions, amask = batch["actions"], batch["action_mask"]
        if images.dim() == 5:  # history == 1: a window of one step
            images, state = images[:, None], state[:, None]
            actions, amask = actions[:, None], amask[:, None]
        b, t = images.shape[:2]
        valid = batch.get("valid", torch.ones(b, t, dtype=torch.bool, device=images.device))
        text = batch["text"].repeat_interleave(t, dim=0)
        enc = self.encoder(images.flatten(0, 1), state.flatten(0, 1), text)
        feats = self.step(enc).view(b, t, -1)
        h = self.read(feats, valid)
        pred = self.head(h.flatten(0, 1), drop=self.training).view(actions.shape)
        err = F.smooth_l1_loss(pred, actions, reduction="none", beta=0.1).mean(-1)
        mask = (amask & valid[..., None]).float()
        loss = (err * mask).sum() / mask.sum().clamp(min=1.0)
        metrics = {"huber": float(loss.detach())}
        return add_hindsight(self.encoder.hindsight, loss, metrics, enc, batch), metrics

    @torch.no_grad()
    def act(self, batch: dict[str, torch.Tensor], memory: Any = None,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, Any]:
        f = self.encode(batch["images"], batch["state"], batch["text"])[:, None]  # [B, 1, d]
        seq = f if memory is None else torch.cat([memory.to(f), f], dim=1)
        valid = torch.ones(seq.shape[:2], dtype=torch.bool, device=f.device)
        h = self.read(seq, valid)[:, -1]
        actions = self.head(h, drop=False).clamp(-1.0, 1.0)
        spread = self.head.spread(h, self.cfg.mc_samples, self.cfg.execute, generator)
        keep = self.cfg.history - 1  # slots: the current step makes it a full window
        new_memory = seq[:, -keep:].detach() if keep > 0 else None
        return actions, spread, new_memory

    def alignment_loss(self, goal_images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The encoder's instruction / goal-view alignment (see ``FiLMObservationEncoder``)."""
        return self.encoder.alignment_loss(goal_images, text)
