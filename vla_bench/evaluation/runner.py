"""``evaluate``: run a policy over protocol manifests, stream records, resume, report.

What an evaluation is: for every selected task manifest, every requested split, the first
``episodes_per_task`` seeds of that split, under every requested perturbation ("nominal" is no
wrapper; each ``"axis:level"`` wraps the env for the same seeds). Each finished episode is one
line of ``<out_dir>/episodes.jsonl`` (flushed and fsynced), so a run killed midway and re-run
with the same ``out_dir`` skips finished episodes and repeats none. The resolved config is kept
in ``run_config.json``; a re-run whose settings would change the records is refused. At the end
the metrics engineer's ``write_reports`` turns every record of the run directory into
``aggregate.json``, ``report.md`` and ``report.html``.

Resume is refused when anything that shapes the records differs (policy, its target and
kwargs, env kwargs, protocol version and manifest hashes, package version); a lock file keeps
two runs out of one directory. A ``baseline_dir`` must match the run's config too.

Privilege: a policy is privileged only when the policy registry lists its target as such (the
expert); the run config, ``aggregate.json`` and the reports say so. Others never see the env.

Observation: the protocol's head RGB-D camera at 224x224, unless the policy declares the
cameras it needs (a ``cameras`` attribute on its factory; the built-ins need none) or the
caller passes ``cameras``. The run config records what was used.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.evaluation import protocol
from vla_bench.evaluation.episode import EpisodeSpec
from vla_bench.evaluation.records import (
    NOMINAL,
    RecordLog,
    parse_perturbation,
    perturbation_name,
    read_records,
)

EPISODES_FILE = "episodes.jsonl"
CONFIG_FILE = "run_config.json"
VIDEO_DIR = "videos"
DEFAULT_CAMERAS = cv.DEFAULT_CAMERAS
DEFAULT_POLICY_TIMEOUT_S = 60.0
ALL_PERTURBATIONS = "all"  # "nominal" plus each manifest's perturbation set
# Settings that change what an episode's record holds: a resumed run must keep them.
IDENTITY_KEYS = ("policy_name", "policy_kwargs", "policy_target", "privileged",
                 "protocol_version", "package_version", "env_kwargs", "estop", "max_steps")
LOCK_FILE = ".run.lock"
# env kwargs that only shape the observation: a baseline (the expert, which needs no images)
# may differ in them from the run it is compared with.
OBSERVATION_KWARGS = ("cameras", "image_size")


@dataclass
class EvalResult:
    """What :func:`evaluate` did."""

    run_dir: Path
    records: list[dict[str, Any]]  # every record in the run directory
    new: int  # episodes run now
    skipped: int  # planned episodes already in the log (resume)
    reports: dict[str, Path]
    config: dict[str, Any]


# -- planning --------------------------------------------------------------------------------

def resolve_tasks(env_ids: Sequence[str] | None) -> list[str]:
    """Per-task env ids: all registered tasks for ``None``; domain/family ids expand."""
    from vla_bench.registry import DOMAINS, FAMILIES, TASKS, domain_env_id, tasks_of
    from vla_bench.registry import env_ids as all_ids

    if env_ids is None:
        return [t.env_id for t in TASKS]
    groups = {domain_env_id(g): g for g in DOMAINS + FAMILIES}
    out: list[str] = []
    for env_id in env_ids:
        if env_id in groups:
            ids = [t.env_id for t in tasks_of(groups[env_id])]
        elif env_id in all_ids():
            ids = [env_id]
        else:
            raise UnknownNameError("environment id", env_id, all_ids())
        out += [i for i in ids if i not in out]
    return out


def plan(manifests: Sequence[protocol.TaskManifest], splits: Sequence[str],
         perturbations: Sequence[str], episodes_per_task: int | None,
         max_steps: int | None, obs_keys: Sequence[str] = ()) -> tuple[list[EpisodeSpec],
                                                                     list[str]]:
    """The ordered episode list of a run (deterministic) and notes on what was left out.

    ``"all"`` expands, for each task, to nominal plus the manifest's perturbation set on the
    manifest's perturbation split (nominal only on the other splits), keeping the axes that can
    act on this run's observation (``obs_keys``). An explicit ``"axis:level"`` runs on every
    requested split; tasks in a domain where the axis has no effect skip it (noted).
    """
    for split in splits:
        if split not in cv.SPLITS:
            raise UnknownNameError("split", split, cv.SPLITS)
    if not any(s in m.splits for m in manifests for s in splits):
        raise ConfigError(f"none of the selected tasks defines split(s) {list(splits)} (e.g. "
                          "cross_domain exists only for tasks in held-out domains; see "
                          "suite.json)")
    if episodes_per_task is not None and episodes_per_task < 1:
        raise ConfigError(f"episodes_per_task must be >= 1, got {episodes_per_task}")
    if max_steps is not None and max_steps < 1:
        raise ConfigError(f"max_steps must be >= 1, got {max_steps}")
    explicit = _check_perturbations(perturbations, obs_keys)
    notes: list[str] = []
    specs = []
    for m in manifests:
        steps = m.max_steps if max_steps is None else min(max_steps, m.max_steps)
        for split in splits:
            if split not in m.splits:
                notes.append(f"{m.env_id}: no {split!r} split")
                continue
            seeds = m.splits[split][:episodes_per_task]
            perts: list[str] = []
            for name in perturbations:
                if name == NOMINAL:
                    new = [NOMINAL]
                elif name == ALL_PERTURBATIONS:
                    new = [NOMINAL]
                    if split == m.perturbation_split:
                        new += [p for p in m.perturbation_names()
                                if _applicable(p, m.domain, obs_keys)]
                else:
                    new = [explicit[name]]
                    if not _applicable(new[0], m.domain, obs_keys):
                        notes.append(f"{m.env_id}: {new[0]} has no effect in {m.domain!r}")
                        new = []
                perts += [p for p in new if p not in perts]
            for pert in perts:
                for seed in seeds:
                    specs.append(EpisodeSpec(m.env_id, m.task, m.domain, m.family, split, pert,
                                             int(seed), steps))
    return specs, notes


def _check_perturbations(names: Sequence[str], obs_keys: Sequence[str]) -> dict[str, str]:
    """Validate explicit ``"axis:level"`` names up front; return their canonical spelling."""
    out = {}
    for name in names:
        if name in (NOMINAL, ALL_PERTURBATIONS):
            continue
        from vla_bench.evaluation.perturbations import get_axis

        axis_name, level = parse_perturbation(name)
        axis = get_axis(axis_name)
        axis.validate(int(level) if axis.integer and float(level).is_integer() else level)
        missing = [k for k in axis.needs if k not in obs_keys]
        if missing:
            raise ConfigError(f"perturbation {name!r} acts on {missing}, which this run's "
                              f"observation lacks (cameras={_cameras_of(obs_keys)}); pass "
                              "cameras=('head',) (CLI: --cameras head)")
        out[name] = perturbation_name(axis_name, level)
    return out


def _cameras_of(obs_keys: Sequence[str]) -> str:
    return "()" if cv.OBS_RGB not in obs_keys else "('head', ...)"


def _applicable(name: str, domain: str, obs_keys: Sequence[str]) -> bool:
    from vla_bench.evaluation.perturbations import get_axis

    axis_name, _ = parse_perturbation(name)
    axis = get_axis(axis_name)
    return axis.supports(domain) and all(k in obs_keys for k in axis.needs)


def observation_keys(cameras: Sequence[str]) -> list[str]:
    """The observation keys an env built with ``cameras`` produces (primary camera's)."""
    keys = [cv.OBS_STATE, cv.OBS_INSTRUCTION]
    return ([cv.OBS_RGB, cv.OBS_DEPTH] if cameras else []) + keys


# -- running ---------------------------------------------------------------------------------

def evaluate(
    policy: str | Callable[..., Any],
    *,
    out_dir: str | Path,
    tasks: Sequence[str] | None = None,
    splits: Sequence[str] = ("test_seen",),
    perturbations: Sequence[str] = (NOMINAL,),
    episodes_per_task: int | None = None,
    workers: int = 1,
    backend: str = "process",
    video: bool = False,
    estop: Sequence[str] | None = None,
    policy_timeout_s: float | None = DEFAULT_POLICY_TIMEOUT_S,
    policy_kwargs: Mapping[str, Any] | None = None,
    policy_name: str | None = None,
    max_steps: int | None = None,
    cameras: Sequence[str] | None = None,
    image_size: Sequence[int] = cv.DEFAULT_IMAGE_SIZE,
    env_kwargs: Mapping[str, Any] | None = None,
    protocol_version: str = protocol.VERSION,
    ray_address: str | None = None,
    baseline_dir: str | Path | None = None,
    compare_expert: bool = False,
    progress: bool = True,
    reports: bool = True,
    retry_errors: bool = False,
    track: str | None = None,
) -> EvalResult:
    """Evaluate a policy under the protocol; see the module docstring.

    Args:
        policy: a registered name (``"expert"``, ``"random"``, ``"noop"``, an entry point, or
            ``"module:factory"``), a factory callable, or a policy object (the latter two
            must be picklable for ``workers > 1``).
        out_dir: the run directory (re-run with the same one to resume).
        tasks: env ids (per task, or domain/family ids that expand to their tasks); ``None``:
            the whole suite.
        splits: protocol splits; tasks without a split (``cross_domain``) skip it.
        perturbations: ``"nominal"``, ``"axis:level"`` strings, or ``"all"`` (nominal plus each
            manifest's perturbation set); all run on the same seeds.
        episodes_per_task: the first N seeds of each split (``None``: all, 100).
        workers: parallel workers (processes, or Ray actors).
        backend: ``"process"`` or ``"ray"``.
        video: record third-person mp4s under ``<out_dir>/videos/``.
        estop: safety categories that stop an episode at once (default: the suite's,
            ``["fall"]``; ``[]`` disables).
        policy_timeout_s: per-call limit for the policy's methods (``None``: no limit and no
            helper thread).
        max_steps: shorten every task's step budget (never lengthens it).
        cameras / image_size / env_kwargs: the observation and other env kwargs.
        ray_address: a Ray cluster to join (default: a local instance).
        baseline_dir: a run directory of the traditional controller (the expert) on the same
            manifest; its records add the comparison to the reports. Its config must match
            this run's (:func:`check_baseline`), checked before any episode runs.
        compare_expert: also run the scripted expert on the same nominal episodes, with this
            run's env kwargs (into ``<out_dir>/expert_baseline``, resumable too) and use it
            as ``baseline_dir``.
        retry_errors: on resume, run again the episodes recorded with a policy error or
            timeout (a policy server that was down, a crashed model), replacing their records;
            simulator errors and ordinary failures stand.
        track: run a leaderboard track's fixed episode list (``"lite"``, ``"full"``;
            :mod:`vla_bench.evaluation.tracks`) instead of ``tasks``/``splits``/
            ``perturbations``/``episodes_per_task``, which must then stay at their defaults;
            the run can be packed with ``vla-bench submit``.
    """
    from vla_bench import __version__
    from vla_bench.evaluation.backends import BACKENDS
    from vla_bench.policies.registry import (
        PrivilegedFactory,
        is_privileged,
        is_privileged_target,
        load_factory,
        resolve_target,
    )

    if backend not in BACKENDS:
        raise UnknownNameError("backend", backend, BACKENDS)
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    if policy_timeout_s is not None and not policy_timeout_s > 0:
        raise ConfigError(f"policy_timeout_s must be > 0 or None, got {policy_timeout_s}")
    from vla_bench.policies.base import Policy

    if isinstance(policy, str):
        target: Any = resolve_target(policy)
        name = policy_name or policy
        privileged = is_privileged_target(target)
    elif isinstance(policy, Policy) and not isinstance(policy, type):
        privileged = is_privileged(policy)
        # An already built policy: every episode uses this object.
        target = _Instance(policy, privileged)
        name = policy_name or type(policy).__name__
    elif callable(policy):
        target = policy
        name = policy_name or getattr(policy, "__name__", type(policy).__name__)
        privileged = is_privileged_target(policy)
    else:
        raise ConfigError(f"policy must be a registered name or a factory, got {policy!r}")
    target_id = _target_id(target)
    if privileged and not isinstance(target, _Instance):
        target = PrivilegedFactory(target)  # the privilege travels with it to the workers
    factory = load_factory(target)
    _check_kwargs(factory, name, policy_kwargs or {})
    suite = protocol.load_suite(protocol_version)
    estop = tuple(suite.estop if estop is None else estop)
    for cat in estop:
        if cat not in cv.SAFETY_CATEGORIES:
            raise UnknownNameError("safety category (estop)", cat, cv.SAFETY_CATEGORIES)
    if cameras is None:
        cameras = getattr(factory, "cameras", None)
        cameras = DEFAULT_CAMERAS if cameras is None else cameras
    from vla_bench.env import CAMERAS

    for cam in cameras:  # here, not in a worker process where the error is harder to read
        if cam not in CAMERAS:
            raise UnknownNameError("camera", cam, CAMERAS)
    env_kw: dict[str, Any] = {"cameras": list(cameras), "image_size": [int(v) for v in image_size]}
    env_kw.update(dict(env_kwargs or {}))
    if "split" in env_kw or "render_mode" in env_kw:
        raise ConfigError("env_kwargs must not set 'split' or 'render_mode' (use splits=, video=)")

    splits = list(dict.fromkeys(splits))  # a split named twice runs once
    track_id = None
    if track is not None:
        specs, notes, env_ids, track_id = _track_plan(
            track, protocol_version, tasks, splits, perturbations, episodes_per_task, max_steps,
            env_kw)
    else:
        env_ids = resolve_tasks(tasks)
        manifests = [protocol.load_manifest(e, protocol_version) for e in env_ids]
        specs, notes = plan(manifests, list(splits), list(perturbations), episodes_per_task,
                            max_steps, observation_keys(env_kw["cameras"]))
    from vla_bench.evaluation.backends import drop_not_applicable  # no-op conditions (mass…)

    specs, dropped = drop_not_applicable(specs, env_kw)
    notes += dropped
    if not specs:
        raise ConfigError("nothing to run: " + "; ".join(notes))

    run_dir = Path(out_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "policy_name": name,
        "policy_kwargs": dict(policy_kwargs or {}),
        "policy_target": target_id,
        "privileged": privileged,
        "protocol_version": protocol_version,
        "package_version": __version__,
        "env_kwargs": env_kw,
        "estop": list(estop),
        "max_steps": max_steps,
        "manifest_hashes": protocol.manifest_hashes(env_ids, protocol_version),
    }
    if track_id is not None:
        config["track"] = track_id
    try:
        json.dumps(config)  # kwargs must be JSON: they are part of the run's provenance
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"policy_kwargs and env_kwargs must be JSON-serialisable ({exc})"
                          ) from exc
    with RunLock(run_dir):
        return _evaluate_locked(
            run_dir, config, specs, notes, name=name, target=target, policy_kwargs=policy_kwargs,
            env_ids=env_ids, splits=splits, episodes_per_task=episodes_per_task,
            backend=backend, workers=workers, video=video, policy_timeout_s=policy_timeout_s,
            estop=estop, env_kw=env_kw, image_size=image_size, max_steps=max_steps,
            protocol_version=protocol_version, ray_address=ray_address,
            baseline_dir=baseline_dir, compare_expert=compare_expert, progress=progress,
            reports=reports, retry_errors=retry_errors)


def _track_plan(track: str, protocol_version: str, tasks: Sequence[str] | None,
                splits: Sequence[str], perturbations: Sequence[str],
                episodes_per_task: int | None, max_steps: int | None,
                env_kw: dict[str, Any]
                ) -> tuple[list[EpisodeSpec], list[str], list[str], dict[str, Any]]:
    """A track's episodes (the track fixes what runs: no other selection may be given)."""
    from vla_bench.evaluation.tracks import load_track, planned_specs

    given = [name for name, value, default in (
        ("tasks", tasks, None), ("splits", list(splits), ["test_seen"]),
        ("perturbations", list(perturbations), [NOMINAL]),
        ("episodes_per_task", episodes_per_task, None), ("max_steps", max_steps, None))
        if value != default]
    if given:
        raise ConfigError(f"a track fixes its episodes: drop {', '.join(given)} "
                          f"(CLI: --env/--suite, --split, --perturb, --episodes, --max-steps)")
    t = load_track(track, protocol_version)
    specs, notes = planned_specs(t, env_kw)
    return specs, notes, list(t.env_ids), t.identity()


def _evaluate_locked(run_dir: Path, config: dict[str, Any], specs: list[EpisodeSpec],
                     notes: list[str], *, name: str, target: Any,
                     policy_kwargs: Mapping[str, Any] | None, env_ids: list[str],
                     splits: list[str], episodes_per_task: int | None, backend: str,
                     workers: int, video: bool, policy_timeout_s: float | None,
                     estop: tuple[str, ...], env_kw: dict[str, Any], image_size: Sequence[int],
                     max_steps: int | None, protocol_version: str, ray_address: str | None,
                     baseline_dir: str | Path | None, compare_expert: bool, progress: bool,
                     reports: bool, retry_errors: bool) -> EvalResult:
    """The part of :func:`evaluate` that runs while it holds the run directory's lock."""
    from tqdm import tqdm

    from vla_bench.evaluation.backends import WorkerConfig, iter_records

    if compare_expert and baseline_dir is not None:
        raise ConfigError("give either baseline_dir or compare_expert, not both")
    if baseline_dir is not None:
        check_baseline(baseline_dir, config)  # before any episode runs
    previous = _check_resume(run_dir, config)
    config.update({
        "policy": {"name": name, "target": config["policy_target"],
                   "kwargs": dict(policy_kwargs or {}), "num_parameters": None,
                   "privileged": config["privileged"]},
        "suite": protocol.SUITE_NAME,
        "tasks": env_ids, "splits": list(splits),
        "perturbations": sorted({s.perturbation for s in specs}),
        "episodes_per_task": episodes_per_task, "backend": backend, "workers": workers,
        "video": video, "policy_timeout_s": policy_timeout_s,
        "episodes_planned": len(specs), "notes": notes,
    })
    _write_json(run_dir / CONFIG_FILE, config)

    log = RecordLog(run_dir / EPISODES_FILE)
    if retry_errors:
        planned = {s.key for s in specs}
        retried = log.drop({k for k, r in log.records.items()
                            if k in planned and is_policy_error(r)})
        if retried:
            config.setdefault("notes", []).append(
                f"{retried} episode(s) recorded with a policy error or timeout were run again "
                "(retry_errors)")
    todo = [s for s in specs if s.key not in log]
    skipped = len(specs) - len(todo)
    meta: dict[str, Any] = {}
    worker_cfg = WorkerConfig(
        policy_name=name, policy_target=target, policy_kwargs=dict(policy_kwargs or {}),
        env_kwargs=env_kw, estop=estop, policy_timeout_s=policy_timeout_s,
        video_dir=str(run_dir / VIDEO_DIR) if video else None, run_dir=str(run_dir))
    bar = tqdm(total=len(specs), initial=skipped, desc=f"eval {name}", unit="ep",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    n_ok = n_done = 0
    try:
        if todo:
            for record in iter_records(backend, worker_cfg, todo, workers, meta, ray_address):
                log.append(record)
                n_done += 1
                n_ok += int(record["success"])
                bar.set_postfix_str(f"success {n_ok}/{n_done}", refresh=False)
                bar.update()
    finally:
        bar.close()
        log.close()
    if not meta and previous:  # nothing ran now: keep what the workers reported last time
        meta = {"num_parameters": previous.get("policy", {}).get("num_parameters")}
    # Privilege is the registry's word (decided above), never what the policy says of itself.
    config["policy"]["num_parameters"] = meta.get("num_parameters")
    config["episodes_in_run"] = len(log.records)
    _write_json(run_dir / CONFIG_FILE, config)
    records = list(log.records.values())
    if compare_expert:
        baseline_dir = run_dir / "expert_baseline"
        # The same env as the run (control mode, robot, randomisation...); only the
        # observation may differ, as the expert needs no images.
        evaluate("expert", out_dir=baseline_dir, tasks=env_ids, splits=splits,
                 episodes_per_task=episodes_per_task, workers=workers, backend=backend,
                 estop=estop, max_steps=max_steps, protocol_version=protocol_version,
                 image_size=image_size,
                 env_kwargs={k: v for k, v in env_kw.items() if k not in OBSERVATION_KWARGS},
                 ray_address=ray_address, progress=progress, reports=False)
    baseline = None
    if baseline_dir is not None:
        baseline = load_baseline(baseline_dir, config, records)
    paths: dict[str, Path] = {}
    if reports:
        paths = _write_reports(run_dir, records, config, baseline)
    return EvalResult(run_dir, records, n_done, skipped, paths, config)


class _Instance:
    """A factory that returns one given policy object (picklable if the policy is).

    ``privileged`` is decided by the runner from the registry in the calling process and
    restored on the (possibly unpickled) object in a worker.
    """

    def __init__(self, policy: Any, privileged: bool = False) -> None:
        self.policy = policy
        self.privileged = privileged
        self.cameras = getattr(policy, "cameras", None)

    def __call__(self) -> Any:
        if self.privileged:
            from vla_bench.policies.registry import _mark_privileged

            _mark_privileged(self.policy)
        return self.policy

    def __repr__(self) -> str:
        return f"instance of {type(self.policy).__module__}.{type(self.policy).__qualname__}"


def _check_kwargs(factory: Callable[..., Any], name: str, kwargs: Mapping[str, Any]) -> None:
    """Catch misspelt policy kwargs before any worker starts."""
    import inspect

    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins or C callables: let the factory judge
        return
    try:
        sig.bind(**kwargs)
    except TypeError as exc:
        params = [p for p in sig.parameters if p not in ("self", "args", "kwargs")]
        raise ConfigError(f"policy {name!r}: bad kwargs {sorted(kwargs)} ({exc}); it accepts "
                          f"{params}") from exc


def _target_id(target: Any) -> str:
    """A spelling of the policy target that is the same in every process (no addresses)."""
    if isinstance(target, str):
        return target
    if isinstance(target, _Instance):
        return repr(target)
    module = getattr(target, "__module__", None) or type(target).__module__
    qualname = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}:{qualname}"


def _config_diff(old: Mapping[str, Any], new: Mapping[str, Any],
                 keys: Sequence[str]) -> list[str]:
    """``"key: old -> new"`` for each differing key; manifest hashes are compared on the
    tasks both name (a run may grow by tasks)."""
    diff = []
    for k in keys:
        a, b = old.get(k), new.get(k)
        if k == "manifest_hashes" and isinstance(a, dict) and isinstance(b, dict):
            changed = sorted(e for e in set(a) & set(b) if a[e] != b[e])
            if changed:
                diff.append(f"manifest_hashes: the manifests of {changed} changed")
        elif a != b:
            diff.append(f"{k}: {a!r} -> {b!r}")
    return diff


POLICY_ERROR_PREFIXES = ("policy_error", "policy_timeout")


def is_policy_error(record: Mapping[str, Any]) -> bool:
    """An episode ended by its policy raising or timing out (not by the task or the physics)."""
    return str(record.get("failure_reason") or "").startswith(POLICY_ERROR_PREFIXES)


def _check_resume(run_dir: Path, config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The previous run's config when resuming; refuse settings that change records."""
    path = run_dir / CONFIG_FILE
    log = run_dir / EPISODES_FILE
    if not path.exists() or not log.exists() or not read_records(log):
        return None  # nothing finished yet: the settings may still change
    old = json.loads(path.read_text())
    diff = _config_diff(old, config, (*IDENTITY_KEYS, "manifest_hashes", "track"))
    if diff:
        raise ConfigError(f"{run_dir} holds a run with other settings ({'; '.join(diff)}); "
                          "resuming would mix incomparable episodes. Use another --out "
                          "directory")
    return old


def check_baseline(baseline_dir: str | Path, config: Mapping[str, Any]) -> None:
    """Refuse a baseline run that is not comparable with this run's ``config``: it must share
    the protocol (version and manifests), package version, env kwargs (except the
    observation's cameras and image size), e-stops and step budget."""
    base = Path(baseline_dir)
    path, cfg_path = base / EPISODES_FILE, base / CONFIG_FILE
    if not path.exists():
        raise ConfigError(f"baseline run {base} has no {EPISODES_FILE}")
    if not cfg_path.exists():
        raise ConfigError(f"baseline run {base} has no {CONFIG_FILE}, so it cannot be checked "
                          "to match this run; re-run the baseline with this vla_bench version")
    old = dict(json.loads(cfg_path.read_text()))
    new = dict(config)
    for cfg in (old, new):
        cfg["env_kwargs"] = {k: v for k, v in dict(cfg.get("env_kwargs") or {}).items()
                             if k not in OBSERVATION_KWARGS}
    diff = _config_diff(old, new, ("protocol_version", "package_version", "manifest_hashes",
                                   "env_kwargs", "estop", "max_steps"))
    if diff:
        raise ConfigError(f"baseline run {base} does not match this run ({'; '.join(diff)}); "
                          "its episodes are not comparable: re-run the baseline with this run's "
                          "settings (or use --compare-expert)")


def load_baseline(baseline_dir: str | Path, config: Mapping[str, Any],
                  records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The records of a baseline run checked by :func:`check_baseline`, which must share
    nominal episodes with this run's ``records``."""
    check_baseline(baseline_dir, config)
    base = Path(baseline_dir)
    baseline = read_records(base / EPISODES_FILE)
    ours = {r["key"] for r in records if r["perturbation"] == NOMINAL}
    if ours and not any(r["key"] in ours for r in baseline):
        raise ConfigError(f"baseline run {base} shares no nominal episode with this run (other "
                          "tasks, splits or seeds); run it on the same manifest episodes")
    return baseline


class RunLock:
    """An exclusive lock on a run directory (``.run.lock``), released when the holder exits
    or dies, so two runs never append to one ``episodes.jsonl``."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock_fd(fd)
        except OSError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise ConfigError(f"{self.path.parent} is in use by another run ({holder}); wait "
                              "for it to finish or use another --out directory") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {platform.node()}".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            _unlock_fd(self._fd)
            os.close(self._fd)
            self._fd = None


def _lock_fd(fd: int) -> None:
    """Take an exclusive, non-blocking lock; ``OSError`` when another holder has it."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock_fd(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)


def _write_reports(run_dir: Path, records: list[dict[str, Any]], config: dict[str, Any],
                   baseline: list[dict[str, Any]] | None) -> dict[str, Path]:
    try:
        from vla_bench.evaluation.report import write_reports
    except ImportError as exc:
        warnings.warn(f"reports skipped: vla_bench.evaluation.report is not available ({exc}); "
                      f"the episode records are in {run_dir / EPISODES_FILE}", stacklevel=3)
        return {}
    if baseline is None:
        return write_reports(run_dir, records, config)
    return write_reports(run_dir, records, config, baseline_records=baseline)


# -- summary ---------------------------------------------------------------------------------

def summary_rows(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Per (env id, split, perturbation): episodes, success, mean steps, stops and errors."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["env_id"], r["split"], r["perturbation"]), []).append(r)
    rows = []
    for (env_id, split, pert), rs in sorted(groups.items()):
        n = len(rs)
        ok = sum(r["success"] for r in rs)
        unsafe = sum(any(v > 0 for v in r["safety_steps"].values()) for r in rs)
        errors = sum(r["failure_reason"].startswith(("policy_error", "policy_timeout",
                                                     "sim_error")) for r in rs)
        rows.append((env_id, split, pert, str(n), f"{ok / n:.0%} ({ok}/{n})",
                     f"{sum(r['steps'] for r in rs) / n:.0f}",
                     f"{unsafe / n:.0%}", str(sum(r["estop"] for r in rs)), str(errors)))
    return rows


SUMMARY_HEADER = ("env id", "split", "perturbation", "episodes", "success", "mean steps",
                  "episodes with a safety cost", "e-stops", "errors")
