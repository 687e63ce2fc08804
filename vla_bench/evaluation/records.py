"""The episode record (schema ``vla_bench.episode/1``) and the ``episodes.jsonl`` log.

One JSON object per finished episode; the metrics read them back as plain dicts. Field by
field (units, definitions) this is the shared contract of the evaluator:

- ``key`` ``"<env_id>|<split>|<perturbation>|<seed>"`` identifies an episode (resume).
- success: ``success`` is ``is_success`` at the last step, ``success_ever`` is
  ``success_once``, ``success_step`` the first (1-based) step with ``is_success``.
- ``safety_steps`` counts the steps whose cost was 1 per category of
  :data:`vla_bench.conventions.SAFETY_CATEGORIES` (plus any further category the env reports);
  ``safety_rates`` divides by ``max(steps, 1)``; ``safety_max`` keeps the per-episode maxima of
  the env's ``safety_values`` (over the steps, not the reset state).
- ``path_length_m`` is the pelvis' horizontal path length from the reset pose.
- ``actions`` measures smoothness of the *executed* actions (clipped to [-1, 1], as the env
  executes them): temporal consistency ``1/(1+mean‖a_{t+1}−a_t‖)`` (the seed formula, 1.0 with
  fewer than two actions), ``mean_delta``, and jerk ``mean‖a_{t+3}−3a_{t+2}+3a_{t+1}−a_t‖·Hz³``
  (action units per s³; 0.0 with fewer than four actions).
- ``confidence`` is ``None`` when the policy reported none. Else ``mean`` / ``final`` / ``n``
  over the confidences it reported with its actions (each before that action's outcome), and
  ``episode``, the figure calibration scores: the last of those (``None`` without any).
  ``post_episode`` keeps what ``episode_confidence()`` answered after the episode ended:
  asked once the outcome is decided, it is never scored (it could just echo the outcome).
- ``instruction_override``: the text a user substituted for the episode's instruction
  (``reset(options={"instruction": ...})``, flagged by the env in
  ``info["instruction_override"]``), else ``None``; ``instruction`` is what the policy saw.
- ``hook_error``: a post-episode hook (``episode_confidence()``) that raised or timed out;
  the episode's outcome stands (``None`` when the hook ran fine or was absent).
- ``latency_ms`` summarises the wall time of each ``policy.act`` call; ``None`` when the policy
  was never called (it failed in ``bind``/``seed``/``reset``).
- ``social`` (tasks with simulated people) summarises ``info["social"]`` per step:
  ``facing_fraction`` is the fraction of steps with ``facing_cos >= FACING_COS`` (within 30°).
- ``estop``: the runner stopped the episode because a category in the run's ``estop`` list had
  cost 1; such episodes are failures with ``failure_reason = "estop: <category>"`` and count
  as ``terminated``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError, VlaBenchError

SCHEMA = "vla_bench.episode/1"
NOMINAL = "nominal"
# ``--language-control`` names and the perturbation axes that implement them
# (:mod:`vla_bench.evaluation.perturbations.language`), each run at level 1 (every episode).
LANGUAGE_CONTROLS = {"shuffled": "instruction_shuffled", "blank": "instruction_blank"}
FACING_COS = math.cos(math.radians(30.0))
SAFETY_MAX_KEYS = {"max_contact_force": "max_contact_force",
                   "max_joint_velocity": "max_joint_velocity",
                   "max_torque_ratio": "max_torque_ratio", "max_torso_tilt": "torso_tilt"}
RECORD_KEYS = (
    "schema", "key", "env_id", "task", "domain", "family", "split", "perturbation",
    "perturbation_axis", "perturbation_level", "seed", "policy", "instruction",
    "instruction_override", "success", "success_ever", "success_step", "steps", "max_steps",
    "terminated", "truncated", "failure_reason", "error", "hook_error", "estop", "estop_reason",
    "safety_steps", "safety_rates", "safety_max", "path_length_m", "duration_s", "actions",
    "confidence", "latency_ms", "social", "wall_time_s", "video",
)
TIMING_KEYS = ("latency_ms", "wall_time_s")  # the only fields that vary between identical runs


class RecordLogError(VlaBenchError, ValueError):
    """An ``episodes.jsonl`` that cannot be read back (corrupted in the middle)."""


def episode_key(env_id: str, split: str, perturbation: str, seed: int) -> str:
    """The unique key of an episode."""
    return f"{env_id}|{split}|{perturbation}|{int(seed)}"


def parse_perturbation(name: str) -> tuple[str | None, float | None]:
    """``"nominal"`` -> ``(None, None)``; ``"image_noise:0.1"`` -> ``("image_noise", 0.1)``."""
    if name == NOMINAL:
        return None, None
    axis, sep, level = name.partition(":")
    try:
        value = float(level)
    except ValueError:
        value = math.nan
    if not sep or not axis or not math.isfinite(value):
        raise ConfigError(f"perturbation must be 'nominal' or 'AXIS:LEVEL' with a numeric level "
                          f"(e.g. 'image_noise:0.1'), got {name!r}")
    return axis, value


def perturbation_name(axis: str, level: float) -> str:
    """Canonical ``"axis:level"``, spelled as the perturbation suite's ``Axis.label`` (``:g``)."""
    return f"{axis}:{float(level):g}"


def action_stats(actions: Sequence[np.ndarray] | np.ndarray) -> dict[str, float]:
    """Temporal consistency, mean step-to-step change and jerk of an action sequence."""
    a = np.asarray(actions, dtype=np.float64)
    if a.ndim != 2:
        a = a.reshape(len(a), -1) if len(a) else np.zeros((0, 1))
    if len(a) >= 2:
        mean_delta = float(np.mean(np.linalg.norm(np.diff(a, axis=0), axis=1)))
    else:
        mean_delta = 0.0
    if len(a) >= 4:
        third = a[3:] - 3.0 * a[2:-1] + 3.0 * a[1:-2] - a[:-3]
        jerk = float(np.mean(np.linalg.norm(third, axis=1))) * cv.CONTROL_HZ ** 3
    else:
        jerk = 0.0
    return {"temporal_consistency": 1.0 / (1.0 + mean_delta), "mean_delta": mean_delta,
            "jerk": jerk}


def _latency(samples_s: Sequence[float]) -> dict[str, float] | None:
    if not samples_s:
        return None
    ms = np.asarray(samples_s, dtype=np.float64) * 1000.0
    return {"median": float(np.median(ms)), "p95": float(np.percentile(ms, 95)),
            "mean": float(np.mean(ms)), "n_calls": int(ms.size)}


class EpisodeRecorder:
    """Accumulates one episode step by step and builds its record.

    Call :meth:`start` after ``reset``, :meth:`step` after every ``env.step``, optionally
    :meth:`act_timing` / :meth:`confidence` per policy call, then :meth:`finish`.
    """

    def __init__(self, *, env_id: str, task: str, domain: str, family: str, split: str,
                 perturbation: str, seed: int, policy: str, max_steps: int) -> None:
        axis, level = parse_perturbation(perturbation)
        self.base: dict[str, Any] = {
            "schema": SCHEMA, "key": episode_key(env_id, split, perturbation, seed),
            "env_id": env_id, "task": task, "domain": domain, "family": family, "split": split,
            "perturbation": perturbation, "perturbation_axis": axis, "perturbation_level": level,
            "seed": int(seed), "policy": policy, "instruction": "", "instruction_override": None,
        }
        self.max_steps = int(max_steps)
        self.steps = 0
        self.success = self.success_ever = False
        self.success_step: int | None = None
        self.terminated = self.truncated = False
        self.env_failure = ""
        self.safety_steps: dict[str, int] = dict.fromkeys(cv.SAFETY_CATEGORIES, 0)
        self.safety_max = dict.fromkeys(SAFETY_MAX_KEYS, 0.0)
        self.actions: list[np.ndarray] = []
        self.latencies: list[float] = []
        self.confidences: list[float] = []
        self.social: list[Mapping[str, float]] = []
        self.proximity_steps = 0
        self.path_length = 0.0
        self._xy: np.ndarray | None = None

    # -- during the episode ------------------------------------------------------------
    def start(self, instruction: str, pelvis_xy: np.ndarray,
              instruction_override: str | None = None) -> None:
        """The episode's instruction (and a user's override of it, if any) and the pelvis
        position after reset."""
        self.base["instruction"] = str(instruction)
        if instruction_override is not None:
            self.base["instruction_override"] = str(instruction_override)
        self._xy = np.array(pelvis_xy[:2], dtype=np.float64)

    def act_timing(self, seconds: float) -> None:
        """Wall time of one ``policy.act`` call."""
        self.latencies.append(float(seconds))

    def confidence(self, value: float | None) -> None:
        """A confidence the policy reported with an action (before its outcome)."""
        if value is not None:
            self.confidences.append(float(value))

    def step(self, action: np.ndarray, info: Mapping[str, Any], terminated: bool,
             truncated: bool, pelvis_xy: np.ndarray) -> None:
        """Account for one executed control step."""
        self.steps += 1
        self.actions.append(np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0))
        self.success = bool(info[cv.INFO_SUCCESS])
        self.success_ever = bool(info[cv.INFO_SUCCESS_ONCE])
        if self.success and self.success_step is None:
            self.success_step = self.steps
        self.terminated, self.truncated = bool(terminated), bool(truncated)
        for cat, cost in info[cv.INFO_SAFETY].items():
            if cost > 0:
                self.safety_steps[cat] = self.safety_steps.get(cat, 0) + 1
            else:
                self.safety_steps.setdefault(cat, 0)
        values = info.get("safety_values", {})
        for key, src in SAFETY_MAX_KEYS.items():
            if src in values:
                self.safety_max[key] = max(self.safety_max[key], float(values[src]))
        social = info.get(cv.INFO_SOCIAL)
        if social is not None:
            self.social.append(social)
            if info[cv.INFO_SAFETY].get("human_proximity", 0) > 0:
                self.proximity_steps += 1
        xy = np.asarray(pelvis_xy[:2], dtype=np.float64)
        if self._xy is not None:
            self.path_length += float(np.linalg.norm(xy - self._xy))
        self._xy = xy
        if info.get(cv.INFO_SIM_ERROR):
            self.env_failure = f"sim_error: {info[cv.INFO_SIM_ERROR]}"
        elif info.get(cv.INFO_FAILURE):
            self.env_failure = str(info.get(cv.INFO_FAILURE_REASON) or "failure")

    # -- at the end ------------------------------------------------------------------------
    def finish(self, *, failure_reason: str | None = None, error: str | None = None,
               estop: str | None = None, post_episode_confidence: float | None = None,
               hook_error: str | None = None, wall_time_s: float,
               video: str | None = None) -> dict[str, Any]:
        """The record. ``failure_reason`` (runner-side: policy error/timeout, env crash)
        overrides the env's; ``estop`` names the category that stopped the episode;
        ``hook_error`` (a post-episode hook that failed) changes no outcome."""
        success = self.success
        terminated = self.terminated
        if estop is not None:
            failure_reason, success, terminated = f"estop: {estop}", False, True
        elif failure_reason is not None:
            success = False
        else:
            failure_reason = "" if success else self.env_failure
        n = max(self.steps, 1)
        steps = {k: int(v) for k, v in self.safety_steps.items()}
        conf: dict[str, Any] | None = None
        if self.confidences or post_episode_confidence is not None:
            final = self.confidences[-1] if self.confidences else None
            conf = {"episode": final,
                    "mean": float(np.mean(self.confidences)) if self.confidences else None,
                    "final": final, "n": len(self.confidences),
                    "post_episode": (None if post_episode_confidence is None
                                     else float(post_episode_confidence))}
        social = None
        if self.social:
            dist = np.array([s["distance_m"] for s in self.social], dtype=np.float64)
            speed = np.array([s["approach_speed"] for s in self.social], dtype=np.float64)
            facing = np.array([s["facing_cos"] for s in self.social], dtype=np.float64)
            social = {"min_distance_m": float(dist.min()),
                      "mean_approach_speed": float(speed.mean()),
                      "max_approach_speed": float(speed.max()),
                      "facing_fraction": float(np.mean(facing >= FACING_COS)),
                      "violation_steps": int(self.proximity_steps)}
        record = dict(self.base)
        record.update({
            "success": bool(success), "success_ever": bool(self.success_ever),
            "success_step": self.success_step, "steps": self.steps, "max_steps": self.max_steps,
            "terminated": bool(terminated), "truncated": bool(self.truncated and not terminated),
            "failure_reason": failure_reason, "error": error, "hook_error": hook_error,
            "estop": estop is not None,
            "estop_reason": estop,
            "safety_steps": steps, "safety_rates": {k: v / n for k, v in steps.items()},
            "safety_max": {k: float(v) for k, v in self.safety_max.items()},
            "path_length_m": self.path_length, "duration_s": self.steps / cv.CONTROL_HZ,
            "actions": action_stats(self.actions), "confidence": conf,
            "latency_ms": _latency(self.latencies), "social": social,
            "wall_time_s": float(wall_time_s), "video": video,
        })
        return record


def validate_record(record: Mapping[str, Any]) -> None:
    """Raise :class:`RecordLogError` unless ``record`` has exactly the schema's keys."""
    if record.get("schema") != SCHEMA:
        raise RecordLogError(f"record {record.get('key')!r} has schema {record.get('schema')!r}, "
                             f"expected {SCHEMA!r}")
    missing = [k for k in RECORD_KEYS if k not in record]
    extra = [k for k in record if k not in RECORD_KEYS]
    if missing or extra:
        raise RecordLogError(f"record {record.get('key')!r}: missing {missing}, unexpected {extra}")


class RecordLog:
    """Append-only ``episodes.jsonl``: one line per episode, flushed and fsynced.

    Opening repairs a torn last line (a run killed mid-write) by cutting it off, so the next
    append starts on a fresh line; every complete line must parse.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.records: dict[str, dict[str, Any]] = {}
        self.torn = False
        if self.path.exists():
            self._load()
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def _load(self) -> None:
        raw = self.path.read_bytes()
        cut = raw.rfind(b"\n") + 1
        if cut < len(raw):  # torn tail: the episode it held will simply run again
            self.torn = True
            with open(self.path, "r+b") as f:
                f.truncate(cut)
                f.flush()
                os.fsync(f.fileno())
        for lineno, line in enumerate(raw[:cut].decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordLogError(f"{self.path}:{lineno} is not valid JSON ({exc}); the log is "
                                     "corrupted in the middle: move it away and re-run") from exc
            self.records[rec["key"]] = rec

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record durably (flush + fsync) before returning."""
        if record["key"] in self.records:
            raise RecordLogError(f"episode {record['key']!r} is already in {self.path}")
        line = json.dumps(record, allow_nan=False, separators=(",", ":"))
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.records[record["key"]] = dict(record)

    def drop(self, keys: set[str]) -> int:
        """Remove records so that their episodes run again; returns how many were removed.

        The log is rewritten without them (a temporary file, fsynced, renamed over the log), so
        it never holds two records of one episode and a crash leaves the old or the new log.
        """
        gone = keys & self.records.keys()
        if not gone:
            return 0
        self._file.close()
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for key, rec in self.records.items():
                if key not in gone:
                    f.write(json.dumps(rec, allow_nan=False, separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        for key in gone:
            del self.records[key]
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        return len(gone)

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> RecordLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every complete record of an ``episodes.jsonl`` (a torn last line is ignored)."""
    raw = Path(path).read_bytes()
    cut = raw.rfind(b"\n") + 1
    return [json.loads(line) for line in raw[:cut].decode("utf-8").splitlines() if line.strip()]


def strip_timings(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records without the fields that legitimately vary between identical runs."""
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in records]
