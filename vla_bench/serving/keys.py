"""How our observation maps onto a policy server's keys, and what its actions mean.

A key map is ``{server_key: our_obs_key}``. Presets:

- ``libero``: openpi's LIBERO examples (``observation/image`` is our first camera's RGB,
  ``observation/wrist_image`` the ``wrist_right`` camera's, ``observation/state`` our proprio
  state, ``prompt`` the instruction).
- ``vla_bench``: our own keys unchanged.

Action conventions, declared by the client and, when the server states them in its metadata,
checked against it at connect: ``action_scale`` (the server's actions are ours times this;
the client divides) and ``gripper`` polarity (``"+1_closes"``, ours, or ``"+1_opens"``: the
client flips the sign of the gripper dimensions).
"""

from __future__ import annotations

from collections.abc import Mapping

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError

KEY_PRESETS: dict[str, dict[str, str]] = {
    "libero": {
        "observation/image": cv.OBS_RGB,
        "observation/wrist_image": f"{cv.OBS_RGB}_wrist_right",
        "observation/state": cv.OBS_STATE,
        "prompt": cv.OBS_INSTRUCTION,
    },
    "vla_bench": {k: k for k in (cv.OBS_RGB, cv.OBS_DEPTH, cv.OBS_STATE, cv.OBS_INSTRUCTION)},
}
GRIPPER_POLARITIES = ("+1_closes", "+1_opens")
OUR_GRIPPER = "+1_closes"
# Metadata key of a vla_bench server; its value says which extras of the protocol it speaks.
VLA_BENCH_META = "vla_bench"
# Sent with the first request of an episode to a vla_bench server (seed, instruction, spec).
EPISODE_KEY = "vla_bench/episode"


def key_map(keys: str | Mapping[str, str]) -> dict[str, str]:
    """A preset name or an explicit ``{server_key: our_obs_key}`` map, validated."""
    if isinstance(keys, str):
        if keys not in KEY_PRESETS:
            raise ConfigError(f"unknown key preset {keys!r}; choose one of "
                              f"{sorted(KEY_PRESETS)} or pass a {{server_key: obs_key}} object")
        return dict(KEY_PRESETS[keys])
    if not isinstance(keys, Mapping) or not keys or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        raise ConfigError(f"keys must be a preset name or a non-empty {{server_key: obs_key}} "
                          f"object of strings, got {keys!r}")
    return dict(keys)


def check_polarity(gripper: str) -> str:
    if gripper not in GRIPPER_POLARITIES:
        raise ConfigError(f"gripper polarity must be one of {GRIPPER_POLARITIES}, got "
                          f"{gripper!r}")
    return gripper
