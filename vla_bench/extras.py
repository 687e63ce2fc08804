"""Optional dependencies, grouped as the package's extras (see ``pyproject.toml``).

The core (make an env, step it, run an evaluation) needs none of them. ``data`` holds the
dataset writers and readers (pyarrow for LeRobot v3, h5py for HDF5), ``report`` the plotting
library of the evaluation reports, ``video`` MoviePy, which ``gymnasium.wrappers.RecordVideo``
encodes with. Callers check with :func:`require` before the first lazy import, so that a
missing package fails early with the command that installs it instead of a bare
``ModuleNotFoundError``. Nothing here imports the optional packages themselves.
"""

from __future__ import annotations

import importlib.util

from vla_bench.errors import MissingDependencyError

EXTRAS: dict[str, tuple[str, ...]] = {
    "data": ("pyarrow", "h5py"),
    "report": ("matplotlib",),
    "serve": ("websockets", "msgpack"),
    "video": ("moviepy",),
}


def available(module: str) -> bool:
    """Whether top-level ``module`` can be imported (found on the path; not imported here)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that fails, or a broken entry
        return False


def require(module: str, *, extra: str, purpose: str) -> None:
    """Raise :class:`MissingDependencyError` naming ``pip install 'vla_bench[extra]'``."""
    if extra not in EXTRAS or module not in EXTRAS[extra]:
        raise ValueError(f"{module!r} is not part of an extra {extra!r}")
    if not available(module):
        raise MissingDependencyError(
            f"{purpose} needs {module}, which is not installed: "
            f"pip install 'vla_bench[{extra}]'",
            name=module,
        )
