"""Left-right mirroring of a training sample (an augmentation for navigation data).

The humanoid, its cameras (on the torso's mid-plane) and the physics are symmetric about the
robot's sagittal plane, so a demonstration seen in a mirror is another valid demonstration:
the images flipped left-right, every y component and every rotation about x or z negated, left
and right swapped (arms, legs, grippers, joints), and "left"/"right" swapped in the words. A
goal-choice task with 200 demonstrations has 200 layouts to learn "which one is the red
printer, and is it to my left" from; mirroring makes them 400.

The mapping is built from the state and action *names* (``vla_bench.conventions``' layout):
``mirrored[i] = sign[i] * x[partner[i]]``. A name it cannot place is refused rather than
guessed. Arm tasks mirror too, but their expert mostly uses the right arm: a mirrored copy
teaches the left arm the same move, which a regression head may average with the right-arm
original; :class:`~vla_bench.learning.train.TrainConfig` therefore leaves ``mirror`` off by
default.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from vla_bench.errors import ConfigError

# Components that change sign in a mirror about the x-z plane: y translations and velocities,
# and rotations about x (roll) and z (yaw).
_NEGATED = re.compile(r"(^|_)(vy|wz|dy|y|droll|dyaw)$|_roll_joint$|_yaw_joint$")
# Components that keep their sign: x and z, rotations about y (pitch), and scalars.
_KEPT = re.compile(r"(^|_)(vx|dx|dz|x|z|dpitch|height|gripper|opening)$"
                   r"|_pitch_joint$|_knee_joint$|_elbow_joint$")
_SIDE = re.compile(r"\b(left|right)\b|(?<=[/_])(left|right)(?=_)|^(left|right)(?=_)")


def _partner(name: str) -> str:
    return _SIDE.sub(lambda m: "right" if m.group(0) == "left" else "left", name)


def mirror_plan(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(partner, sign)`` for a vector laid out as ``names``: its mirror image is
    ``sign * x[partner]``. Raises :class:`ConfigError` for a name it cannot mirror."""
    index = {n: i for i, n in enumerate(names)}
    partner, sign = [], []
    for name in names:
        other = _partner(name)
        if other not in index:
            raise ConfigError(f"cannot mirror {name!r}: no {other!r} in the layout")
        if _NEGATED.search(name):
            s = -1.0
        elif _KEPT.search(name):
            s = 1.0
        else:
            raise ConfigError(f"cannot mirror {name!r}: unknown component (not a x/y/z, "
                              "roll/pitch/yaw, gripper or joint name); train without mirror")
        partner.append(index[other])
        sign.append(s)
    return np.asarray(partner, np.int64), np.asarray(sign, np.float32)


def mirror_words(text: str) -> str:
    """The instruction seen in a mirror: "left" and "right" swapped (case kept)."""
    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        out = "right" if word.lower() == "left" else "left"
        return out.capitalize() if word[0].isupper() else out

    return re.sub(r"\b(left|right)\b", swap, text, flags=re.IGNORECASE)
