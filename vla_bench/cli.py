"""``vla-bench``: the command line.

Subcommands::

    vla-bench list [--cards]                   registered ids and their task cards
    vla-bench demo [--env ID] [--seed N] [--steps N] [--out runs/demo.mp4]
                                               one expert episode, printed and filmed
    vla-bench check [--episodes N] [--env ID …] expert vs random success, Markdown table
    vla-bench generate --env ID --episodes N --out DIR [--workers K] [--format lerobot|hdf5]
                                               expert demonstrations as a dataset (resumable)
    vla-bench dataset-check DIR                validate a generated dataset, print a summary
    vla-bench eval --policy NAME [--env ID …|--suite] [--split S …] [--perturb AXIS:LEVEL …]
                   [--episodes N] [--workers K] [--backend process|ray] [--out DIR] [--video]
                                               evaluate a policy under protocol v1 (resumable)

Errors raised by vla_bench print one line (``vla-bench: error: …``) and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench.errors import VlaBenchError

PROG = "vla-bench"
DEFAULT_DEMO_ENV = "VLA-Kitchen-v1"
VIDEO_HEIGHT = 360  # third-person frame is 360x480; the head view is scaled to 360x360


# -- list ------------------------------------------------------------------------------------

def _summary(card: str) -> str:
    first = card.strip().splitlines()[0] if card.strip() else ""
    return first.strip()


def _task_rows() -> list[tuple[str, str, str, str]]:
    from vla_bench.registry import DOMAINS, FAMILIES, TASKS, domain_env_id, tasks_of

    rows = []
    for group in DOMAINS + FAMILIES:
        entries = tasks_of(group)
        if entries:
            names = ", ".join(e.name for e in entries)
            kind = "(domain)" if group in DOMAINS else "(family)"
            rows.append((domain_env_id(group), kind, "per task",
                         f"one of: {names} (sampled per episode, or task=...)"))
    for entry in TASKS:
        try:
            summary = _summary(entry.load().card())
        except Exception as exc:  # a task module that does not import yet
            summary = f"(cannot load task: {type(exc).__name__}: {exc})"
        rows.append((entry.env_id, entry.family, str(entry.max_episode_steps), summary))
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    """Print every registered id with its family, step budget and card summary."""
    from vla_bench.registry import TASKS

    rows = _task_rows()
    print(_markdown_table(("id", "family", "max steps", "task"), rows))
    if args.cards:
        for entry in TASKS:
            print(f"\n## {entry.env_id}\n")
            try:
                print(entry.load().card())
            except Exception as exc:
                print(f"(cannot load task: {type(exc).__name__}: {exc})")
    return 0


# -- demo ------------------------------------------------------------------------------------

def _resize_nearest(img: np.ndarray, height: int, width: int) -> np.ndarray:
    rows = np.arange(height) * img.shape[0] // height
    cols = np.arange(width) * img.shape[1] // width
    return img[rows][:, cols]


def _policy_fn(name: str, env: Any, seed: int):
    if name == "expert":
        return lambda obs: env.unwrapped.expert_action()
    if name == "random":
        rng = np.random.default_rng(seed)
        space = env.action_space
        return lambda obs: rng.uniform(space.low, space.high).astype(np.float32)
    if name == "zero":
        return lambda obs: np.zeros(env.action_space.shape, np.float32)
    raise AssertionError(name)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run one episode, print what happened and write a side-by-side video."""
    import imageio.v2 as imageio
    from tqdm import tqdm

    from vla_bench.registry import make

    env = make(args.env, render_mode="rgb_array", cameras=("head",))
    try:
        obs, info = env.reset(seed=args.seed)
        budget = env.unwrapped.task.max_episode_steps
        steps = budget if args.steps is None else min(args.steps, budget)
        print(f"env:         {args.env} (task {info['task']}, seed {args.seed}, "
              f"robot {env.unwrapped.robot_model.name}, policy {args.policy})")
        print(f"instruction: {obs['instruction']}")
        act = _policy_fn(args.policy, env, args.seed)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        totals = dict.fromkeys(info["safety"], 0.0)
        frames = 0
        t0 = time.perf_counter()
        with imageio.get_writer(out, fps=env.metadata["render_fps"], codec="libx264",
                                macro_block_size=2, ffmpeg_log_level="error") as video:
            video.append_data(_frame(env, obs))
            frames += 1
            n = 0
            for _ in tqdm(range(steps), desc="demo", unit="step", file=sys.stderr, leave=False):
                obs, _, terminated, truncated, info = env.step(act(obs))
                n += 1
                for k, v in info["safety"].items():
                    totals[k] += v
                video.append_data(_frame(env, obs))
                frames += 1
                if terminated or truncated:
                    break
        elapsed = time.perf_counter() - t0
        outcome = "success" if info["is_success"] else (
            f"failure ({info['failure_reason']})" if info["is_failure"] else "not solved")
        rate = n / max(elapsed, 1e-9)
        print(f"steps:       {n} of {budget} ({elapsed:.1f} s, {rate:.1f} steps/s with video)")
        print(f"result:      {outcome}; success_once={info['success_once']}")
        if info["sim_error"]:
            print(f"sim_error:   {info['sim_error']}")
        print("safety:      " + ", ".join(f"{k}={int(v)}" for k, v in totals.items())
              + "  (steps with each cost)")
        print(f"video:       {out} ({frames} frames: third-person | head camera)")
    finally:
        env.close()
    return 0


def _frame(env: Any, obs: dict[str, Any]) -> np.ndarray:
    external = env.render()
    head = _resize_nearest(obs["rgb"], VIDEO_HEIGHT, VIDEO_HEIGHT)
    if external.shape[0] != VIDEO_HEIGHT:
        external = _resize_nearest(external, VIDEO_HEIGHT,
                                   external.shape[1] * VIDEO_HEIGHT // external.shape[0])
    return np.concatenate([external, head], axis=1)


# -- check -----------------------------------------------------------------------------------

def _episode(env: Any, seed: int, policy: str) -> tuple[bool, int]:
    obs, _ = env.reset(seed=seed)
    act = _policy_fn(policy, env, seed)
    info: dict[str, Any] = {}
    for t in range(1, env.unwrapped.task.max_episode_steps + 1):
        obs, _, terminated, truncated, info = env.step(act(obs))
        if terminated or truncated:
            return bool(info["is_success"]), t
    return bool(info.get("is_success", False)), env.unwrapped.task.max_episode_steps


def _rate(successes: list[bool]) -> str:
    if not successes:
        return "–"
    k, n = sum(successes), len(successes)
    return f"{k / n:.0%} ({k}/{n})"


def cmd_check(args: argparse.Namespace) -> int:
    """Expert and random-policy success per task, as a Markdown table."""
    from tqdm import tqdm

    from vla_bench.errors import UnknownNameError
    from vla_bench.registry import TASKS, env_ids, make

    ids = args.env or [t.env_id for t in TASKS]
    for env_id in ids:  # fail before the first episode, not after an hour
        if env_id not in env_ids():
            raise UnknownNameError("environment id", env_id, env_ids())
    seeds = range(args.seed, args.seed + args.episodes)
    policies = ["expert"] + ([] if args.no_random else ["random"])
    total = len(ids) * len(seeds) * len(policies)
    rows = []
    with tqdm(total=total, desc="check", unit="episode", file=sys.stderr) as bar:
        for env_id in ids:
            env = make(env_id, cameras=())
            try:
                results: dict[str, list[tuple[bool, int]]] = {p: [] for p in policies}
                for policy in policies:
                    for seed in seeds:
                        bar.set_postfix_str(f"{env_id} {policy} seed {seed}")
                        results[policy].append(_episode(env, seed, policy))
                        bar.update()
            finally:
                env.close()
            expert = results["expert"]
            ok_steps = [t for s, t in expert if s]
            rows.append((
                env_id,
                _rate([s for s, _ in expert]),
                _rate([s for s, _ in results.get("random", [])]),
                f"{np.mean([t for _, t in expert]):.0f}",
                f"{np.mean(ok_steps):.0f}" if ok_steps else "–",
            ))
    table = _markdown_table(
        ("task", "expert success", "random success", "expert mean steps",
         "expert steps to success"), rows)
    print(f"\nSeeds {seeds.start}–{seeds.stop - 1}, privileged scripted expert vs uniform random "
          "actions, default control mode (ee_delta).\n")
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(table + "\n")
    return 0


# -- generate / dataset-check --------------------------------------------------------------

def _randomize(args: argparse.Namespace) -> dict[str, float]:
    """The env's ``randomize=`` mapping from the generate flags (only the knobs turned on)."""
    knobs = {"lighting": args.lighting, "colors": args.colors, "camera": args.camera_jitter,
             "distractors": args.distractors}
    return {k: v for k, v in knobs.items() if v}


def cmd_generate(args: argparse.Namespace) -> int:
    """Scripted-expert demonstrations as a LeRobot v3 or HDF5 dataset."""
    from vla_bench.datagen.generate import generate

    t0 = time.perf_counter()
    cameras = tuple(c for c in args.cameras.split(",") if c) if args.cameras else ()
    result = generate(args.env, args.episodes, args.out, workers=args.workers, fmt=args.format,
                      keep_failures=args.keep_failures, seed=args.seed, cameras=cameras,
                      image_size=tuple(args.image_size), phrasing=args.phrasing,
                      depth=not args.no_depth, randomize=_randomize(args))
    if result.get("already_complete"):
        print(f"{args.out}: already complete ({result['episodes']} episodes), nothing to do")
        return 0
    elapsed = time.perf_counter() - t0
    print(f"wrote {result['episodes']} episodes ({result['frames']} frames, "
          f"{result['successes']} successful) to {result['out']} as {args.format}; "
          f"{result['new']} rolled out now, {result['failed_attempts']} failed attempts "
          f"in total, {elapsed:.1f} s")
    return 0


def cmd_dataset_check(args: argparse.Namespace) -> int:
    """Validate a generated dataset directory and print a summary."""
    from vla_bench.datagen.check import check

    summary = check(args.dir, decode_videos=not args.no_decode)
    print(f"{args.dir}: OK ({summary['format']}) env {summary.get('env_id')}, "
          f"{summary['episodes']} episodes, {summary['frames']} frames, "
          f"{summary['successes']} successful"
          + (f", {summary['tasks']} instructions, videos {summary['videos']}"
             if summary["format"] == "lerobot" else ""))
    return 0


# -- serve -----------------------------------------------------------------------------------

def cmd_serve(args: argparse.Namespace) -> int:
    """Serve a registered non-privileged policy over openpi's websocket protocol."""
    import json

    from vla_bench.errors import ConfigError
    from vla_bench.serving.server import make_server

    try:
        kwargs = json.loads(args.policy_kwargs) if args.policy_kwargs else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--policy-kwargs is not valid JSON ({exc})") from exc
    if not isinstance(kwargs, dict):
        raise ConfigError("--policy-kwargs must be a JSON object, e.g. '{\"scale\": 0.5}'")
    server = make_server(args.policy, kwargs, host=args.host, port=args.port)
    server.serve_forever(on_ready=lambda uri: print(f"serving policy {args.policy!r} on {uri}",
                                                    flush=True))
    return 0


# -- eval ------------------------------------------------------------------------------------

def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate a policy under the protocol; print a summary table and where the reports are."""
    import json

    from vla_bench.errors import ConfigError
    from vla_bench.evaluation.runner import SUMMARY_HEADER, evaluate, summary_rows

    try:
        kwargs = json.loads(args.policy_kwargs) if args.policy_kwargs else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--policy-kwargs is not valid JSON ({exc}); e.g. '{{\"scale\": 0.5}}'"
                          ) from exc
    if not isinstance(kwargs, dict):
        raise ConfigError("--policy-kwargs must be a JSON object, e.g. '{\"scale\": 0.5}'")
    if not args.env and not args.suite:
        raise ConfigError("say what to evaluate: --env ID (repeatable) or --suite")
    perturbations = ["nominal"] + [p for p in (args.perturb or []) if p != "nominal"]
    cameras = None if args.cameras is None else tuple(c for c in args.cameras.split(",") if c)
    estop = None if args.estop is None else [c for c in args.estop.split(",") if c]
    out = args.out or f"runs/eval/{args.policy.replace(':', '_').replace('/', '_')}"
    result = evaluate(
        args.policy, out_dir=out, tasks=None if args.suite else args.env,
        splits=args.split or ["test_seen"], perturbations=perturbations,
        episodes_per_task=args.episodes, workers=args.workers, backend=args.backend,
        video=args.video, estop=estop, policy_timeout_s=args.policy_timeout or None,
        policy_kwargs=kwargs, max_steps=args.max_steps, cameras=cameras,
        ray_address=args.ray_address, baseline_dir=args.baseline,
        compare_expert=args.compare_expert, protocol_version=args.protocol,
        retry_errors=args.retry_errors)
    privileged = result.config.get("privileged")
    print(f"policy {result.config['policy_name']!r}: "
          + ("PRIVILEGED (reads the simulator state)" if privileged else "not privileged"))
    print(_markdown_table(SUMMARY_HEADER, summary_rows(result.records)))
    print(f"\n{result.new} episodes run now, {result.skipped} already done (resumed); "
          f"{len(result.records)} in {result.run_dir / 'episodes.jsonl'}")
    for kind, path in result.reports.items():
        print(f"{kind + ':':<10} {path}")
    for note in result.config.get("notes", []):
        print(f"note: {note}")
    return 0


def _image_size(text: str) -> int:
    value = int(text)
    if not 16 <= value <= 2048:
        raise argparse.ArgumentTypeError(f"must be in [16, 2048], got {value}")
    return value


# -- plumbing --------------------------------------------------------------------------------

def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (``list``, ``demo``, ``check``, ``generate``, ``dataset-check``,
    ``eval``)."""
    parser = argparse.ArgumentParser(prog=PROG, description="Humanoid VLA benchmark in MuJoCo.")
    from vla_bench import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="registered environment ids and task summaries")
    p.add_argument("--cards", action="store_true", help="also print every task card")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("demo", help="one scripted-expert episode with a video")
    p.add_argument("--env", default=DEFAULT_DEMO_ENV, help=f"env id (default {DEFAULT_DEMO_ENV})")
    p.add_argument("--seed", type=int, default=0, help="episode seed (default 0)")
    p.add_argument("--steps", type=_positive, default=None,
                   help="at most this many steps (default: the task's step budget)")
    p.add_argument("--policy", choices=("expert", "random", "zero"), default="expert",
                   help="who drives (default: the scripted expert)")
    p.add_argument("--out", default="runs/demo.mp4", help="video path (default runs/demo.mp4)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("check", help="expert vs random success per task (Markdown table)")
    p.add_argument("--episodes", type=_positive, default=10, help="seeds per task (default 10)")
    p.add_argument("--env", action="append", help="env id (repeatable; default: every task)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--no-random", action="store_true", help="skip the random-policy episodes")
    p.add_argument("--out", default=None, help="also write the table to this file")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("generate", help="scripted-expert demonstrations as a dataset")
    p.add_argument("--env", required=True, help="env id (a task id or a domain id)")
    p.add_argument("--episodes", type=_positive, required=True, help="episodes to keep")
    p.add_argument("--out", required=True, help="output directory (re-run to resume)")
    p.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    p.add_argument("--format", choices=("lerobot", "hdf5"), default="lerobot",
                   help="LeRobotDataset v3 (default) or robomimic-style HDF5")
    p.add_argument("--keep-failures", action="store_true",
                   help="keep unsuccessful episodes too (default: successes only)")
    p.add_argument("--seed", type=int, default=0, help="first seed; attempts use seed, seed+1, …")
    p.add_argument("--cameras", default="head",
                   help="comma-separated cameras (default head; '' for none)")
    p.add_argument("--image-size", type=_image_size, nargs=2, default=[224, 224],
                   metavar=("H", "W"), help="image height and width (default 224 224)")
    p.add_argument("--phrasing", choices=("train", "test"), default="train",
                   help="instruction templates: train or held-out test paraphrases")
    p.add_argument("--no-depth", action="store_true", help="do not store depth")
    for knob, what in (("lighting", "light intensity and direction"),
                       ("colors", "colours of every non-robot object"),
                       ("camera-jitter", "camera position and orientation"),
                       ("distractors", "extra clutter props on the work surface (up to 4)")):
        p.add_argument(f"--{knob}", type=float, default=0.0, metavar="S",
                       help=f"randomise {what} per episode, strength S in [0, 1] (default 0)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("dataset-check", help="validate a generated dataset directory")
    p.add_argument("dir", help="dataset directory")
    p.add_argument("--no-decode", action="store_true", help="do not decode the videos")
    p.set_defaults(func=cmd_dataset_check)

    p = sub.add_parser("eval", help="evaluate a policy under the protocol (resumable)")
    p.add_argument("--policy", required=True,
                   help="registered policy (expert, random, noop, an entry point) or "
                        "module:factory")
    p.add_argument("--policy-kwargs", default=None, metavar="JSON",
                   help="keyword arguments of the policy factory, as a JSON object")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--env", action="extend", nargs="+", metavar="ID",
                      help="env ids (domain/family ids expand to their tasks)")
    what.add_argument("--suite", action="store_true", help="every task of the protocol")
    p.add_argument("--split", action="extend", nargs="+", metavar="S",
                   help="protocol splits (default test_seen)")
    p.add_argument("--perturb", action="extend", nargs="+", metavar="AXIS:LEVEL",
                   help="perturbations on the same seeds ('all': the manifest's set); "
                        "nominal always runs")
    p.add_argument("--episodes", type=_positive, default=None, metavar="N",
                   help="first N seeds per task and split (default: all 100)")
    p.add_argument("--workers", type=_positive, default=1, help="parallel workers (default 1)")
    p.add_argument("--backend", choices=("process", "ray"), default="process",
                   help="local processes (default) or Ray")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: local)")
    p.add_argument("--out", default=None,
                   help="run directory (default runs/eval/<policy>; re-run to resume)")
    p.add_argument("--video", action="store_true", help="record third-person episode videos")
    p.add_argument("--retry-errors", action="store_true",
                   help="when resuming, run again the episodes that ended in a policy error or "
                        "timeout (e.g. a policy server that was down)")
    p.add_argument("--max-steps", type=_positive, default=None, metavar="N",
                   help="shorten every task's step budget to N")
    p.add_argument("--cameras", default=None,
                   help="comma-separated cameras (default: what the policy needs, else head)")
    p.add_argument("--estop", default=None, metavar="CATS",
                   help="comma-separated safety categories that stop an episode (default fall; "
                        "'' disables)")
    p.add_argument("--policy-timeout", type=float, default=60.0, metavar="S",
                   help="seconds one policy call may take (default 60; 0 disables)")
    p.add_argument("--baseline", default=None, metavar="DIR",
                   help="run directory of the expert on the same episodes (adds the comparison; "
                        "its config must match this run's)")
    p.add_argument("--compare-expert", action="store_true",
                   help="also run the scripted expert on the same episodes, with this run's env "
                        "settings, and compare")
    p.add_argument("--protocol", default="v1", help="protocol version (default v1)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="serve a policy over openpi's websocket protocol")
    p.add_argument("--policy", required=True,
                   help="registered non-privileged policy (random, noop, an entry point) or "
                        "module:factory")
    p.add_argument("--policy-kwargs", default=None, metavar="JSON",
                   help="keyword arguments of the policy factory, as a JSON object")
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``vla-bench`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except VlaBenchError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
