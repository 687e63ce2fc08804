"""Is the goal in view? Pixels of the goal's bodies in the default observation's cameras.

A task is a fair test of vision only if the observation shows where the goal is. Each task
names the bodies that show it (:meth:`vla_bench.task.Task.goal_bodies`); a segmentation render
of each camera counts the pixels where a geom of one of those bodies (or of a body below them,
such as a door below its fridge) is the nearest surface, so occluded parts do not count.
``vla-bench check`` reports the share of episodes whose goal is visible at reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError

MIN_PIXELS = 20
"""Goal pixels (over all cameras, at 224 × 224) for the goal to count as visible: about a
5 × 4 patch, a distant landmark's width."""


def goal_geom_mask(env: Any) -> np.ndarray:
    """``bool[ngeom]``: the geoms of this episode's goal bodies and of every body below them."""
    base = env.unwrapped
    sim = base._task_sim  # noqa: SLF001 - the task's own name scope
    model = base.model
    names = base.task.goal_bodies(sim)
    goal = np.zeros(model.nbody, bool)
    for name in names:
        goal[sim.body_id(name)] = True
    # Bodies are numbered parents first, so one pass in order reaches every descendant.
    for b in range(1, model.nbody):
        goal[b] |= goal[model.body_parentid[b]]
    return goal[model.geom_bodyid]


def goal_pixels(env: Any, cameras: Sequence[str] = cv.DEFAULT_CAMERAS,
                image_size: Sequence[int] = cv.DEFAULT_IMAGE_SIZE) -> dict[str, int]:
    """Visible goal pixels per camera in the current state (call after ``reset``).

    Renders its own segmentation passes, so it works on an env built without cameras.
    """
    from vla_bench.rendering import RGBDRenderer

    base = env.unwrapped
    mask = goal_geom_mask(env)
    h, w = int(image_size[0]), int(image_size[1])
    renderer = getattr(base, "_segmenter", None)
    if renderer is None or (renderer.height, renderer.width) != (h, w):
        if renderer is not None:
            renderer.close()
        renderer = RGBDRenderer(base.model, h, w)
        base._segmenter = renderer  # noqa: SLF001 - env.close() closes it
    out = {}
    for cam in cameras:
        cam_id = base._resolve_camera(cam)  # noqa: SLF001
        if cam_id < 0:
            raise ConfigError(f"no camera {cam!r} in this env")
        seg = renderer.segment(base.data, cam_id)
        hit = seg[seg >= 0]
        out[cam] = int(mask[hit].sum())
    return out


def goal_visible(env: Any, cameras: Sequence[str] = cv.DEFAULT_CAMERAS) -> bool:
    """Whether at least :data:`MIN_PIXELS` goal pixels show in ``cameras`` together."""
    return sum(goal_pixels(env, cameras).values()) >= MIN_PIXELS

