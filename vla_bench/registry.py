"""Task and environment registry: plain data, cheap to import.

Each task is one :class:`TaskEntry` (scene domain, name, ``"module:Class"`` entry point, family,
step budget, and the group it is listed under). Gymnasium ids are derived from the table:

- the 16 *domain tasks* are listed under their domain: ``VLA-<Domain>-<Task>-v1``, and
  ``VLA-<Domain>-v1`` samples among them each episode;
- the 12 *family tasks* are listed under their family (``group="manipulation"`` …) though they
  are placed in a domain scene: ``VLA-<Family>-<Task>-v1``, and ``VLA-<Family>-v1`` samples
  among them (across scenes, see :mod:`vla_bench.multi_env`).

Task modules are imported only when an env is made. A released id never changes behaviour: a
change is a new version.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import gymnasium as gym

from vla_bench.errors import UnknownNameError

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


TASKS: tuple[TaskEntry, ...] = (
    TaskEntry("kitchen", "PlaceAppleInBasket",
              "vla_bench.domains.kitchen.place_apple_in_basket:PlaceAppleInBasket",
              "manipulation", 300),
    TaskEntry("workshop", "PlaceBoltInContainer",
              "vla_bench.domains.workshop.place_bolt_in_container:PlaceBoltInContainer",
              "manipulation", 300),
    TaskEntry("office", "GoToPrinter",
              "vla_bench.domains.office.go_to_printer:GoToPrinter", "navigation", 300),
    TaskEntry("outdoor", "WalkToTree",
              "vla_bench.domains.outdoor.walk_to_tree:WalkToTree", "navigation", 300),
    # navigation/outdoor/office tasks
    TaskEntry("outdoor", "GoAroundBox",
              "vla_bench.domains.outdoor.go_around_box:GoAroundBox", "navigation", 300),
    TaskEntry("outdoor", "CrossTerrain",
              "vla_bench.domains.outdoor.cross_terrain:CrossTerrain", "navigation", 400),
    TaskEntry("outdoor", "PushDoorOpen",
              "vla_bench.domains.outdoor.push_door_open:PushDoorOpen", "navigation", 300),
    # articulated tasks
    TaskEntry("kitchen", "OpenFridge",
              "vla_bench.domains.kitchen.open_fridge:OpenFridge", "manipulation", 400),
    TaskEntry("workshop", "TightenBolt",
              "vla_bench.domains.workshop.tighten_bolt:TightenBolt", "manipulation", 250),
    TaskEntry("workshop", "HammerNail",
              "vla_bench.domains.workshop.hammer_nail:HammerNail", "manipulation", 400),
    # -- more kitchen tasks --
    TaskEntry("kitchen", "PourLiquid",
              "vla_bench.domains.kitchen.pour_liquid:PourLiquid", "manipulation", 450),
    TaskEntry("kitchen", "CutVegetable",
              "vla_bench.domains.kitchen.cut_vegetable:CutVegetable", "manipulation", 350),
    # -- more office tasks --
    TaskEntry("office", "PenInHolder",
              "vla_bench.domains.office.pen_in_holder:PenInHolder", "manipulation", 300),
    TaskEntry("office", "SortPapers",
              "vla_bench.domains.office.sort_papers:SortPapers", "manipulation", 700),
    TaskEntry("office", "RetrieveStapler",
              "vla_bench.domains.office.retrieve_stapler:RetrieveStapler", "manipulation", 400),
    # -- more workshop tasks --
    TaskEntry("workshop", "ScrewIntoHole",
              "vla_bench.domains.workshop.screw_into_hole:ScrewIntoHole", "manipulation", 350),
    # -- manipulation family (group="manipulation") --
    TaskEntry("workshop", "AssembleParts",
              "vla_bench.domains.workshop.assemble_parts:AssembleParts", "manipulation", 350,
              group="manipulation"),
    TaskEntry("kitchen", "PickAndPlace", "vla_bench.domains.kitchen.pick_and_place:PickAndPlace",
              "manipulation", 400, group="manipulation"),
    TaskEntry("workshop", "StackBlocks", "vla_bench.domains.workshop.stack_blocks:StackBlocks",
              "manipulation", 500, group="manipulation"),
    TaskEntry("workshop", "UseTool", "vla_bench.domains.workshop.use_tool:UseTool",
              "manipulation", 450, group="manipulation"),
    # -- navigation family (group="navigation") --
    TaskEntry("outdoor", "FollowPerson",
              "vla_bench.domains.outdoor.follow_person:FollowPerson", "navigation", 500,
              group="navigation"),
    TaskEntry("office", "FindObject", "vla_bench.domains.office.find_object:FindObject",
              "navigation", 400, group="navigation"),
    TaskEntry("outdoor", "NavigateObstacles",
              "vla_bench.domains.outdoor.navigate_obstacles:NavigateObstacles", "navigation", 500,
              group="navigation"),
    TaskEntry("office", "GoToLocation", "vla_bench.domains.office.go_to_location:GoToLocation",
              "navigation", 300, group="navigation"),
    # -- social family (group="social") --
    TaskEntry("kitchen", "AssistPerson", "vla_bench.domains.kitchen.assist_person:AssistPerson",
              "social", 400, group="social"),
    TaskEntry("workshop", "CollaborateAssembly",
              "vla_bench.domains.workshop.collaborate_assembly:CollaborateAssembly", "social",
              500, group="social"),
    TaskEntry("office", "GreetPerson",
              "vla_bench.domains.office.greet_person:GreetPerson", "social", 400,
              group="social"),
    TaskEntry("office", "GuideVisitor",
              "vla_bench.domains.office.guide_visitor:GuideVisitor", "social", 500,
              group="social"),
)


def domain_env_id(group: str) -> str:
    """Domain- or family-level Gymnasium id, e.g. ``VLA-Kitchen-v1``, ``VLA-Social-v1``."""
    return f"VLA-{group.capitalize()}-{VERSION}"


def tasks_of(group: str) -> tuple[TaskEntry, ...]:
    """Tasks listed under a domain (its four domain tasks) or a family (its family tasks)."""
    if group not in DOMAINS + FAMILIES:
        raise UnknownNameError("domain or family", group, DOMAINS + FAMILIES)
    return tuple(t for t in TASKS if t.listed_under == group)


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
    """Register every id with Gymnasium (idempotent)."""
    for group in DOMAINS + FAMILIES:
        entries = tasks_of(group)
        if not entries:
            continue
        scenes = {e.domain for e in entries}
        if len(scenes) == 1:
            _register(domain_env_id(group), "vla_bench.env:VLAEnv",
                      {"domain": scenes.pop(), "tasks": [t.name for t in entries]})
        else:
            _register(domain_env_id(group), "vla_bench.multi_env:MultiSceneEnv",
                      {"tasks": [t.name for t in entries]})
    for entry in TASKS:
        _register(entry.env_id, "vla_bench.env:VLAEnv",
                  {"domain": entry.domain, "tasks": [entry.name]})


def _register(env_id: str, entry_point: str, kwargs: dict) -> None:
    if env_id in gym.registry:
        return
    gym.register(
        id=env_id,
        entry_point=entry_point,
        kwargs=kwargs,
        # The env truncates by each task's own step budget (domain ids mix tasks).
        max_episode_steps=None,
        disable_env_checker=False,
    )


def make(env_id: str, **kwargs: object) -> gym.Env:
    """``gym.make`` with a vla_bench error (and suggestions) for unknown ids."""
    if env_id not in env_ids():
        raise UnknownNameError("environment id", env_id, env_ids())
    return gym.make(env_id, **kwargs)
