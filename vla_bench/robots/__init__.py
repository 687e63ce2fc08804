"""Humanoid robot adapters. ``ROBOTS`` maps a robot name to its :class:`RobotModel`.

``g1`` (the default: Unitree's 29-DoF G1) needs its model fetched once at set-up
(``python -m vla_bench.robots.fetch``, which ``scripts/setup.sh`` runs); ``g1_23`` (the 23-DoF
variant) and ``h1`` come with robosuite-models.
"""

from __future__ import annotations

from vla_bench.errors import UnknownNameError
from vla_bench.robots.adapter import RobotHandles, RobotModel
from vla_bench.robots.g1 import G1
from vla_bench.robots.g1_23 import G1_23
from vla_bench.robots.h1 import H1

ROBOTS: dict[str, RobotModel] = {"g1": G1, "g1_23": G1_23, "h1": H1}


def get_robot(name: str) -> RobotModel:
    """The robot model registered as ``name`` (``"g1"``, ``"g1_23"``, ``"h1"``)."""
    try:
        return ROBOTS[name]
    except KeyError:
        raise UnknownNameError("robot", name, ROBOTS) from None


__all__ = ["ROBOTS", "RobotHandles", "RobotModel", "get_robot"]
