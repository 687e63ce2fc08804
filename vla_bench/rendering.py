"""Headless RGB-D rendering: backend selection and a one-pass multi-camera renderer.

MuJoCo and PyOpenGL read ``MUJOCO_GL`` / ``PYOPENGL_PLATFORM`` once per process, so the
backend is chosen before the first GL import: the user's ``MUJOCO_GL`` if set, else EGL when
``libEGL`` is present, else OSMesa. RGB and depth come from the same render pass (MuJoCo's own
``Renderer`` draws the scene twice for that).

Teardown order matters. ``mujoco.egl`` registers ``eglTerminate`` with :mod:`atexit` when it
creates its first context; a renderer still alive at exit (a script that never calls
``env.close()``) would otherwise be collected later, during interpreter finalisation, and its
``GLContext.__del__`` would call ``eglDestroyContext`` on the terminated display (an
``EGLError`` traceback on stderr). So every live renderer is tracked, and a hook registered
*after* that first context (``atexit`` runs last-in, first-out) closes them while the display
is still up. Each renderer frees its MuJoCo GL objects with its own context current, then the
context itself.
"""

from __future__ import annotations

import atexit
import ctypes.util
import os
import weakref
from dataclasses import dataclass

import mujoco
import numpy as np

from vla_bench import conventions as cv
from vla_bench.errors import RenderBackendError

_INSTALL_HINT = (
    "install the headless GL libraries: `sudo apt-get install -y libegl1 libegl-mesa0 "
    "libgl1-mesa-dri libopengl0` (EGL) or `sudo apt-get install -y libosmesa6` (OSMesa), "
    "or run the README's set-up command"
)
_backend: str | None = None
# Renderers not yet closed; weak, so that dropping an env still frees its renderer promptly.
_live: weakref.WeakSet[RGBDRenderer] = weakref.WeakSet()
_exit_hook_registered = False


def _close_live_renderers() -> None:
    """Close every renderer still open (the exit hook; see the module docstring)."""
    for renderer in list(_live):
        renderer.close()


def _track(renderer: RGBDRenderer) -> None:
    # Registered on the first renderer, i.e. after the GL backend's own exit hooks, so it runs
    # before them.
    global _exit_hook_registered
    _live.add(renderer)
    if not _exit_hook_registered:
        atexit.register(_close_live_renderers)
        _exit_hook_registered = True


def select_backend() -> str:
    """Choose (once per process) and return the GL backend: ``"egl"`` or ``"osmesa"``."""
    global _backend
    if _backend is not None:
        return _backend
    chosen = os.environ.get("MUJOCO_GL", "").strip().lower()
    if not chosen:
        if ctypes.util.find_library("EGL"):
            chosen = "egl"
        elif ctypes.util.find_library("OSMesa"):
            chosen = "osmesa"
        else:
            raise RenderBackendError(f"no headless OpenGL library found; {_INSTALL_HINT}")
    if chosen not in ("egl", "osmesa", "glfw", "glx"):
        raise RenderBackendError(
            f"MUJOCO_GL={chosen!r} is not usable headless; use 'egl' or 'osmesa'"
        )
    os.environ["MUJOCO_GL"] = chosen
    if chosen in ("egl", "osmesa"):
        os.environ.setdefault("PYOPENGL_PLATFORM", chosen)
    _backend = chosen
    return chosen


def _gl_context(width: int, height: int) -> object:
    backend = select_backend()
    try:
        if backend == "egl":
            from mujoco.egl import GLContext
        elif backend == "osmesa":
            from mujoco.osmesa import GLContext
        else:
            from mujoco.glfw import GLContext
        ctx = GLContext(width, height)
    except Exception as exc:  # ImportError, EGL errors, missing shared libraries
        raise RenderBackendError(
            f"cannot start the {backend} GL backend ({exc}); {_INSTALL_HINT}") from exc
    ctx.make_current()
    return ctx


@dataclass(frozen=True)
class CameraInfo:
    """Pinhole intrinsics (OpenCV) and camera-to-world extrinsics (OpenCV axes)."""

    intrinsics: np.ndarray  # (3, 3)
    extrinsics: np.ndarray  # (4, 4)


def camera_info(
    model: mujoco.MjModel, data: mujoco.MjData, camera: int, height: int, width: int
) -> CameraInfo:
    """Intrinsics (for an image of ``height`` x ``width``) and extrinsics of a camera."""
    fovy = np.deg2rad(model.cam_fovy[camera])
    fy = 0.5 * height / np.tan(0.5 * fovy)
    k = np.array([[fy, 0.0, 0.5 * width], [0.0, fy, 0.5 * height], [0.0, 0.0, 1.0]])
    ext = np.eye(4)
    # MuJoCo cameras look along -z with y up; OpenCV looks along +z with y down.
    ext[:3, :3] = data.cam_xmat[camera].reshape(3, 3) @ np.diag([1.0, -1.0, -1.0])
    ext[:3, 3] = data.cam_xpos[camera]
    return CameraInfo(intrinsics=k, extrinsics=ext)


class RGBDRenderer:
    """Renders ``uint8`` RGB and metric ``float32`` depth for named cameras of a model."""

    def __init__(self, model: mujoco.MjModel, height: int, width: int) -> None:
        self._closed = True  # until the GL resources below exist
        self.model = model
        self.height, self.width = height, width
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, height)
        self._ctx = _gl_context(width, height)
        self._closed = False
        _track(self)
        self._scene = mujoco.MjvScene(model, maxgeom=4000)
        self._mjr = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, self._mjr)
        self._mjr.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR
        self._rect = mujoco.MjrRect(0, 0, width, height)
        self._cam = mujoco.MjvCamera()
        self._cam.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._opt = mujoco.MjvOption()
        self._opt.geomgroup[:] = 0
        for group in cv.VISIBLE_GROUPS:
            self._opt.geomgroup[group] = 1
        self._opt.sitegroup[:] = 0
        self._pert = mujoco.MjvPerturb()
        self._depth_raw = np.empty((height, width), np.float32)
        extent = model.stat.extent
        self._near = np.float32(model.vis.map.znear * extent)
        self._far = np.float32(model.vis.map.zfar * extent)

    def render(self, data: mujoco.MjData, camera: int) -> tuple[np.ndarray, np.ndarray]:
        """RGB ``uint8[H, W, 3]`` and depth ``float32[H, W, 1]`` (metres), row 0 at the top."""
        if self._closed:
            raise RenderBackendError("render() called after close()")
        self._ctx.make_current()  # type: ignore[attr-defined]
        self._cam.fixedcamid = camera
        mujoco.mjv_updateScene(self.model, data, self._opt, self._pert, self._cam,
                               mujoco.mjtCatBit.mjCAT_ALL, self._scene)
        mujoco.mjr_render(self._rect, self._scene, self._mjr)
        rgb = np.empty((self.height, self.width, 3), np.uint8)
        mujoco.mjr_readPixels(rgb, self._depth_raw, self._rect, self._mjr)
        return rgb[::-1].copy(), self._metric_depth(self._depth_raw[::-1])

    def segment(self, data: mujoco.MjData, camera: int) -> np.ndarray:
        """Geom ids ``int32[H, W]`` seen at each pixel (``-1``: nothing, or not a geom), row 0
        at the top: one segmentation pass (ids as flat colours, no lighting)."""
        if self._closed:
            raise RenderBackendError("segment() called after close()")
        self._ctx.make_current()  # type: ignore[attr-defined]
        self._cam.fixedcamid = camera
        mujoco.mjv_updateScene(self.model, data, self._opt, self._pert, self._cam,
                               mujoco.mjtCatBit.mjCAT_ALL, self._scene)
        flags = self._scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 1
        try:
            mujoco.mjr_render(self._rect, self._scene, self._mjr)
        finally:
            flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 0
        rgb = np.empty((self.height, self.width, 3), np.uint8)
        mujoco.mjr_readPixels(rgb, None, self._rect, self._mjr)
        seg = rgb[::-1].astype(np.int32)
        # The colour encodes 1 + the scene-geom index (0 is the background).
        index = seg[..., 0] + (seg[..., 1] << 8) + (seg[..., 2] << 16)
        n = self._scene.ngeom
        lut = np.full(n + 1, -1, np.int32)
        for i in range(n):
            g = self._scene.geoms[i]
            if g.segid >= 0 and g.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                lut[g.segid + 1] = g.objid
        index[(index < 0) | (index > n)] = 0
        return lut[index]

    def _metric_depth(self, raw: np.ndarray) -> np.ndarray:
        # Reverse-Z perspective projection (MuJoCo ≥ 3.3), undone in float64 like mujoco.Renderer.
        near, far = self._near, self._far
        c = np.float32(-0.5) * (-(far + near) / (far - near)) - np.float32(0.5)
        d = np.float32(-0.5) * (-(np.float32(2) * far * near) / (far - near))
        depth = d / (raw.astype(np.float64) + c)
        return depth.astype(np.float32)[..., None]

    def camera_info(self, data: mujoco.MjData, camera: int) -> CameraInfo:
        """Intrinsics and extrinsics of ``camera`` in the current state."""
        return camera_info(self.model, data, camera, self.height, self.width)

    def close(self) -> None:
        """Free GL resources (idempotent): MuJoCo's GL objects in their own context, then it."""
        if self._closed:
            return
        self._closed = True
        _live.discard(self)
        mjr = getattr(self, "_mjr", None)  # absent if __init__ failed after the context
        if mjr is not None:
            # mjr_freeContext deletes textures and buffers of whichever context is current.
            self._ctx.make_current()  # type: ignore[attr-defined]
            mjr.free()
        free = getattr(self._ctx, "free", None)
        if free is not None:
            free()

    def __del__(self) -> None:
        # A renderer dropped without close() (env garbage-collected mid-run) frees in order too.
        if not getattr(self, "_closed", True):
            self.close()
