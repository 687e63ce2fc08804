"""Task and environment registry.

Each task class registers itself with the :func:`register_task` decorator, which records one
:class:`TaskEntry` (scene domain, name, ``"module:Class"`` entry point, family, step budget,
and the group it is listed under): the class is the only place these are written.
:func:`discover` imports the task modules under ``vla_bench.domains`` (numpy and MuJoCo, no
torch). Gymnasium ids are derived from the entries:

- the 16 *domain tasks* are listed under their domain: ``VLA-<Domain>-<Task>-v1``, and
  ``VLA-<Domain>-v1`` samples among them each episode;
- the 12 *family tasks* are listed under their family (``group="manipulation"`` …) though they
  are placed in a domain scene: ``VLA-<Family>-<Task>-v1``, and ``VLA-<Family>-v1`` samples
  among them (across scenes, see :mod:`vla_bench.multi_env`).

A released id never changes behaviour: a change is a new version.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import gymnasium as gym

from vla_bench.errors import ConfigError, UnknownNameError

T = TypeVar("T")

VERSION = "v1"
DOMAINS = ("kitchen", "workshop", "office", "outdoor")
FAMILIES = ("manipulation", "navigation", "social")


@dataclass(frozen=True)
class TaskEntry:
    """One registered task."""

    domain: str
    name: str
    entry_point: str
    family: str
    max_episode_steps: int
    group: str = ""  # a family for the family tasks; empty: listed under its domain
    builtin: bool = True  # joins its domain's or family's sampling id

    @property
    def listed_under(self) -> str:
        """The domain or family whose id samples this task."""
        return self.group or self.domain

    @property
    def env_id(self) -> str:
        """Per-task Gymnasium id."""
        return f"VLA-{self.listed_under.capitalize()}-{self.name}-{VERSION}"

    def load(self) -> type:
        """Import and return the task class."""
        module, _, attr = self.entry_point.partition(":")
        return getattr(importlib.import_module(module), attr)


_ENTRIES: list[TaskEntry] = []
TASKS: tuple[TaskEntry, ...] = ()  # every registered task, in registration order
BUILTIN_PACKAGE = "vla_bench.domains"
_envs_registered = False


def register_task(*, domain: str, family: str, max_episode_steps: int, group: str = "",
                  name: str | None = None) -> Callable[[type[T]], type[T]]:
    """Class decorator: the task class is the single source of its registration.

    It sets the class attributes ``name`` (default: the class name), ``domain``, ``family``
    and ``max_episode_steps`` and adds a :class:`TaskEntry`. ``group`` lists a family task
    under its family (``"manipulation"`` …) instead of its domain. Built-in tasks (modules
    under ``vla_bench.domains``) join their domain's or family's sampling id; a task defined
    elsewhere gets its per-task id only, so a released sampling id never changes.
    """
    if domain not in DOMAINS:
        raise UnknownNameError("domain", domain, DOMAINS)
    if family not in FAMILIES:
        raise UnknownNameError("family", family, FAMILIES)
    if group and group not in FAMILIES:
        raise UnknownNameError("group", group, FAMILIES)
    if not isinstance(max_episode_steps, int) or max_episode_steps <= 0:
        raise ConfigError(f"max_episode_steps must be a positive int, got {max_episode_steps!r}")

    def decorate(cls: type[T]) -> type[T]:
        global TASKS
        task_name = name or cls.__name__
        entry = TaskEntry(domain, task_name, f"{cls.__module__}:{cls.__qualname__}", family,
                          max_episode_steps, group,
                          builtin=cls.__module__.startswith(BUILTIN_PACKAGE + "."))
        for other in _ENTRIES:
            if other.env_id == entry.env_id and other.entry_point != entry.entry_point:
                raise ConfigError(f"task id {entry.env_id} is already registered by "
                                  f"{other.entry_point}; pick another name")
            if (other.name, other.domain) == (task_name, domain) \
                    and other.entry_point != entry.entry_point:
                raise ConfigError(f"a task named {task_name!r} already exists in the {domain} "
                                  f"scene ({other.entry_point}); pick another name")
        cls.name, cls.domain, cls.family = task_name, domain, family  # type: ignore[attr-defined]
        cls.max_episode_steps = max_episode_steps  # type: ignore[attr-defined]
        if entry not in _ENTRIES:
            _ENTRIES[:] = [e for e in _ENTRIES if e.env_id != entry.env_id] + [entry]
            TASKS = tuple(_ENTRIES)
            if _envs_registered:
                _register(entry.env_id, "vla_bench.env:VLAEnv",
                          {"domain": entry.domain, "tasks": [entry.name]},
                          entry.max_episode_steps)
        return cls

    return decorate


def discover() -> tuple[TaskEntry, ...]:
    """Import ``vla_bench.domains``, whose ``__init__`` imports every built-in task module.

    Its import order is the registration order, which fixes the order of each sampling id's
    task list (and so which task a seed draws): new tasks are appended there.
    """
    importlib.import_module(BUILTIN_PACKAGE)
    return TASKS


def domain_env_id(group: str) -> str:
    """Domain- or family-level Gymnasium id, e.g. ``VLA-Kitchen-v1``, ``VLA-Social-v1``."""
    return f"VLA-{group.capitalize()}-{VERSION}"


def tasks_of(group: str) -> tuple[TaskEntry, ...]:
    """Tasks listed under a domain (its four domain tasks) or a family (its family tasks)."""
    if group not in DOMAINS + FAMILIES:
        raise UnknownNameError("domain or family", group, DOMAINS + FAMILIES)
    return tuple(t for t in TASKS if t.listed_under == group and t.builtin)


def tasks_in_scene(domain: str) -> tuple[TaskEntry, ...]:
    """Every task placed in a domain's scene (domain tasks and family tasks)."""
    if domain not in DOMAINS:
        raise UnknownNameError("domain", domain, DOMAINS)
    return tuple(t for t in TASKS if t.domain == domain)


def find_task(name: str, domain: str | None = None) -> TaskEntry:
    """A task by name (``"PlaceAppleInBasket"``), optionally within a domain's scene."""
    pool = tasks_in_scene(domain) if domain else TASKS
    for entry in pool:
        if entry.name == name:
            return entry
    raise UnknownNameError("task", name, [t.name for t in pool])


def env_ids() -> list[str]:
    """Every Gymnasium id vla_bench registers."""
    return ([domain_env_id(g) for g in DOMAINS + FAMILIES if tasks_of(g)]
            + [t.env_id for t in TASKS])


def register_envs() -> None:
    """Discover the built-in tasks and register every id with Gymnasium (idempotent)."""
    global _envs_registered
    discover()
    _envs_registered = True
    for group in DOMAINS + FAMILIES:
        entries = tasks_of(group)
        if not entries:
            continue
        scenes = {e.domain for e in entries}
        if len(scenes) == 1:
            _register(domain_env_id(group), "vla_bench.env:VLAEnv",
                      {"domain": scenes.pop(), "tasks": [t.name for t in entries]}, None)
        else:
            _register(domain_env_id(group), "vla_bench.multi_env:MultiSceneEnv",
                      {"tasks": [t.name for t in entries]}, None)
    for entry in TASKS:
        _register(entry.env_id, "vla_bench.env:VLAEnv",
                  {"domain": entry.domain, "tasks": [entry.name]}, entry.max_episode_steps)


def _register(env_id: str, entry_point: str, kwargs: dict, max_steps: int | None) -> None:
    if env_id in gym.registry:
        return
    gym.register(
        id=env_id,
        entry_point=entry_point,
        kwargs=kwargs,
        # Sampling ids mix tasks with different budgets: there the env truncates by each
        # task's own budget and the spec says None. A single-task id states its budget (the
        # env truncates at the same step, so gymnasium's TimeLimit never fires first).
        max_episode_steps=max_steps,
        disable_env_checker=False,
    )


def make_from_config(env_id: str, kwargs: dict[str, Any]) -> gym.Env:
    """:func:`make` from stored (JSON) kwargs, as the evaluator and the data generator keep them.

    JSON has no tuples: ``cameras`` and ``image_size`` come back as the tuples the env wants.
    """
    kw = dict(kwargs)
    if "cameras" in kw:
        kw["cameras"] = tuple(kw["cameras"])
    if "image_size" in kw:
        kw["image_size"] = tuple(int(v) for v in kw["image_size"])
    return make(env_id, **kw)


def make(env_id: str, **kwargs: object) -> gym.Env:
    """``gym.make`` with a vla_bench error (and suggestions) for unknown ids."""
    if env_id not in env_ids():
        raise UnknownNameError("environment id", env_id, env_ids())
    return gym.make(env_id, **kwargs)
