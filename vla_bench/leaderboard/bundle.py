"""Packing a run into a submission bundle, and reading a bundle back without trusting it.

``vla-bench submit RUN_DIR --out BUNDLE`` writes a ``.tar.gz`` with ``submission.json`` and
``episodes.jsonl`` (:mod:`vla_bench.leaderboard.schema`). Reading never extracts to disk: each
member is checked (a plain file, one of the two expected names, no path, within the size
limits) and read into memory, and JSON is parsed with non-finite numbers refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import platform
import tarfile
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vla_bench.errors import ConfigError
from vla_bench.leaderboard.schema import (
    BUNDLE_FILES,
    EPISODES_FILE,
    MAX_BUNDLE_BYTES,
    MAX_FILE_BYTES,
    MAX_MEMBERS,
    SCHEMA_ID,
    SUBMISSION_FILE,
)


class BundleError(ConfigError):
    """A bundle that cannot be read at all (the validator lists every other problem)."""


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in ("vla_bench", "mujoco", "gymnasium", "numpy", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def pack(run_dir: str | Path, out: str | Path, card: Mapping[str, Any]) -> Path:
    """Pack the track run in ``run_dir`` with the policy ``card`` into the bundle ``out``."""
    from vla_bench.evaluation.records import read_records
    from vla_bench.evaluation.runner import CONFIG_FILE
    from vla_bench.evaluation.runner import EPISODES_FILE as RUN_EPISODES
    from vla_bench.leaderboard.scoring import claimed_aggregates

    run_dir = Path(run_dir)
    config_path, log = run_dir / CONFIG_FILE, run_dir / RUN_EPISODES
    if not config_path.exists() or not log.exists():
        raise ConfigError(f"{run_dir} is not a run directory (no {CONFIG_FILE} and "
                          f"{RUN_EPISODES}): run `vla-bench eval --track lite --out DIR` first")
    config = json.loads(config_path.read_text())
    if not config.get("track"):
        raise ConfigError(f"{run_dir} did not run a track; only track runs can be submitted "
                          "(vla-bench eval --track lite|full)")
    records = read_records(log)
    episodes = "".join(json.dumps(r, allow_nan=False, sort_keys=True) + "\n" for r in records)
    card = dict(card)
    card.setdefault("privileged", bool(config.get("privileged")))
    if card.get("parameters") is None:
        card["parameters"] = (config.get("policy") or {}).get("num_parameters")
    submission = {
        "schema": SCHEMA_ID,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "track": config["track"],
        "manifest_hashes": config.get("manifest_hashes", {}),
        "versions": _versions(),
        "run_config": config,
        "policy_card": card,
        "episodes_sha256": hashlib.sha256(episodes.encode()).hexdigest(),
        "n_episodes": len(records),
        "claimed": claimed_aggregates(records),
    }
    files = {SUBMISSION_FILE: json.dumps(submission, indent=2, allow_nan=False).encode(),
             EPISODES_FILE: episodes.encode()}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def loads_finite(text: str) -> Any:
    """``json.loads`` that refuses ``NaN``/``Infinity`` and numbers that overflow to inf."""
    data = json.loads(text, parse_constant=_reject_constant)
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, float) and not math.isfinite(x):
            raise ValueError("non-finite number (overflow)")
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return data


def read_bundle(path: str | Path) -> tuple[dict[str, bytes], list[str]]:
    """The bundle's files by name, and the archive problems found (empty: clean).

    Refuses (as problems) absolute paths, ``..``, links and other non-files, unexpected or
    repeated names, too many members and oversize files; a file that is not a gzipped tar at
    all raises :class:`BundleError`.
    """
    path = Path(path)
    problems: list[str] = []
    if not path.is_file():
        raise BundleError(f"no bundle file at {path}")
    size = path.stat().st_size
    if size > MAX_BUNDLE_BYTES:
        raise BundleError(f"the bundle is {size} bytes; the limit is {MAX_BUNDLE_BYTES}")
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for i, member in enumerate(tar):
                if i >= MAX_MEMBERS:
                    problems.append(f"the archive has more than {MAX_MEMBERS} entries; a "
                                    f"bundle holds exactly {list(BUNDLE_FILES)}")
                    break
                name = member.name
                if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
                    problems.append(f"archive entry {name!r} has an absolute path")
                    continue
                if ".." in Path(name).parts:
                    problems.append(f"archive entry {name!r} climbs out with '..'")
                    continue
                if member.issym() or member.islnk():
                    problems.append(f"archive entry {name!r} is a link (to "
                                    f"{member.linkname!r}); only plain files are allowed")
                    continue
                if not member.isfile():
                    problems.append(f"archive entry {name!r} is not a plain file")
                    continue
                if name not in BUNDLE_FILES:
                    problems.append(f"unexpected file {name!r} in the bundle; it holds exactly "
                                    f"{list(BUNDLE_FILES)} at its top level")
                    continue
                if name in files:
                    problems.append(f"{name!r} appears twice in the archive")
                    continue
                if member.size > MAX_FILE_BYTES:
                    problems.append(f"{name!r} is {member.size} bytes unpacked; the limit is "
                                    f"{MAX_FILE_BYTES}")
                    continue
                fh = tar.extractfile(member)
                data = fh.read(MAX_FILE_BYTES + 1) if fh is not None else b""
                if len(data) > MAX_FILE_BYTES:
                    problems.append(f"{name!r} is larger than {MAX_FILE_BYTES} bytes unpacked")
                    continue
                files[name] = data
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleError(f"{path} is not a readable .tar.gz bundle ({exc})") from exc
    for name in BUNDLE_FILES:
        if name not in files and not any(name in p for p in problems):
            problems.append(f"the bundle has no {name!r}")
    return files, problems
