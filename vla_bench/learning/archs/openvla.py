"""OpenVLA-style policy (Kim et al., 2024): a causal language model reads image-patch,
instruction and state prefix tokens and writes the action as tokens, one per dimension.

The LM is a small Llama (``transformers`` ``LlamaConfig`` + ``LlamaModel``, randomly
initialised, nothing downloaded). Its vocabulary is ``inputs.BINS`` = 256 action tokens (bin
``i`` of a normalised action dimension) plus a BOS token. The prefix is given as embeddings:
each camera's RGB-D feature map (a shared residual CNN, not language-conditioned, as OpenVLA's
vision encoder is not), average-pooled to a ``patches x patches`` grid, one token per cell;
the instruction's MiniLM word-piece embeddings (padding masked out of attention), after them
(``sentence_token``) the pooled MiniLM sentence embedding, projected, as one more token; one
proprioceptive-state token; then BOS and, under teacher forcing, the action tokens.
Positions count real tokens only, so an instruction's padding changes nothing.

Loss: cross-entropy of the next action token at BOS and every action token but the last
(the prefix is not a target), optionally label-smoothed, steps past the episode's end masked.
Acting: greedy autoregressive decoding of ``chunk x action_dim`` tokens with the KV cache
(one prefix pass, then one token per pass), each token decoded to its bin centre.

Confidence (``"probability"``): the mean over the executed decoded tokens of the probability
mass within +-2 bins of the chosen token (:func:`.layers.bin_decode`, the same definition as
rt1's). A single bin's probability would be near zero by construction with 256 bins.

Simplified vs the paper (0.78 M parameters in all): a 3-layer, 128-wide Llama trained from
scratch instead of the 7 B Llama-2 with pretrained DINOv2 + SigLIP vision; a small CNN's pooled
grid instead of ViT patches through an MLP projector; MiniLM word-piece embeddings projected in
instead of the Llama tokenizer's own text tokens, plus the pooled sentence token (a small LM
trained from scratch on 800 episodes may not learn to read word pieces alone: the advanced
baseline, which read them only, ignored the words); bins cut the 1st-99th percentile range evenly
(as OpenVLA) but get their own 256 tokens instead of overwriting the least-used words; a state
token (OpenVLA reads no proprioception). Decoding the 17 tokens one LM call each makes ``act``
the slowest of the baselines (~0.1 s on one CPU core), as OpenVLA is slow among real VLAs.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from transformers import LlamaConfig, LlamaModel
from transformers.cache_utils import DynamicCache

from vla_bench.errors import ConfigError
from vla_bench.learning.archs.base import Dims
from vla_bench.learning.archs.layers import (
    CameraEncoder,
    add_hindsight,
    bin_decode,
    hindsight_head,
)
from vla_bench.learning.inputs import BINS, TEXT_TOKENS, action_bins, bin_centres

BOS = BINS  # token ids 0..BINS-1 are action bins
# transformers 5.x renamed forward's ``past_key_values`` to ``cache`` (the old name warns)
_CACHE_ARG = "cache" if "cache" in inspect.signature(LlamaModel.forward).parameters \
    else "past_key_values"


@dataclass(frozen=True)
class Config:
    """OpenVLA hyperparameters."""

    image_size: int = 64
    widths: tuple[int, ...] = (24, 48, 64)  # CNN stages (channels)
    patches: int = 4  # feature map pooled to patches x patches tokens per camera
    hidden: int = 128  # LM width
    layers: int = 3
    heads: int = 4
    intermediate: int = 256  # LM feed-forward (SwiGLU) width
    label_smoothing: float = 0.0
    chunk: int = 1  # actions predicted per step
    execute: int = 1  # of which executed open loop
    history: int = 1  # the current frame only
    shift: int = 4  # random-shift augmentation (pixels)
    hindsight_dim: int = 0  # hindsight-goal head (set by TrainConfig.hindsight_weight)
    sentence_token: bool = True  # the pooled sentence embedding as one more prefix token


PRESETS = {"default": Config(),
           "tiny": Config(image_size=32, widths=(8, 16), patches=2, hidden=16, layers=1,
                          heads=2, intermediate=32, shift=2)}


class Model(nn.Module):
    """OpenVLA: prefix embeddings -> small causal Llama -> greedy action tokens."""

    confidence_kind = "probability"

    def __init__(self, cfg: Config, dims: Dims) -> None:
        super().__init__()
        if cfg.history != 1:
            raise ConfigError("openvla reads the current frame only; history must be 1")
        if cfg.image_size // 8 % cfg.patches:
            raise ConfigError(f"openvla patches ({cfg.patches}) must divide the feature map "
                              f"side ({cfg.image_size // 8})")
        self.cfg, self.dims = cfg, dims
        h = cfg.hidden
        self.vision = CameraEncoder(cfg.widths, 0, dims.n_cameras)
        self.img_proj = nn.Linear(self.vision.out_channels, h)
        self.text_proj = nn.Linear(dims.text_dim, h)
        self.state = nn.Linear(dims.state_dim, h)
        self.n_act = cfg.chunk * dims.action_dim
        self.sentence = nn.Linear(dims.text_dim, h) if cfg.sentence_token else None
        # image, text (+ sentence), state, BOS
        n_prefix = dims.n_cameras * cfg.patches ** 2 + TEXT_TOKENS + 2 + cfg.sentence_token
        lm_cfg = LlamaConfig(vocab_size=BINS + 1, hidden_size=h, intermediate_size=cfg.intermediate,
                             num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads,
                             max_position_embeddings=n_prefix + self.n_act, bos_token_id=BOS,
                             eos_token_id=None, pad_token_id=None, use_cache=False,
                             attn_implementation="sdpa")
        self.lm = LlamaModel(lm_cfg)
        self.head = nn.Linear(h, BINS, bias=False)  # BOS is never a target
        self.hindsight = hindsight_head(h, cfg.hindsight_dim) if cfg.hindsight_dim else None

    def prefix(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Prefix embeddings ``[B, P, H]`` ending with BOS, and their attention mask ``[B, P]``."""
        b = batch["state"].shape[0]
        maps = self.vision(batch["images"], None).flatten(0, 1)  # [B*V, C, s, s]
        grid = F.adaptive_avg_pool2d(maps, self.cfg.patches).flatten(2).transpose(1, 2)
        img = self.img_proj(grid).reshape(b, -1, self.cfg.hidden)
        # drop the columns that are padding in every sample: less compute, same result
        # (padding is masked and takes no position)
        keep = batch["text_mask"].any(0)
        text = self.text_proj(batch["text_tokens"][:, keep])
        if self.sentence is not None:
            text = torch.cat([text, self.sentence(batch["text"])[:, None]], dim=1)
        bos = self.lm.embed_tokens.weight[BOS].expand(b, 1, -1)
        x = torch.cat([img, text, self.state(batch["state"])[:, None], bos], dim=1)
        ones = torch.ones(b, 1, dtype=torch.bool, device=x.device)
        text_mask = batch["text_mask"][:, keep]
        if self.sentence is not None:
            text_mask = torch.cat([text_mask, ones], dim=1)
        mask = torch.cat([ones.expand(b, img.shape[1]), text_mask, ones, ones], dim=1)
        return x, mask

    def _run(self, x: torch.Tensor, mask: torch.Tensor, cache: DynamicCache | None = None
             ) -> torch.Tensor:
        """The LM's last hidden states for ``x``; ``mask`` covers the cached tokens too."""
        pos = mask.long().cumsum(1)[:, -x.shape[1]:] - 1  # real tokens only take positions
        extra = {} if cache is None else {_CACHE_ARG: cache, "use_cache": True}
        out = self.lm(inputs_embeds=x, attention_mask=mask.long(),
                      position_ids=pos.clamp(min=0), **extra)
        return out.last_hidden_state

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        b = batch["state"].shape[0]
        target = action_bins(batch["actions"]).reshape(b, self.n_act)  # [B, K*A]
        x, mask = self.prefix(batch)
        # teacher forcing: BOS, a_0 .. a_{n-2} in, a_0 .. a_{n-1} out
        acts = self.lm.embed_tokens(target[:, :-1])
        n_prefix = x.shape[1]
        x = torch.cat([x, acts], dim=1)
        mask = torch.cat([mask, torch.ones(acts.shape[:2], dtype=torch.bool,
                                           device=mask.device)], dim=1)
        hidden = self._run(x, mask)
        logits = self.head(hidden[:, -self.n_act:])
        ce = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="none",
                             label_smoothing=self.cfg.label_smoothing)
        ce = ce.view(b, self.cfg.chunk, -1).mean(-1)
        m = batch["action_mask"].float()
        denom = m.sum().clamp(min=1.0)
        loss = (ce * m).sum() / denom
        hit = (logits.detach().argmax(-1) == target).float().view(b, self.cfg.chunk, -1).mean(-1)
        metrics = {"ce": float(loss.detach()), "bin_acc": float((hit * m).sum() / denom)}
        # BOS's state, where the first action is read: it has seen the whole prefix, no action
        return add_hindsight(self.hindsight, loss, metrics, hidden[:, n_prefix - 1], batch), \
            metrics

    @torch.no_grad()
    def act(self, batch: dict[str, torch.Tensor], memory: Any = None,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, Any]:
        x, mask = self.prefix(batch)
        cache = DynamicCache(config=self.lm.config)
        hidden = self._run(x, mask, cache=cache)[:, -1:]
        tokens, masses = [], []
        for i in range(self.n_act):  # greedy: no randomness, generator unused
            idx, mass = bin_decode(self.head(hidden[:, 0]))
            tokens.append(idx)
            masses.append(mass)
            if i + 1 < self.n_act:
                mask = F.pad(mask, (0, 1), value=True)
                hidden = self._run(self.lm.embed_tokens(idx)[:, None], mask, cache=cache)
        b, k = x.shape[0], self.cfg.chunk
        actions = bin_centres(torch.stack(tokens, 1)).view(b, k, self.dims.action_dim)
        confidence = torch.stack(masses, 1).view(b, k, -1)[:, :self.cfg.execute].mean((-1, -2))
        return actions, confidence, None
