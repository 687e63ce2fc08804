"""Checkpoints: weights in safetensors, and in its metadata everything needed to run them.

The ``vla_bench`` metadata entry is a JSON object::

    format               "vla_bench.checkpoint/1"
    arch, config, dims   the architecture, its Config and the data-given sizes
    layout               cameras, state and action names, image size (checked against the env)
    normalizer           action percentiles, state moments, sentence centre and scale
                         (inputs.Normalizer)
    datasets             [{path, hash, env_id, episodes, frames}] the training data
    text_encoder         the instruction encoder's name and package version
    confidence_reference sorted validation spreads (spread-type confidences only)
    train                steps, losses, seed, samples/s, wall time
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vla_bench.errors import ConfigError, UnknownNameError

FORMAT = "vla_bench.checkpoint/1"
WEIGHTS = "model.safetensors"


def save(path: str | Path, model: Any, meta: dict[str, Any]) -> Path:
    """Write ``model``'s weights and ``meta`` (plus arch/config/dims from the model)."""
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    full = {"format": FORMAT, "config": _jsonable(asdict(model.cfg)),
            "dims": asdict(model.dims), **meta}
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous()
               for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"vla_bench": json.dumps(full)})
    tmp.replace(path)
    return path


def read_meta(path: str | Path) -> dict[str, Any]:
    """The ``vla_bench`` metadata of a checkpoint (reads no weights)."""
    from safetensors import safe_open

    path = resolve(path)
    with safe_open(str(path), framework="pt") as f:
        raw = (f.metadata() or {}).get("vla_bench")
    if raw is None:
        raise ConfigError(f"{path} is a safetensors file without vla_bench metadata; train it "
                          "with vla-bench train")
    meta = json.loads(raw)
    if meta.get("format") != FORMAT:
        raise ConfigError(f"{path}: checkpoint format {meta.get('format')!r}, expected {FORMAT!r}")
    return meta


def resolve(path: str | Path) -> Path:
    """A checkpoint file, or a training output directory holding ``model.safetensors``."""
    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS
    if not path.exists():
        raise ConfigError(f"no checkpoint at {path}; pass the model.safetensors written by "
                          "vla-bench train (or its --out directory)")
    return path


def load(path: str | Path, device: str = "cpu", arch: str | None = None,
         inference: dict[str, Any] | None = None) -> tuple[Any, dict]:
    """Rebuild the model of a checkpoint; ``arch`` (optional) must match the stored one.

    ``inference`` overrides config fields that only change how the trained model acts (the
    arch module's ``INFERENCE_FIELDS``, e.g. diffusion's ``temperature``); the checkpoint's
    own ``meta["config"]`` stays as trained."""
    from safetensors.torch import load_file

    from vla_bench.learning import arch_module
    from vla_bench.learning.archs.base import Dims, config_from

    path = resolve(path)
    meta = read_meta(path)
    if arch is not None and meta["arch"] != arch:
        raise ConfigError(f"{path} holds a {meta['arch']!r} model, not {arch!r}; use "
                          f"--policy {meta['arch']}")
    mod = arch_module(meta["arch"])
    allowed = getattr(mod, "INFERENCE_FIELDS", ())
    if inference and not allowed:
        raise ConfigError(f"a {meta['arch']} model has no inference settings to override "
                          f"(got {sorted(inference)}); only diffusion's can be changed")
    unknown = sorted(set(inference or {}) - set(allowed))
    if unknown:
        raise UnknownNameError(f"{meta['arch']} inference setting", unknown[0], allowed)
    model = mod.Model(config_from(mod.Config, {**meta["config"], **(inference or {})}),
                      Dims(**meta["dims"]))
    model.load_state_dict(load_file(str(path), device=device))
    return model.to(device).eval(), meta


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
