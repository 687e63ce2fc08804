"""Diffusion-Policy-style action head (Chi et al., 2023): a chunk of future actions denoised
from Gaussian noise, conditioned on a vision-language embedding of the current frame.

Conditioning: each camera's RGB-D goes through one shared ResNet FiLM-conditioned on the
projected MiniLM sentence embedding, read out as spatial-softmax keypoints and a pooled vector;
with the state and the projected sentence embedding this is projected to one vector.

Noise model: a residual MLP over the flattened ``[chunk, A]`` noisy chunk, every block
FiLM-modulated by (conditioning vector, sinusoidal timestep embedding).

Training (DDPM): ``diffusion_steps`` = 100 with the cosine alpha-bar schedule (Nichol and
Dhariwal 2021, s = 0.008, betas capped at 0.999); epsilon prediction, MSE. Steps of the chunk
past the episode's end are still noised and fed to the network (at inference it always sees a
whole chunk) but get weight 0 in the loss: their target (the data layer's padding, 0) is not
an action anyone took. Each observation is paired with ``noise_samples`` independent
(timestep, noise) draws: the head is cheap next to the CNN, so this lowers the gradient's
variance almost for free.

Inference: deterministic DDIM (eta = 0) with ``sample_steps`` steps, x0 clipped to [-1, 1]
at every step (as Diffusion Policy's ``clip_sample``), all noise from ``act``'s generator.
The executed chunk starts from the noise scaled by ``temperature`` (default 0: DDIM from
the all-zero chunk, deterministic, near the distribution's mode; not the mean of samples,
which can fall between two modes, e.g. between passing an obstacle left and right). Why not
a true sample (temperature 1): the lite model's samples jitter from step to step (mean
absolute change between consecutive normalised actions 0.09 against the expert's 0.006), so
the robot never stands still, and every task whose success needs it to wait at rest failed
(GoToPrinter 0/50 at temperature 1, 9/10 at 0; WalkToTree 0/10 and 7/10). Confidence
(``"spread"``): ``n_samples`` further chunks at temperature 1, drawn in the same batch; the
standard deviation across them, averaged over the executed steps and action dimensions.

Simplified against the paper: an MLP instead of the 1-D temporal conv UNet (cheap on a CPU,
the chunk is short), one observation frame instead of two, no EMA of the weights, a small
FiLM ResNet instead of a ResNet-18 with GroupNorm; EDM-style preconditioning of the noise
model (see :meth:`Model.eps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vla_bench.errors import ConfigError
from vla_bench.learning.archs.base import Dims
from vla_bench.learning.archs.layers import FiLM, FiLMObservationEncoder, add_hindsight, sinusoidal


@dataclass(frozen=True)
class Config:
    """Diffusion head hyperparameters."""

    image_size: int = 64
    widths: tuple[int, ...] = (32, 64, 96, 128)  # ResNet stages (channels)
    text_dim: int = 128  # sentence embedding projected to this for FiLM
    text_queries: int = 4  # language-queried attention readouts per camera (0: FiLM only)
    align_dim: int = 64  # instruction / goal-view alignment heads (TrainConfig.align_weight)
    hindsight_dim: int = 0  # hindsight-goal head (set by TrainConfig.hindsight_weight)
    cond_dim: int = 256  # observation conditioning vector
    time_dim: int = 128  # timestep embedding
    hidden: int = 256  # noise-model width
    blocks: int = 3  # residual FiLM blocks of the noise model
    chunk: int = 16  # actions denoised per step (0.8 s at 20 Hz)
    execute: int = 8  # of which executed open loop
    history: int = 1
    diffusion_steps: int = 100  # DDPM training steps
    sample_steps: int = 10  # DDIM steps at inference
    n_samples: int = 4  # chunks sampled per act at temperature 1 (their spread: confidence)
    temperature: float = 0.0  # initial-noise scale of the executed chunk (0: deterministic)
    noise_samples: int = 2  # (timestep, noise) draws per observation in training
    shift: int = 4  # random-shift augmentation (pixels)
    sigma_data: float = 0.5  # assumed std of the normalised actions (preconditioning)


# Fields that only change how a trained model acts: a policy may override them at load time.
INFERENCE_FIELDS = ("temperature", "sample_steps", "n_samples")

PRESETS = {"default": Config(),
           "tiny": Config(image_size=32, widths=(8, 16), text_dim=16, cond_dim=32, time_dim=16,
                          hidden=32, blocks=2, chunk=4, execute=2, sample_steps=4, shift=2)}


def cosine_alpha_bar(steps: int, s: float = 0.008) -> torch.Tensor:
    """Cumulative signal fractions ``alpha_bar[t]``, t = 0..steps-1, of the cosine schedule."""
    f = torch.cos((torch.arange(steps + 1, dtype=torch.float64) / steps + s) / (1 + s)
                  * math.pi / 2) ** 2
    betas = (1.0 - f[1:] / f[:-1]).clamp(max=0.999)  # the cap keeps the last step finite
    return torch.cumprod(1.0 - betas, dim=0).float()


class _Block(nn.Module):
    """Pre-norm residual MLP block, FiLM-modulated by the conditioning."""

    def __init__(self, hidden: int, cond: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.film = FiLM(cond, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return h + self.fc2(F.gelu(self.film(self.fc1(self.norm(h)), c)))


class Model(nn.Module):
    """FiLM ResNet conditioning + DDPM-trained, DDIM-sampled residual-MLP chunk denoiser."""

    confidence_kind = "spread"

    def __init__(self, cfg: Config, dims: Dims) -> None:
        super().__init__()
        if cfg.history != 1:
            raise ConfigError("diffusion conditions on the current frame only: history must be 1")
        if not 1 <= cfg.sample_steps <= cfg.diffusion_steps:
            raise ConfigError(f"sample_steps must be in [1, {cfg.diffusion_steps}], "
                              f"got {cfg.sample_steps}")
        if cfg.n_samples < 1 or cfg.noise_samples < 1:
            raise ConfigError("n_samples and noise_samples must be >= 1")
        if not cfg.temperature >= 0.0:
            raise ConfigError(f"temperature must be >= 0 (0: deterministic), got "
                              f"{cfg.temperature}")
        self.cfg, self.dims = cfg, dims
        self.encoder = FiLMObservationEncoder(cfg.widths, dims.text_dim, cfg.text_dim,
                                              dims.state_dim, dims.n_cameras,
                                              cfg.text_queries, cfg.align_dim,
                                              cfg.hindsight_dim)
        self.obs = nn.Sequential(nn.Linear(self.encoder.out_dim,
                                           cfg.cond_dim), nn.GELU())
        self.time = nn.Sequential(nn.Linear(cfg.time_dim, cfg.time_dim), nn.GELU())
        width = cfg.chunk * dims.action_dim
        self.inp = nn.Linear(width, cfg.hidden)
        self.blocks = nn.ModuleList(_Block(cfg.hidden, cfg.cond_dim + cfg.time_dim)
                                    for _ in range(cfg.blocks))
        self.out = nn.Sequential(nn.LayerNorm(cfg.hidden), nn.Linear(cfg.hidden, width))
        # derived from the config, so not saved in checkpoints
        self.register_buffer("alpha_bar", cosine_alpha_bar(cfg.diffusion_steps), persistent=False)

    def condition(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The observation's conditioning vector ``[B, cond_dim]``: keypoints and pooled
        features of every camera, state and text."""
        return self.obs(self.encoder(batch["images"], batch["state"], batch["text"]))

    def eps(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Predicted noise of flattened noisy chunks ``x`` ``[N, K*A]`` at timesteps ``t``.

        Preconditioned as in EDM (Karras et al. 2022), rewritten for epsilon: the best linear
        guess ``c_skip * x`` (exact if actions were N(0, sigma_data^2)) plus the network's
        correction scaled to unit variance. Without it the MLP must first learn to pass
        ``x`` through (eps ~ x at high noise), which it did poorly."""
        ab = self.alpha_bar[t][:, None]
        var = ab * self.cfg.sigma_data ** 2 + 1.0 - ab  # variance of x
        c_skip = (1.0 - ab).sqrt() / var
        c_out = ab.sqrt() * self.cfg.sigma_data / var.sqrt()
        c = torch.cat([cond, self.time(sinusoidal(t, self.cfg.time_dim))], dim=-1)
        h = self.inp(x / var.sqrt())
        for block in self.blocks:
            h = block(h, c)
        return c_skip * x + c_out * self.out(h)

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        # global torch RNG: the trainer seeds it per step (and per validation batch)
        n = self.cfg.noise_samples
        f = self.encoder(batch["images"], batch["state"], batch["text"])
        cond = self.obs(f).repeat_interleave(n, 0)
        x0 = batch["actions"].flatten(1).repeat_interleave(n, 0)
        t = torch.randint(0, self.cfg.diffusion_steps, (x0.shape[0],), device=x0.device)
        noise = torch.randn_like(x0)
        ab = self.alpha_bar[t][:, None]
        xt = ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise
        err = (self.eps(xt, t, cond) - noise) ** 2
        err = err.view(x0.shape[0], self.cfg.chunk, -1).mean(-1)  # [B*n, K]
        mask = batch["action_mask"].float().repeat_interleave(n, 0)
        loss = (err * mask).sum() / mask.sum().clamp(min=1.0)
        metrics = {"eps_mse": float(loss.detach())}
        return add_hindsight(self.encoder.hindsight, loss, metrics, f, batch), metrics

    @torch.no_grad()
    def sample(self, cond: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Deterministic DDIM (eta = 0) from ``noise`` ``[N, K*A]`` -> chunks ``[N, K, A]``."""
        steps = torch.linspace(self.cfg.diffusion_steps - 1, 0, self.cfg.sample_steps)
        steps = steps.round().long().tolist()
        x = noise
        for i, t in enumerate(steps):
            ab = self.alpha_bar[t]
            ab_prev = self.alpha_bar[steps[i + 1]] if i + 1 < len(steps) else ab.new_tensor(1.0)
            tt = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
            eps = self.eps(x, tt, cond)
            x0 = ((x - (1.0 - ab).sqrt() * eps) / ab.sqrt()).clamp(-1.0, 1.0)
            eps = (x - ab.sqrt() * x0) / (1.0 - ab).sqrt()  # consistent with the clipped x0
            x = ab_prev.sqrt() * x0 + (1.0 - ab_prev).sqrt() * eps
        return x.clamp(-1.0, 1.0).view(x.shape[0], self.cfg.chunk, self.dims.action_dim)

    @torch.no_grad()
    def act(self, batch: dict[str, torch.Tensor], memory: Any = None,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, Any]:
        cond = self.condition(batch)
        n, b = self.cfg.n_samples, cond.shape[0]
        # per observation: the executed chunk's noise (scaled), then the n spread samples'
        shape = (b, 1 + n, self.cfg.chunk * self.dims.action_dim)
        noise = torch.randn(shape, generator=generator,
                            device=generator.device if generator is not None else "cpu")
        noise[:, 0] *= self.cfg.temperature
        samples = self.sample(cond.repeat_interleave(1 + n, 0), noise.flatten(0, 1).to(cond.device))
        samples = samples.view(b, 1 + n, self.cfg.chunk, -1)
        spread = (samples[:, 1:, :self.cfg.execute].std(dim=1, correction=1 if n > 1 else 0)
                  .mean(dim=(-1, -2)))
        return samples[:, 0], spread, None

    def alignment_loss(self, goal_images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The encoder's instruction / goal-view alignment (see ``FiLMObservationEncoder``)."""
        return self.encoder.alignment_loss(goal_images, text)
