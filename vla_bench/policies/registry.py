"""Policy registry: names -> lazy ``"module:factory"`` targets, plus third-party entry points.

Nothing is imported until :func:`make_policy`. Third-party packages register policies
without touching vla_bench by declaring an entry point::

    [project.entry-points."vla_bench.policies"]
    my_vla = "my_package.policy:make_policy"

Names registered in this process (built-ins and :func:`register_policy`) take precedence
over entry points of the same name.

Privilege is recorded here, never taken from the policy object: only a target registered with
``privileged=True`` (the built-in expert) is handed the live env (``bind(env)``). Entry points
and ad-hoc ``"module:factory"`` strings are never privileged. Policies built through a
privileged target are remembered (:func:`is_privileged`) so the runner can tell them apart.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import weakref
from collections.abc import Callable
from typing import Any

from vla_bench.errors import ConfigError, UnknownNameError

ENTRY_POINT_GROUP = "vla_bench.policies"
Target = str | Callable[..., Any]

_TARGET_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")

_REGISTRY: dict[str, Target] = {
    # Classes are factories too; their class attributes (``cameras``) are readable before
    # anything is built.
    "random": "vla_bench.policies.builtin:RandomPolicy",
    "noop": "vla_bench.policies.builtin:NoopPolicy",
    # A remote policy server (openpi's websocket protocol); needs the `serve` extra.
    "openpi": "vla_bench.serving.client:OpenPIClientPolicy",
    "expert": "vla_bench.policies.builtin:ExpertPolicy",
    "scripted": "vla_bench.policies.builtin:ExpertPolicy",  # the spec's name for the expert
    # Learned baselines (vla_bench.learning): each needs checkpoint=<vla-bench train output>.
    "rt1": "vla_bench.learning.policy:make_rt1",
    "openvla": "vla_bench.learning.policy:make_openvla",
    "bcz": "vla_bench.learning.policy:make_bcz",
    "diffusion": "vla_bench.learning.policy:make_diffusion",
    "memory": "vla_bench.learning.policy:make_memory",
    "advanced": "vla_bench.learning.policy:make_advanced",
}
# Targets whose policies get the live env. Keyed by target, so that an alias and its
# original agree, and so that nothing a policy object says about itself counts.
_PRIVILEGED: set[Any] = {"vla_bench.policies.builtin:ExpertPolicy"}
# Policy instances built through a privileged target, by identity (id -> reference): a
# policy's own __eq__/__hash__ must not make it look like one. Weakly held where possible.
_PRIVILEGED_INSTANCES: dict[int, Callable[[], Any]] = {}


def register_policy(name: str, target: Target, *, overwrite: bool = False,
                    privileged: bool = False) -> None:
    """Register ``name`` -> ``"module:factory"`` (imported lazily) or a factory callable.

    The factory is called as ``factory(**kwargs)`` and must return a
    :class:`~vla_bench.policies.base.Policy`. For multi-process evaluation a string target
    is best: worker processes import it themselves (a callable must be picklable).
    ``privileged=True`` gives its policies the live env through ``bind(env)`` (simulator
    state, the expert): meant for reference controllers, and shown in every report.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"policy name must be letters, digits, '_', '-', '.', got {name!r}")
    if isinstance(target, str):
        _check_target(target)
    elif not callable(target):
        raise ConfigError(f"policy {name!r}: target must be a 'module:factory' string or a "
                          f"callable, got {type(target).__name__}")
    if name in _REGISTRY and not overwrite and _REGISTRY[name] != target:
        raise ConfigError(f"policy {name!r} is already registered as {_REGISTRY[name]!r}; "
                          "pass overwrite=True to replace it")
    _REGISTRY[name] = target
    if privileged:
        _PRIVILEGED.add(target)


def is_privileged_target(target: Any) -> bool:
    """Whether ``target`` (a resolved target, see :func:`resolve_target`) is registered as
    privileged."""
    if isinstance(target, PrivilegedFactory):
        return True
    try:
        return target in _PRIVILEGED
    except TypeError:  # an unhashable callable cannot have been registered
        return False


def is_privileged(policy: Any) -> bool:
    """Whether ``policy`` (this very object) was built through a target registered as
    privileged."""
    ref = _PRIVILEGED_INSTANCES.get(id(policy))
    return ref is not None and ref() is policy


def _mark_privileged(policy: Any) -> Any:
    key = id(policy)

    def forget(r: Any) -> None:
        if _PRIVILEGED_INSTANCES.get(key) is r:
            del _PRIVILEGED_INSTANCES[key]

    ref: Callable[[], Any]
    try:
        ref = weakref.ref(policy, forget)
    except TypeError:  # cannot be weakly referenced: held for the life of the process
        def ref() -> Any:
            return policy
    _PRIVILEGED_INSTANCES[key] = ref
    return policy


class PrivilegedFactory:
    """A factory whose policies are privileged; picklable, so the privilege decided here
    travels to worker processes and Ray actors with the target."""

    def __init__(self, target: Target) -> None:
        self.target = target

    @property
    def __wrapped__(self) -> Callable[..., Any]:  # inspect.signature follows it
        return _import_factory(self.target)

    @property
    def cameras(self) -> Any:
        """The wrapped factory's declared cameras."""
        return getattr(_import_factory(self.target), "cameras", None)

    def __call__(self, **kwargs: Any) -> Any:
        return _mark_privileged(_import_factory(self.target)(**kwargs))

    def __repr__(self) -> str:
        return f"privileged {self.target!r}"


def _check_target(target: str) -> None:
    if not _TARGET_RE.match(target):
        raise ConfigError(f"policy target must look like 'package.module:factory', got "
                          f"{target!r}")


def _entry_points() -> dict[str, str]:
    # Looked up through the module attribute at call time so tests can monkeypatch it.
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return {ep.name: ep.value for ep in found}


def list_policies() -> list[str]:
    """Every policy name: registered ones and those from installed entry points."""
    return sorted(set(_REGISTRY) | set(_entry_points()))


def resolve_target(name: str) -> Target:
    """The factory target of ``name`` without importing it.

    ``name`` may also be a ``"module:factory"`` string itself (an unregistered policy).
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    eps = _entry_points()
    if name in eps:
        _check_target(eps[name])
        return eps[name]
    if ":" in name:
        _check_target(name)
        return name
    raise UnknownNameError("policy", name, set(_REGISTRY) | set(eps))


def load_factory(target: Target) -> Callable[..., Any]:
    """Import a ``"module:factory"`` target (or return a callable as is). A target registered
    as privileged gives a :class:`PrivilegedFactory`, whose policies :func:`is_privileged`
    knows."""
    if not isinstance(target, PrivilegedFactory) and is_privileged_target(target):
        return PrivilegedFactory(target)
    return _import_factory(target)


def _import_factory(target: Target) -> Callable[..., Any]:
    if callable(target):
        return target
    _check_target(target)
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import policy module {module_name!r} ({exc}); is its "
                          "package installed in this environment?") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"policy target {target!r}: {module_name} has no {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(f"policy target {target!r} is not callable")
    return obj


def make_policy(name: str, **kwargs: Any) -> Any:
    """Build the policy registered as ``name`` with the factory's keyword arguments."""
    from vla_bench.policies.base import Policy

    factory = load_factory(resolve_target(name))
    try:
        policy = factory(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"policy {name!r}: bad arguments {sorted(kwargs)} ({exc})") from exc
    if not isinstance(policy, Policy):
        raise ConfigError(f"policy {name!r}: the factory returned {type(policy).__name__}, which "
                          "has no reset(instruction) and act(obs) methods")
    return policy
