"""Hindsight goals: where each demonstration ends, seen from each of its frames.

An auxiliary training target (``TrainConfig.hindsight_weight``) that makes a model say, from
the view and the words alone, *where* the named goal is. The behaviour-cloning loss carries
that only weakly: at an episode's first frames, where the words decide, the expert's command
is a small turn or side step, and later the motion under way tells the rest. The episode's
end is a large, clean signal: in GoToPrinter it differs by metres between the printers.

Computed from the demonstration alone (no simulator state): the base pose is dead-reckoned
from the state's measured velocities (``base_vx``, ``base_vy`` in the robot frame,
``base_wz``) at the control rate, and the hands' final positions are the state's TCP entries
(robot frame) of the episode's last frame. For frame ``t`` the target is, in the robot frame
at ``t``: the displacement to the final pose (x, y), the sine and cosine of the turn to it,
and both TCPs at the end. Nothing of it reaches a policy: it is a training label only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError

NAMES = ("dx", "dy", "sin_dyaw", "cos_dyaw", "right_tcp_x", "right_tcp_y", "right_tcp_z",
         "left_tcp_x", "left_tcp_y", "left_tcp_z")
_NEEDS = ("base_vx", "base_vy", "base_wz", "right_tcp_x", "right_tcp_y", "right_tcp_z",
          "left_tcp_x", "left_tcp_y", "left_tcp_z")


def _rotate(x: np.ndarray, y: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(angle), np.sin(angle)
    return c * x - s * y, s * x + c * y


def targets(states: np.ndarray, state_names: Sequence[str], lengths: Sequence[int],
            dt: float = 1.0 / cv.CONTROL_HZ) -> np.ndarray:
    """Hindsight goals ``[N, len(NAMES)]`` of frames ``states`` ``[N, S]`` (episodes of
    ``lengths``, back to back)."""
    missing = [n for n in _NEEDS if n not in state_names]
    if missing:
        raise ConfigError(f"hindsight goals need the state entries {missing}; the datasets "
                          "have none (generate them with vla-bench generate)")
    col = {n: list(state_names).index(n) for n in _NEEDS}
    if sum(lengths) != len(states):
        raise ConfigError(f"episode lengths sum to {sum(lengths)}, but there are {len(states)} "
                          "frames")
    out = np.empty((len(states), len(NAMES)), np.float32)
    start = 0
    for n in lengths:
        s = states[start:start + n].astype(np.float64)
        # Pose p_k in the episode's first frame: p_{k+1} = p_k + dt * (R(yaw_k) v_k, wz_k).
        yaw = np.concatenate([[0.0], np.cumsum(s[:-1, col["base_wz"]] * dt)])
        vx, vy = _rotate(s[:, col["base_vx"]], s[:, col["base_vy"]], yaw)
        x = np.concatenate([[0.0], np.cumsum(vx[:-1] * dt)])
        y = np.concatenate([[0.0], np.cumsum(vy[:-1] * dt)])
        dyaw = yaw[-1] - yaw
        dx, dy = _rotate(x[-1] - x, y[-1] - y, -yaw)  # into each frame's robot frame
        rows = [dx, dy, np.sin(dyaw), np.cos(dyaw)]
        for side in ("right", "left"):
            ex, ey = (s[-1, col[f"{side}_tcp_{a}"]] for a in "xy")
            tx, ty = _rotate(np.full(n, ex), np.full(n, ey), dyaw)
            rows += [tx + dx, ty + dy, np.full(n, s[-1, col[f"{side}_tcp_z"]])]
        out[start:start + n] = np.stack(rows, axis=1)
        start += n
    return out
