"""RT-1-style policy (Brohan et al., 2022): a FiLM-conditioned CNN tokenises each camera,
TokenLearner keeps a few tokens per camera, a transformer reads them with the state, and
every action dimension is a classification over 256 bins.

Each camera's RGB-D goes through one shared residual CNN whose blocks are FiLM-conditioned on
the instruction's sentence embedding (the only way language enters, as in RT-1, unless
``sentence_token`` adds it as one more transformer token). TokenLearner
pools each camera's feature map into ``tokens`` learned soft-attention tokens. With one
proprioceptive-state token and one learned query token per predicted action dimension (per
chunk step), a small bidirectional transformer runs over the sequence; each query's output is
read as logits over ``inputs.BINS`` = 256 bins of that normalised action dimension.

Loss: cross-entropy of the bin of each normalised action (optionally label-smoothed), averaged
over dimensions, steps past the episode's end masked. Acting: the argmax bin of every dimension,
decoded to its bin centre (deterministic).

Confidence (``"probability"``): the mean over the executed action dimensions of the
probability mass within +-2 bins of the chosen bin (:func:`.layers.bin_decode`, shared with
openvla). The chosen bin's own probability (or a product over 17 dimensions) is close to zero
by construction with 256 narrow bins; the +-2-bin window (+-2 % of the range) measures
whether the model is sure of the action rather than of the exact bin.

Simplified vs the paper (0.8 M parameters in all): a small residual CNN at 64x64 instead of an
ImageNet-pretrained EfficientNet-B3 at 300x300; the sentence embedding is MiniLM, not the
Universal Sentence Encoder; no history of past frames (RT-1 reads six), so the causal
decoder over the history becomes a bidirectional encoder with learned action queries (RT-1
reads action tokens off the last positions); 2 x 8 tokens instead of 6 x 8; three small layers
instead of eight of width 512.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vla_bench.errors import ConfigError
from vla_bench.learning.archs.base import Dims
from vla_bench.learning.archs.layers import (
    CameraEncoder,
    TokenLearner,
    add_hindsight,
    bin_decode,
    hindsight_head,
)
from vla_bench.learning.inputs import BINS, action_bins, bin_centres


@dataclass(frozen=True)
class Config:
    """RT-1 hyperparameters."""

    image_size: int = 64
    widths: tuple[int, ...] = (24, 48, 64, 96)  # CNN stages (channels)
    text_dim: int = 64  # sentence embedding projected to this for FiLM
    tokens: int = 8  # TokenLearner tokens per camera
    d_model: int = 128
    layers: int = 3
    heads: int = 4
    ff: int = 256  # transformer feed-forward width
    dropout: float = 0.1
    label_smoothing: float = 0.0
    chunk: int = 1  # actions predicted per step
    execute: int = 1  # of which executed open loop
    history: int = 1  # RT-1 here sees the current frame only
    shift: int = 4  # random-shift augmentation (pixels)
    hindsight_dim: int = 0  # hindsight-goal head (set by TrainConfig.hindsight_weight)
    # The sentence embedding, projected, as one more transformer token beside FiLM. Off in the
    # shipped lite model, whose words entered through FiLM only (as in RT-1) and which did not
    # read them (hindsight-goal error the same with another episode's words).
    sentence_token: bool = False


PRESETS = {"default": Config(),
           "tiny": Config(image_size=32, widths=(8, 16), text_dim=8, tokens=4, d_model=16,
                          layers=1, heads=2, ff=32, shift=2)}


class Model(nn.Module):
    """RT-1: FiLM CNN tokens -> TokenLearner -> transformer -> 256-way logits per action dim."""

    confidence_kind = "probability"

    def __init__(self, cfg: Config, dims: Dims) -> None:
        super().__init__()
        if cfg.history != 1:
            raise ConfigError("rt1 reads the current frame only; history must be 1")
        self.cfg, self.dims = cfg, dims
        d = cfg.d_model
        self.text = nn.Sequential(nn.Linear(dims.text_dim, cfg.text_dim), nn.GELU())
        self.vision = CameraEncoder(cfg.widths, cfg.text_dim, dims.n_cameras)
        self.learner = TokenLearner(self.vision.out_channels, cfg.tokens)
        self.img_proj = nn.Linear(self.vision.out_channels, d)
        self.state = nn.Linear(dims.state_dim, d)
        self.sentence = nn.Linear(dims.text_dim, d) if cfg.sentence_token else None
        n_ctx = dims.n_cameras * cfg.tokens + 1 + cfg.sentence_token
        # TokenLearner's tokens are slots, not a grid: a learned embedding per slot (and camera)
        self.pos = nn.Parameter(torch.randn(n_ctx, d) * 0.02)
        self.n_query = cfg.chunk * dims.action_dim
        self.queries = nn.Parameter(torch.randn(self.n_query, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, cfg.heads, cfg.ff, cfg.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        # nested tensors do not apply to norm_first layers (and would warn)
        self.transformer = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, BINS)
        self.hindsight = hindsight_head(d, cfg.hindsight_dim) if cfg.hindsight_dim else None

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Bin logits ``[B, chunk, A, BINS]``."""
        return self._forward(batch)[0]

    def _forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Bin logits and the mean of the transformer's outputs ``[B, d_model]``."""
        b = batch["state"].shape[0]
        t = self.text(batch["text"])
        maps = self.vision(batch["images"], t)  # [B, V, C, h, w]
        tok = self.img_proj(self.learner(maps.flatten(0, 1))).reshape(b, -1, self.cfg.d_model)
        ctx = [tok, self.state(batch["state"])[:, None]]
        if self.sentence is not None:
            ctx.append(self.sentence(batch["text"])[:, None])
        ctx = torch.cat(ctx, dim=1) + self.pos
        x = torch.cat([ctx, self.queries.expand(b, -1, -1)], dim=1)
        out = self.norm(self.transformer(x))
        logits = self.head(out[:, -self.n_query:])
        return logits.view(b, self.cfg.chunk, self.dims.action_dim, BINS), out.mean(1)

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        logits, pooled = self._forward(batch)
        target = action_bins(batch["actions"])  # [B, K, A]
        ce = F.cross_entropy(logits.flatten(0, 2), target.flatten(), reduction="none",
                             label_smoothing=self.cfg.label_smoothing).view(target.shape)
        mask = batch["action_mask"].float()
        denom = mask.sum().clamp(min=1.0)
        loss = (ce.mean(-1) * mask).sum() / denom
        hit = (logits.detach().argmax(-1) == target).float().mean(-1)
        metrics = {"ce": float(loss.detach()), "bin_acc": float((hit * mask).sum() / denom)}
        return add_hindsight(self.hindsight, loss, metrics, pooled, batch), metrics

    @torch.no_grad()
    def act(self, batch: dict[str, torch.Tensor], memory: Any = None,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, Any]:
        idx, mass = bin_decode(self.logits(batch))  # argmax: no randomness, generator unused
        confidence = mass[:, :self.cfg.execute].mean(dim=(-1, -2))
        return bin_centres(idx), confidence, None
