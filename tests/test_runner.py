"""The evaluation runner: records, resume after a kill, failure isolation, e-stop, sim_error,
action chunks, determinism across backends (processes, Ray) and ``vla-bench eval``.

Kept short: ``cameras=()`` (the built-ins need no images), cheap navigation tasks and
``max_steps`` overrides.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vla_bench.errors import ConfigError
from vla_bench.evaluation.records import (
    RECORD_KEYS,
    SCHEMA,
    RecordLog,
    action_stats,
    read_records,
    strip_timings,
    validate_record,
)
from vla_bench.evaluation.runner import evaluate

NAV = "VLA-Office-GoToPrinter-v1"
TREE = "VLA-Outdoor-WalkToTree-v1"
TESTS_DIR = Path(__file__).resolve().parent


# -- test policies (module-level: worker processes import them as "test_runner:…") ----------

class _Base:
    cameras = ()

    def setup(self, spec):
        self.shape = spec.action_shape

    def reset(self, instruction):
        self.t = 0

    def act(self, obs):
        self.t += 1
        return np.zeros(self.shape, np.float32)


class SlowNoop(_Base):
    """Zero actions, ``delay`` seconds per call (gives a killer time to strike)."""

    def __init__(self, delay: float = 0.03):
        self.delay = delay

    def act(self, obs):
        time.sleep(self.delay)
        return super().act(obs)


class Flaky(_Base):
    """Raises on odd seeds at the third call; sleeps past any timeout on seeds divisible by 4
    after the first call."""

    def seed(self, seed):
        self.episode_seed = seed

    def act(self, obs):
        self.t += 1
        if self.episode_seed % 2 and self.t == 3:
            raise RuntimeError(f"boom on seed {self.episode_seed}")
        if self.episode_seed % 4 == 0 and self.t == 2:
            time.sleep(3.0)
        return np.zeros(self.shape, np.float32)


class ThreadCheck(_Base):
    """Fails unless its worker process was given its share of the cores for OpenMP."""

    def act(self, obs):
        want = str(max(1, (os.cpu_count() or 1) // 2))
        if os.environ.get("OMP_NUM_THREADS") != want:
            raise RuntimeError(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, not {want}")
        return super().act(obs)


class Chunky(_Base):
    """Chunks of 4 zero actions with a per-step confidence and a per-episode one."""

    calls = 0

    def act(self, obs):
        from vla_bench.policies import PolicyOutput

        Chunky.calls += 1
        return PolicyOutput(action=None, confidence=0.8,
                            action_chunk=np.zeros((4, *self.shape), np.float32))

    def episode_confidence(self):
        return 0.3


class Diverge(_Base):
    """Privileged saboteur: blows up the state so MuJoCo reports a divergence."""

    def bind(self, env):
        env.unwrapped.data.qvel[:] = 1e12


class BreakEnv(_Base):
    """Breaks the env object itself on seed 100000 (an exception inside env.step)."""

    def seed(self, seed):
        self.episode_seed = seed

    def bind(self, env):
        self._base = env.unwrapped

    def act(self, obs):
        if self.episode_seed == 100000:
            self._base.controller = None
        return super().act(obs)


class Snoop(_Base):
    """Tries every route it is handed to the env, ``expert_action`` and ``info``, and notes
    what it finds. It even claims to be privileged: the claim must not count."""

    privileged = True
    found: list[tuple[str, str]] = []  # class-level: these runs are serial, in this process
    bound = 0

    def bind(self, env):
        Snoop.bound += 1
        self._look(env, "bind")

    def setup(self, spec):
        super().setup(spec)
        self._look(spec, "setup")

    def seed(self, seed):
        self._look(seed, "seed")

    def reset(self, instruction):
        super().reset(instruction)
        self._look(instruction, "reset")

    def act(self, obs):
        self._look(obs, "act")
        return super().act(obs)

    def episode_confidence(self):
        return None

    def _look(self, obj, route, depth=0, seen=None):
        import gymnasium as gym

        from vla_bench import conventions as cv

        seen = set() if seen is None else seen
        if depth > 5 or id(obj) in seen:
            return
        seen.add(id(obj))
        kind = type(obj).__module__
        if isinstance(obj, gym.Env) or kind.startswith("mujoco") or callable(obj):
            Snoop.found.append((route, f"a {type(obj).__name__}"))
            return
        for attr in ("unwrapped", "expert_action", "env", "_env", "sim", "model"):
            if getattr(obj, attr, None) is not None:
                Snoop.found.append((route, f".{attr}"))
        if isinstance(obj, dict):
            info_keys = {cv.INFO_SUCCESS, cv.INFO_TASK, cv.INFO_SAFETY, cv.INFO_CAMERAS,
                         "progress", "elapsed_steps"}
            Snoop.found += [(route, f"[{k!r}]") for k in obj if k in info_keys]
            children = list(obj.values())
        elif isinstance(obj, (list, tuple)):
            children = list(obj)
        elif isinstance(obj, np.ndarray):
            children = list(obj.ravel()) if obj.dtype == object else []
        elif hasattr(obj, "__dict__"):
            children = list(vars(obj).values())
        else:
            children = []
        for child in children:
            self._look(child, route, depth + 1, seen)


class Gamer(_Base):
    """Privileged only to get mixed outcomes: solves even seeds with the expert and idles on odd
    ones. It reports 0.5 with every action and, once the episode is over, the outcome."""

    def seed(self, seed):
        self.episode_seed = seed

    def bind(self, env):
        self._env = env.unwrapped

    def act(self, obs):
        from vla_bench.policies import PolicyOutput

        solve = self.episode_seed % 2 == 0
        action = self._env.expert_action() if solve else np.zeros(self.shape, np.float32)
        return PolicyOutput(action=np.asarray(action, np.float32), confidence=0.5)

    def episode_confidence(self):
        return 1.0 if self.episode_seed % 2 == 0 else 0.0


class HookFails(_Base):
    """Privileged: the expert's actions (a success), then a post-episode hook that raises or
    hangs."""

    def __init__(self, mode: str = "raise"):
        self.mode = mode

    def bind(self, env):
        self._env = env.unwrapped

    def act(self, obs):
        return np.asarray(self._env.expert_action(), np.float32)

    def episode_confidence(self):
        if self.mode == "raise":
            raise RuntimeError("hook broke")
        time.sleep(5.0)


@pytest.fixture
def privileged(monkeypatch):
    """``privileged(target)``: register a test policy as privileged for this test only."""
    from vla_bench.policies import registry as reg

    monkeypatch.setattr(reg, "_REGISTRY", dict(reg._REGISTRY))
    monkeypatch.setattr(reg, "_PRIVILEGED", set(reg._PRIVILEGED))

    def register(target):
        name = f"test-{getattr(target, '__name__', 'policy').lower()}"
        reg.register_policy(name, target, privileged=True)
        return target

    return register


def _run(policy, out, **kw):
    kw.setdefault("tasks", [NAV])
    kw.setdefault("progress", False)
    kw.setdefault("reports", False)
    return evaluate(policy, out_dir=out, **kw)


# -- records ---------------------------------------------------------------------------------

def test_action_stats_hand_computed():
    a = np.array([[0.0], [1.0], [1.0], [0.0]])
    s = action_stats(a)
    assert s["mean_delta"] == pytest.approx(2 / 3)
    assert s["temporal_consistency"] == pytest.approx(1 / (1 + 2 / 3))
    # third difference: 0 - 3*1 + 3*1 - 0 = 0 ... a_{t+3} - 3a_{t+2} + 3a_{t+1} - a_t
    assert s["jerk"] == pytest.approx(abs(0 - 3 * 1 + 3 * 1 - 0) * 20 ** 3)
    b = np.array([[0.0], [0.0], [0.0], [1.0]])
    assert action_stats(b)["jerk"] == pytest.approx(8000.0)
    assert action_stats(np.zeros((1, 3))) == {"temporal_consistency": 1.0, "mean_delta": 0.0,
                                             "jerk": 0.0}


def test_record_log_repairs_a_torn_line(tmp_path):
    path = tmp_path / "episodes.jsonl"
    path.write_text('{"key": "a", "x": 1}\n{"key": "b", "x"')
    with RecordLog(path) as log:
        assert log.torn and list(log.records) == ["a"]
        log.append({"key": "c"})
    assert [r["key"] for r in read_records(path)] == ["a", "c"]
    path.write_text('{"key": "a"}\nnot json\n{"key": "c"}\n')
    with pytest.raises(Exception, match="corrupted"):
        RecordLog(path)


def test_expert_records_follow_the_schema(tmp_path):
    res = _run("expert", tmp_path, tasks=[NAV, TREE], episodes_per_task=1)
    assert res.new == 2 and res.skipped == 0
    lines = (tmp_path / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 2
    for rec in map(json.loads, lines):
        validate_record(rec)
        assert tuple(rec) == RECORD_KEYS and rec["schema"] == SCHEMA
        assert rec["success"] and rec["success_ever"] and rec["failure_reason"] == ""
        assert rec["steps"] == rec["success_step"] and rec["terminated"]
        assert rec["duration_s"] == pytest.approx(rec["steps"] / 20)
        assert rec["path_length_m"] > 0.5  # it walked to its goal
        assert rec["split"] == "test_seen" and rec["seed"] == 100000
        assert rec["key"] == f"{rec['env_id']}|test_seen|nominal|100000"
        assert rec["latency_ms"]["p95"] >= rec["latency_ms"]["median"] > 0
        assert rec["confidence"] is None and rec["social"] is None
        assert set(rec["safety_steps"]) >= {"collision", "fall", "human_proximity"}
    config = json.loads((tmp_path / "run_config.json").read_text())
    assert config["policy"]["privileged"] is True and config["policy"]["num_parameters"] == 0
    assert config["privileged"] is True
    assert config["env_kwargs"]["cameras"] == []  # the built-ins need no images
    again = _run("expert", tmp_path, tasks=[NAV, TREE], episodes_per_task=1)
    assert again.new == 0 and again.skipped == 2
    config = json.loads((tmp_path / "run_config.json").read_text())
    assert config["policy"]["num_parameters"] == 0  # kept although no worker ran this time


# -- resume ----------------------------------------------------------------------------------

def test_killed_run_resumes_without_losing_or_repeating(tmp_path):
    out = tmp_path / "run"
    code = (f"from vla_bench.evaluation.runner import evaluate\n"
            f"evaluate('test_runner:SlowNoop', out_dir={str(out)!r}, tasks=[{NAV!r}], "
            f"episodes_per_task=6, max_steps=25, progress=False, reports=False)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS_DIR),
                                                       os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=TESTS_DIR,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = out / "episodes.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and len(log.read_bytes().splitlines()) >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = read_records(log)
    assert 2 <= len(before) < 6, "the run was not killed midway"
    with open(log, "a") as f:  # as if killed in the middle of a write
        f.write('{"schema": "vla_bench.episode/1", "key": "VLA-Office-GoT')
    res = _run("test_runner:SlowNoop", out, episodes_per_task=6, max_steps=25)
    assert res.skipped == len(before) and res.new == 6 - len(before)
    keys = [r["key"] for r in read_records(log)]
    assert len(keys) == len(set(keys)) == 6
    assert sorted(keys) == sorted(f"{NAV}|test_seen|nominal|{100000 + i}" for i in range(6))
    after = {r["key"]: r for r in read_records(log)}
    for r in before:  # finished episodes are kept untouched
        assert after[r["key"]] == r
    again = _run("test_runner:SlowNoop", out, episodes_per_task=6, max_steps=25)
    assert again.new == 0 and again.skipped == 6


def test_resume_refuses_other_settings(tmp_path):
    _run("noop", tmp_path, episodes_per_task=1, max_steps=3)
    with pytest.raises(ConfigError, match="other settings"):
        _run("noop", tmp_path, episodes_per_task=1, max_steps=4)
    with pytest.raises(ConfigError, match="other settings"):
        _run("random", tmp_path, episodes_per_task=1, max_steps=3)


# -- failure isolation -----------------------------------------------------------------------

def test_policy_errors_and_timeouts_are_recorded_and_the_run_goes_on(tmp_path):
    res = _run(Flaky, tmp_path, episodes_per_task=5, max_steps=6, policy_timeout_s=0.5)
    by_seed = {r["seed"]: r for r in res.records}
    assert len(by_seed) == 5
    for seed, rec in by_seed.items():
        if seed % 4 == 0:  # 100000, 100004: sleeps 3 s at the 2nd call
            assert rec["failure_reason"] == "policy_timeout" and rec["steps"] == 1
            assert "policy_timeout_s=0.5" in rec["error"]
        elif seed % 2:  # raises at the 3rd call
            assert rec["failure_reason"] == "policy_error: RuntimeError: boom on seed " + str(seed)
            assert "Traceback" in rec["error"] and "boom" in rec["error"]
            assert rec["steps"] == 2
        else:  # 100002 runs to the step budget: the policy was rebuilt after the timeout
            assert rec["failure_reason"] == "" and rec["steps"] == 6 and rec["truncated"]
        assert not rec["success"]


def test_invalid_action_is_a_policy_error(tmp_path):
    class WrongShape(_Base):
        def act(self, obs):
            return np.zeros(2)

    res = _run(WrongShape(), tmp_path, episodes_per_task=1, max_steps=5)  # an instance works
    (rec,) = res.records
    assert rec["policy"] == "WrongShape"
    assert rec["failure_reason"].startswith("policy_error: InvalidActionError: action has shape")
    assert rec["steps"] == 0 and rec["latency_ms"] is not None


def test_sim_error_and_env_crash_are_failures_with_reasons(tmp_path, privileged):
    privileged(Diverge)
    privileged(BreakEnv)
    res = _run(Diverge, tmp_path / "diverge", episodes_per_task=1, max_steps=5)
    (rec,) = res.records
    assert rec["failure_reason"].startswith("sim_error: MuJoCo warning") and not rec["success"]
    assert rec["terminated"] and rec["steps"] == 1

    res = _run(BreakEnv, tmp_path / "crash", episodes_per_task=2, max_steps=5)
    by_seed = {r["seed"]: r for r in res.records}
    assert by_seed[100000]["failure_reason"].startswith("sim_error: AttributeError")
    assert "Traceback" in by_seed[100000]["error"]
    # The broken env was replaced: the next episode runs normally.
    assert by_seed[100001]["failure_reason"] == "" and by_seed[100001]["steps"] == 5


def test_estop_ends_the_episode(tmp_path):
    # Uniform random arm motion self-collides quickly; stopping on it exercises the e-stop path.
    res = _run("random", tmp_path, episodes_per_task=2, max_steps=200,
               estop=["self_collision"])
    for rec in res.records:
        assert rec["estop"] and rec["estop_reason"] == "self_collision"
        assert rec["failure_reason"] == "estop: self_collision" and not rec["success"]
        assert rec["safety_steps"]["self_collision"] == 1 and rec["steps"] < 200
    with pytest.raises(Exception, match="Did you mean 'fall'"):
        _run("random", tmp_path / "x", episodes_per_task=1, estop=["fal"])


def test_worker_processes_share_the_cores(tmp_path, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    res = _run(ThreadCheck, tmp_path, episodes_per_task=2, max_steps=3, workers=2)
    assert [r["failure_reason"] for r in res.records] == [""] * len(res.records)


def test_action_chunks_run_open_loop_and_confidence_is_kept(tmp_path):
    Chunky.calls = 0
    res = _run(Chunky, tmp_path, episodes_per_task=1, max_steps=10)
    (rec,) = res.records
    assert rec["steps"] == 10 and Chunky.calls == 3  # 4 + 4 + 2 steps
    # The in-episode reports are scored; the post-episode answer is kept apart.
    assert rec["confidence"] == {"episode": 0.8, "mean": pytest.approx(0.8), "final": 0.8, "n": 3,
                                 "post_episode": 0.3}
    assert rec["hook_error"] is None


# -- determinism and backends ----------------------------------------------------------------

def _stripped(records):
    return sorted(strip_timings(records), key=lambda r: r["key"])


def test_same_manifest_twice_gives_the_same_records_serial_and_processes(tmp_path):
    kw = dict(tasks=[NAV, TREE], episodes_per_task=2, max_steps=15,
              perturbations=["nominal", "proprio_noise:0.03", "push:800", "mass:2"])
    a = _run("random", tmp_path / "a", **kw)
    b = _run("random", tmp_path / "b", workers=2, **kw)
    # mass has no free object to scale in these navigation tasks: dropped, with a note.
    assert len(a.records) == 12
    assert sum("mass:2 not applicable" in n for n in a.config["notes"]) == 2
    assert _stripped(a.records) == _stripped(b.records)
    perts = {r["perturbation"] for r in a.records}
    assert perts == {"nominal", "proprio_noise:0.03", "push:800"}
    nominal = {(r["env_id"], r["seed"]): r for r in a.records if r["perturbation"] == "nominal"}
    pushed = [r for r in a.records if r["perturbation"] == "push:800"]
    assert all(r["perturbation_axis"] == "push" and r["perturbation_level"] == 800.0
               for r in pushed)
    # Same episodes (instruction) under the perturbation, different outcome in state.
    for r in pushed:
        assert r["instruction"] == nominal[(r["env_id"], r["seed"])]["instruction"]


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_backend_matches_serial(tmp_path, local_ray):
    kw = dict(tasks=[NAV, TREE], episodes_per_task=2, max_steps=15)
    a = _run("random", tmp_path / "serial", **kw)
    b = _run("random", tmp_path / "ray", backend="ray", workers=2, **kw)
    assert len(b.records) == 4
    assert _stripped(a.records) == _stripped(b.records)


# -- CLI -------------------------------------------------------------------------------------

def test_cli_eval_two_tasks_expert_report(tmp_path, capsys):
    from vla_bench.cli import main

    out = tmp_path / "expert"
    rc = main(["eval", "--policy", "expert", "--env", NAV, "--env", TREE, "--episodes", "1",
               "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0
    assert "policy 'expert': PRIVILEGED (reads the simulator state)" in printed
    assert "| VLA-Office-GoToPrinter-v1 | test_seen | nominal | 1 | 100% (1/1)" in printed
    assert "aggregate:" in printed and "report.html" in printed
    aggregate = json.loads((out / "aggregate.json").read_text())
    overall = aggregate["metrics"]["overall"]
    assert overall["success"]["rate"] == 1.0 and overall["n_episodes"] == 2
    safety = overall["safety"]
    assert set(safety["categories"]) >= {"collision", "fall", "self_collision"}
    assert 0.0 <= safety["safety_score"] <= 1.0
    md = (out / "report.md").read_text()
    assert "GoToPrinter" in md and "WalkToTree" in md and "Safety" in md
    assert (out / "report.html").exists()


def test_cli_eval_errors_are_one_line(tmp_path, capsys):
    from vla_bench.cli import main

    assert main(["eval", "--policy", "expertt", "--env", NAV]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["vla-bench: error: unknown policy 'expertt'. Did you mean 'expert'? "
                   "Valid policys: expert, noop, random, scripted"] or (
        len(err) == 1 and "Did you mean 'expert'" in err[0])
    assert main(["eval", "--policy", "random", "--env", NAV, "--policy-kwargs", "{bad",
                 "--out", str(tmp_path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["eval", "--policy", "random", "--env", NAV, "--policy-kwargs",
                 '{"scael": 0.5}', "--out", str(tmp_path)]) == 2
    assert "accepts ['scale']" in capsys.readouterr().err
    assert main(["eval", "--policy", "random"]) == 2
    assert "--suite" in capsys.readouterr().err


def test_video_is_written_and_referenced(tmp_path):
    res = _run("noop", tmp_path, episodes_per_task=1, max_steps=4, video=True)
    (rec,) = res.records
    assert rec["video"] == "videos/VLA-Office-GoToPrinter-v1_test_seen_nominal_100000.mp4"
    path = tmp_path / rec["video"]
    assert path.stat().st_size > 1000
    import imageio.v3 as iio

    frames = iio.imread(path)
    assert frames.shape[0] == 5  # reset frame + 4 steps


def test_policy_caller_times_out_off_the_main_thread_too():
    import threading

    from vla_bench.evaluation.episode import PolicyCaller, PolicyTimeout

    class Sleeper:
        def act(self, obs):
            time.sleep(2.0)

    built = []
    caller = PolicyCaller(lambda: built.append(1) or Sleeper(), 0.2)
    result = {}

    def run():
        t0 = time.perf_counter()
        try:
            caller.call("act", None)
        except PolicyTimeout:
            result["timeout_after_s"] = time.perf_counter() - t0

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(5)
    assert 0.15 < result["timeout_after_s"] < 1.5
    assert caller.policy is None  # dropped; the next call builds a fresh one
    caller.ensure()
    assert len(built) == 2


@pytest.mark.slow
def test_throughput_benchmark_runs(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(TESTS_DIR.parent / "benchmarks" / "eval_throughput.py"),
         "--episodes", "1", "--max-steps", "5", "--cameras", "none", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=TESTS_DIR.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(out.read_text())["results"]["none"]
    assert res["steps_equal"] == 1.0 and res["overhead ratio runner/bare"] > 0


def test_compare_expert_runs_the_baseline_on_the_same_episodes(tmp_path):
    res = _run("noop", tmp_path, episodes_per_task=1, max_steps=5, compare_expert=True,
               reports=True)
    base = read_records(tmp_path / "expert_baseline" / "episodes.jsonl")
    assert [r["key"] for r in base] == [r["key"] for r in res.records]
    assert base[0]["policy"] == "expert" and res.records[0]["policy"] == "noop"
    aggregate = json.loads(res.reports["aggregate"].read_text())
    assert aggregate["comparison"], "the report has no comparison with the traditional baseline"


def test_social_figures_on_a_task_with_people(tmp_path):
    res = _run("expert", tmp_path, tasks=["VLA-Social-GreetPerson-v1"], episodes_per_task=1,
               max_steps=40)
    (rec,) = res.records
    social = rec["social"]
    assert set(social) == {"min_distance_m", "mean_approach_speed", "max_approach_speed",
                           "facing_fraction", "violation_steps"}
    assert 0.0 < social["min_distance_m"] < 20.0 and 0.0 <= social["facing_fraction"] <= 1.0
    assert social["max_approach_speed"] >= social["mean_approach_speed"]
    assert social["violation_steps"] == rec["safety_steps"]["human_proximity"]
    # Tasks without people have no social block (checked in the schema test).


def test_plan_expands_splits_and_the_protocol_perturbation_set():
    from vla_bench.evaluation import protocol
    from vla_bench.evaluation.runner import observation_keys, plan

    office = protocol.load_manifest(NAV)
    outdoor = protocol.load_manifest(TREE)
    specs, notes = plan([office, outdoor], ["test_seen", "cross_domain"], ["all"], 2, 50,
                        observation_keys(()))
    assert all(s.max_steps == 50 for s in specs)
    assert f"{TREE}: no 'cross_domain' split" in notes  # office is the held-out domain
    cross = [s for s in specs if s.split == "cross_domain"]
    assert {s.env_id for s in cross} == {NAV} and {s.perturbation for s in cross} == {"nominal"}
    perts = {s.perturbation for s in specs if s.split == "test_seen"}
    assert "nominal" in perts and "proprio_noise:0.01" in perts
    assert not any(p.startswith(("image_noise", "depth_")) for p in perts)  # no cameras
    with_cams, _ = plan([office], ["test_seen"], ["all"], 1, None, observation_keys(("head",)))
    assert any(s.perturbation.startswith("image_noise") for s in with_cams)
    assert len(specs) == len({s.key for s in specs})
    with pytest.raises(ConfigError, match="lacks"):
        plan([office], ["test_seen"], ["image_noise:0.1"], 1, None, observation_keys(()))
    explicit, notes = plan([office], ["test_seen"], ["distractors:0.5"], 1, None,
                           observation_keys(("head",)))
    assert explicit == [] and "no effect" in notes[0]  # office has no clutter surface
    with pytest.raises(Exception, match="split"):
        plan([office], ["bogus"], ["nominal"], 1, None, [])


# -- no privileged channel -------------------------------------------------------------------

def test_a_non_privileged_policy_cannot_reach_the_env_expert_or_info(tmp_path, privileged):
    Snoop.found, Snoop.bound = [], 0
    res = _run(Snoop, tmp_path / "plain", episodes_per_task=2, max_steps=5)
    assert Snoop.bound == 0, "bind(env) was called for a policy not registered as privileged"
    assert Snoop.found == []
    assert [r["failure_reason"] for r in res.records] == ["", ""]
    assert res.config["privileged"] is False and res.config["policy"]["privileged"] is False
    # The same class registered as privileged is handed the env: the routes looked at are real.
    privileged(Snoop)
    res = _run(Snoop, tmp_path / "registered", episodes_per_task=1, max_steps=5)
    assert Snoop.bound == 1 and Snoop.found and {route for route, _ in Snoop.found} == {"bind"}
    assert res.config["privileged"] is True


def test_privileged_is_shown_in_aggregate_and_reports(tmp_path):
    plain = _run("noop", tmp_path / "noop", episodes_per_task=1, max_steps=3, reports=True)
    expert = _run("expert", tmp_path / "expert", episodes_per_task=1, max_steps=3, reports=True)
    for res, flag, word in ((plain, False, "not privileged"), (expert, True, "PRIVILEGED")):
        aggregate = json.loads(res.reports["aggregate"].read_text())
        assert aggregate["privileged"] is flag and list(aggregate)[:2] == ["schema", "privileged"]
        md = res.reports["markdown"].read_text()
        assert word in md.splitlines()[0]  # the title
        assert f"| Privileged | {'yes' if flag else 'no'} |" in md
        assert word in res.reports["html"].read_text().split("</h1>")[0]


# -- confidence and the post-episode hook ----------------------------------------------------

def test_confidence_after_the_outcome_cannot_buy_calibration(tmp_path, privileged):
    from vla_bench.evaluation.metrics.calibration import (
        brier,
        calibration_metrics,
        episode_confidence,
    )

    privileged(Gamer)
    res = _run(Gamer, tmp_path, episodes_per_task=4, max_steps=300)
    records = sorted(res.records, key=lambda r: r["seed"])
    outcomes = [r["success"] for r in records]
    assert outcomes == [True, False, True, False]
    # It answered the outcome after the end; that is kept, and not scored.
    assert [r["confidence"]["post_episode"] for r in records] == [1.0, 0.0, 1.0, 0.0]
    assert [episode_confidence(r) for r in records] == [0.5] * 4
    cal = calibration_metrics(records)
    assert cal["score"] == pytest.approx(1.0 - brier([0.5] * 4, outcomes))  # 0.75
    assert cal["score"] < 1.0 - brier([1.0, 0.0, 1.0, 0.0], outcomes)  # what gaming would give


@pytest.mark.parametrize("mode", ["raise", "hang"])
def test_a_failing_post_episode_hook_keeps_the_success(tmp_path, privileged, mode):
    privileged(HookFails)
    res = _run(HookFails, tmp_path, episodes_per_task=1, policy_kwargs={"mode": mode},
               policy_timeout_s=2.0)
    (rec,) = res.records
    assert rec["success"] and rec["failure_reason"] == "" and rec["error"] is None
    if mode == "raise":
        assert rec["hook_error"] == "policy_error: episode_confidence(): RuntimeError: hook broke"
    else:
        assert rec["hook_error"].startswith("policy_timeout: episode_confidence()")
    assert rec["confidence"] is None


def test_instruction_override_from_info_is_recorded():
    import gymnasium as gym
    from helpers import make_env

    from vla_bench.evaluation import protocol
    from vla_bench.evaluation.episode import EpisodeSpec, PolicyCaller, run_episode

    text = "head over to the printer"

    class Override(gym.Wrapper):  # the env's override, applied on every reset
        def reset(self, **kwargs):
            kwargs["options"] = {**(kwargs.get("options") or {}), "instruction": text}
            return self.env.reset(**kwargs)

    class TextFlag(gym.Wrapper):  # an env that puts the text itself in info
        def reset(self, **kwargs):
            obs, info = self.env.reset(**kwargs)
            return obs, {**info, "instruction_override": "go to the printer now"}

    m = protocol.load_manifest(NAV)
    spec = EpisodeSpec(NAV, m.task, m.domain, m.family, "test_seen", "nominal", 100000, 3)
    env = make_env(NAV, cameras=())
    try:
        caller = PolicyCaller(_Base, None)
        plain = run_episode(env, caller, spec, policy_name="zeros").record
        over = run_episode(Override(env), caller, spec, policy_name="zeros").record
        flagged = run_episode(TextFlag(env), caller, spec, policy_name="zeros").record
    finally:
        env.close()
    assert plain["instruction_override"] is None and plain["instruction"] != text
    assert over["instruction_override"] == text and over["instruction"] == text
    assert flagged["instruction_override"] == "go to the printer now"


def _counting(fn, calls):
    def counted(*args):
        calls.append(1)
        return fn(*args)
    return counted


def test_open_loop_chunk_steps_skip_rendering_and_change_nothing():
    import gymnasium as gym
    from helpers import assert_tree_equal, make_env

    from vla_bench.evaluation import protocol
    from vla_bench.evaluation.episode import EpisodeSpec, PolicyCaller, run_episode

    class Seeing(_Base):  # random chunks of 3; keeps the images it was shown
        def reset(self, instruction):
            self.rng, self.seen = np.random.default_rng(0), []

        def act(self, obs):
            from vla_bench.policies import PolicyOutput

            self.seen.append(obs["rgb"].copy())
            return PolicyOutput(action=None, action_chunk=self.rng.uniform(
                -0.5, 0.5, (3, *self.shape)).astype(np.float32))

    class Delayed(gym.Wrapper):  # a wrapper that reads every frame (as latency does)
        delays_observations = True

    m = protocol.load_manifest(NAV)
    spec = EpisodeSpec(NAV, m.task, m.domain, m.family, "test_seen", "nominal", 100000, 14)
    runs = {}
    for name, wrap in (("skip", lambda e: e), ("render_all", Delayed)):
        env = make_env(NAV)
        renders = []
        try:
            env.reset(seed=0)  # makes the renderer, then count its calls
            inner = env.unwrapped._renderer
            inner.render = _counting(inner.render, renders)
            caller = PolicyCaller(Seeing, None)
            rec = run_episode(wrap(env), caller, spec, policy_name="seeing").record
            runs[name] = (strip_timings([rec])[0], caller.policy.seen, len(renders))
        finally:
            env.close()
    (rec_a, seen_a, n_a), (rec_b, seen_b, n_b) = runs["skip"], runs["render_all"]
    assert_tree_equal(rec_a, rec_b)
    assert len(seen_a) == len(seen_b) == 5
    assert all(np.array_equal(a, b) for a, b in zip(seen_a, seen_b, strict=True))
    assert not np.array_equal(seen_a[0], seen_a[-1])  # the robot walked: fresh frames
    # 2 cameras, one reset and 14 steps: 30 renders; with chunks of 3 only the reset and
    # steps 3, 6, 9 and 12 (whose images the next act reads) render.
    assert (n_a, n_b) == (10, 30)


# -- resume, lock, baseline ------------------------------------------------------------------

def test_resume_checks_manifests_package_version_and_policy_target(tmp_path):
    _run("noop", tmp_path, episodes_per_task=1, max_steps=3)
    path = tmp_path / "run_config.json"
    good = json.loads(path.read_text())
    for key, value, shown in (
            ("package_version", "0.0.1", "package_version: '0.0.1' -> "),
            ("policy_target", "other.module:Noop", "policy_target: 'other.module:Noop' -> "),
            ("manifest_hashes", {NAV: "0" * 64}, f"the manifests of ['{NAV}'] changed")):
        path.write_text(json.dumps({**good, key: value}))
        with pytest.raises(ConfigError, match=re.escape(shown)):
            _run("noop", tmp_path, episodes_per_task=1, max_steps=3)
    path.write_text(json.dumps(good))
    assert _run("noop", tmp_path, episodes_per_task=1, max_steps=3).skipped == 1


def test_duplicate_splits_run_once(tmp_path):
    res = _run("noop", tmp_path, episodes_per_task=1, max_steps=3,
               splits=["test_seen", "test_seen"])
    assert res.new == 1 and res.config["splits"] == ["test_seen"]


def test_a_lock_keeps_a_second_run_out_of_the_directory(tmp_path):
    from vla_bench.evaluation.runner import RunLock

    tmp_path.mkdir(exist_ok=True)
    code = ("import sys, time\n"
            "from pathlib import Path\n"
            "from vla_bench.evaluation.runner import RunLock\n"
            f"with RunLock(Path({str(tmp_path)!r})):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match=f"in use by another run \\(pid {proc.pid} "):
            _run("noop", tmp_path, episodes_per_task=1, max_steps=3)
    finally:
        proc.kill()
        proc.wait()
    # The holder died: the lock went with it.
    assert _run("noop", tmp_path, episodes_per_task=1, max_steps=3).new == 1
    with RunLock(tmp_path), pytest.raises(ConfigError, match="in use by another run"):
        _run("noop", tmp_path, episodes_per_task=1, max_steps=3)


def test_baseline_must_match_the_run_and_the_expert_rerun_keeps_env_kwargs(tmp_path):
    env_kwargs = {"control_mode": "base_only"}
    run = tmp_path / "run"
    _run("noop", run, episodes_per_task=1, max_steps=5, env_kwargs=env_kwargs,
         compare_expert=True)
    base_dir = run / "expert_baseline"
    base_cfg = json.loads((base_dir / "run_config.json").read_text())
    assert base_cfg["env_kwargs"]["control_mode"] == "base_only"
    assert base_cfg["policy_name"] == "expert" and base_cfg["max_steps"] == 5
    with pytest.raises(ConfigError, match=r"does not match this run \(env_kwargs: "):
        _run("noop", tmp_path / "a", episodes_per_task=1, max_steps=5, baseline_dir=base_dir)
    with pytest.raises(ConfigError, match=r"max_steps: 5 -> 4"):
        _run("noop", tmp_path / "b", episodes_per_task=1, max_steps=4, env_kwargs=env_kwargs,
             baseline_dir=base_dir)
    assert not (tmp_path / "a" / "episodes.jsonl").exists()  # refused before any episode
    ok = _run("random", tmp_path / "c", episodes_per_task=1, max_steps=5, env_kwargs=env_kwargs,
              baseline_dir=base_dir, reports=True)
    assert json.loads(ok.reports["aggregate"].read_text())["comparison"]


def test_privilege_travels_to_worker_processes(tmp_path, privileged):
    # Registered as privileged in this process only: the workers still bind it, and only it.
    privileged(Gamer)
    res = _run(Gamer, tmp_path / "gamer", episodes_per_task=2, max_steps=300, workers=2)
    assert sorted((r["seed"], r["success"]) for r in res.records) == [(100000, True),
                                                                    (100001, False)]
    Snoop.found, Snoop.bound = [], 0
    res = _run(Snoop(), tmp_path / "snoop", episodes_per_task=2, max_steps=5, workers=2)
    assert [r["failure_reason"] for r in res.records] == ["", ""]
    assert res.config["privileged"] is False


def test_record_log_drop_rewrites_without_the_dropped(tmp_path):
    from vla_bench.evaluation.records import RecordLog, read_records

    path = tmp_path / "episodes.jsonl"
    with RecordLog(path) as log:
        for k in ("a", "b", "c"):
            log.append({"key": k, "failure_reason": "policy_error: x" if k == "b" else ""})
        assert log.drop({"b", "zzz"}) == 1
        assert "b" not in log
        log.append({"key": "b", "failure_reason": ""})
    assert [r["key"] for r in read_records(path)] == ["a", "c", "b"]
    assert not (tmp_path / "episodes.jsonl.tmp").exists()
    with RecordLog(path) as log:
        assert log.drop(set()) == 0 and len(log.records) == 3


@pytest.mark.slow
def test_ray_backend_on_a_two_node_cluster(tmp_path):
    """Two Ray nodes started as separate raylet processes (``ray.cluster_utils.Cluster``, as
    ``ray start --head`` + ``ray start --address`` would on two machines): the head offers no
    CPU, each worker node one, so the two episode workers run on different nodes; records equal
    the serial run's."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        nodes = [cluster.add_node(num_cpus=1) for _ in range(2)]
        cluster.wait_for_nodes()
        kw = dict(tasks=[NAV, TREE], episodes_per_task=2, max_steps=15)
        a = _run("random", tmp_path / "serial", **kw)
        b = _run("random", tmp_path / "ray", backend="ray", workers=2,
                 ray_address=cluster.address, **kw)
        alive = [n for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) >= 1]
        assert len(alive) == len(nodes) == 2
        assert _stripped(a.records) == _stripped(b.records)
    finally:
        ray.shutdown()
        cluster.shutdown()
