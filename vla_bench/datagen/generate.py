"""The generator: attempt seeds ``seed, seed+1, …`` with the expert in K worker processes,
shard every episode (:mod:`.staging`), then consolidate into the chosen format.

Determinism: seeds are submitted in increasing order and submission stops only once the
committed successes (plus the attempts in flight) reach ``episodes``; the dataset is then
the first ``episodes`` kept seeds in seed order, so it does not depend on worker timing.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from pathlib import Path
from typing import Any

from vla_bench import conventions as cv
from vla_bench.datagen import FORMATS, require_format, staging
from vla_bench.datagen.rollout import env_kwargs, rollout
from vla_bench.errors import ConfigError
from vla_bench.registry import make_from_config

_WORKER: dict[str, Any] = {}


def _init_worker(env_id: str, kwargs: dict[str, Any], root: str, fmt: str, depth: bool) -> None:
    if "MUJOCO_GL" not in os.environ:
        import ctypes.util

        os.environ["MUJOCO_GL"] = "egl" if ctypes.util.find_library("EGL") else "osmesa"
    os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
    _WORKER.update(env=make_from_config(env_id, kwargs), env_id=env_id, kwargs=kwargs,
                   root=Path(root), fmt=fmt, depth=depth)


def _run_seed(seed: int) -> dict[str, Any]:
    w = _WORKER
    ep = rollout(w["env"], w["env_id"], w["kwargs"], seed)
    staging.write_shard(w["root"], ep, w["fmt"], w["depth"])
    return ep.meta


def generate(env_id: str, episodes: int, out: str | Path, *, workers: int = 1,
             fmt: str = "lerobot", keep_failures: bool = False, seed: int = 0,
             cameras: tuple[str, ...] = cv.DEFAULT_CAMERAS,
             image_size: tuple[int, int] = cv.DEFAULT_IMAGE_SIZE,
             phrasing: str = "train", depth: bool = True, max_attempts: int | None = None,
             randomize: dict[str, float] | None = None,
             progress: bool = True, stop_after: int | None = None) -> dict[str, Any]:
    """Generate (or complete) a dataset in ``out``; return a summary dict.

    ``stop_after`` (tests) stops after that many new shards without consolidating, as a kill.
    """
    import vla_bench

    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {list(FORMATS)}, got {fmt!r}")
    require_format(fmt)  # before any rollout: the writer's package (extra "data") is there
    if env_id not in vla_bench.env_ids():
        from vla_bench.errors import UnknownNameError

        raise UnknownNameError("environment id", env_id, vla_bench.env_ids())
    root = Path(out)
    extra = {"randomize": dict(randomize)} if randomize else {}
    kwargs = env_kwargs(tuple(cameras), tuple(image_size), phrasing, **extra)
    config = {"env_id": env_id, "format": fmt, "env_kwargs": kwargs, "seed": seed,
              "keep_failures": keep_failures, "depth": depth}
    if _complete(root, fmt, config, episodes):
        return {"episodes": episodes, "attempts": 0, "new": 0, "out": str(root),
                "already_complete": True}
    staging.write_config(root, config)
    done = staging.committed(root)
    max_attempts = max_attempts or episodes * 3 + 10

    def kept(meta: dict[str, Any]) -> bool:
        return keep_failures or meta["success"]

    from tqdm import tqdm

    bar = tqdm(total=episodes, desc=f"generate {env_id}", unit="demo", file=sys.stderr,
               disable=not progress)
    bar.update(min(episodes, sum(kept(m) for m in done.values())))
    new = 0
    seeds = iter(range(seed, seed + max_attempts))
    init = (env_id, kwargs, str(root), fmt, depth)

    def n_kept() -> int:
        return sum(kept(m) for m in done.values())

    try:
        if workers <= 1:
            _init_worker(*init)
            try:
                for s in seeds:
                    if n_kept() >= episodes or (stop_after is not None and new >= stop_after):
                        break
                    if s in done:
                        continue
                    done[s] = _run_seed(s)
                    new += 1
                    bar.update(int(kept(done[s])))
            finally:
                _WORKER.pop("env").close()
        else:
            ctx = mp.get_context("forkserver" if sys.platform != "win32" else "spawn")
            with ctx.Pool(workers, initializer=_init_worker, initargs=init) as pool:
                pending: dict[int, Any] = {}
                exhausted = False
                while True:
                    stop = stop_after is not None and new >= stop_after
                    while (not exhausted and not stop and len(pending) < 2 * workers
                           and n_kept() + len(pending) < episodes):
                        s = next(seeds, None)
                        if s is None:
                            exhausted = True
                        elif s not in done:
                            pending[s] = pool.apply_async(_run_seed, (s,))
                    if not pending:
                        break
                    ready = [s for s, r in pending.items() if r.ready()]
                    if not ready:
                        next(iter(pending.values())).wait(0.05)
                        continue
                    for s in ready:
                        done[s] = pending.pop(s).get()
                        new += 1
                        bar.update(int(kept(done[s])))
    finally:
        bar.close()
    attempts = len(done)
    if stop_after is not None and n_kept() < episodes:
        return {"episodes": n_kept(), "attempts": attempts, "new": new, "out": str(root),
                "partial": True}
    chosen = sorted(s for s, m in done.items() if kept(m))[:episodes]
    if len(chosen) < episodes:
        raise ConfigError(
            f"only {len(chosen)} of {episodes} episodes kept after {attempts} attempts "
            f"(expert success too low for {env_id}); try --keep-failures")
    metas = [done[s] for s in chosen]
    if fmt == "lerobot":
        from vla_bench.datagen.lerobot import consolidate
    else:
        from vla_bench.datagen.hdf5 import consolidate
    consolidate(root, metas, config)
    staging.remove(root)
    return {"episodes": len(metas), "attempts": attempts, "new": new, "out": str(root),
            "successes": sum(m["success"] for m in metas),
            "failed_attempts": sum(not m["success"] for m in done.values()),
            "frames": sum(m["steps"] for m in metas)}


def _complete(root: Path, fmt: str, config: dict[str, Any], episodes: int) -> bool:
    """A finished dataset with the same settings and enough episodes (and no staging)."""
    import json

    if staging.staging_dir(root).exists():
        return False
    path = root / ("meta/info.json" if fmt == "lerobot" else "demos.hdf5")
    if not path.exists():
        return False
    if fmt == "lerobot":
        info = json.loads(path.read_text())
        cfg, total = info.get("vla_bench", {}).get("config"), info.get("total_episodes")
    else:
        import h5py

        with h5py.File(path, "r") as f:
            cfg = json.loads(f["data"].attrs["vla_bench_config"])
            total = int(f["data"].attrs["total_episodes"])
    if cfg != config or total != episodes:
        raise ConfigError(f"{root} already holds a dataset with {total} episodes and settings "
                          f"{cfg}; use another --out or delete it")
    return True
