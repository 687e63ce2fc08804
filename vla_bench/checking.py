"""Is each task a fair test? The figures behind ``vla-bench check`` and the README's table.

Per task, on the same seeds:

- **expert**: the privileged scripted expert (target ≥ 90 %): the task can be solved.
- **random**: uniform random actions (target ≤ 5 %): it cannot be solved by flailing.
- **blind**: the success of the expert run toward a goal drawn uniformly from the episode's
  ``k`` alternatives (:meth:`vla_bench.task.Task.goals`) while the episode is scored against
  the instruction's goal: a competent policy that ignores the words, i.e. the task's
  *measured* chance level (target ≤ 0.34). The draw hits the named goal with probability
  ``1/k`` (that episode is the expert's own, already run) and another goal otherwise, so per
  seed the check runs the expert toward one uniformly drawn *other* goal and scores
  ``(expert + (k - 1) * wrong) / k``: the expectation of the uniform draw, conditioned on
  where it lands. It is unbiased and, unlike one raw draw per seed, carries no coin-flip noise
  of whether the draw hit the named goal (about ±0.06 at 50 seeds and ``k = 4``). The
  wrong-goal runs are reported too: a competent policy pursuing another alternative should
  (nearly) never succeed.
- **visible**: the share of episodes whose goal shows in the default observation at reset
  (:mod:`vla_bench.visibility`; target ≥ 50 % except for search tasks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

POLICIES = ("expert", "random", "blind")
BLIND_STREAM = 0xB11D  # the blind draw's own random stream, apart from the episode's


@dataclass
class TaskCheck:
    """One task's check results (lists indexed like the seeds)."""

    env_id: str
    seeds: list[int]
    results: dict[str, list[tuple[bool, int]]] = field(default_factory=dict)
    alternatives: list[int] = field(default_factory=list)
    visible: list[bool] = field(default_factory=list)

    def rate(self, policy: str) -> float | None:
        """Success rate of ``policy`` (None if it was not run); ``"blind"`` is the conditioned
        estimate of the module docstring, ``"wrong"`` the rate of the wrong-goal runs."""
        if policy == "blind":
            values = self.blind_per_seed()
            return None if not values else float(np.mean(values))
        runs = self.results.get("blind" if policy == "wrong" else policy)
        return None if not runs else float(np.mean([s for s, _ in runs]))

    def blind_per_seed(self) -> list[float]:
        """Per seed, the uniform draw's expected success ``(expert + (k - 1) wrong) / k``
        (empty when the blind episodes were not run)."""
        wrong, expert = self.results.get("blind", []), self.results.get("expert", [])
        if not wrong:
            return []
        return [(float(e) + (k - 1) * float(w)) / k
                for (e, _), (w, _), k in zip(expert, wrong, self.alternatives, strict=True)]


def blind_goal(task: Any, seed: int) -> tuple:
    """The other goal the blind check pursues in episode ``seed``: uniform over the episode's
    alternatives except the named one (the named one is the expert's own episode)."""
    others = [tuple(g) for g in task.goals() if tuple(g) != tuple(task.goal)]
    if not others:
        raise ValueError(f"{task.name} has no alternative goal: its words decide nothing")
    rng = np.random.default_rng([seed, BLIND_STREAM])
    return others[int(rng.integers(len(others)))]


def run_episode(env: Any, seed: int, policy: str,
                on_reset: Callable[[Any], None] | None = None) -> tuple[bool, int]:
    """One episode of ``policy`` (``expert``, ``random``, ``blind`` or ``zero``): (success,
    steps). ``on_reset(env)`` looks at the reset state before the first step."""
    env.reset(seed=seed)
    if on_reset is not None:
        on_reset(env)
    base = env.unwrapped
    if policy == "blind":
        base.pursue(blind_goal(base.task, seed))
    act = policy_fn(policy, env, seed)
    info: dict[str, Any] = {}
    budget = base.task.max_episode_steps
    for t in range(1, budget + 1):
        _, _, terminated, truncated, info = env.step(act())
        if terminated or truncated:
            return bool(info["is_success"]), t
    return bool(info.get("is_success", False)), budget


def policy_fn(name: str, env: Any, seed: int) -> Callable[[], np.ndarray]:
    """The action source of a check policy."""
    if name in ("expert", "blind"):
        return env.unwrapped.expert_action
    space = env.action_space
    if name == "random":
        rng = np.random.default_rng(seed)
        return lambda: rng.uniform(space.low, space.high).astype(np.float32)
    if name == "zero":
        return lambda: np.zeros(space.shape, np.float32)
    raise ValueError(f"unknown check policy {name!r}; choose from {POLICIES + ('zero',)}")


def check_task(env_id: str, seeds: Iterable[int], policies: Sequence[str] = POLICIES,
               visibility: bool = True, progress: Callable[[str], None] | None = None,
               **env_kwargs: Any) -> TaskCheck:
    """Run the check's episodes of one task (the env has no cameras: the expert needs none,
    visibility renders its own segmentation passes)."""
    from vla_bench.registry import make
    from vla_bench.visibility import goal_visible

    seeds = list(seeds)
    if "blind" in policies and "expert" not in policies:  # the blind estimate needs both
        policies = ("expert", *policies)
    out = TaskCheck(env_id, seeds, {p: [] for p in policies})
    env = make(env_id, cameras=(), **env_kwargs)
    def look(e: Any) -> None:  # every policy starts from the same reset: look once
        out.alternatives.append(len(e.unwrapped.task.goals()))
        if visibility:
            out.visible.append(goal_visible(e))

    try:
        for i, policy in enumerate(policies):
            for seed in seeds:
                if progress is not None:
                    progress(f"{env_id} {policy} seed {seed}")
                out.results[policy].append(
                    run_episode(env, seed, policy, on_reset=look if i == 0 else None))
    finally:
        env.close()
    return out


def fraction(values: Sequence[bool]) -> str:
    """``"92% (46/50)"``, or ``"–"`` for none."""
    if not values:
        return "–"
    k, n = int(sum(values)), len(values)
    return f"{k / n:.0%} ({k}/{n})"


TABLE_HEADER = ("task", "alternatives", "expert success", "random success", "blind success",
                "wrong-goal success", "goal visible at reset", "expert steps to success")


def table_row(c: TaskCheck) -> tuple[str, ...]:
    """The README / ``vla-bench check`` row of one task."""
    expert = c.results.get("expert", [])
    ok_steps = [t for s, t in expert if s]
    alts = sorted(set(c.alternatives))
    return (
        c.env_id,
        "–" if not alts else (str(alts[0]) if len(alts) == 1 else f"{alts[0]}–{alts[-1]}"),
        fraction([s for s, _ in expert]),
        fraction([s for s, _ in c.results.get("random", [])]),
        "–" if c.rate("blind") is None else f"{c.rate('blind'):.2f}",
        fraction([s for s, _ in c.results.get("blind", [])]),
        fraction(c.visible),
        f"{np.mean(ok_steps):.0f}" if ok_steps else "–",
    )
