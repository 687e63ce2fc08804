"""Building blocks shared by the architectures: FiLM, a FiLM-conditioned residual CNN over
RGB-D, TokenLearner, an MLP, sinusoidal embeddings, and the image shift augmentation."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from vla_bench.errors import ConfigError


def mlp(sizes: list[int], dropout: float = 0.0, act: type[nn.Module] = nn.GELU) -> nn.Sequential:
    """Linear layers with ``act`` (and dropout) between them, none after the last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class FiLM(nn.Module):
    """Feature-wise linear modulation: ``x * (1 + gamma(c)) + beta(c)`` per channel.

    The projection starts at zero, so an untrained FiLM layer is the identity (as in RT-1,
    where FiLM is added to a pretrained network without disturbing it)."""

    def __init__(self, cond_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.proj(cond).chunk(2, dim=-1)
        shape = gamma.shape + (1,) * (x.dim() - 2)
        return x * (1.0 + gamma.view(shape)) + beta.view(shape)


class FiLMBlock(nn.Module):
    """A residual block (two 3x3 convs, GroupNorm) with FiLM after the second norm."""

    def __init__(self, c_in: int, c_out: int, stride: int, cond_dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.norm1 = nn.GroupNorm(min(8, c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.norm2 = nn.GroupNorm(min(8, c_out), c_out)
        self.film = FiLM(cond_dim, c_out) if cond_dim else None
        self.skip = (nn.Conv2d(c_in, c_out, 1, stride, bias=False)
                     if stride != 1 or c_in != c_out else nn.Identity())

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        h = F.gelu(self.norm1(self.conv1(x)))
        h = self.norm2(self.conv2(h))
        if self.film is not None and cond is not None:
            h = self.film(h, cond)
        return F.gelu(h + self.skip(x))


class FiLMResNet(nn.Module):
    """RGB-D images ``[N, 4, S, S]`` -> feature maps ``[N, C, S/8, S/8]``, FiLM-conditioned.

    A stride-2 stem, then one :class:`FiLMBlock` per entry of ``widths``, at stride 2 until
    the map is ``S/8`` and stride 1 after (no block runs at full resolution: on a CPU that is
    where the time goes). ``cond_dim=0``: no FiLM."""

    def __init__(self, widths: tuple[int, ...], cond_dim: int, in_channels: int = 4) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 5, 2, 2, bias=False),
                                  nn.GroupNorm(min(8, widths[0]), widths[0]), nn.GELU())
        blocks, c, downs = [], widths[0], 0
        for w in widths:
            stride = 2 if downs < 2 else 1
            downs += stride == 2
            blocks.append(FiLMBlock(c, w, stride, cond_dim))
            c = w
        self.blocks = nn.ModuleList(blocks)
        self.out_channels = c

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_all(x, cond)[-1]

    def forward_all(self, x: torch.Tensor, cond: torch.Tensor | None = None
                    ) -> list[torch.Tensor]:
        """Every block's output map, the first (stride 4) to the last."""
        h = self.stem(x)
        maps = []
        for block in self.blocks:
            h = block(h, cond)
            maps.append(h)
        return maps


class TokenLearner(nn.Module):
    """RT-1's TokenLearner: ``n`` learned spatial attention maps pool a feature map
    ``[N, C, H, W]`` into ``n`` tokens ``[N, n, C]``."""

    def __init__(self, channels: int, n_tokens: int) -> None:
        super().__init__()
        self.attn = nn.Sequential(nn.Conv2d(channels, channels, 1), nn.GELU(),
                                  nn.Conv2d(channels, n_tokens, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.attn(x).flatten(2).softmax(dim=-1)  # [N, n, HW]
        return torch.einsum("nkp,ncp->nkc", weights, x.flatten(2))


def sinusoidal(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding ``[N, dim]`` of (diffusion) timesteps ``t`` ``[N]``."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=-1)


def random_shift(images: torch.Tensor, pad: int, generator: torch.Generator | None) -> torch.Tensor:
    """DrQ's augmentation: pad by replication and crop back at a random offset per sample.

    ``images`` is ``[B, ..., C, S, S]``; every camera and time step of a sample shares one
    shift (they are one moment seen together)."""
    if pad <= 0:
        return images
    lead = images.shape[:-3]
    b = lead[0]
    x = images.reshape(b, -1, *images.shape[-2:])
    s = x.shape[-1]
    x = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(s)[None])  # [B, S]
    cols = (dx[:, None] + torch.arange(s)[None])
    x = x[torch.arange(b)[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # [B,S,S,C']
    return x.permute(0, 3, 1, 2).reshape(images.shape)


class CameraEncoder(nn.Module):
    """Each camera's RGB-D through one shared FiLM ResNet, plus a learned camera embedding:
    ``[B, V, 4, S, S]`` -> feature maps ``[B, V, C, S/8, S/8]``."""

    def __init__(self, widths: tuple[int, ...], cond_dim: int, n_cameras: int) -> None:
        super().__init__()
        self.cnn = FiLMResNet(widths, cond_dim)
        self.out_channels = self.cnn.out_channels
        self.camera = nn.Parameter(torch.zeros(n_cameras, self.out_channels, 1, 1))

    def forward(self, images: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        b, v = images.shape[:2]
        h = self.levels(images, cond)[-1]
        return h.view(b, v, *h.shape[1:])

    def levels(self, images: torch.Tensor, cond: torch.Tensor | None) -> list[torch.Tensor]:
        """Every block's map ``[B * V, C_i, h_i, w_i]``, the last with the camera embedding."""
        b, v = images.shape[:2]
        c = None if cond is None else cond.repeat_interleave(v, dim=0)
        maps = self.cnn.forward_all(images.flatten(0, 1), c)
        maps[-1] = maps[-1] + self.camera.repeat(b, 1, 1, 1)
        return maps


def spatial_softmax(x: torch.Tensor) -> torch.Tensor:
    """Expected image coordinates of each channel's softmax map: ``[N, C, H, W]`` ->
    ``[N, 2C]`` (x, y in [-1, 1]); keypoints for regression heads."""
    n, c, h, w = x.shape
    p = x.flatten(2).softmax(-1).view(n, c, h, w)
    ys = torch.linspace(-1, 1, h, device=x.device)
    xs = torch.linspace(-1, 1, w, device=x.device)
    ex = (p.sum(2) * xs).sum(-1)
    ey = (p.sum(3) * ys).sum(-1)
    return torch.cat([ex, ey], dim=-1)


def bin_decode(logits: torch.Tensor, radius: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy decoding of discretised-action logits ``[..., n_bins]``: the argmax bin ``[...]``
    and the probability mass within ``radius`` bins of it ``[...]`` (in ``[0, 1]``).

    The token architectures' (rt1, openvla) confidence. The chosen bin's own probability
    would be near zero by construction with 256 narrow bins (a well-trained model spreads its
    mass over neighbouring bins that are all the "same" action); the mass of a +-``radius``
    window (+-2 bins = +-2 % of the normalised range) is high when the model is sure of the
    action and low when it hesitates between distant ones."""
    probs = logits.float().softmax(-1)
    idx = probs.argmax(-1)
    n = probs.shape[-1]
    cum = F.pad(probs.cumsum(-1), (1, 0))  # cum[..., j] = mass of bins < j
    hi = (idx + radius + 1).clamp(max=n).unsqueeze(-1)
    lo = (idx - radius).clamp(min=0).unsqueeze(-1)
    mass = (cum.gather(-1, hi) - cum.gather(-1, lo)).squeeze(-1)
    return idx, mass.clamp(0.0, 1.0)


class TextQueryReadout(nn.Module):
    """Where the words point in a feature map: ``n_queries`` queries projected from the
    instruction attend over the map's positions (a softmax over ``h * w``), and each returns
    the attended position (x, y in [-1, 1]), how strongly anything matched (the log-sum-exp of
    its logits) and the attended ``value_dim`` features: ``[N, n_queries * (3 + value_dim)]``.

    FiLM alone leaves the model to discover that "the red printer" should select a colour and
    then a place; this gives that binding a direct path (the language-conditioned spatial
    attention of CLIPort-like and VLA models), which is what the goal-choice tasks test: three
    or more candidates in view, the words decide which one."""

    def __init__(self, channels: int, cond_dim: int, n_queries: int, key_dim: int = 32,
                 value_dim: int = 16) -> None:
        super().__init__()
        self.key = nn.Conv2d(channels, key_dim, 1)
        self.value = nn.Conv2d(channels, value_dim, 1)
        self.query = nn.Linear(cond_dim, n_queries * key_dim)
        self.n, self.key_dim = n_queries, key_dim
        self.out_dim = n_queries * (3 + value_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        keys = self.key(x).flatten(2)  # [N, K, HW]
        q = self.query(cond).view(n, self.n, self.key_dim)
        logits = torch.einsum("nqk,nkp->nqp", q, keys) / math.sqrt(self.key_dim)
        p = logits.softmax(-1)
        ys = torch.linspace(-1, 1, h, device=x.device).repeat_interleave(w)
        xs = torch.linspace(-1, 1, w, device=x.device).repeat(h)
        where = torch.stack([(p * xs).sum(-1), (p * ys).sum(-1)], dim=-1)  # [N, Q, 2]
        strength = logits.logsumexp(-1, keepdim=True) - math.log(h * w)
        values = torch.einsum("nqp,nvp->nqv", p, self.value(x).flatten(2))
        return torch.cat([where, strength, values], dim=-1).flatten(1)


def hindsight_head(in_dim: int, out_dim: int) -> nn.Sequential:
    """The head that predicts a sample's hindsight goal (:mod:`..hindsight`) from a model's
    fused features: a training-only auxiliary, never used by ``act``."""
    return nn.Sequential(nn.Linear(in_dim, 128), nn.GELU(), nn.Linear(128, out_dim))


def add_hindsight(head: nn.Module | None, loss: torch.Tensor, metrics: dict[str, float],
                  features: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """``loss`` plus ``batch["hindsight_weight"]`` times the Huber loss of ``head``'s
    hindsight goals from ``features`` ``[N, in]`` (memory windows: ``N = B * H``, steps past an
    episode's end masked by ``batch["valid"]``), logged in ``metrics``; ``loss`` unchanged when
    the batch asks for none (validation without the goals)."""
    if "hindsight_weight" not in batch:
        return loss
    if head is None:
        raise ConfigError("this model was built with hindsight_dim=0: no hindsight head")
    target = batch["hindsight"].reshape(features.shape[0], -1)
    err = F.smooth_l1_loss(head(features), target, reduction="none").mean(-1)
    valid = batch.get("valid")
    if valid is None:
        goal = err.mean()
    else:
        mask = valid.reshape(-1).float()
        goal = (err * mask).sum() / mask.sum().clamp(min=1.0)
    metrics["hindsight"] = float(goal.detach())
    return loss + batch["hindsight_weight"] * goal


class FiLMObservationEncoder(nn.Module):
    """BC-Z's observation encoder, shared by bcz, diffusion and memory: the sentence embedding
    projected to ``text_dim`` FiLM-conditions a :class:`CameraEncoder`; each camera's map is
    read out as spatial-softmax keypoints and an average-pooled vector, and concatenated with
    the embedded state and the projected text: ``[N, out_dim]``. ``text_queries > 0`` adds a
    :class:`TextQueryReadout` of each camera's map. ``hindsight_dim > 0`` adds a head that
    predicts the episode's hindsight goal from that vector (training only)."""

    def __init__(self, widths: tuple[int, ...], text_in: int, text_dim: int, state_dim: int,
                 n_cameras: int, text_queries: int = 0, align_dim: int = 0,
                 hindsight_dim: int = 0) -> None:
        super().__init__()
        self.text = nn.Sequential(nn.Linear(text_in, text_dim), nn.GELU())
        self.vision = CameraEncoder(widths, text_dim, n_cameras)
        self.state = nn.Sequential(nn.Linear(state_dim, 64), nn.GELU())
        # Queries read the first block's map (stride 4: colours and small objects still
        # crisp) and the last one's (shapes).
        self.readouts = nn.ModuleList(
            [TextQueryReadout(c, text_dim, text_queries) for c in (widths[0], widths[-1])]
            if text_queries else [])
        extra = n_cameras * sum(r.out_dim for r in self.readouts)
        if align_dim:  # heads of the optional instruction / goal-view alignment
            self.align_image = nn.Linear(n_cameras * self.vision.out_channels, align_dim)
            self.align_text = nn.Linear(text_in, align_dim)
        self.out_dim = n_cameras * 3 * self.vision.out_channels + 64 + text_dim + extra
        self.hindsight = hindsight_head(self.out_dim, hindsight_dim) if hindsight_dim else None

    def forward(self, images: torch.Tensor, state: torch.Tensor, text: torch.Tensor
                ) -> torch.Tensor:
        t = self.text(text)
        b, v = images.shape[:2]
        levels = self.vision.levels(images, t)
        flat = levels[-1]  # [B * V, C, h, w]
        tc = t.repeat_interleave(v, dim=0)
        kp = spatial_softmax(flat).view(b, -1)
        pooled = flat.mean((-1, -2)).view(b, -1)
        parts = [kp, pooled, self.state(state), t]
        for readout, level in zip(self.readouts, (levels[0], flat), strict=False):
            parts.append(readout(level, tc).view(b, -1))
        return torch.cat(parts, dim=-1)

    def alignment_loss(self, goal_images: torch.Tensor, text: torch.Tensor,
                       temperature: float = 0.1) -> torch.Tensor:
        """Contrastive alignment of each instruction with its episode's *last* view
        ``[B, V, 4, S, S]`` (GRIF, Myers et al. 2023): at the end of a demonstration the
        named object is what the robot faces or holds, so matching words to that view, against
        the other episodes of the batch, teaches the image features what "the red printer"
        looks like without any label. The view is encoded without FiLM (it must be told apart
        by what it shows, not by the words); samples with the same instruction are all
        positives of one another."""
        if not hasattr(self, "align_image"):
            raise ConfigError("this model was built with align_dim=0: no alignment heads")
        b = goal_images.shape[0]
        maps = self.vision.cnn(goal_images.flatten(0, 1), None)
        zi = F.normalize(self.align_image(maps.mean((-1, -2)).view(b, -1)), dim=-1)
        zt = F.normalize(self.align_text(text), dim=-1)
        logits = zt @ zi.T / temperature
        same = (text[:, None] == text[None]).all(-1).float()

        def nce(lg: torch.Tensor) -> torch.Tensor:
            return -(torch.logsumexp(lg.masked_fill(same == 0, -1e9), -1)
                     - torch.logsumexp(lg, -1)).mean()

        return 0.5 * (nce(logits) + nce(logits.T))


class MCDropoutChunkHead(nn.Module):
    """An MLP regressing an action chunk ``[N, in] -> [N, chunk, A]`` whose dropout doubles as
    its uncertainty (Gal and Ghahramani, 2016): :meth:`spread` is the standard deviation of
    ``samples`` dropout draws over the executed steps. Masks come from ``generator`` when one
    is given, so a policy's samples repeat for the same episode seed."""

    def __init__(self, in_dim: int, hidden: int, chunk: int, action_dim: int, p: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, chunk * action_dim)
        self.chunk, self.action_dim, self.p = chunk, action_dim, p

    def _dropout(self, x: torch.Tensor, drop: bool, generator: torch.Generator | None
                 ) -> torch.Tensor:
        if not drop or self.p == 0:
            return x
        if generator is None:
            return F.dropout(x, self.p, training=True)
        keep = torch.rand(x.shape, generator=generator) >= self.p
        return x * keep.to(x.device) / (1.0 - self.p)

    def forward(self, f: torch.Tensor, drop: bool, generator: torch.Generator | None = None
                ) -> torch.Tensor:
        """The chunk; ``drop``: with dropout (training, or one Monte-Carlo sample)."""
        h = self._dropout(F.gelu(self.fc1(f)), drop, generator)
        h = self._dropout(F.gelu(self.fc2(h)), drop, generator)
        return self.out(h).view(f.shape[0], self.chunk, self.action_dim)

    def spread(self, f: torch.Tensor, samples: int, execute: int,
               generator: torch.Generator | None) -> torch.Tensor:
        """``[N]``: the mean standard deviation of ``samples`` dropout draws of the first
        ``execute`` actions."""
        draws = self(f.repeat_interleave(samples, 0), True, generator)
        draws = draws.view(f.shape[0], samples, self.chunk, -1)[:, :, :execute]
        return draws.std(dim=1).mean(dim=(-1, -2))
