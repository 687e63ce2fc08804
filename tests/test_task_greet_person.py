"""GreetPerson: what counts as a wave, and greeting the wrong person fails."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import vla_bench
from vla_bench.domains.office.greet_person import RAISE, SWING, Greeting, WaveDetector


class _FakeSim:
    """Just what WaveDetector reads: the base pose, the pelvis height and the TCPs."""

    def __init__(self) -> None:
        self.hand = {"left": np.array([0.1, 0.2, 0.6]), "right": np.array([0.1, -0.2, 0.6])}

    def robot_base(self) -> np.ndarray:
        return np.array([0.0, 0.0, 0.0])

    def pelvis_pos(self) -> np.ndarray:
        return np.array([0.0, 0.0, 0.8])

    def tcp(self, side: str) -> np.ndarray:
        return self.hand[side].copy()


def _feed(det: WaveDetector, sim: _FakeSim, ys: list[float], z: float) -> int:
    n = 0
    for y in ys:
        sim.hand["right"] = np.array([0.1, y, z])
        n = det.update(sim)  # type: ignore[arg-type]
    return n


def test_raised_swinging_hand_is_a_wave_and_other_motions_are_not():
    up = 0.8 + RAISE + 0.1
    swing = [-0.3 - 0.1 * np.sin(2 * np.pi * k / 20) for k in range(60)]  # ±10 cm, 1 Hz
    sim = _FakeSim()
    assert _feed(WaveDetector(), sim, swing, up) >= 3
    # The same swing with the hand low (reaching, carrying) is no wave.
    assert _feed(WaveDetector(), _FakeSim(), swing, 0.8 + RAISE - 0.1) == 0
    # A raised hand held still, or jittering below the swing threshold, is no wave.
    jitter = [-0.3 + 0.4 * SWING * (k % 2) for k in range(60)]
    assert _feed(WaveDetector(), _FakeSim(), jitter, up) == 0
    # Lowering the hand resets the count.
    det = WaveDetector()
    _feed(det, sim, swing[:25], up)
    assert _feed(det, sim, [-0.3], 0.6) == 0


def test_waving_at_the_wrong_person_fails():
    env = vla_bench.make("VLA-Social-GreetPerson-v1", cameras=())
    sim = env.unwrapped.sim
    for seed in range(3, 30):  # an episode where that spot keeps clear of the others
        env.reset(seed=seed)
        task = env.unwrapped.task
        wrong = (task.target + 1) % len(task.persons)
        p = task.persons[wrong]
        # Stand 1.6 m in front of the wrong person, facing them, with them facing back.
        spot = p.xy + 1.6 * np.array([np.cos(p.yaw), np.sin(p.yaw)])
        sim.set_robot_base(spot, p.yaw + np.pi)
        sim.forward_kinematics()
        if task.evaluate(sim).failure_reason != "too close to a person":
            break
    assert task.in_greeting_position(sim, wrong)
    task.greeting.update(sim)  # in position now: the next swings count for this person
    task.greeting.detector = SimpleNamespace(update=lambda _sim: 3)  # a wave completes now
    task.greeting.update(sim)
    assert task.greeting.greeted == wrong
    ev = task.evaluate(sim)
    assert task.evaluate(sim) == ev  # evaluate is pure
    assert ev.failure and ev.failure_reason == "greeted the wrong person" and not ev.success
    env.close()


def test_only_swings_made_in_position_count():
    """Swings made on the way (out of every greeting position) count for nobody: a wave
    begun before walking up and finished in position greets no one; a whole wave in position
    does."""
    up = 0.8 + RAISE + 0.1
    swing = [-0.3 - 0.1 * np.sin(2 * np.pi * k / 20) for k in range(60)]  # ±10 cm, 1 Hz
    in_position = [False]
    greeting = Greeting(1, lambda _sim, _k: in_position[0])
    sim = _FakeSim()
    greeting.reset(sim)  # type: ignore[arg-type]

    def feed(ys: list[float]) -> None:
        for y in ys:
            sim.hand["right"] = np.array([0.1, y, up])
            greeting.update(sim)  # type: ignore[arg-type]

    feed(swing[:25])  # two swings while walking up: nobody is greeted, none are kept
    assert greeting.greeted is None and greeting.waves == 0
    in_position[0] = True
    feed(swing[25:33])  # in position: one more swing would have made three
    assert greeting.greeted is None and greeting.waves < 3
    feed(swing[33:])  # a whole wave in position greets
    assert greeting.greeted == 0
