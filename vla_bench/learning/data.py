"""Training batches from frame caches: episode-level train/validation split, normalisation
statistics, action chunks and (for memory models) windows of consecutive steps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vla_bench.errors import ConfigError
from vla_bench.learning.frames import FrameCache
from vla_bench.learning.inputs import Normalizer, to_float
from vla_bench.learning.text import TextEncoder, TextFeatures


@dataclass(frozen=True)
class Layout:
    """What every dataset of a training run must share, and a checkpoint records."""

    cameras: tuple[str, ...]
    state_names: tuple[str, ...]
    action_names: tuple[str, ...]
    image_size: int


class TrainingData:
    """Several frame caches as one set of frames, split by episode into train and validation.

    ``val_fraction`` of each dataset's episodes (at least one) are held out, chosen by
    ``seed``; statistics are fitted on the training episodes only. ``mirror``: also prepare
    every sample's left-right mirror image (:mod:`.mirror`) for :meth:`batch`. ``hindsight``:
    batches also carry each frame's hindsight goal (:mod:`.hindsight`), standardised.
    """

    def __init__(self, caches: Sequence[FrameCache], text: TextEncoder, *, val_fraction: float,
                 seed: int, chunk: int, history: int = 1,
                 state_exclude: Sequence[str] = (), mirror: bool = False,
                 hindsight: bool = False) -> None:
        if not caches:
            raise ConfigError("no datasets given")
        first = caches[0].meta
        self.layout = Layout(tuple(first["cameras"]), tuple(first["state_names"] or ()),
                             tuple(first["action_names"] or ()), int(first["size"]))
        for c in caches[1:]:
            m = c.meta
            other = Layout(tuple(m["cameras"]), tuple(m["state_names"] or ()),
                           tuple(m["action_names"] or ()), int(m["size"]))
            if other != self.layout:
                diff = [k for k in Layout.__dataclass_fields__
                        if getattr(other, k) != getattr(self.layout, k)]
                raise ConfigError(f"dataset {m['dataset']} differs from {first['dataset']} in "
                                  f"{diff}: train on datasets generated with one robot, control "
                                  "mode and camera set")
        if not 0.0 < val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in (0, 1), got {val_fraction}")
        self.caches = list(caches)
        self.chunk, self.history = chunk, history
        rng = np.random.default_rng(seed)
        cache_id, local, ep_end, ep_global, is_val = [], [], [], [], []
        instructions: list[str] = []
        ep_cache: list[int] = []
        for ci, c in enumerate(caches):
            n_ep = len(c.lengths)
            n_val = max(1, int(round(val_fraction * n_ep))) if n_ep > 1 else 0
            val_eps = set(rng.choice(n_ep, n_val, replace=False).tolist())
            for e, (s, n) in enumerate(zip(c.starts, c.lengths, strict=True)):
                cache_id.append(np.full(n, ci, np.int32))
                local.append(np.arange(s, s + n, dtype=np.int64))
                ep_end.append(np.full(n, s + n, np.int64))
                ep_global.append(np.full(n, len(instructions), np.int32))
                is_val.append(np.full(n, e in val_eps))
                instructions.append(c.instructions[e])
                ep_cache.append(ci)
        self.frame_index = np.concatenate([np.arange(n) for c in caches for n in c.lengths])
        self.cache_id = np.concatenate(cache_id)
        self.local = np.concatenate(local)
        self.ep_end = np.concatenate(ep_end)
        self.ep_global = np.concatenate(ep_global)
        val = np.concatenate(is_val)
        self.train_index = np.flatnonzero(~val)
        self.val_index = np.flatnonzero(val)
        self.instructions = instructions
        self._ep_cache = np.asarray(ep_cache)
        self.text = text.encode(instructions)
        actions = np.concatenate([c.action for c in caches])
        states = np.concatenate([c.state for c in caches])
        train_eps = np.unique(self.ep_global[self.train_index])
        self.normalizer = Normalizer.fit(actions[self.train_index], states[self.train_index],
                                         self.text.sentence[train_eps])
        self._sentences = self.normalizer.norm_text(self.text.sentence)
        self._actions = self.normalizer.norm_action(actions)
        self.state_columns = state_columns(self.layout.state_names, states.shape[1],
                                           state_exclude)
        self._states = self.normalizer.norm_state(states)[:, self.state_columns]
        self.mirror = mirror
        self._hindsight: np.ndarray | None = None
        if hindsight:
            self._hindsight = self._hindsight_goals(states, [n for c in caches
                                                             for n in c.lengths])
        self._actions_m = self._states_m = self._sentences_m = None
        self.text_m: TextFeatures | None = None
        if mirror:
            from vla_bench.learning.mirror import mirror_plan, mirror_words

            if not self.layout.state_names or not self.layout.action_names:
                raise ConfigError("mirror needs the datasets' state and action names")
            sp, ss = mirror_plan(self.layout.state_names)
            ap, asg = mirror_plan(self.layout.action_names)
            self._actions_m = self.normalizer.norm_action(actions[:, ap] * asg)
            self._states_m = self.normalizer.norm_state(states[:, sp] * ss)[:, self.state_columns]
            self.text_m = text.encode([mirror_words(t) for t in instructions])
            self._sentences_m = self.normalizer.norm_text(self.text_m.sentence)

    def _hindsight_goals(self, states: np.ndarray, lengths: list[int]) -> np.ndarray:
        from vla_bench.learning import hindsight

        if self.mirror:
            raise ConfigError("hindsight goals are not mirrored: train them without the mirror "
                              "augmentation")
        goals = hindsight.targets(states, self.layout.state_names, lengths)
        fit = goals[self.train_index]
        return ((goals - fit.mean(0)) / np.maximum(fit.std(0), 1e-3)).astype(np.float32)

    @property
    def val_episodes(self) -> int:
        """Held-out episodes."""
        return len(np.unique(self.ep_global[self.val_index]))

    def _images(self, glob: np.ndarray) -> np.ndarray:
        out = np.empty((len(glob),) + self.caches[0].images.shape[1:], np.uint8)
        cid = self.cache_id[glob]
        for ci in np.unique(cid):
            sel = np.flatnonzero(cid == ci)
            loc = self.local[glob[sel]]
            order = np.argsort(loc)  # memmap reads in file order
            out[sel[order]] = self.caches[ci].images[loc[order]]
        return out

    def _chunks(self, glob: np.ndarray, mirrored: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        k = np.arange(self.chunk)
        idx = glob[:, None] + k[None]  # global frame indices of the chunk
        ends = glob + (self.ep_end[glob] - self.local[glob])  # the episode's global end
        mask = idx < ends[:, None]
        idx = np.where(mask, idx, glob[:, None])
        acts = self._actions[idx]
        if mirrored is not None:
            acts = np.where(mirrored[:, None, None], self._actions_m[idx], acts)
        acts = np.where(mask[..., None], acts, 0.0).astype(np.float32)
        return acts, mask

    def _pick(self, plain: np.ndarray, mirror: np.ndarray | None, rows: np.ndarray,
              mirrored: np.ndarray | None) -> np.ndarray:
        """``plain[rows]``, with ``mirror[rows]`` where ``mirrored``."""
        if mirrored is None:
            return plain[rows]
        return np.where(mirrored.reshape(-1, *[1] * (plain.ndim - 1)), mirror[rows], plain[rows])

    def goal_images(self, starts: np.ndarray, mirrored: np.ndarray | None = None
                    ) -> torch.Tensor:
        """uint8 images of the last frame of each sample's episode ``[B, V, 4, S, S]``: what
        the robot sees when the demonstration has done what the words asked."""
        starts = np.asarray(starts, np.int64)
        last = starts + (self.ep_end[starts] - self.local[starts]) - 1
        m = None if mirrored is None or not np.any(mirrored) else np.asarray(mirrored, bool)
        return torch.from_numpy(self._flip(self._images(last), m))

    @staticmethod
    def _flip(images: np.ndarray, mirrored: np.ndarray | None) -> np.ndarray:
        """Images ``[N, V, C, S, S]`` flipped left-right where ``mirrored``."""
        if mirrored is not None:
            images[mirrored] = images[mirrored][..., ::-1]
        return images

    def swapped_episodes(self, starts: np.ndarray, seed: int) -> np.ndarray:
        """For each sample, another episode of the same dataset whose instruction differs
        (drawn with ``seed``): its words, with this sample's images and actions, measure how
        much the model relies on the instruction."""
        rng = np.random.default_rng(seed)
        words = np.asarray(self.instructions, dtype=object)
        out = []
        for ep in self.ep_global[np.asarray(starts, np.int64)]:
            cands = np.flatnonzero((self._ep_cache == self._ep_cache[ep]) & (words != words[ep]))
            out.append(rng.choice(cands) if len(cands) else ep)
        return np.asarray(out, np.int64)

    def batch(self, starts: np.ndarray, text_episodes: np.ndarray | None = None,
              mirrored: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        """The batch of samples starting at global frames ``starts`` (images as uint8; see
        :func:`prepare`); ``text_episodes`` replaces each sample's instruction by that
        episode's; ``mirrored`` (booleans, one per sample; needs ``mirror=True``) gives those
        samples as seen in a left-right mirror."""
        starts = np.asarray(starts, np.int64)
        ep = self.ep_global[starts] if text_episodes is None else np.asarray(text_episodes)
        m = None
        if mirrored is not None and np.any(mirrored):
            if not self.mirror:
                raise ConfigError("this TrainingData was built without mirror=True")
            m = np.asarray(mirrored, bool)
        tm = self.text_m
        out: dict[str, torch.Tensor] = {
            "text": torch.from_numpy(self._pick(self._sentences, self._sentences_m, ep, m)),
            "text_tokens": torch.from_numpy(self._pick(
                self.text.tokens, tm.tokens if tm else None, ep, m)),
            "text_mask": torch.from_numpy(self._pick(
                self.text.mask, tm.mask if tm else None, ep, m)),
        }
        if self.history == 1:
            acts, mask = self._chunks(starts, m)
            out.update(images=torch.from_numpy(self._flip(self._images(starts), m)),
                       state=torch.from_numpy(self._pick(self._states, self._states_m,
                                                         starts, m)),
                       actions=torch.from_numpy(acts), action_mask=torch.from_numpy(mask))
            if self._hindsight is not None:
                out["hindsight"] = torch.from_numpy(self._hindsight[starts])
            return out
        t = np.arange(self.history)
        glob = starts[:, None] + t[None]
        ends = glob[:, :1] + (self.ep_end[starts] - self.local[starts])[:, None]
        valid = glob < ends
        glob = np.where(valid, glob, starts[:, None])
        flat = glob.reshape(-1)
        b, h = glob.shape
        mf = None if m is None else np.repeat(m, h)  # a window is mirrored as a whole
        acts, mask = self._chunks(flat, mf)
        out.update(
            images=torch.from_numpy(self._flip(self._images(flat), mf).reshape(
                b, h, *self.caches[0].images.shape[1:])),
            state=torch.from_numpy(self._pick(self._states, self._states_m, flat,
                                              mf).reshape(b, h, -1)),
            actions=torch.from_numpy(acts.reshape(b, h, self.chunk, -1)),
            action_mask=torch.from_numpy(mask.reshape(b, h, -1) & valid[..., None]),
            valid=torch.from_numpy(valid))
        if self._hindsight is not None:
            out["hindsight"] = torch.from_numpy(self._hindsight[flat].reshape(b, h, -1))
        return out


def state_columns(names: Sequence[str], n: int, exclude: Sequence[str]) -> np.ndarray:
    """Indices of the ``n`` state entries a model sees: those whose name matches none of the
    fnmatch patterns ``exclude`` (all of them for a dataset without state names)."""
    from fnmatch import fnmatchcase

    if not names:
        return np.arange(n)
    keep = [i for i, name in enumerate(names) if not any(fnmatchcase(name, p) for p in exclude)]
    if not keep:
        raise ConfigError(f"state_exclude {list(exclude)} leaves no state entry of "
                          f"{list(names)[:8]}...; keep some with --train-set "
                          "'state_exclude=[\"base_*\", \"dq/*\"]' (patterns to leave out)")
    return np.asarray(keep, np.int64)


def prepare(batch: dict[str, torch.Tensor], device: str | torch.device,
            shift: int = 0, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """uint8 images -> network floats (with the random-shift augmentation), on ``device``."""
    from vla_bench.learning.archs.layers import random_shift

    out = dict(batch)
    images = to_float(batch["images"])
    if shift:
        images = random_shift(images, shift, generator)
    out["images"] = images
    return {k: v.to(device) for k, v in out.items()}
