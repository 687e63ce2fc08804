"""The contract every architecture keeps, and what they share.

An architecture module defines ``Config`` (a dataclass: its hyperparameters, with
``PRESETS = {"default": ..., "tiny": ...}``) and ``Model(config, dims)``, a ``torch.nn.Module``
with:

``loss(batch) -> (loss, metrics)``
    the training loss on a batch (a scalar tensor) and floats to log.
``act(batch, memory=None, generator=None) -> (actions, confidence, memory)``
    normalised actions ``[B, K, A]`` (K = ``config.chunk``), a per-sample confidence signal
    ``[B]`` and the memory to pass to the next call (``None`` for memoryless models). The
    signal is a probability in ``[0, 1]`` when ``Model.confidence_kind == "probability"``
    (token probability, a confidence head), or a spread ``>= 0`` (larger = less sure) when it
    is ``"spread"``; :mod:`..policy` maps spreads to ``[0, 1]`` against the spreads the model
    showed on its validation episodes.

Batch keys (tensors; ``B`` samples, ``V`` cameras, ``L`` text tokens)::

    images       float [B, V, 4, S, S]  (inputs.to_float: RGB in [-0.5, 0.5], depth in [0, 1])
    state        float [B, S]           z-scored
    text         float [B, 384]         MiniLM sentence embedding, centred and scaled (inputs)
    text_tokens  float [B, L, 384]      MiniLM token embeddings (zero at padding)
    text_mask    bool  [B, L]           True at real tokens
    actions      float [B, K, A]        normalised to [-1, 1] (training only)
    action_mask  bool  [B, K]           False past the episode's end (training only)

A model whose ``config.history`` is ``T > 1`` (memory) gets ``images``, ``state``,
``actions`` and ``action_mask`` with an extra time axis after ``B`` and a ``valid``
``bool [B, T]`` mask; at inference it is called one step at a time (``T = 1``) with its memory.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from vla_bench.errors import ConfigError


@dataclass(frozen=True)
class Dims:
    """Sizes fixed by the data, not by the configuration."""

    action_dim: int
    state_dim: int
    n_cameras: int
    text_dim: int = 384


def config_from(cls: type, values: dict[str, Any]) -> Any:
    """Build a ``Config`` dataclass from a mapping, naming unknown keys and bad types."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"unknown {cls.__module__.rsplit('.', 1)[-1]} config key(s) {unknown}; "
                          f"valid: {sorted(known)}")
    defaults = cls()
    out = {}
    for key, value in values.items():
        default = getattr(defaults, key)
        if isinstance(default, tuple):
            kind = type(default[0]) if default else int
            if (not isinstance(value, (list, tuple))
                    or not all(isinstance(v, kind) and not isinstance(v, bool) for v in value)):
                raise ConfigError(f"config {key} must be a list of "
                                  f"{'integers' if kind is int else 'strings'}, got {value!r}")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"config {key} must be true or false, got {value!r}")
        elif isinstance(default, int) and not isinstance(value, bool):
            if not isinstance(value, int) and not (isinstance(value, float) and value.is_integer()):
                raise ConfigError(f"config {key} must be an integer, got {value!r}")
            value = int(value)
        elif isinstance(default, float):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ConfigError(f"config {key} must be a number, got {value!r}")
            value = float(value)
        out[key] = value
    cfg = cls(**out)
    _check_common(cfg)
    return cfg


def _check_common(cfg: Any) -> None:
    for key in ("image_size", "chunk", "execute", "history"):
        value = getattr(cfg, key, 1)
        if value < 1:
            raise ConfigError(f"config {key} must be >= 1, got {value}")
    if getattr(cfg, "execute", 1) > getattr(cfg, "chunk", 1):
        raise ConfigError(f"config execute ({cfg.execute}) cannot exceed chunk ({cfg.chunk}): "
                          "a policy can only execute actions it predicted")
    if getattr(cfg, "image_size", 64) % 8:
        raise ConfigError(f"config image_size must be a multiple of 8, got {cfg.image_size}")


# Submodules that only shape training (auxiliary losses): a checkpoint carries them, ``act``
# never runs them, so they are not the policy's size.
TRAINING_ONLY = frozenset({"hindsight", "align_image", "align_text"})


def acting_parameters(model: Any) -> int:
    """The parameters ``model.act`` runs with: those of the training-only heads
    (:data:`TRAINING_ONLY`) not counted; the frozen text encoder is not part of a model."""
    return sum(p.numel() for name, p in model.named_parameters()
               if not TRAINING_ONLY.intersection(name.split(".")))
