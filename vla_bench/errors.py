"""The exception hierarchy: every error vla_bench raises derives from :class:`VlaBenchError`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class VlaBenchError(Exception):
    """Root of all vla_bench errors."""


class UnknownNameError(VlaBenchError, KeyError):
    """A name (env id, task, robot, policy, camera…) that is not registered."""

    def __init__(self, kind: str, name: str, valid: Iterable[str]) -> None:
        valid = sorted(valid)
        close = difflib.get_close_matches(name, valid, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        shown = ", ".join(valid[:40]) + (" …" if len(valid) > 40 else "")
        plural = kind[:-1] + "ies" if kind.endswith("y") and not kind.endswith("ey") else kind + "s"
        self.message = f"unknown {kind} {name!r}.{hint} Valid {plural}: {shown}"
        self._args = (kind, name, valid)
        super().__init__(self.message)

    def __reduce__(self) -> tuple:  # picklable across processes (several init arguments)
        return (type(self), self._args)

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.message


class ConfigError(VlaBenchError, ValueError):
    """A constructor argument or option with a bad value."""


class InvalidActionError(VlaBenchError, ValueError):
    """An action with the wrong shape, dtype or non-finite values."""


class RenderBackendError(VlaBenchError, RuntimeError):
    """No headless OpenGL backend could be loaded."""


class AssetError(VlaBenchError, FileNotFoundError):
    """A robot or scene asset that cannot be found or loaded."""


class MissingDependencyError(VlaBenchError, ImportError):
    """An optional package is not installed; the message names the extra that provides it."""
