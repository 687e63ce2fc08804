"""Packaging: a wheel built from the repo works outside it; the core needs no optional extra.

The wheel test builds from a copy of the sources (no stale ``build/``, nothing written into the
checkout), installs the wheel with ``--no-deps`` into a fresh venv, and borrows the running
interpreter's site-packages through a ``.pth`` file for mujoco, gymnasium, numpy… so it
downloads nothing. The check script runs from a directory outside the repo, so only the
installed copy of ``vla_bench`` can be imported.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from vla_bench import assets, extras

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "vla_bench")  # what the build backend reads
QUICK_START_ID = "VLA-Kitchen-v1"  # the README's quick start

_IN_VENV = r"""
import json, sys
from pathlib import Path

import gymnasium as gym
import numpy as np

import vla_bench
from vla_bench import assets

prefix = Path(sys.prefix).resolve()
pkg = Path(vla_bench.__file__).resolve().parent
assert pkg.is_relative_to(prefix), f"vla_bench imported from {pkg}, not the venv {prefix}"
assert not pkg.is_relative_to(Path(sys.argv[1])), f"vla_bench imported from the repo: {pkg}"
assert assets.ASSET_ROOT.is_relative_to(pkg), assets.ASSET_ROOT
gripper = assets.leaf_asset("grippers", "parallel_jaw", "gripper.xml")
assert gripper.is_relative_to(pkg), gripper

env = gym.make(sys.argv[2], cameras=())
obs, info = env.reset(seed=0)
obs, reward, terminated, truncated, info = env.step(env.unwrapped.expert_action())
assert np.all(np.isfinite(obs["state"])) and obs["instruction"]
env.close()
print(json.dumps({"pkg": str(pkg), "assets": [p.relative_to(assets.ASSET_ROOT).as_posix()
                                               for p in assets.asset_files()]}))
"""


def _site_dirs() -> list[str]:
    """The running interpreter's site-packages (the project venv's), for the .pth file."""
    dirs = [*site.getsitepackages(), site.getusersitepackages(),
            sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return list(dict.fromkeys(d for d in dirs if Path(d).is_dir()))


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_wheel_installs_in_a_clean_venv_and_makes_an_env(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_NO_INDEX"] = "1"  # offline: nothing may be downloaded

    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"),
          str(src)], env=env, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("vla_bench-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env=env)
    py = venv / "bin" / "python"
    _run([*pip, "--python", str(py), "install", "--no-deps", "-q", str(wheel)], env=env)
    venv_site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                          "['purelib'])"], env=env).stdout.strip())
    (venv_site / "_vla_bench_test_deps.pth").write_text("\n".join(_site_dirs()) + "\n")

    work = tmp_path / "work"  # outside the repo: the checkout must not be importable
    work.mkdir()
    script = work / "check_install.py"
    script.write_text(textwrap.dedent(_IN_VENV))
    out = _run([str(py), str(script), str(REPO), QUICK_START_ID], env=env, cwd=work).stdout
    result = json.loads(out.strip().splitlines()[-1])

    assert Path(result["pkg"]).is_relative_to(venv.resolve())
    shipped = [p.relative_to(assets.ASSET_ROOT).as_posix() for p in assets.asset_files()]
    assert shipped, "no leaf assets found in the checkout"
    assert result["assets"] == shipped, "the wheel's package data differs from vla_bench/assets"
    assert (venv / "bin" / "vla-bench").exists(), "the console script is not installed"


_WITHOUT_EXTRAS = r"""
import sys

# As if the optional packages were not installed: ``import x`` and find_spec("x") both fail.
for name in ("pyarrow", "h5py", "matplotlib", "dm_control", "torch", "ray"):
    sys.modules[name] = None

import gymnasium as gym
import pytest

import vla_bench
from vla_bench import dm_env_adapter
from vla_bench.datagen.generate import generate
from vla_bench.errors import MissingDependencyError
from vla_bench.evaluation import plots
from vla_bench.evaluation.runner import evaluate

env = gym.make(sys.argv[3], cameras=())
env.reset(seed=0)
env.step(env.unwrapped.expert_action())
env.close()

dm = dm_env_adapter.load(sys.argv[3], seed=0, cameras=())
assert dm.reset().first()
dm.close()

out = sys.argv[1]
with pytest.warns(UserWarning, match="without figures"):
    result = evaluate("noop", out_dir=f"{out}/eval", tasks=[sys.argv[2]], episodes_per_task=1,
                      max_steps=3, cameras=(), progress=False)
report = result.reports["markdown"].read_text()
assert "Figures omitted" in report and "vla_bench[report]" in report, report[:400]
assert result.reports["aggregate"].exists() and result.reports["html"].exists()

with pytest.raises(MissingDependencyError, match=r"pip install 'vla_bench\[report\]'"):
    plots.success_bars("t", {"a": {"rate": 1.0, "ci95": [0.5, 1.0]}}, None, "p", "e")
for fmt, module in (("lerobot", "pyarrow"), ("hdf5", "h5py")):
    with pytest.raises(MissingDependencyError, match=rf"{module}.*pip install 'vla_bench\[data\]'"):
        generate("VLA-Kitchen-v1", 1, f"{out}/{fmt}", fmt=fmt, cameras=(), progress=False)
print("ok")
"""


def test_core_works_without_the_optional_extras(tmp_path: Path) -> None:
    """Make, step, dm_env and an evaluation (tables-only report) run without ``data``/``report``;
    the data writers and the plots fail early, naming the extra to install."""
    from helpers import KITCHEN_TASK_ID

    script = tmp_path / "without_extras.py"
    script.write_text(_WITHOUT_EXTRAS)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = _run([sys.executable, str(script), str(tmp_path), KITCHEN_TASK_ID, QUICK_START_ID],
                env=env, cwd=tmp_path)
    assert proc.stdout.strip().endswith("ok")


@pytest.mark.parametrize("extra", sorted(extras.EXTRAS))
def test_extras_match_pyproject(extra: str) -> None:
    """``vla_bench.extras`` names the same packages as pyproject's extras, and ``dev`` (what
    ``bash scripts/setup.sh`` installs) brings every one of them."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    optional = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    names = {re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0] for req in optional[extra]}
    assert names == set(extras.EXTRAS[extra])
    self_refs = [req for req in optional["dev"] if req.startswith("vla_bench[")]
    assert any(extra in req.split("[", 1)[1].split("]", 1)[0].split(",") for req in self_refs), (
        f"the dev extra does not include vla_bench[{extra}]")
