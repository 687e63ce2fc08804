"""Protocol v1 as data: one JSON manifest per registered task plus ``suite.json``.

A task manifest (``vla_bench/protocol/v1/<env_id>.json``) fixes what an evaluation of that task
is: its step budget, the episode seeds of every split, and the perturbation set (axes and
levels, applied as wrappers to the same seeds as nominal). ``suite.json`` lists every task
manifest with its SHA-256 (the leaderboard's provenance), the held-out domains of the
``cross_domain`` split, the seed ranges and the default emergency stop.

Seeds: data generation and training use seeds ``0..9999``. Evaluation splits draw from
disjoint blocks of 10,000 (``test_seen`` 100000+, ``unseen_objects`` 110000+, …); the
``train`` split deliberately re-uses the first training seeds to measure fit to the training
distribution. ``cross_domain`` exists only for tasks placed in a held-out domain.

The files are generated from :data:`vla_bench.registry.TASKS`; after adding a task run::

    python -m vla_bench.evaluation.protocol --write

(``--check`` reports files that differ from the generator without writing.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError, UnknownNameError

VERSION = "v1"
MANIFEST_SCHEMA = "vla_bench.protocol.task/1"
SUITE_SCHEMA = "vla_bench.protocol.suite/1"
SUITE_NAME = "VLA-Bench-v1"  # the seeds' suite name (A:4526)
SUITE_FILE = "suite.json"
TRACKS_DIR = "tracks"  # leaderboard tracks (vla_bench.evaluation.tracks), generated alongside
EPISODES_PER_SPLIT = 100  # the seeds' protocol: 100 evaluation episodes (A:4307)
TRAINING_SEEDS = (0, 9_999)  # inclusive range datagen / training may use
SPLIT_SEED_BASE = {
    "train": 0,  # inside the training range on purpose (fit to training episodes)
    "test_seen": 100_000,
    "unseen_objects": 110_000,
    "unseen_phrasings": 120_000,
    "unseen_layouts": 130_000,
    "cross_domain": 140_000,
}
# Office holds both manipulation and navigation tasks, so holding it out tests transfer of
# both families to an unseen scene; the other three domains are the training domains.
HELD_OUT_DOMAINS = ("office",)
PERTURBATION_SPLIT = "test_seen"  # the split whose seeds the perturbation set is run on
DEFAULT_ESTOP = ("fall",)


@dataclass(frozen=True)
class TaskManifest:
    """One task's protocol (validated)."""

    env_id: str
    task: str
    domain: str
    family: str
    max_steps: int
    splits: Mapping[str, tuple[int, ...]]
    perturbations: tuple[tuple[str, tuple[float, ...]], ...]  # (axis, levels)
    perturbation_split: str = PERTURBATION_SPLIT
    version: str = VERSION

    def perturbation_names(self) -> list[str]:
        """Every ``"axis:level"`` of the perturbation set."""
        from vla_bench.evaluation.records import perturbation_name

        return [perturbation_name(axis, lv) for axis, levels in self.perturbations
                for lv in levels]


@dataclass(frozen=True)
class Suite:
    """The suite manifest (validated)."""

    tasks: tuple[str, ...]
    hashes: Mapping[str, str]
    held_out_domains: tuple[str, ...]
    estop: tuple[str, ...]
    version: str = VERSION


# -- generation ------------------------------------------------------------------------------

def protocol_dir(version: str = VERSION) -> Path:
    """The package directory holding a protocol version's JSON files."""
    if not re.fullmatch(r"v\d+", version):
        raise ConfigError(f"protocol version must look like 'v1', got {version!r}")
    return Path(__file__).resolve().parent.parent / "protocol" / version


def _perturbation_set(domain: str) -> list[dict[str, Any]]:
    """The perturbation axes (default levels) that can act in ``domain``."""
    from vla_bench.evaluation.perturbations import AXES
    from vla_bench.evaluation.perturbations.axes import CONTROL_GROUP

    # Language controls are run on request (--language-control), not as robustness conditions.
    return [{"axis": name, "group": axis.group, "levels": [float(v) for v in axis.levels]}
            for name, axis in AXES.items()
            if axis.supports(domain) and axis.group != CONTROL_GROUP]


def task_version(card: str) -> str:
    """The latest version in a task card's **Version history** (``"v2"``), so a manifest, and
    the suite's hash of it, changes whenever a task's behaviour does."""
    history = card.split("**Version history**", 1)
    versions = [int(v) for v in re.findall(r"\bv(\d+)\b", history[1])] if len(history) > 1 else []
    if not versions:
        raise ConfigError("a task card needs a **Version history** section with entries like "
                          "'v1 (2026-11): first release.'")
    return f"v{max(versions)}"


def task_manifest_data(entry: Any) -> dict[str, Any]:
    """The manifest dict of one registry entry."""
    from vla_bench.robots import get_robot

    splits = {}
    for split in cv.SPLITS:
        if split == "cross_domain" and entry.domain not in HELD_OUT_DOMAINS:
            continue
        base = SPLIT_SEED_BASE[split]
        splits[split] = list(range(base, base + EPISODES_PER_SPLIT))
    return {
        "schema": MANIFEST_SCHEMA, "protocol_version": VERSION, "env_id": entry.env_id,
        "task": entry.name, "task_version": task_version(entry.load().card()),
        # The robot is part of the test: results on another robot are not comparable.
        "robot": {"name": cv.DEFAULT_ROBOT, "model": get_robot(cv.DEFAULT_ROBOT).description},
        "domain": entry.domain, "family": entry.family,
        "max_steps": int(entry.max_episode_steps), "splits": splits,
        "perturbations": {"split": PERTURBATION_SPLIT, "axes": _perturbation_set(entry.domain)},
    }


def _dumps(obj: Any) -> str:
    text = json.dumps(obj, indent=2, allow_nan=False)
    # Seed and level lists on one line: readable files, clean diffs.
    return re.sub(r"\[\s*([-\d.,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]",
                  text) + "\n"


def generate() -> dict[str, str]:
    """File name -> text of every manifest of this protocol version, from the registry."""
    from vla_bench.registry import DOMAINS, TASKS

    files: dict[str, str] = {}
    for entry in TASKS:
        files[f"{entry.env_id}.json"] = _dumps(task_manifest_data(entry))
    suite = {
        "schema": SUITE_SCHEMA, "protocol_version": VERSION, "name": SUITE_NAME,
        "episodes_per_split": EPISODES_PER_SPLIT,
        "training_seeds": list(TRAINING_SEEDS),
        "split_seed_base": SPLIT_SEED_BASE,
        "cross_domain": {"held_out_domains": list(HELD_OUT_DOMAINS),
                         "train_domains": [d for d in DOMAINS if d not in HELD_OUT_DOMAINS]},
        "estop": list(DEFAULT_ESTOP),
        "tasks": [{"env_id": e.env_id, "manifest": f"{e.env_id}.json",
                   "sha256": hashlib.sha256(files[f"{e.env_id}.json"].encode()).hexdigest()}
                  for e in TASKS],
    }
    files[SUITE_FILE] = _dumps(suite)
    from vla_bench.evaluation.tracks import TRACKS, track_data

    manifests = [parse_manifest(json.loads(files[f"{e.env_id}.json"])) for e in TASKS]
    for track in TRACKS:
        files[f"{TRACKS_DIR}/{track}.json"] = _dumps(track_data(track, manifests, VERSION))
    return files


def _generated_files(root: Path) -> list[Path]:
    return [*root.glob("*.json"), *(root / TRACKS_DIR).glob("*.json")]


def write(root: Path | None = None) -> list[Path]:
    """Write the generated files (removing manifests of tasks no longer registered)."""
    root = root or protocol_dir()
    root.mkdir(parents=True, exist_ok=True)
    files = generate()
    (root / TRACKS_DIR).mkdir(exist_ok=True)
    for stale in _generated_files(root):
        if stale.relative_to(root).as_posix() not in files:
            stale.unlink()
    paths = []
    for name, text in files.items():
        path = root / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        paths.append(path)
    return paths


def check(root: Path | None = None) -> list[str]:
    """Names of files that are missing, stale or differ from the generator (empty: in sync)."""
    root = root or protocol_dir()
    files = generate()
    bad = [n for n, text in files.items()
           if not (root / n).exists() or (root / n).read_text() != text]
    bad += [p.relative_to(root).as_posix() for p in _generated_files(root)
            if p.relative_to(root).as_posix() not in files]
    return sorted(bad)


# -- loading ---------------------------------------------------------------------------------

def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"protocol file {path} does not exist; run "
                          "`python -m vla_bench.evaluation.protocol --write` after adding a task")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"protocol file {path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"protocol file {path} must hold a JSON object")
    return data


def _need(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: Path) -> Any:
    if key not in data:
        raise ConfigError(f"{path}: missing field {key!r}")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{path}: field {key!r} has type {type(value).__name__}")
    return value


def parse_manifest(data: Mapping[str, Any], path: Path = Path("<manifest>")) -> TaskManifest:
    """Validate a manifest dict and return it typed."""
    if data.get("schema") != MANIFEST_SCHEMA:
        raise ConfigError(f"{path}: schema {data.get('schema')!r}, expected {MANIFEST_SCHEMA!r}")
    version = _need(data, "protocol_version", str, path)
    env_id = _need(data, "env_id", str, path)
    max_steps = _need(data, "max_steps", int, path)
    if max_steps < 1:
        raise ConfigError(f"{path}: max_steps must be >= 1, got {max_steps}")
    raw_splits = _need(data, "splits", dict, path)
    splits: dict[str, tuple[int, ...]] = {}
    lo, hi = TRAINING_SEEDS
    for split, seeds in raw_splits.items():
        if split not in cv.SPLITS:
            raise UnknownNameError("split", split, cv.SPLITS)
        if (not isinstance(seeds, list) or not seeds
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                           for s in seeds)):
            raise ConfigError(f"{path}: split {split!r} must list non-negative integer seeds")
        if len(set(seeds)) != len(seeds):
            raise ConfigError(f"{path}: split {split!r} lists a seed twice")
        if split != "train" and any(lo <= s <= hi for s in seeds):
            raise ConfigError(f"{path}: split {split!r} uses training seeds ({lo}..{hi}); "
                              "evaluation seeds must be disjoint from them")
        splits[split] = tuple(seeds)
    evals = [set(s) for k, s in splits.items() if k != "train"]
    if evals and sum(map(len, evals)) != len(set().union(*evals)):
        raise ConfigError(f"{path}: evaluation splits share seeds; they must be disjoint")
    perts = _need(data, "perturbations", dict, path)
    axes = []
    for item in perts.get("axes", []):
        if not isinstance(item, dict) or not isinstance(item.get("axis"), str) or \
                not isinstance(item.get("levels"), list) or not item["levels"]:
            raise ConfigError(f"{path}: perturbation entries need 'axis' and non-empty 'levels'")
        axes.append((item["axis"], tuple(float(v) for v in item["levels"])))
    pert_split = perts.get("split", PERTURBATION_SPLIT)
    if pert_split not in splits:
        raise ConfigError(f"{path}: perturbation split {pert_split!r} is not one of its splits")
    return TaskManifest(env_id=env_id, task=_need(data, "task", str, path),
                        domain=_need(data, "domain", str, path),
                        family=_need(data, "family", str, path), max_steps=max_steps,
                        splits=splits, perturbations=tuple(axes),
                        perturbation_split=pert_split, version=version)


def load_suite(version: str = VERSION, root: Path | None = None) -> Suite:
    """The suite manifest, with every task manifest's hash checked."""
    root = root or protocol_dir(version)
    path = root / SUITE_FILE
    data = _read(path)
    if data.get("schema") != SUITE_SCHEMA:
        raise ConfigError(f"{path}: schema {data.get('schema')!r}, expected {SUITE_SCHEMA!r}")
    tasks = _need(data, "tasks", list, path)
    hashes = {}
    for item in tasks:
        if not isinstance(item, dict) or not {"env_id", "manifest", "sha256"} <= set(item):
            raise ConfigError(f"{path}: each task needs env_id, manifest and sha256")
        hashes[item["env_id"]] = item["sha256"]
    cross = _need(data, "cross_domain", dict, path)
    return Suite(tasks=tuple(hashes), hashes=hashes,
                 held_out_domains=tuple(cross.get("held_out_domains", ())),
                 estop=tuple(_need(data, "estop", list, path)), version=version)


def load_manifest(env_id: str, version: str = VERSION, root: Path | None = None
                  ) -> TaskManifest:
    """The validated manifest of a per-task env id."""
    root = root or protocol_dir(version)
    path = root / f"{env_id}.json"
    if not path.exists():
        from vla_bench.registry import TASKS

        task_ids = [t.env_id for t in TASKS]
        if env_id not in task_ids:
            raise UnknownNameError("task env id (protocol manifests are per task)", env_id,
                                   task_ids)
    data = _read(path)
    suite_path = root / SUITE_FILE
    if suite_path.exists():
        expected = load_suite(version, root).hashes.get(env_id)
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if expected is not None and expected != actual:
            raise ConfigError(f"{path} does not match its hash in {suite_path}: the manifest was "
                              "edited by hand; regenerate with `python -m "
                              "vla_bench.evaluation.protocol --write`")
    manifest = parse_manifest(data, path)
    if manifest.env_id != env_id:
        raise ConfigError(f"{path} describes {manifest.env_id!r}, not {env_id!r}")
    return manifest


def manifest_hashes(env_ids: Sequence[str], version: str = VERSION,
                    root: Path | None = None) -> dict[str, str]:
    """SHA-256 of each task manifest file (for provenance in run configs)."""
    root = root or protocol_dir(version)
    return {e: hashlib.sha256((root / f"{e}.json").read_bytes()).hexdigest() for e in env_ids}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vla_bench.evaluation.protocol --write|--check``."""
    parser = argparse.ArgumentParser(prog="python -m vla_bench.evaluation.protocol",
                                     description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="(re)generate the manifests")
    group.add_argument("--check", action="store_true", help="report out-of-date manifests")
    args = parser.parse_args(argv)
    if args.write:
        paths = write()
        print(f"wrote {len(paths)} files to {protocol_dir()}")
        return 0
    bad = check()
    if bad:
        print("out of date: " + ", ".join(bad) + "\nrun: python -m vla_bench.evaluation.protocol "
              "--write", file=sys.stderr)
        return 1
    print(f"{protocol_dir()}: in sync with the registry")
    return 0


if __name__ == "__main__":
    sys.exit(main())
