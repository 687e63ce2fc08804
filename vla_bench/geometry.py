"""Frame maths, written once: yaw rotations, the robot frame, angle wrapping, quaternions.

Conventions (see :mod:`vla_bench.conventions`): world z up, radians, quaternions ``(w, x, y,
z)``. The *robot frame* is the pelvis projected onto the ground with yaw only: its origin is
``(x, y, 0)`` of the base pose ``(x, y, yaw)``, x forward, y left, z up (heights stay world
heights).
"""

from __future__ import annotations

import numpy as np

Pose2 = np.ndarray  # (x, y, yaw)


def wrap(angle: float) -> float:
    """Angle wrapped to ``[-pi, pi)``."""
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def yaw_matrix(yaw: float) -> np.ndarray:
    """3x3 rotation by ``yaw`` radians about the world z-axis."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def yaw_quat(yaw: float) -> np.ndarray:
    """Quaternion ``(w, x, y, z)`` of a rotation by ``yaw`` radians about the world z-axis."""
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


def quat_yaw(quat: np.ndarray) -> float:
    """Yaw of a quaternion ``(w, x, y, z)`` that rotates about z only."""
    return float(2.0 * np.arctan2(quat[3], quat[0]))


def mat_yaw(mat: np.ndarray) -> float:
    """Heading of a rotation matrix's x-axis on the ground plane."""
    return float(np.arctan2(mat[1, 0], mat[0, 0]))


def heading(yaw: float) -> np.ndarray:
    """Unit vector ``(cos yaw, sin yaw)`` on the ground plane."""
    return np.array([np.cos(yaw), np.sin(yaw)])


def to_robot_frame(points: np.ndarray, base: Pose2) -> np.ndarray:
    """World points ``(..., 3)`` or ``(..., 2)`` expressed in the robot frame of ``base``."""
    p = np.asarray(points, float)
    rot = yaw_matrix(base[2])[: p.shape[-1], : p.shape[-1]]
    origin = np.array([base[0], base[1], 0.0])[: p.shape[-1]]
    return (p - origin) @ rot


def from_robot_frame(points: np.ndarray, base: Pose2) -> np.ndarray:
    """Robot-frame points ``(..., 3)`` or ``(..., 2)`` of ``base`` expressed in the world."""
    p = np.asarray(points, float)
    rot = yaw_matrix(base[2])[: p.shape[-1], : p.shape[-1]]
    origin = np.array([base[0], base[1], 0.0])[: p.shape[-1]]
    return p @ rot.T + origin


def to_local(points: np.ndarray, origin: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """World points ``(..., 3)`` in the frame with world ``origin`` and rotation ``mat``."""
    return (np.asarray(points, float) - origin) @ np.asarray(mat).reshape(3, 3)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` of two ``(w, x, y, z)`` quaternions."""
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ])


def mat_to_quat(mat: np.ndarray) -> np.ndarray:
    """``(w, x, y, z)`` quaternion of a 3x3 rotation matrix (``w >= 0``)."""
    import mujoco

    q = np.empty(4)
    mujoco.mju_mat2Quat(q, np.asarray(mat, float).ravel())
    return q if q[0] >= 0 else -q


def quat_to_mat(quat: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix of a ``(w, x, y, z)`` quaternion."""
    import mujoco

    m = np.empty(9)
    mujoco.mju_quat2Mat(m, np.asarray(quat, float))
    return m.reshape(3, 3)
