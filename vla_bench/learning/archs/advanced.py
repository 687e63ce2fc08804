"""AdvancedVLAModel (the seed's design, made small and consistent): a CLIP-style vision
transformer, a text encoder, a fusion transformer, an action-chunk head and a learned
confidence head.

Vision: each camera's RGB-D is cut into ``patch x patch`` patches by a strided convolution
(64 tokens per camera at 64x64, patch 8), plus learned position and camera embeddings, and
encoded by ``vision_layers`` pre-norm transformer layers per camera (as CLIP encodes an image),
trained from scratch. Text: the frozen MiniLM token embeddings, projected and read by
``text_layers`` transformer layers (padding masked). Fusion: ``fusion_layers`` layers over
``[CLS, vision tokens, text tokens, state token]`` (batch first, padded text masked as keys;
``sentence_token``: the pooled sentence embedding, projected, as one more token);
the vision tokens enter it average-pooled ``fusion_pool x fusion_pool`` (16 per camera at the
default): a third of the fusion tokens, spatial layout kept.
An MLP on the CLS output regresses ``chunk`` actions (Huber loss on the normalised actions,
steps past the episode's end masked); the policy executes the first ``execute``.

Confidence: a second MLP on the CLS output -> sigmoid, the probability that this step's
executed actions are accurate. Trained as the seed's VLALoss: binary cross-entropy, weight
``confidence_weight``, against 1 when the sample's mean |error| of the executed normalised
actions (detached) is below ``confidence_threshold``. ``act`` returns that probability. It
is learned on training frames, where errors are smaller than on new scenes, so it tends to be
over-confident off the training distribution.

Fixed or simplified vs the seed (A:100-211): no pretrained CLIP/BERT (small encoders trained
from scratch, frozen MiniLM token features as text input); every transformer is batch first
(the seed's fusion mixed samples across the batch); one width throughout (the seed projected
768 -> 512 into a 512-wide CLIP text model); the unused action-history LSTM is dropped; a
chunk instead of one action. The seed's temporal smoothness term (squared differences of
consecutive predictions) is left out: there it differenced unrelated samples of a shuffled
batch, and within a predicted chunk it would only pull predictions away from the
demonstrations, which the regression already fits, smooth or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vla_bench.learning.archs.base import Dims
from vla_bench.learning.archs.layers import add_hindsight, hindsight_head, mlp
from vla_bench.learning.inputs import TEXT_TOKENS


@dataclass(frozen=True)
class Config:
    """AdvancedVLAModel hyperparameters."""

    image_size: int = 64
    patch: int = 8  # ViT patch (pixels): (image_size / patch)^2 tokens per camera
    width: int = 96  # every transformer's width (128: ~2x the CPU time of bcz)
    heads: int = 4
    vision_layers: int = 2
    fusion_pool: int = 2  # vision tokens average-pooled pool x pool before fusion
    text_layers: int = 1
    fusion_layers: int = 2
    hidden: int = 256  # action head
    dropout: float = 0.1  # on the action head's input (training only)
    chunk: int = 4
    execute: int = 2
    history: int = 1
    confidence_threshold: float = 0.1  # mean |normalised error| below which a step "succeeds"
    confidence_weight: float = 0.1
    shift: int = 4  # random-shift augmentation (pixels)
    hindsight_dim: int = 0  # hindsight-goal head (set by TrainConfig.hindsight_weight)
    # The pooled MiniLM sentence embedding as one more fusion token. Off in the shipped lite
    # model, which read the words only as token features and did not listen to them (its
    # hindsight-goal error was the same with another episode's words).
    sentence_token: bool = False


PRESETS = {"default": Config(),
           "tiny": Config(image_size=32, width=16, heads=2, vision_layers=1, fusion_layers=1,
                          hidden=32, shift=2)}


def _encoder(cfg: Config, layers: int) -> nn.TransformerEncoder:
    # pre-norm, GELU, no dropout (as CLIP); batch_first everywhere
    layer = nn.TransformerEncoderLayer(cfg.width, cfg.heads, 2 * cfg.width, dropout=0.0,
                                       activation="gelu", batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class Model(nn.Module):
    """ViT + text encoder + fusion transformer; action-chunk and confidence heads."""

    confidence_kind = "probability"

    def __init__(self, cfg: Config, dims: Dims) -> None:
        super().__init__()
        self.cfg, self.dims = cfg, dims
        w, grid = cfg.width, cfg.image_size // cfg.patch
        self.patchify = nn.Conv2d(4, w, cfg.patch, cfg.patch)
        self.vision_pos = nn.Parameter(torch.randn(grid * grid, w) * 0.02)
        self.camera = nn.Parameter(torch.randn(dims.n_cameras, w) * 0.02)
        self.vision = _encoder(cfg, cfg.vision_layers)
        self.text_proj = nn.Linear(dims.text_dim, w)
        self.text_pos = nn.Parameter(torch.randn(TEXT_TOKENS, w) * 0.02)
        self.text = _encoder(cfg, cfg.text_layers)
        self.state = nn.Linear(dims.state_dim, w)
        self.sentence = nn.Linear(dims.text_dim, w) if cfg.sentence_token else None
        self.cls = nn.Parameter(torch.randn(w) * 0.02)
        self.fusion = _encoder(cfg, cfg.fusion_layers)
        self.norm = nn.LayerNorm(w)
        self.action_head = mlp([w, cfg.hidden, cfg.hidden, cfg.chunk * dims.action_dim])
        self.confidence_head = mlp([w, 64, 1])
        self.hindsight = hindsight_head(w, cfg.hindsight_dim) if cfg.hindsight_dim else None

    def forward(self, batch: dict[str, torch.Tensor], train: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised action chunks ``[B, chunk, A]`` and confidence logits ``[B]``."""
        return self._forward(batch, train)[:2]

    def _forward(self, batch: dict[str, torch.Tensor], train: bool
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Actions, confidence logits and the fused CLS token ``[B, width]``."""
        images = batch["images"]
        b, v = images.shape[:2]
        x = self.patchify(images.flatten(0, 1)).flatten(2).transpose(1, 2)  # [BV, P, w]
        x = self.vision(x + self.vision_pos).view(b, v, -1, self.cfg.width)
        if self.cfg.fusion_pool > 1:  # fewer, coarser tokens: fusion's cost is quadratic
            g, w = self.cfg.image_size // self.cfg.patch, self.cfg.width
            x = F.avg_pool2d(x.transpose(2, 3).reshape(b * v, w, g, g), self.cfg.fusion_pool,
                             ceil_mode=True)
            x = x.flatten(2).transpose(1, 2).reshape(b, v, -1, w)
        vision = (x + self.camera[None, :, None]).flatten(1, 2)  # [B, V * P', w]
        # keep only as many text positions as the longest instruction has (the rest are
        # padding in every sample, masked anyway): fewer tokens, same result
        mask = batch["text_mask"].clone()
        mask[:, 0] |= ~mask.any(1)  # an empty instruction still leaves one (zero) key
        n = int(mask.sum(1).max())
        mask = mask[:, :n]
        text = self.text_proj(batch["text_tokens"][:, :n]) + self.text_pos[:n]
        text = self.text(text, src_key_padding_mask=~mask)
        state = self.state(batch["state"])[:, None]
        if self.sentence is not None:
            state = torch.cat([self.sentence(batch["text"])[:, None], state], dim=1)
        tokens = torch.cat([self.cls.expand(b, 1, -1), vision, text, state], dim=1)
        keep = torch.ones(b, tokens.shape[1], dtype=torch.bool, device=tokens.device)
        keep[:, 1 + vision.shape[1]:1 + vision.shape[1] + n] = mask
        cls = self.norm(self.fusion(tokens, src_key_padding_mask=~keep)[:, 0])
        h = F.dropout(cls, self.cfg.dropout, training=train)
        actions = self.action_head(h).view(b, self.cfg.chunk, self.dims.action_dim)
        return actions, self.confidence_head(cls)[:, 0], cls

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        pred, logit, cls = self._forward(batch, self.training)
        target, mask = batch["actions"], batch["action_mask"].float()
        err = F.smooth_l1_loss(pred, target, reduction="none", beta=0.1).mean(-1)
        huber = (err * mask).sum() / mask.sum().clamp(min=1.0)
        # the confidence target: were this sample's executed actions accurate?
        e = self.cfg.execute
        abs_err = (pred.detach() - target).abs().mean(-1)[:, :e]
        m = mask[:, :e]
        good = ((abs_err * m).sum(1) / m.sum(1).clamp(min=1.0) < self.cfg.confidence_threshold)
        bce = F.binary_cross_entropy_with_logits(logit, good.float())
        loss = huber + self.cfg.confidence_weight * bce
        metrics = {"huber": float(huber.detach()), "confidence_bce": float(bce.detach()),
                   "accurate_fraction": float(good.float().mean())}
        return add_hindsight(self.hindsight, loss, metrics, cls, batch), metrics

    @torch.no_grad()
    def act(self, batch: dict[str, torch.Tensor], memory: Any = None,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, Any]:
        actions, logit = self(batch, train=False)
        return actions.clamp(-1.0, 1.0), torch.sigmoid(logit), None
