"""Policy protocol, registry (lazy strings, entry points, suggestions) and built-in policies."""

from __future__ import annotations

import importlib.metadata
import sys
import types

import numpy as np
import pytest

from vla_bench.errors import ConfigError, UnknownNameError, VlaBenchError
from vla_bench.evaluation.episode import policy_spec
from vla_bench.policies import (
    Policy,
    PolicyError,
    PolicyOutput,
    PolicySpec,
    as_output,
    is_privileged,
    is_privileged_target,
    list_policies,
    make_policy,
    register_policy,
    resolve_target,
)
from vla_bench.policies import registry as reg

NAV_ID = "VLA-Office-GoToPrinter-v1"


class _Hold:
    def reset(self, instruction: str) -> None:
        self.instruction = instruction

    def act(self, obs):
        return np.zeros(3, np.float32)


def make_hold(**kwargs):
    policy = _Hold()
    policy.kwargs = kwargs
    return policy


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(reg, "_REGISTRY", dict(reg._REGISTRY))
    monkeypatch.setattr(reg, "_PRIVILEGED", set(reg._PRIVILEGED))
    return reg._REGISTRY


def _fake_module(monkeypatch, name: str, **attrs) -> None:
    module = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(module, k, v)
    monkeypatch.setitem(sys.modules, name, module)


def test_unknown_policy_suggests_close_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'random'"):
        make_policy("randon")
    with pytest.raises(VlaBenchError):
        make_policy("no-such-policy")


def test_lazy_string_is_imported_only_at_make(monkeypatch, clean_registry):
    register_policy("hold", "fake_policies_pkg.hold:make")
    assert "fake_policies_pkg.hold" not in sys.modules  # registering imports nothing
    assert resolve_target("hold") == "fake_policies_pkg.hold:make"
    _fake_module(monkeypatch, "fake_policies_pkg.hold", make=make_hold)
    policy = make_policy("hold", gain=2)
    assert isinstance(policy, Policy) and policy.kwargs == {"gain": 2}


def test_register_validation(clean_registry):
    with pytest.raises(ConfigError, match="module:factory"):
        register_policy("bad", "not a target")
    with pytest.raises(ConfigError, match="already registered"):
        register_policy("random", "x.y:z")
    register_policy("random", "x.y:z", overwrite=True)
    assert resolve_target("random") == "x.y:z"
    register_policy("callable_one", make_hold)
    assert make_policy("callable_one").kwargs == {}


def test_missing_module_and_bad_factory_output(monkeypatch, clean_registry):
    register_policy("ghost", "surely_not_installed_pkg:make")
    with pytest.raises(ConfigError, match="cannot import"):
        make_policy("ghost")
    _fake_module(monkeypatch, "fake_bad_policy", make=lambda: object())
    register_policy("bad_out", "fake_bad_policy:make")
    with pytest.raises(ConfigError, match="no reset"):
        make_policy("bad_out")


def test_entry_point_discovery(monkeypatch, clean_registry):
    ep = importlib.metadata.EntryPoint(name="third_party_vla", value="tp_vla.policy:make",
                                       group="vla_bench.policies")
    seen = {}

    def fake_entry_points(**kwargs):
        seen.update(kwargs)
        return [ep] if kwargs.get("group") == "vla_bench.policies" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    _fake_module(monkeypatch, "tp_vla.policy", make=make_hold)
    assert "third_party_vla" in list_policies()
    assert seen == {"group": "vla_bench.policies"}
    assert isinstance(make_policy("third_party_vla"), _Hold)
    # Built-in names win over an entry point of the same name.
    clash = importlib.metadata.EntryPoint(name="expert", value="tp_vla.policy:make",
                                          group="vla_bench.policies")
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: [clash])
    assert resolve_target("expert").endswith("ExpertPolicy")


def test_module_factory_string_without_registration(monkeypatch):
    _fake_module(monkeypatch, "adhoc_policy_mod", make=make_hold)
    assert isinstance(make_policy("adhoc_policy_mod:make"), _Hold)


def test_policy_output_chunk_and_confidence():
    chunk = np.arange(6, dtype=np.float32).reshape(3, 2)
    out = PolicyOutput(action=None, confidence=0.25, action_chunk=chunk)
    assert np.array_equal(out.action, chunk[0]) and out.actions.shape == (3, 2)
    assert as_output(np.ones(2)).actions.shape == (1, 2)
    with pytest.raises(PolicyError, match="differs"):
        PolicyOutput(action=np.ones(2), action_chunk=chunk)
    with pytest.raises(PolicyError, match=r"\[0, 1\]"):
        PolicyOutput(action=np.ones(2), confidence=1.5)
    with pytest.raises(PolicyError):
        PolicyOutput(action=None)
    with pytest.raises(PolicyError, match="None"):
        as_output(None)


def _bound(policy, env, seed: int):
    """What the runner does at the start of an episode."""
    obs, _ = env.reset(seed=seed)
    policy.setup(policy_spec(env))
    if is_privileged(policy):
        policy.bind(env)
    if hasattr(policy, "seed"):
        policy.seed(seed)
    policy.reset(obs["instruction"])
    return obs


def test_builtins_random_is_seeded_noop_holds_expert_solves(env_cache):
    env = env_cache(NAV_ID, cameras=())
    rand = make_policy("random")
    obs = _bound(rand, env, 7)
    a1 = [rand.act(obs) for _ in range(3)]
    obs = _bound(rand, env, 7)
    a2 = [rand.act(obs) for _ in range(3)]
    obs = _bound(rand, env, 8)
    a3 = [rand.act(obs) for _ in range(3)]
    assert all(np.array_equal(x, y) for x, y in zip(a1, a2, strict=True))
    assert not np.array_equal(a1[0], a3[0])
    assert a1[0].shape == env.action_space.shape and np.all(np.abs(a1[0]) <= 1)

    noop = make_policy("noop")
    obs = _bound(noop, env, 3)
    start = env.unwrapped.data.xpos[env.unwrapped.handles.pelvis_body].copy()
    for _ in range(10):
        action = noop.act(obs)
        obs, *_ = env.step(action)
    moved = np.linalg.norm(env.unwrapped.data.xpos[env.unwrapped.handles.pelvis_body] - start)
    assert moved < 1e-3
    layout = env.unwrapped.action_layout
    grip = layout.index("right_gripper")
    assert action[grip] < -0.5  # open gripper held open, not driven to half-closed
    assert np.all(np.delete(action, [grip, layout.index("left_gripper")]) == 0)

    expert = make_policy("scripted")
    assert is_privileged(expert) and not is_privileged(rand) and not is_privileged(noop)
    obs = _bound(expert, env, 100000)
    for _ in range(env.unwrapped.task.max_episode_steps):
        obs, _, terminated, truncated, info = env.step(expert.act(obs))
        if terminated or truncated:
            break
    assert info["is_success"]


def test_builtins_need_setup_first():
    with pytest.raises(ConfigError, match="set up"):
        make_policy("noop").act({})
    from vla_bench.policies.builtin import ExpertPolicy

    expert = ExpertPolicy()  # built from the class, not the registry: never bound
    assert not is_privileged(expert)
    with pytest.raises(ConfigError, match="privileged"):
        expert.act({})
    with pytest.raises(ConfigError, match="scale"):
        make_policy("random", scale=2.0)


def test_privilege_is_registered_not_self_declared(clean_registry, monkeypatch):
    class Claims(_Hold):
        privileged = True  # says so itself: does not count

    _fake_module(monkeypatch, "claims_mod", Claims=Claims, make=make_hold)
    register_policy("claims", "claims_mod:Claims")
    assert not is_privileged(make_policy("claims"))
    assert not is_privileged_target(resolve_target("claims"))
    register_policy("ref_ctrl", "claims_mod:make", privileged=True)
    assert is_privileged_target("claims_mod:make") and is_privileged(make_policy("ref_ctrl"))
    assert not is_privileged(make_policy("claims_mod:Claims"))
    assert is_privileged_target(resolve_target("expert"))
    # An entry point cannot make itself privileged either.
    ep = importlib.metadata.EntryPoint(name="ep_claims", value="claims_mod:Claims",
                                       group="vla_bench.policies")
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: [ep])
    assert not is_privileged(make_policy("ep_claims"))


def test_privilege_is_by_identity_not_equality():
    expert = make_policy("expert")

    class LooksEqual(_Hold):
        def __eq__(self, other):
            return True

        def __hash__(self):
            return hash(expert)

    assert is_privileged(expert) and not is_privileged(LooksEqual())
    assert not is_privileged(make_policy("expert").__class__())  # same class, not registry-built


def test_policy_spec_has_layouts_intrinsics_and_robot_relative_extrinsics(env_cache):
    env = env_cache(NAV_ID, cameras=("head", "wrist_right"), image_size=(48, 64))
    base = env.unwrapped
    specs, worlds, poses = [], [], []
    for seed in (0, 1):
        _, info = env.reset(seed=seed)
        specs.append(policy_spec(env))
        worlds.append(np.asarray(info["cameras"]["head"]["extrinsics"]))
        mat = base.data.xmat[base.handles.pelvis_body].reshape(3, 3)
        xy = base.data.xpos[base.handles.pelvis_body][:2]
        poses.append((xy.copy(), float(np.arctan2(mat[1, 0], mat[0, 0]))))
    spec = specs[1]
    assert isinstance(spec, PolicySpec) and spec.action_layout == tuple(base.action_layout)
    assert spec.action_shape == env.action_space.shape and spec.control_hz == 20.0
    assert spec.state_layout == tuple(base.state_layout)
    assert [c.name for c in spec.cameras] == ["head", "wrist_right"]
    assert [c.rgb_key for c in spec.cameras] == ["rgb", "rgb_wrist_right"]
    head = spec.cameras[0]
    assert (head.height, head.width) == (48, 64)
    np.testing.assert_allclose(head.intrinsics, info["cameras"]["head"]["intrinsics"])
    for sp, world, (xy, yaw) in zip(specs, worlds, poses, strict=True):
        # robot -> world by the pelvis pose gives back the world extrinsics exactly.
        c, s_ = np.cos(yaw), np.sin(yaw)
        robot_to_world = np.eye(4)
        robot_to_world[:3, :3] = [[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]]
        robot_to_world[:2, 3] = xy
        np.testing.assert_allclose(robot_to_world @ np.asarray(sp.cameras[0].extrinsics), world,
                                   atol=1e-9)
    # The robot stands elsewhere in the two episodes; its camera sits where it did on it.
    assert not np.allclose(worlds[0][:3, 3], worlds[1][:3, 3], atol=1e-2)
    np.testing.assert_allclose(specs[0].cameras[0].extrinsics, specs[1].cameras[0].extrinsics,
                               atol=2e-3)
    # Nothing in a spec is an env, a model or a callable.
    for cam in spec.cameras:
        for value in vars(cam).values():
            assert isinstance(value, (str, int, tuple))
    for value in vars(spec).values():
        assert isinstance(value, (str, int, float, tuple))
