"""Validating a submission: every problem, in plain words, before anything is written.

The checks, in order: the archive (:func:`vla_bench.leaderboard.bundle.read_bundle`); JSON
that parses with finite numbers; the schemas; the file hash and count the submission states;
the protocol (version, track file and task manifests must be this version's); completeness
(every planned episode of the track exactly once, nothing else); records that contradict
themselves or the protocol (steps over the budget, success after the last step); the claimed
aggregates against the re-scored ones; and the privileged flag against the policy that ran.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vla_bench.errors import ConfigError
from vla_bench.leaderboard.bundle import loads_finite
from vla_bench.leaderboard.schema import (
    EPISODES_FILE,
    RECORD_SCHEMA,
    SUBMISSION_FILE,
    SUBMISSION_SCHEMA,
)

MAX_LISTED = 10  # problems of one kind listed one by one; the rest are counted
TOLERANCE = 1e-9


class SubmissionRejected(ConfigError):
    """A bundle the leaderboard refuses; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"submission rejected ({len(self.problems)} problem(s)):\n{lines}")


@dataclass
class Checked:
    """A submission that passed every check."""

    submission: dict[str, Any]
    records: list[dict[str, Any]]
    episodes: bytes


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []
        self._counts: Counter[str] = Counter()

    def add(self, kind: str, text: str) -> None:
        self._counts[kind] += 1
        if self._counts[kind] <= MAX_LISTED:
            self.items.append(text)

    def finish(self) -> list[str]:
        more = [f"... and {n - MAX_LISTED} more problem(s) of the kind '{k}'"
                for k, n in self._counts.items() if n > MAX_LISTED]
        return self.items + more


def _schema_errors(validator: Any, data: Any, where: str, out: _Problems, kind: str) -> None:
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        path = ".".join(str(p) for p in err.path) or "(top level)"
        out.add(kind, f"{where}: {path}: {err.message}")


def validate(files: Mapping[str, bytes], archive_problems: Sequence[str] = ()) -> Checked:
    """Check a bundle's files; :class:`SubmissionRejected` with every problem found."""
    from jsonschema import Draft202012Validator

    problems = _Problems()
    for p in archive_problems:
        problems.add("archive", p)
    submission: dict[str, Any] | None = None
    if SUBMISSION_FILE in files:
        try:
            submission = loads_finite(files[SUBMISSION_FILE].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.add("json", f"{SUBMISSION_FILE} is not valid JSON with finite numbers: {exc}")
    if submission is not None:
        before = len(problems.items)
        _schema_errors(Draft202012Validator(SUBMISSION_SCHEMA), submission, SUBMISSION_FILE,
                       problems, "schema")
        if len(problems.items) > before:
            submission = None  # the later checks read fields the schema guarantees

    records: list[dict[str, Any]] = []
    raw = files.get(EPISODES_FILE, b"")
    record_validator = Draft202012Validator(RECORD_SCHEMA)
    for i, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = loads_finite(line)
        except ValueError as exc:
            problems.add("record json", f"{EPISODES_FILE} line {i}: not valid JSON with finite "
                                        f"numbers ({exc})")
            continue
        before = len(problems.items)
        _schema_errors(record_validator, rec, f"{EPISODES_FILE} line {i}", problems,
                       "record schema")
        if len(problems.items) == before and isinstance(rec, dict):
            records.append(rec)
    if EPISODES_FILE in files and not records and not problems.items:
        problems.add("records", f"{EPISODES_FILE} holds no episode")

    if submission is not None:
        _check_claims(submission, raw, records, problems)
        _check_protocol(submission, problems)
        _check_completeness(submission, records, problems)
        _check_privileged(submission, problems)
    _check_records(records, problems)
    found = problems.finish()
    if found:
        raise SubmissionRejected(found)
    assert submission is not None
    return Checked(submission, records, raw)


def _check_claims(sub: Mapping[str, Any], raw: bytes, records: list[dict[str, Any]],
                  problems: _Problems) -> None:
    from vla_bench.leaderboard.scoring import claimed_aggregates

    if hashlib.sha256(raw).hexdigest() != sub["episodes_sha256"]:
        problems.add("hash", f"{EPISODES_FILE} does not match the episodes_sha256 the "
                             "submission states (the records were changed after packing)")
    if sub["n_episodes"] != len(raw.splitlines()):
        problems.add("count", f"the submission states {sub['n_episodes']} episodes; "
                              f"{EPISODES_FILE} holds {len(raw.splitlines())}")
    ours = claimed_aggregates(records)
    claimed = sub["claimed"]
    if abs(ours["success_rate"] - claimed["success_rate"]) > TOLERANCE:
        problems.add("aggregate", f"claimed test_seen success {claimed['success_rate']:.4f} "
                                  f"but the episodes give {ours['success_rate']:.4f}")
    for task in sorted(set(ours["by_task"]) | set(claimed["by_task"])):
        a, b = claimed["by_task"].get(task), ours["by_task"].get(task)
        if a is None or b is None or abs(a - b) > TOLERANCE:
            problems.add("aggregate", f"claimed success of {task} is {a} but the episodes "
                                      f"give {b}")


def _check_protocol(sub: Mapping[str, Any], problems: _Problems) -> None:
    from vla_bench.evaluation import protocol
    from vla_bench.evaluation.tracks import load_track

    track = sub["track"]
    if track["protocol_version"] != protocol.VERSION:
        problems.add("protocol", f"the run used protocol {track['protocol_version']}; this "
                                 f"leaderboard scores protocol {protocol.VERSION}")
        return
    current = load_track(track["name"])
    if track["sha256"] != current.sha256 or track["version"] != current.version:
        problems.add("protocol", f"the {track['name']} track file of the run (sha256 "
                                 f"{track['sha256'][:12]}...) differs from this version's "
                                 f"({current.sha256[:12]}...): re-run with this vla_bench")
    if sub["run_config"].get("track") != track:
        problems.add("protocol", "the run config's track differs from the submission's")
    ours = protocol.manifest_hashes(current.env_ids)
    theirs = sub["manifest_hashes"]
    for env_id in current.env_ids:
        if theirs.get(env_id) != ours[env_id]:
            problems.add("protocol", f"the manifest hash of {env_id} differs from this "
                                     "protocol version's (the task or its seeds changed)")
    for env_id in sorted(set(theirs) - set(ours)):
        problems.add("protocol", f"manifest hash for {env_id}, which is not in the track")


def _check_completeness(sub: Mapping[str, Any], records: Sequence[Mapping[str, Any]],
                        problems: _Problems) -> None:
    from vla_bench.evaluation.tracks import load_track, planned_specs

    try:
        track = load_track(sub["track"]["name"])
        env_kwargs = dict(sub["run_config"].get("env_kwargs") or {})
        planned, _ = planned_specs(track, env_kwargs)
    except Exception as exc:  # a bad env_kwargs: say so rather than crash
        problems.add("plan", f"cannot plan the track with the run's env_kwargs: {exc}")
        return
    want = {s.key: s for s in planned}
    seen = Counter(str(r.get("key")) for r in records)
    for key, n in sorted(seen.items()):
        if n > 1:
            problems.add("duplicate", f"episode {key} is present {n} times")
        if key not in want:
            problems.add("unplanned", f"episode {key} is not part of the track")
    for key in want:
        if key not in seen:
            problems.add("missing", f"planned episode {key} is missing")
    for r in records:
        spec = want.get(str(r.get("key")))
        if spec is not None and r["max_steps"] != spec.max_steps:
            problems.add("budget", f"episode {r['key']} states a budget of {r['max_steps']} "
                                   f"steps; the protocol's is {spec.max_steps}")


def _check_records(records: Sequence[Mapping[str, Any]], problems: _Problems) -> None:
    from vla_bench.evaluation.records import episode_key, parse_perturbation

    for r in records:
        key = r["key"]
        if key != episode_key(r["env_id"], r["split"], r["perturbation"], r["seed"]):
            problems.add("contradiction", f"episode {key}: its key does not match its env_id, "
                                          "split, perturbation and seed")
        if r["steps"] > r["max_steps"]:
            problems.add("contradiction", f"episode {key}: {r['steps']} steps, over its budget "
                                          f"of {r['max_steps']}")
        step = r["success_step"]
        if step is not None and (step > r["steps"] or step > r["max_steps"]):
            problems.add("contradiction", f"episode {key}: success at step {step}, after its "
                                          f"last step {r['steps']}")
        if r["success"] and (step is None or not r["success_ever"]):
            problems.add("contradiction", f"episode {key}: success without a success step or "
                                          "success_ever")
        if r["success_ever"] and step is None:
            problems.add("contradiction", f"episode {key}: success_ever without a success step")
        if r["terminated"] and r["truncated"]:
            problems.add("contradiction", f"episode {key}: both terminated and truncated")
        over = [c for c, n in r["safety_steps"].items() if n > r["steps"]]
        if over:
            problems.add("contradiction", f"episode {key}: more {over} cost steps than steps")
        try:
            axis, level = parse_perturbation(r["perturbation"])
        except ConfigError:
            problems.add("contradiction", f"episode {key}: malformed perturbation")
            continue
        if axis != r["perturbation_axis"] or (level is not None
                                              and level != r["perturbation_level"]):
            problems.add("contradiction", f"episode {key}: perturbation_axis/level do not "
                                          f"match {r['perturbation']!r}")


def _check_privileged(sub: Mapping[str, Any], problems: _Problems) -> None:
    from vla_bench.policies.registry import is_privileged_target

    config, card = sub["run_config"], sub["policy_card"]
    if card["privileged"] != config["privileged"]:
        problems.add("privileged", f"the policy card says privileged={card['privileged']} but "
                                   f"the run was privileged={config['privileged']}")
    if is_privileged_target(config["policy_target"]) and not config["privileged"]:
        problems.add("privileged", f"the run's policy {config['policy_target']!r} is registered "
                                   "as privileged (it reads the simulator state) but the run "
                                   "says it was not")
