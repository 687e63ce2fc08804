"""Behaviour cloning: ``vla-bench train --arch NAME --data DIR [DIR ...] --out OUT``.

Deterministic and resumable. Step ``s`` draws its batch from ``default_rng([seed, s])`` and
seeds torch (dropout, noise, augmentation) from ``(seed, s)``, so a run killed and resumed
from ``OUT/state.pt`` (written every ``ckpt_every`` steps, atomically) continues exactly as
if it had never stopped. ``OUT`` holds::

    run.json           the arch, model and training configs and the datasets' hashes
    state.pt           weights, optimiser and step (resume)
    log.jsonl          one line per logged step: loss, lr, samples/s, the validation loss and
                       the validation loss with each sample's instruction swapped for another
                       of its task's (the gap: how much the model listens to the words),
                       both over all frames and over each episode's first START_FRAMES
    loss.png           the training and validation loss curves
    model.safetensors  the final weights with their metadata (checkpoint.py)

Validation uses held-out *episodes* (``val_fraction`` of each dataset), never frames of
training episodes.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench.errors import ConfigError


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the model's own settings are its arch ``Config``)."""

    steps: int = 6000
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup: int = 300
    grad_clip: float = 1.0
    val_fraction: float = 0.05
    val_every: int = 500
    val_samples: int = 1024
    ckpt_every: int = 250
    log_every: int = 25
    seed: int = 0
    # Each episode's first ``early_frames`` frames are drawn ``early_weight`` times as often:
    # where the words decide the goal, the images alike for every goal (1.0: uniform).
    early_frames: int = 0
    early_weight: float = 1.0
    # State entries the model does not see (fnmatch patterns): all but the hands' (TCP
    # positions, gripper openings). Whatever moves with the walk tells where the robot is
    # already going, and a model that reads it copies the motion under way instead of
    # deciding it from the words and the view (behaviour cloning's copycat problem). In the
    # lite demos a linear fit explains 65-97 % of the variance of the base commands from the
    # full state, 50-93 % without the base velocities (the legs' pose), and still 64-77 % on
    # GoToPrinter from the arm joints alone (they sway to hold the hands steady).
    state_exclude: tuple[str, ...] = ("base_*", "pelvis_*", "gravity_*", "q/*", "dq/*")
    # The probability that a training sample is seen in a left-right mirror (images flipped,
    # y, roll and yaw negated, left and right swapped: learning/mirror.py). Off by default:
    # it doubles the layouts of a navigation task but gives arm tasks a left-arm double of
    # every right-arm move.
    mirror: float = 0.0
    # Weight of the instruction / goal-view alignment loss (archs with a FiLM encoder: bcz,
    # diffusion, memory; 0: off): each instruction is matched, contrastively, to the last view
    # of its episode, where the named object is in front of the robot.
    align_weight: float = 0.0
    # Weight of the hindsight-goal loss (every arch; 0: off): from the view and
    # the words, predict where the demonstration ends, seen from the current frame
    # (learning/hindsight.py). A training label only; it switches the model's hindsight head
    # on (Config.hindsight_dim).
    hindsight_weight: float = 0.0


START_FRAMES = 10  # "the start of an episode" in the validation of the language gap

TRAIN_PRESETS = {"default": TrainConfig(),
                 "tiny": TrainConfig(steps=30, batch_size=8, warmup=5, val_fraction=0.34,
                                     val_every=10, val_samples=16, ckpt_every=10, log_every=5)}


def train(arch: str, data: list[str | Path], out: str | Path, *, preset: str = "default",
          overrides: dict[str, Any] | None = None, train_overrides: dict[str, Any] | None = None,
          device: str = "cpu", threads: int | None = None, cache_root: str | Path | None = None,
          progress: bool = True, stop_after: int | None = None) -> dict[str, Any]:
    """Train ``arch`` on the datasets ``data`` into ``out``; returns a summary.

    ``overrides`` change the model config, ``train_overrides`` the :class:`TrainConfig` (both
    on top of ``preset``). ``stop_after`` (tests) stops after that many steps of this call, as
    a kill would.
    """
    import torch

    from vla_bench.learning import arch_module
    from vla_bench.learning.archs.base import Dims, config_from
    from vla_bench.learning.data import TrainingData, prepare
    from vla_bench.learning.frames import build_cache, dataset_hash
    from vla_bench.learning.text import shared_encoder

    mod = arch_module(arch)
    if preset not in mod.PRESETS or preset not in TRAIN_PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; valid: {sorted(mod.PRESETS)}")
    cfg = config_from(mod.Config, {**_plain(asdict(mod.PRESETS[preset])), **(overrides or {})})
    tcfg = config_from(TrainConfig, {**asdict(TRAIN_PRESETS[preset]), **(train_overrides or {})})
    _check_sampling(tcfg)  # before hashing and decoding gigabytes of data
    if tcfg.hindsight_weight:
        from vla_bench.learning.hindsight import NAMES

        cfg = replace(cfg, hindsight_dim=len(NAMES))
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda: torch sees no CUDA GPU here; use --device cpu")
    if threads:
        torch.set_num_threads(threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    hashes = [dataset_hash(d) for d in data]
    caches = [build_cache(d, cfg.image_size, cache_root, progress, digest=h)
              for d, h in zip(data, hashes, strict=True)]
    run = {"arch": arch, "preset": preset, "config": _plain(asdict(cfg)),
           "train": _plain(asdict(tcfg)),
           "datasets": [{"path": str(Path(d).resolve()), "hash": h}
                        for d, h in zip(data, hashes, strict=True)]}
    _check_resume(out, run)
    text = shared_encoder()
    td = TrainingData(caches, text, val_fraction=tcfg.val_fraction, seed=tcfg.seed,
                      chunk=cfg.chunk, history=cfg.history,
                      state_exclude=tuple(tcfg.state_exclude), mirror=tcfg.mirror > 0,
                      hindsight=tcfg.hindsight_weight > 0)
    dims = Dims(action_dim=len(td.layout.action_names) or caches[0].action.shape[1],
                state_dim=len(td.state_columns), n_cameras=len(td.layout.cameras))
    torch.manual_seed(tcfg.seed)
    model = mod.Model(cfg, dims).to(device)
    if tcfg.align_weight and not hasattr(model, "alignment_loss"):
        raise ConfigError(f"align_weight: {arch} has no instruction / goal-view alignment; "
                          "it is available for bcz, diffusion and memory")
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    step, history, elapsed = 0, [], 0.0
    state_path = out / "state.pt"
    if state_path.exists():
        st = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optim"])
        step, history, elapsed = st["step"], st["history"], st["elapsed"]
    (out / "run.json").write_text(json.dumps({**run, "parameters": n_params}, indent=1))
    print(f"{arch}: {n_params:,} parameters; {len(td.train_index)} training frames, "
          f"{len(td.val_index)} validation frames ({td.val_episodes} held-out episodes)",
          file=sys.stderr)
    val_rng = np.random.default_rng([tcfg.seed, 1])
    val_idx = np.sort(val_rng.choice(td.val_index, min(tcfg.val_samples, len(td.val_index)),
                                     replace=False))
    val_swapped = td.swapped_episodes(val_idx, tcfg.seed)  # the same words at every validation
    # Each held-out episode's first frames alone: there the words and the view decide where to
    # go, while later frames mostly continue the motion under way; a model that listens shows
    # its gap here first.
    first = td.val_index[td.frame_index[td.val_index] < START_FRAMES]
    start_idx = np.sort(val_rng.choice(first, min(tcfg.val_samples, len(first)), replace=False))
    start_swapped = td.swapped_episodes(start_idx, tcfg.seed)
    starts = td.train_index  # memory windows running past an episode's end are masked there
    probs = sampling_probabilities(td.frame_index[starts], tcfg)

    from tqdm import tqdm

    bar = tqdm(total=tcfg.steps, initial=step, desc=f"train {arch}", unit="step",
               file=sys.stderr, disable=not progress)
    done_here, t0, seen = 0, time.perf_counter(), 0
    # Rewritten from the checkpoint's history: rows logged after it (a kill between
    # checkpoints) are logged again when those steps run again, not twice.
    log = (out / "log.jsonl").open("w")
    log.writelines(json.dumps(row) + "\n" for row in history)
    try:
        while step < tcfg.steps:
            if stop_after is not None and done_here >= stop_after:
                break
            model.train()
            rng = np.random.default_rng([tcfg.seed, step])
            idx = rng.choice(starts, tcfg.batch_size, replace=len(starts) < tcfg.batch_size,
                             p=probs)
            mirrored = rng.random(len(idx)) < tcfg.mirror if tcfg.mirror else None
            torch.manual_seed(tcfg.seed * 1_000_003 + step)
            gen = torch.Generator().manual_seed(tcfg.seed * 1_000_003 + step)
            shift = getattr(cfg, "shift", 0)
            batch = prepare(td.batch(idx, mirrored=mirrored), device, shift, gen)
            if tcfg.hindsight_weight:
                batch["hindsight_weight"] = torch.tensor(tcfg.hindsight_weight, device=device)
            for group in opt.param_groups:
                group["lr"] = _lr(step, tcfg)
            loss, metrics = model.loss(batch)
            if tcfg.align_weight:
                goal = prepare({"images": td.goal_images(idx, mirrored)}, device, shift, gen)
                align = model.alignment_loss(goal["images"], batch["text"])
                loss = loss + tcfg.align_weight * align
                metrics = {**metrics, "align": float(align.detach())}
            value = float(loss.detach())
            if not math.isfinite(value):
                raise ConfigError(f"training loss became {value} at step {step}; lower "
                                  "--lr or check the dataset with vla-bench dataset-check")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
            opt.step()
            step += 1
            done_here += 1
            seen += len(idx)
            bar.update()
            bar.set_postfix(loss=f"{value:.4f}")
            row: dict[str, Any] = {}
            if step % tcfg.log_every == 0 or step == tcfg.steps:
                now = time.perf_counter()
                row = {"step": step, "loss": value, "lr": _lr(step - 1, tcfg),
                       "samples_per_s": seen / max(now - t0, 1e-9), **metrics}
            if step % tcfg.val_every == 0 or step == tcfg.steps:
                row = row or {"step": step, "loss": value}
                for key, pre, idx_v, swap_v in (
                        ("val_loss", "val_", val_idx, val_swapped),
                        ("val_loss_start", "val_start_", start_idx, start_swapped)):
                    v, v_swapped, extra = _val_loss(model, td, idx_v, swap_v, tcfg, device)
                    row[key], row[f"{key}_swapped_instruction"] = v, v_swapped
                    row.update({pre + k: x for k, x in extra.items()})
            if row:
                history.append(row)
                log.write(json.dumps(row) + "\n")
                log.flush()
            if step % tcfg.ckpt_every == 0 or step == tcfg.steps:
                _save_state(state_path, model, opt, step, history,
                            elapsed + time.perf_counter() - t0)
    finally:
        bar.close()
        log.close()
    elapsed += time.perf_counter() - t0
    summary = {"arch": arch, "steps": step, "parameters": n_params, "out": str(out),
               "finished": step >= tcfg.steps}
    if step < tcfg.steps:
        return summary
    _plot(history, out / "loss.png", arch)
    # On the CPU from here: the policy runs there, and its sampling generators are CPU ones.
    model = model.to("cpu")
    ref, val_err = _confidence_reference(model, td, val_idx, tcfg, "cpu")
    final = [h for h in history if "val_loss" in h][-1]
    meta = {
        "arch": arch,
        "layout": {"cameras": list(td.layout.cameras), "state_names": list(td.layout.state_names),
                   "state_columns": td.state_columns.tolist(),
                   "action_names": list(td.layout.action_names),
                   "image_size": td.layout.image_size},
        "normalizer": td.normalizer.to_dict(),
        "datasets": [{"path": c.meta["dataset"], "hash": c.meta["dataset_hash"],
                      "env_id": c.meta["env_id"], "episodes": len(c.lengths),
                      "frames": int(c.lengths.sum())} for c in caches],
        "text_encoder": text.version,
        "confidence_reference": ref,
        "train": {**asdict(tcfg), "preset": preset, "final_loss": history[-1]["loss"],
                  "val_loss": final["val_loss"], "val_action_mse": val_err,
                  "wall_s": round(elapsed, 1), "device": device,
                  "samples_per_s": history[-1].get("samples_per_s")},
    }
    from vla_bench.learning.checkpoint import WEIGHTS, save

    save(out / WEIGHTS, model, meta)
    summary.update(val_loss=final["val_loss"], val_action_mse=val_err, wall_s=elapsed,
                   checkpoint=str(out / WEIGHTS))
    return summary


def _check_sampling(t: TrainConfig) -> None:
    if t.early_weight < 1.0:
        raise ConfigError(f"early_weight must be >= 1 (it up-weights early frames), got "
                          f"{t.early_weight}")
    if not 0.0 <= t.mirror <= 1.0:
        raise ConfigError(f"mirror is a probability in [0, 1], got {t.mirror}")
    if t.align_weight < 0.0:
        raise ConfigError(f"align_weight must be >= 0, got {t.align_weight}")
    if t.hindsight_weight < 0.0:
        raise ConfigError(f"hindsight_weight must be >= 0, got {t.hindsight_weight}")


def sampling_probabilities(frame_index: np.ndarray, t: TrainConfig) -> np.ndarray | None:
    """Probabilities of drawing each training frame (``None``: uniform)."""
    _check_sampling(t)
    if t.early_frames <= 0 or t.early_weight == 1.0:
        return None
    w = np.where(frame_index < t.early_frames, t.early_weight, 1.0)
    return w / w.sum()


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _check_resume(out: Path, run: dict[str, Any]) -> None:
    path = out / "run.json"
    if not (out / "state.pt").exists() or not path.exists():
        return
    old = json.loads(path.read_text())
    old.pop("parameters", None)
    old_train = {k: v for k, v in old.get("train", {}).items() if k != "steps"}
    new_train = {k: v for k, v in run["train"].items() if k != "steps"}
    diff = [k for k in ("arch", "preset", "config", "datasets") if old.get(k) != run[k]]
    if old_train != new_train:
        diff.append("train")
    if diff:
        raise ConfigError(f"{out} holds a run with different {', '.join(diff)}; resume with "
                          "the same settings (only --steps may change) or use another --out")


def _lr(step: int, t: TrainConfig) -> float:
    if step < t.warmup:
        return t.lr * (step + 1) / t.warmup
    frac = (step - t.warmup) / max(1, t.steps - t.warmup)
    return t.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(frac, 1.0))))


def _val_batches(idx: np.ndarray, size: int) -> list[np.ndarray]:
    return [idx[i:i + size] for i in range(0, len(idx), size)]


def _val_loss(model: Any, td: Any, val_idx: np.ndarray, swapped: np.ndarray, t: TrainConfig,
              device: str) -> tuple[float, float, dict[str, float]]:
    """Validation loss, and the same with each sample's instruction swapped for another of its
    task's (the gap is how much the model listens to the words). With the hindsight goals on,
    also their error (``hindsight``, ``hindsight_swapped_instruction``): not part of the loss,
    but whether the view and the words tell the model where the episode ends."""
    import torch

    from vla_bench.learning.data import prepare

    model.eval()
    totals = [0.0, 0.0]
    goals = [0.0, 0.0]
    with torch.no_grad():
        for j, text_eps in enumerate((None, swapped)):
            for i, sel in enumerate(_val_batches(np.arange(len(val_idx)), t.batch_size)):
                torch.manual_seed(t.seed * 7919 + i)  # diffusion's noise: the same every time
                batch = prepare(td.batch(val_idx[sel], None if text_eps is None
                                         else text_eps[sel]), device)
                if t.hindsight_weight:  # weight 0: the loss stays the actions' alone
                    batch["hindsight_weight"] = torch.zeros((), device=device)
                loss, metrics = model.loss(batch)
                totals[j] += float(loss) * len(sel)
                goals[j] += metrics.get("hindsight", 0.0) * len(sel)
    model.train()
    n = max(len(val_idx), 1)
    extra = ({"hindsight": goals[0] / n, "hindsight_swapped_instruction": goals[1] / n}
             if t.hindsight_weight else {})
    return totals[0] / n, totals[1] / n, extra


def _confidence_reference(model: Any, td: Any, val_idx: np.ndarray, t: TrainConfig,
                          device: str) -> tuple[list[float], float]:
    """Sorted confidence signals on validation frames (for spread-type models) and the mean
    squared error of the executed actions (normalised units) there."""
    import torch

    from vla_bench.learning.data import prepare

    model.eval()
    signals, errs = [], []
    gen = torch.Generator().manual_seed(t.seed)
    execute = model.cfg.execute
    history = getattr(model.cfg, "history", 1)
    with torch.no_grad():
        for chunk in _val_batches(val_idx, t.batch_size):
            batch = prepare(td.batch(chunk), device)
            if history > 1:  # one step at a time from an empty memory, as in an episode
                step = {k: (v[:, 0] if k in ("images", "state", "actions", "action_mask")
                            else v) for k, v in batch.items() if k != "valid"}
                actions, signal, _ = model.act(step, None, gen)
                target, mask = step["actions"], step["action_mask"]
            else:
                actions, signal, _ = model.act(batch, None, gen)
                target, mask = batch["actions"], batch["action_mask"]
            err = ((actions - target) ** 2).mean(-1)[:, :execute]
            m = mask[:, :execute].float()
            errs.append(float((err * m).sum() / m.sum().clamp(min=1.0)))
            signals.append(signal.float().cpu().numpy())
    model.train()
    sig = np.sort(np.concatenate(signals)) if signals else np.zeros(0)
    ref = [] if model.confidence_kind == "probability" else [round(float(x), 6) for x in sig]
    return ref, float(np.mean(errs)) if errs else float("nan")


def _save_state(path: Path, model: Any, opt: Any, step: int, history: list, elapsed: float
                ) -> None:
    import torch

    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": step,
                "history": history, "elapsed": elapsed}, tmp)
    os.replace(tmp, path)


def _plot_keys(ax: Any, history: list[dict[str, Any]], keys: tuple[tuple[str, str, str], ...]
               ) -> None:
    # One colour per set of frames: solid with the true instruction, dashed with another one.
    for i, (key, style, label) in enumerate(keys):
        pts = [(h["step"], h[key]) for h in history if key in h]
        if pts:
            ax.plot(*zip(*pts, strict=True), style, label=label, lw=1, ms=3,
                    color="C1" if i < 2 else "C3")


def _plot(history: list[dict[str, Any]], path: Path, arch: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no loss.png (pip install 'vla_bench[report]')",
              file=sys.stderr)
        return
    tr = [(h["step"], h["loss"]) for h in history if "loss" in h]
    # With hindsight goals, a second panel: the goal error with the true and with another
    # instruction is the clearest sign of whether the model reads the words.
    goals = any("val_hindsight" in h for h in history)
    fig, axes = plt.subplots(1, 2 if goals else 1, figsize=(11 if goals else 6, 3.6), dpi=110,
                             squeeze=False)
    ax = axes[0, 0]
    if tr:
        ax.plot(*zip(*tr, strict=True), label="training (batch)", lw=1, alpha=0.8)
    _plot_keys(ax, history, (
        ("val_loss", "o-", "validation (held-out episodes)"),
        ("val_loss_swapped_instruction", "s--", "validation, another instruction of the task"),
        ("val_loss_start", "o-", f"validation, first {START_FRAMES} frames"),
        ("val_loss_start_swapped_instruction", "s--",
         f"first {START_FRAMES} frames, another instruction")))
    ax.set_ylabel("loss")
    if tr and min(v for _, v in tr) > 0:
        ax.set_yscale("log")
    ax.set_title(f"{arch}: behaviour-cloning loss")
    if goals:
        gx = axes[0, 1]
        _plot_keys(gx, history, (
            ("val_hindsight", "o-", "validation, true instruction"),
            ("val_hindsight_swapped_instruction", "s--", "validation, another instruction"),
            ("val_start_hindsight", "o-", f"first {START_FRAMES} frames, true instruction"),
            ("val_start_hindsight_swapped_instruction", "s--",
             f"first {START_FRAMES} frames, another instruction")))
        gx.set_ylabel("goal error (Huber, normalised)")
        gx.set_yscale("log")
        gx.set_title(f"{arch}: hindsight goal (where the demonstration ends)")
    for a in axes[0]:
        a.set_xlabel("step")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
