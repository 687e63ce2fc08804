"""Grouping episode records and reading their fields with clear errors.

Records are the plain dicts of the ``vla_bench.episode/1`` schema (one line of
``episodes.jsonl``); metrics never depend on the runner's classes, only on these keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from vla_bench.errors import UnknownNameError, VlaBenchError

Record = Mapping[str, Any]

GROUP_FIELDS = (
    "env_id", "task", "domain", "family", "split", "perturbation", "perturbation_axis",
    "policy",
)


class InvalidRecordError(VlaBenchError, ValueError):
    """An episode record that lacks a field a metric needs, or holds a value of the wrong kind."""


def field(record: Record, name: str) -> Any:
    """``record[name]``, or :class:`InvalidRecordError` naming the episode and the field."""
    try:
        return record[name]
    except KeyError:
        key = record.get("key", "<record without key>")
        raise InvalidRecordError(
            f"episode {key!r} has no field {name!r}: records must follow the "
            f"vla_bench.episode/1 schema (re-run the evaluation with this vla_bench version)"
        ) from None


def group_records(
    records: Iterable[Record], by: str | Callable[[Record], Any]
) -> dict[str, list[Record]]:
    """Records grouped by a schema field (e.g. ``"task"``, ``"split"``) or a key function.

    Groups keep first-seen order; ``None`` values group under ``"none"`` so that the result
    can be written to JSON.
    """
    if isinstance(by, str):
        if by not in GROUP_FIELDS:
            raise UnknownNameError("grouping field", by, GROUP_FIELDS)
        name = by

        def key_fn(rec: Record) -> Any:
            return field(rec, name)
    else:
        key_fn = by
    groups: dict[str, list[Record]] = {}
    for rec in records:
        value = key_fn(rec)
        groups.setdefault("none" if value is None else str(value), []).append(rec)
    return groups


def pair_key(record: Record) -> tuple[str, str, str, int]:
    """``(env_id, split, perturbation, seed)``: the identity of one manifest episode."""
    return (str(field(record, "env_id")), str(field(record, "split")),
            str(field(record, "perturbation")), int(field(record, "seed")))


def nominal_key(record: Record) -> tuple[str, str, int]:
    """``(env_id, split, seed)``: the episode a perturbed record shares with nominal."""
    return str(field(record, "env_id")), str(field(record, "split")), int(field(record, "seed"))
