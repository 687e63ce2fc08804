"""AssembleParts: fit is physical — the named peg seats in its socket, the others do not."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import vla_bench
from vla_bench.domains.workshop.assemble_parts import PEG_GRASP, SOCKET_DEPTH, SOCKET_OF

ENV_ID = "VLA-Manipulation-AssembleParts-v1"


@pytest.fixture(scope="module")
def env():
    e = vla_bench.make(ENV_ID, cameras=())
    yield e
    e.close()


def _drop(env, peg: str, socket: str, steps: int = 40) -> dict:
    """Stand ``peg`` upright 1 cm above ``socket``'s rim, let it fall, return the last info."""
    u = env.unwrapped
    above = u.sim.body_pos(f"assembly_socket_{socket}") + np.array(
        [0.0, 0.0, SOCKET_DEPTH + 0.01 + PEG_GRASP])
    u.sim.set_free_pose(f"assembly_peg_{peg}", above)
    mujoco.mj_forward(u.model, u.data)
    zero = np.zeros(env.action_space.shape, np.float32)
    info: dict = {}
    for _ in range(steps):
        _, _, terminated, _, info = env.step(zero)
        if terminated:
            break
    return info


def test_named_peg_seats_in_its_socket(env) -> None:
    for seed in (0, 1):
        env.reset(seed=seed)
        kind = env.unwrapped.task.target
        info = _drop(env, kind, SOCKET_OF[kind])
        assert info["is_success"], (seed, info["progress"])


@pytest.mark.parametrize("peg,socket", [("thick", "round"), ("thick", "square"),
                                        ("square", "round")])
def test_misfitting_pegs_do_not_go_in(env, peg: str, socket: str) -> None:
    env.reset(seed=2)
    _drop(env, peg, socket)
    task, sim = env.unwrapped.task, env.unwrapped.sim
    assert not task.seated(sim, peg, socket)
    bottom = task.peg_bottom(sim, peg)[2] - sim.body_pos(f"assembly_socket_{socket}")[2]
    assert bottom > SOCKET_DEPTH - 0.005, "a misfitting peg must rest on the rim"


def test_round_peg_in_the_square_socket_is_a_failure_when_named_square(env) -> None:
    for seed in range(20):
        env.reset(seed=seed)
        if env.unwrapped.task.target == "square":
            break
    info = _drop(env, "round", "square")
    assert info["is_failure"] and info["failure_reason"] == "wrong peg or socket"


@pytest.mark.parametrize("peg", sorted(SOCKET_OF))
def test_every_peg_seats_in_the_socket_of_its_shape(env, peg: str) -> None:
    env.reset(seed=3)
    _drop(env, peg, SOCKET_OF[peg])
    assert env.unwrapped.task.seated(env.unwrapped.sim, peg, SOCKET_OF[peg])


def test_every_peg_is_named_and_is_an_alternative(env) -> None:
    named = set()
    for seed in range(16):
        env.reset(seed=seed)
        task = env.unwrapped.task
        assert sorted(g[0] for g in task.goals()) == sorted(SOCKET_OF)
        assert task.goal in task.goals()
        named.add(task.target)
    assert named == set(SOCKET_OF)


def test_the_other_round_peg_in_the_round_socket_fails(env) -> None:
    for seed in range(20):
        env.reset(seed=seed)
        if env.unwrapped.task.target == "round":
            break
    info = _drop(env, "round_b", "round")
    assert info["is_failure"] and info["failure_reason"] == "wrong peg or socket"
