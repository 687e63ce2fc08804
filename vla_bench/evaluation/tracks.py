"""Leaderboard tracks: fixed, versioned episode lists drawn from a protocol version.

A track is the unit a leaderboard ranks on: every entry of a track ran exactly the same
episodes, ``(env id, split, perturbation, seed)``. Two tracks are defined from protocol v1:

- ``lite``: one task per domain where the words decide the goal, affordable on a CPU (about an
  hour on 2 cores with 2 workers for a policy that uses the whole step budget): 50
  ``test_seen`` seeds, 10 of every held-out split, two perturbations and the shuffled-
  instruction control on the first ``test_seen`` seeds (so robustness and language gain pair
  with nominal episodes).
- ``full``: every task, every split, 100 episodes each, the manifest's whole perturbation set
  and the shuffled-instruction control on ``test_seen``: meant for a Ray cluster.

The files (``vla_bench/protocol/<version>/tracks/<name>.json``) are generated with the protocol
(``python -m vla_bench.evaluation.protocol --write``); their SHA-256 is the track's identity in
a submission.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.evaluation.episode import EpisodeSpec
from vla_bench.evaluation.records import LANGUAGE_CONTROLS, NOMINAL, perturbation_name

SCHEMA = "vla_bench.track/1"
TRACKS = ("lite", "full")
LITE_TASKS = (
    "VLA-Kitchen-PlaceAppleInBasket-v1",
    "VLA-Workshop-PlaceBoltInContainer-v1",
    "VLA-Office-GoToPrinter-v1",
    "VLA-Outdoor-WalkToTree-v1",
)
LITE_NOMINAL = 50  # test_seen seeds
LITE_HELD_OUT = 10  # seeds of each held-out split
LITE_PERTURBED = 10  # first test_seen seeds under each perturbation
LITE_PERTURBATIONS = ("image_noise:0.05", "typos:0.05")
LITE_CONTROL = 20  # first test_seen seeds under the shuffled-instruction control
SHUFFLED = perturbation_name(LANGUAGE_CONTROLS["shuffled"], 1.0)


@dataclass(frozen=True)
class Track:
    """A loaded track: its identity and its episodes."""

    name: str
    version: int
    protocol_version: str
    sha256: str
    env_ids: tuple[str, ...]
    conditions: tuple[dict[str, Any], ...]  # {"env_id", "split", "perturbation", "seeds"}

    def identity(self) -> dict[str, Any]:
        """What a run config and a submission record about the track."""
        return {"name": self.name, "version": self.version,
                "protocol_version": self.protocol_version, "sha256": self.sha256}

    def specs(self) -> list[EpisodeSpec]:
        """The track's episodes, in file order."""
        from vla_bench.evaluation import protocol

        out = []
        for cond in self.conditions:
            m = protocol.load_manifest(cond["env_id"], self.protocol_version)
            out += [EpisodeSpec(m.env_id, m.task, m.domain, m.family, cond["split"],
                                cond["perturbation"], int(seed), m.max_steps)
                    for seed in cond["seeds"]]
        return out


def planned_specs(track: Track, env_kwargs: dict[str, Any]) -> tuple[list[EpisodeSpec],
                                                                       list[str]]:
    """The episodes a run of ``track`` with ``env_kwargs`` must hold, and notes on what was left
    out: conditions whose axis needs an observation the run has not (``image_noise`` without
    cameras) and conditions that cannot act on a task (``drop_not_applicable``). The runner
    plans with it and the leaderboard checks completeness with it, so both agree."""
    from vla_bench.evaluation.backends import drop_not_applicable
    from vla_bench.evaluation.runner import _applicable, observation_keys

    obs_keys = observation_keys(env_kwargs.get("cameras", ()))
    specs, notes, seen = [], [], set()
    for spec in track.specs():
        if spec.perturbation != NOMINAL and not _applicable(spec.perturbation, spec.domain,
                                                            obs_keys):
            if (spec.env_id, spec.perturbation) not in seen:
                seen.add((spec.env_id, spec.perturbation))
                notes.append(f"{spec.env_id}: {spec.perturbation} needs an observation this "
                             "run does not produce")
            continue
        specs.append(spec)
    specs, dropped = drop_not_applicable(specs, env_kwargs)
    return specs, notes + dropped


def _condition(env_id: str, split: str, perturbation: str, seeds: Sequence[int]
               ) -> dict[str, Any]:
    return {"env_id": env_id, "split": split, "perturbation": perturbation,
            "seeds": [int(s) for s in seeds]}


def lite_conditions(manifest: Any) -> list[dict[str, Any]]:
    """The lite track's conditions of one task manifest."""
    m = manifest
    test = m.splits["test_seen"]
    out = [_condition(m.env_id, "test_seen", NOMINAL, test[:LITE_NOMINAL])]
    for split, seeds in m.splits.items():
        if split not in ("train", "test_seen"):
            out.append(_condition(m.env_id, split, NOMINAL, seeds[:LITE_HELD_OUT]))
    for pert in LITE_PERTURBATIONS:
        out.append(_condition(m.env_id, "test_seen", pert, test[:LITE_PERTURBED]))
    out.append(_condition(m.env_id, "test_seen", SHUFFLED, test[:LITE_CONTROL]))
    return out


def full_conditions(manifest: Any) -> list[dict[str, Any]]:
    """The full track's conditions of one task manifest."""
    m = manifest
    out = [_condition(m.env_id, split, NOMINAL, seeds)
           for split, seeds in m.splits.items() if split != "train"]
    test = m.splits[m.perturbation_split]
    out += [_condition(m.env_id, m.perturbation_split, p, test) for p in m.perturbation_names()]
    out.append(_condition(m.env_id, "test_seen", SHUFFLED, m.splits["test_seen"]))
    return out


def track_data(name: str, manifests: Sequence[Any], version: str) -> dict[str, Any]:
    """The JSON object of track ``name`` over ``manifests`` (generator)."""
    if name == "lite":
        by_id = {m.env_id: m for m in manifests}
        chosen = [by_id[e] for e in LITE_TASKS]
        conditions = [c for m in chosen for c in lite_conditions(m)]
        description = ("One task per domain where the words decide the goal; CPU-affordable "
                       "(about an hour on 2 cores with 2 workers).")
    elif name == "full":
        chosen = list(manifests)
        conditions = [c for m in chosen for c in full_conditions(m)]
        description = ("Every task, every split, 100 episodes each, the perturbation set and "
                       "the shuffled-instruction control on test_seen; meant for Ray.")
    else:
        raise UnknownNameError("track", name, TRACKS)
    return {"schema": SCHEMA, "name": name, "version": 1, "protocol_version": version,
            "description": description, "env_ids": [m.env_id for m in chosen],
            "conditions": conditions}


def load_track(name: str, version: str | None = None) -> Track:
    """Track ``name`` of protocol ``version`` (default: the current one), hash-identified."""
    from vla_bench.evaluation import protocol

    version = version or protocol.VERSION
    if name not in TRACKS:
        raise UnknownNameError("track", name, TRACKS)
    path = protocol.protocol_dir(version) / "tracks" / f"{name}.json"
    if not path.exists():
        raise ConfigError(f"no track file {path}: run `python -m vla_bench.evaluation.protocol "
                          "--write`")
    text = path.read_text()
    data = json.loads(text)
    if data.get("schema") != SCHEMA or data.get("name") != name:
        raise ConfigError(f"{path} is not a {SCHEMA} file for track {name!r}")
    return Track(name=name, version=int(data["version"]),
                 protocol_version=str(data["protocol_version"]),
                 sha256=hashlib.sha256(text.encode()).hexdigest(),
                 env_ids=tuple(data["env_ids"]),
                 conditions=tuple(data["conditions"]))
