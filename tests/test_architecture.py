"""The house rules, checked: tasks reach MuJoCo only through ``Sim``, frame maths and contact
bits live in one module each, registration is written once, robot geometry stays in robots/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gymnasium as gym
import pytest

import vla_bench
from vla_bench import registry
from vla_bench.robots import ROBOTS, get_robot

PKG = Path(vla_bench.__file__).parent
TASK_CODE = sorted((PKG / "domains").rglob("*.py")) + [PKG / "humans.py"]


def _source(path: Path) -> str:
    return path.read_text()


@pytest.mark.parametrize("path", TASK_CODE, ids=lambda p: str(p.relative_to(PKG)))
def test_task_code_uses_sim_helpers_only(path: Path) -> None:
    text = _source(path)
    raw = re.findall(r"\b\w+\.(?:data|model)\.\w+", text)
    assert not raw, f"{path.name} reaches into raw MuJoCo: {sorted(set(raw))[:5]}"
    assert "mj_name2id" not in text, f"{path.name} looks names up around the task's scope"
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not node.module.startswith("vla_bench.control"), \
                f"{path.name} imports {node.module}"


def _py_files() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def test_frame_maths_written_once() -> None:
    for path in _py_files():
        if path.name == "geometry.py":
            continue
        text = _source(path)
        for pattern in (r"def (_?wrap|_?yaw_quat|_?yaw_matrix)\(", r"np\.cos\(yaw / 2\)"):
            assert not re.search(pattern, text), f"{path.relative_to(PKG)}: {pattern}"


def test_contact_bits_allocated_in_conventions() -> None:
    for path in _py_files():
        if path.name == "conventions.py":
            continue
        assert not re.search(r"^CONTACT_\w+\s*=", _source(path), re.M), path.name


def test_no_robot_joint_names_outside_robots() -> None:
    names = {j for r in ROBOTS for j in get_robot(r).body_joints} | {"ankle"}
    for path in _py_files():
        if "robots" in path.relative_to(PKG).parts:
            continue
        text = _source(path)
        hits = [n for n in names if re.search(rf"['\"]{n}['\"]|\b{n}\b", text)]
        assert not hits, f"{path.relative_to(PKG)} names robot joints {hits}"


@pytest.mark.parametrize("entry", registry.TASKS, ids=lambda e: e.env_id)
def test_registration_written_once(entry: registry.TaskEntry) -> None:
    cls = entry.load()
    assert (cls.name, cls.domain, cls.family, cls.max_episode_steps) == (
        entry.name, entry.domain, entry.family, entry.max_episode_steps)
    assert gym.spec(entry.env_id).max_episode_steps == entry.max_episode_steps
    src = _source(Path(__import__(cls.__module__, fromlist=["_"]).__file__))
    for attr in ("name", "domain", "family", "max_episode_steps"):
        assert not re.search(rf"^    {attr} = ", src, re.M), f"{entry.name} restates {attr}"


def test_sampling_ids_leave_the_budget_to_each_task() -> None:
    for group in registry.DOMAINS + registry.FAMILIES:
        assert gym.spec(registry.domain_env_id(group)).max_episode_steps is None


def test_unknown_task_registration_values_are_rejected() -> None:
    with pytest.raises(vla_bench.UnknownNameError, match="kitchen"):
        registry.register_task(domain="kichen", family="manipulation", max_episode_steps=10)
    with pytest.raises(vla_bench.ConfigError, match="positive"):
        registry.register_task(domain="kitchen", family="manipulation", max_episode_steps=0)


def test_import_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, vla_bench; heavy = [m for m in ('torch', 'transformers', 'matplotlib', "
            "'pyarrow', 'h5py', 'ray') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
