"""Navigation for experts: a grid A* planner over the layout's obstacle footprints.

:class:`GridPlanner` rasterises the current episode's footprints (``layout.footprints(sim)``)
grown by the robot radius plus a margin, searches an 8-connected grid with A*, then prunes
the path by line of sight, so the robot drives straight segments between few corners. It is
called as ``planner(sim, start_xyyaw, goal_xyyaw)`` and returns ``(x, y, yaw)`` waypoints
(the start excluded, the goal last), the signature :class:`~vla_bench.experts.base.Navigate`
expects. Everything is deterministic: ties in the open list break by insertion order.

:func:`go_to_expert` builds the whole "walk to a pose near a landmark, stop, stay" expert.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vla_bench.experts.base import Command, Controller, Expert, Navigate, Phase
from vla_bench.geometry import heading
from vla_bench.scene.layout import Footprint, Layout
from vla_bench.sim import Sim

ROBOT_RADIUS = 0.3  # m, the humanoid's footprint radius (arms at the sides)
DEFAULT_MARGIN = 0.2  # m of clearance kept beyond the robot radius (hands swing wider)
POP_RADIUS = 0.25  # m: Navigate switches to the next waypoint this close to the current one
_SQRT2 = float(np.sqrt(2.0))
_MOVES = ((1, 0, 1.0), (-1, 0, 1.0), (0, 1, 1.0), (0, -1, 1.0),
          (1, 1, _SQRT2), (1, -1, _SQRT2), (-1, 1, _SQRT2), (-1, -1, _SQRT2))

Bounds = tuple[float, float, float, float]  # xmin, xmax, ymin, ymax of the robot centre


@dataclass
class Grid:
    """A boolean occupancy grid: ``blocked[i, j]`` is cell ``x = x0 + i·res, y = y0 + j·res``."""

    blocked: np.ndarray
    origin: np.ndarray
    res: float

    def cell(self, xy: np.ndarray) -> tuple[int, int]:
        """The cell holding a point (clamped into the grid)."""
        ij = np.round((np.asarray(xy[:2], float) - self.origin) / self.res).astype(int)
        ij = np.clip(ij, 0, np.array(self.blocked.shape) - 1)
        return int(ij[0]), int(ij[1])

    def point(self, ij: tuple[int, int]) -> np.ndarray:
        """Centre of a cell."""
        return self.origin + self.res * np.asarray(ij, float)

    def free(self, ij: tuple[int, int]) -> bool:
        """In the grid and not blocked."""
        i, j = ij
        nx, ny = self.blocked.shape
        return 0 <= i < nx and 0 <= j < ny and not self.blocked[i, j]

    def segment_free(self, a: np.ndarray, b: np.ndarray) -> bool:
        """No blocked cell along the straight segment ``a → b`` (sampled at res/3)."""
        n = max(2, int(np.ceil(np.linalg.norm(b[:2] - a[:2]) / (self.res / 3))) + 1)
        pts = np.linspace(a[:2], b[:2], n)
        ij = np.round((pts - self.origin) / self.res).astype(int)
        nx, ny = self.blocked.shape
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < nx) & (ij[:, 1] >= 0) & (ij[:, 1] < ny)
        if not np.all(inside):
            return False
        return not bool(np.any(self.blocked[ij[:, 0], ij[:, 1]]))

    def nearest_free(self, ij: tuple[int, int]) -> tuple[int, int] | None:
        """The free cell closest to ``ij`` (itself if free), by breadth-first rings."""
        if self.free(ij):
            return ij
        free = np.argwhere(~self.blocked)
        if len(free) == 0:
            return None
        d2 = np.sum((free - np.asarray(ij)) ** 2, axis=1)
        k = int(np.argmin(d2))  # argmin takes the first of ties: deterministic
        return int(free[k, 0]), int(free[k, 1])


def occupancy(
    footprints: Sequence[Footprint], bounds: Bounds, res: float, inflate: float,
    inflates: Sequence[float] | None = None,
) -> Grid:
    """Grid over ``bounds`` with every footprint grown by ``inflate`` marked blocked.

    ``inflates`` gives each footprint its own growth instead. Cells closer than ``inflate`` to
    the bounds' edge are blocked too (walls).
    """
    xmin, xmax, ymin, ymax = bounds
    xs = np.arange(xmin, xmax + 1e-9, res)
    ys = np.arange(ymin, ymax + 1e-9, res)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    blocked = np.zeros(len(pts), bool)
    grow = list(inflates) if inflates is not None else [inflate] * len(footprints)
    for fp, g in zip(footprints, grow, strict=True):
        blocked |= fp.contains(pts, margin=g)
    blocked = blocked.reshape(gx.shape)
    edge = ((gx < xmin + inflate) | (gx > xmax - inflate) |
            (gy < ymin + inflate) | (gy > ymax - inflate))
    return Grid(blocked | edge, np.array([xmin, ymin]), res)


def astar(grid: Grid, start: tuple[int, int], goal: tuple[int, int]) -> list[tuple[int, int]]:
    """8-connected A* (octile heuristic, no corner cutting); ``[]`` if unreachable."""
    if start == goal:
        return [start]

    def h(c: tuple[int, int]) -> float:
        dx, dy = abs(c[0] - goal[0]), abs(c[1] - goal[1])
        return (dx + dy) + (_SQRT2 - 2.0) * min(dx, dy)

    counter = 0
    open_heap: list[tuple[float, int, tuple[int, int]]] = [(h(start), counter, start)]
    g = {start: 0.0}
    parent: dict[tuple[int, int], tuple[int, int]] = {}
    closed: set[tuple[int, int]] = set()
    while open_heap:
        _, _, cur = heapq.heappop(open_heap)
        if cur in closed:
            continue
        if cur == goal:
            path = [cur]
            while cur in parent:
                cur = parent[cur]
                path.append(cur)
            return path[::-1]
        closed.add(cur)
        for dx, dy, cost in _MOVES:
            nxt = (cur[0] + dx, cur[1] + dy)
            if nxt in closed or not grid.free(nxt):
                continue
            if dx and dy and not (grid.free((cur[0] + dx, cur[1])) and
                                  grid.free((cur[0], cur[1] + dy))):
                continue
            new_g = g[cur] + cost
            if new_g < g.get(nxt, np.inf):
                g[nxt] = new_g
                parent[nxt] = cur
                counter += 1
                heapq.heappush(open_heap, (new_g + h(nxt), counter, nxt))
    return []


def shortcut(grid: Grid, points: list[np.ndarray]) -> list[np.ndarray]:
    """Line-of-sight pruning: from each kept point jump to the farthest one in plain view."""
    if len(points) <= 2:
        return list(points)
    out = [points[0]]
    i = 0
    while i < len(points) - 1:
        j = len(points) - 1
        while j > i + 1 and not grid.segment_free(points[i], points[j]):
            j -= 1
        out.append(points[j])
        i = j
    return out


def path_length(start: np.ndarray, waypoints: Sequence[np.ndarray]) -> float:
    """Length of the polyline ``start → waypoints`` in the plane."""
    pts = [np.asarray(start, float)[:2]] + [np.asarray(w, float)[:2] for w in waypoints]
    return float(sum(np.linalg.norm(b - a) for a, b in zip(pts[:-1], pts[1:], strict=True)))


class GridPlanner:
    """A* over the layout's footprints; callable as ``planner(sim, start, goal)``.

    Args:
        layout: the domain layout (its ``footprints(sim)`` are the obstacles).
        bounds: ``(xmin, xmax, ymin, ymax)`` of the walkable area (walls are its edges);
            default ``layout.nav_bounds`` or, failing that, the footprints' extent + 2 m.
        res: grid cell size in metres.
        robot_radius, margin: obstacles are grown by their sum.
        ignore: fixture body names that are not obstacles for this plan.
        margins: per-fixture margin overriding ``margin`` (e.g. ``{"tree": 0.0}`` lets the
            robot walk up close to a thin goal landmark).
        overshoot: corner waypoints are pushed this far along the incoming segment, to
            cancel :class:`Navigate`'s early waypoint switch (0 gives the plain corners).
        extra: this episode's obstacles that are not layout fixtures (task props), named.
    """

    def __init__(
        self, layout: Layout, *, bounds: Bounds | None = None, res: float = 0.1,
        robot_radius: float = ROBOT_RADIUS, margin: float = DEFAULT_MARGIN,
        ignore: Sequence[str] = (), overshoot: float = POP_RADIUS,
        margins: dict[str, float] | None = None,
        extra: Sequence[tuple[str, Footprint]] = (),
    ) -> None:
        self.layout, self.res, self.overshoot = layout, res, overshoot
        self.margins = dict(margins or {})
        self.bounds = bounds if bounds is not None else getattr(layout, "nav_bounds", None)
        self.robot_radius, self.margin = robot_radius, margin
        self.ignore = set(ignore)
        self.extra = list(extra)

    def named_footprints(self, sim: Sim) -> list[tuple[str, Footprint]]:
        """The obstacles of this episode with their fixture names, less the ignored ones."""
        keep = [name for name, fx in self.layout.fixtures.items() if fx.obstacle]
        fps = self.layout.footprints(sim)
        fixtures = [(name, fp) for name, fp in zip(keep, fps, strict=True)
                    if name not in self.ignore]
        return fixtures + self.extra

    def footprints(self, sim: Sim) -> list[Footprint]:
        """The obstacles of this episode, less the ignored fixtures."""
        return [fp for _, fp in self.named_footprints(sim)]

    def grid(self, sim: Sim, margin: float | None = None) -> Grid:
        """The occupancy grid of this episode (``margin`` overrides the default one)."""
        named = self.named_footprints(sim)
        fps = [fp for _, fp in named]
        bounds = self.bounds or _extent(fps)
        m = self.margin if margin is None else margin
        inflates = [self.robot_radius + min(m, self.margins.get(name, m)) for name, _ in named]
        return occupancy(fps, bounds, self.res, self.robot_radius + m, inflates)

    def __call__(self, sim: Sim, start: np.ndarray, goal: np.ndarray) -> list[np.ndarray]:
        """``(x, y, yaw)`` waypoints from ``start`` to ``goal`` (start excluded, goal last)."""
        start, goal = np.asarray(start, float), np.asarray(goal, float)
        pts = self.corners(sim, start, goal)
        out, prev = [], start[:2]
        for k, p in enumerate(pts):
            d = p - prev
            way = float(np.arctan2(d[1], d[0]))
            aim = p
            if k < len(pts) - 1:
                # Navigate drops a waypoint once within POP_RADIUS of it and heads for the
                # next: aim past each corner by that much so the robot turns on the corner
                # itself instead of cutting it (corners hug the inflated obstacles).
                aim = p + self.overshoot * d / max(float(np.linalg.norm(d)), 1e-9)
            out.append(np.array([aim[0], aim[1], way]))
            prev = p
        out[-1][2] = goal[2]
        return out

    def corners(self, sim: Sim, start: np.ndarray, goal: np.ndarray) -> list[np.ndarray]:
        """The pruned path's corners ``(x, y)`` after ``start``, ending on ``goal``."""
        start, goal = np.asarray(start, float), np.asarray(goal, float)
        # Fall back to thinner margins when a tight room leaves no path at full clearance.
        for margin in (self.margin, self.margin / 2, 0.0):
            pts = self._plan(self.grid(sim, margin), start, goal)
            if pts is not None:
                return pts
        return [goal[:2].copy()]

    def _plan(self, grid: Grid, start: np.ndarray, goal: np.ndarray) -> list[np.ndarray] | None:
        s, t = grid.nearest_free(grid.cell(start)), grid.nearest_free(grid.cell(goal))
        if s is None or t is None:
            return None
        cells = astar(grid, s, t)
        if not cells:
            return None
        pts = [start[:2]] + [grid.point(c) for c in cells]
        if grid.free(grid.cell(goal)):
            pts[-1] = goal[:2]
        else:
            pts.append(goal[:2])  # last leg from the nearest free cell straight onto the goal
        pruned = shortcut(grid, pts)[1:]
        return pruned or [goal[:2].copy()]

    def length(self, sim: Sim, start: np.ndarray, goal: np.ndarray) -> float:
        """Length of the planned path (for checking a start pose is within walking budget)."""
        return path_length(start, self.corners(sim, start, goal))


def _extent(fps: Sequence[Footprint]) -> Bounds:
    if not fps:
        return (-5.0, 5.0, -5.0, 5.0)
    c = np.array([fp.center for fp in fps])
    r = max(float(np.linalg.norm(fp.half_xy)) for fp in fps) + 2.0
    return (float(c[:, 0].min() - r), float(c[:, 0].max() + r),
            float(c[:, 1].min() - r), float(c[:, 1].max() + r))


@dataclass
class Hold(Phase):
    """Stand still (zero base velocity) for ``steps`` control steps."""

    steps: int = 40
    max_steps: int = 10_000
    _done: int = 0

    def reset(self) -> None:
        """Stand the full ``steps`` again."""
        self._done = 0

    def update(self, sim: Sim, ctrl: Controller) -> tuple[Command, bool]:
        self._done += 1
        return Command(base=np.zeros(3)), self._done >= self.steps


def go_to_expert(
    layout: Layout, goal: Callable[[Sim], np.ndarray], *, tol: float = 0.03,
    max_steps: int = 400, hold_steps: int = 400, ignore: Sequence[str] = (),
    planner: GridPlanner | None = None,
) -> Expert:
    """Walk (A* around the layout's obstacles) to the pose ``goal(sim)``, stop and stay.

    ``goal`` returns ``(x, y, yaw)``; after arriving the expert commands zero velocity, which is
    what "go to X and wait there" asks.
    """
    planner = planner or GridPlanner(layout, ignore=ignore)
    return Expert([Navigate(goal, tol=tol, planner=planner, max_steps=max_steps),
                   Hold(steps=hold_steps)])


def facing_pose(target_xy: np.ndarray, front_yaw: float, standoff: float) -> np.ndarray:
    """Pose ``standoff`` metres out along ``front_yaw`` from ``target_xy``, facing back at it."""
    d = heading(front_yaw)
    xy = np.asarray(target_xy, float)[:2] + standoff * d
    return np.array([xy[0], xy[1], float(np.arctan2(-d[1], -d[0]))])


def approach_pose(
    grid: Grid, target_xy: np.ndarray, radius: float, from_xy: np.ndarray, n: int = 36
) -> np.ndarray:
    """A free pose on the circle of ``radius`` around ``target_xy``, facing the target.

    Among the free candidates (``n`` around the circle) it takes the one nearest ``from_xy``
    (the robot), so the robot walks up to the near side of a round landmark.
    """
    target_xy = np.asarray(target_xy, float)[:2]
    angles = np.arange(n) * 2 * np.pi / n
    best, best_d = None, np.inf
    for a in angles:
        p = target_xy + radius * heading(a)
        if not grid.free(grid.cell(p)):
            continue
        d = float(np.linalg.norm(p - np.asarray(from_xy, float)[:2]))
        if d < best_d - 1e-9:
            best, best_d = p, d
    if best is None:  # everything blocked at this margin: take the side facing the robot
        v = np.asarray(from_xy, float)[:2] - target_xy
        best = target_xy + radius * v / max(np.linalg.norm(v), 1e-9)
    yaw = float(np.arctan2(target_xy[1] - best[1], target_xy[0] - best[0]))
    return np.array([best[0], best[1], yaw])
