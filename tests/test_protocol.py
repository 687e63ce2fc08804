"""Protocol v1 manifests: in sync with the registry, well formed, validated on load."""

from __future__ import annotations

import json
import shutil

import pytest

import vla_bench
from vla_bench import conventions as cv
from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.evaluation import protocol
from vla_bench.evaluation.perturbations import AXES

REGEN = "python -m vla_bench.evaluation.protocol --write"


def test_every_task_has_a_manifest_equal_to_the_generator():
    stale = protocol.check()
    assert not stale, f"protocol manifests out of date: {stale}; regenerate with `{REGEN}`"
    suite = protocol.load_suite()
    assert list(suite.tasks) == [t.env_id for t in vla_bench.TASKS], f"run `{REGEN}`"


@pytest.mark.parametrize("env_id", [t.env_id for t in vla_bench.TASKS])
def test_manifest_content(env_id):
    m = protocol.load_manifest(env_id)
    entry = next(t for t in vla_bench.TASKS if t.env_id == env_id)
    assert (m.task, m.domain, m.family, m.max_steps) == (
        entry.name, entry.domain, entry.family, entry.max_episode_steps)
    lo, hi = protocol.TRAINING_SEEDS
    evaluation = {k: v for k, v in m.splits.items() if k != "train"}
    for split, seeds in evaluation.items():
        assert len(seeds) == protocol.EPISODES_PER_SPLIT == 100
        assert not any(lo <= s <= hi for s in seeds), split
    all_eval = [s for seeds in evaluation.values() for s in seeds]
    assert len(all_eval) == len(set(all_eval)), "evaluation splits overlap"
    expected = set(cv.SPLITS) - ({"cross_domain"} if m.domain not in
                                 protocol.HELD_OUT_DOMAINS else set())
    assert set(m.splits) == expected
    assert m.perturbations, "empty perturbation set"
    for axis, levels in m.perturbations:
        assert AXES[axis].supports(m.domain)
        for level in levels:
            AXES[axis].validate(int(level) if AXES[axis].integer else level)


@pytest.fixture
def copy_dir(tmp_path):
    root = tmp_path / "v1"
    shutil.copytree(protocol.protocol_dir(), root)
    return root


def _edit(path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_loading_errors_are_clear(copy_dir):
    protocol.write(copy_dir)
    env_id = "VLA-Office-GoToPrinter-v1"
    path = copy_dir / f"{env_id}.json"
    assert protocol.load_manifest(env_id, root=copy_dir).env_id == env_id

    _edit(path, lambda d: d["splits"]["test_seen"].__setitem__(0, 5))
    with pytest.raises(ConfigError, match="hash"):  # hand-edited: the suite hash catches it
        protocol.load_manifest(env_id, root=copy_dir)
    (copy_dir / protocol.SUITE_FILE).unlink()  # without the suite, content checks still apply
    with pytest.raises(ConfigError, match="training seeds"):
        protocol.load_manifest(env_id, root=copy_dir)
    _edit(path, lambda d: d["splits"]["test_seen"].__setitem__(0, 100001))
    with pytest.raises(ConfigError, match="twice"):
        protocol.load_manifest(env_id, root=copy_dir)
    _edit(path, lambda d: d["splits"].update(test_seen=[110000]))
    with pytest.raises(ConfigError, match="disjoint"):
        protocol.load_manifest(env_id, root=copy_dir)
    _edit(path, lambda d: d["splits"].update(bogus=[1]))
    with pytest.raises(UnknownNameError, match="split"):
        protocol.load_manifest(env_id, root=copy_dir)
    _edit(path, lambda d: (d["splits"].pop("bogus"), d.pop("max_steps")))
    with pytest.raises(ConfigError, match="max_steps"):
        protocol.load_manifest(env_id, root=copy_dir)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        protocol.load_manifest(env_id, root=copy_dir)
    with pytest.raises(UnknownNameError, match="Did you mean"):
        protocol.load_manifest("VLA-Office-GoToPrinterr-v1", root=copy_dir)


def test_generator_detects_stale_and_missing_files(copy_dir):
    protocol.write(copy_dir)  # as generated now (independent of the checked-in files)
    assert protocol.check(copy_dir) == []
    (copy_dir / "VLA-Office-GoToPrinter-v1.json").unlink()
    (copy_dir / "VLA-Retired-Task-v1.json").write_text("{}")
    assert protocol.check(copy_dir) == ["VLA-Office-GoToPrinter-v1.json",
                                        "VLA-Retired-Task-v1.json"]
    protocol.write(copy_dir)
    assert protocol.check(copy_dir) == []
