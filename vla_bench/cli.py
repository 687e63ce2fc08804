"""``vla-bench``: the command line.

Subcommands::

    vla-bench list [--cards]                   registered ids and their task cards
    vla-bench demo [--env ID] [--seed N] [--steps N] [--out runs/demo.mp4]
                                               one expert episode, printed and filmed
    vla-bench check [--episodes N] [--env ID …] expert/random/blind success, visibility
    vla-bench generate --env ID --episodes N --out DIR [--workers K] [--format lerobot|hdf5]
                                               expert demonstrations as a dataset (resumable)
    vla-bench dataset-check DIR                validate a generated dataset, print a summary
    vla-bench train --arch NAME --data DIR [DIR …] --out OUT [--preset tiny] [--set K=V …]
                                               behaviour-clone a learned baseline (resumable)
    vla-bench eval --policy NAME [--env ID …|--suite|--track lite|full] [--split S …]
                   [--perturb AXIS:LEVEL …] [--language-control shuffled|blank]
                   [--episodes N] [--workers K] [--backend process|ray] [--out DIR] [--video]
                                               evaluate a policy under protocol v1 (resumable)
    vla-bench submit RUN_DIR --out BUNDLE [--card FILE]
                                               pack a track run for the leaderboard
    vla-bench leaderboard add BUNDLE           validate and re-score a bundle, store it
    vla-bench leaderboard build                write leaderboard/README.md and the site

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

from vla_bench import conventions as cv
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


def cmd_demo(args: argparse.Namespace) -> int:
    """Run one episode, print what happened and write a side-by-side video."""
    import imageio.v2 as imageio
    from tqdm import tqdm

    from vla_bench.checking import policy_fn
    from vla_bench.registry import make

    env = make(args.env, render_mode="rgb_array", cameras=("head",))
    try:
        obs, info = env.reset(seed=args.seed)
        budget = env.unwrapped.task.max_episode_steps
        steps = budget if args.steps is None else min(args.steps, budget)
        print(f"env:         {args.env} (task {info['task']}, seed {args.seed}, "
              f"robot {env.unwrapped.robot_model.name}, policy {args.policy})")
        print(f"instruction: {obs['instruction']}")
        act = policy_fn(args.policy, env, args.seed)
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
                obs, _, terminated, truncated, info = env.step(act())
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

def cmd_check(args: argparse.Namespace) -> int:
    """Expert, random and blind success and goal visibility per task, as a Markdown table."""
    from tqdm import tqdm

    from vla_bench.checking import POLICIES, TABLE_HEADER, check_task, table_row
    from vla_bench.errors import UnknownNameError
    from vla_bench.registry import TASKS, env_ids

    ids = args.env or [t.env_id for t in TASKS]
    for env_id in ids:  # fail before the first episode, not after an hour
        if env_id not in env_ids():
            raise UnknownNameError("environment id", env_id, env_ids())
    seeds = range(args.seed, args.seed + args.episodes)
    skip = {"random"} if args.no_random else set()
    skip |= {"blind"} if args.no_blind else set()
    policies = [p for p in POLICIES if p not in skip]
    rows = []
    with tqdm(total=len(ids) * len(seeds) * len(policies), desc="check", unit="episode",
              file=sys.stderr) as bar:
        def progress(what: str) -> None:
            bar.set_postfix_str(what)
            bar.update()

        for env_id in ids:
            rows.append(table_row(check_task(env_id, seeds, policies,
                                             visibility=not args.no_visibility,
                                             progress=progress)))
    table = _markdown_table(TABLE_HEADER, rows)
    print(f"\nSeeds {seeds.start}–{seeds.stop - 1}, default control mode (ee_delta). expert: "
          "the privileged scripted expert; random: uniform random actions; blind: the expected "
          "success of the expert toward a uniformly drawn one of the k alternatives, "
          "(expert + (k - 1) wrong) / k per seed (the measured chance level); wrong-goal: the "
          "expert toward a uniformly drawn other alternative, scored against the named goal; "
          f"goal visible: goal pixels in the default cameras ({', '.join(cv.DEFAULT_CAMERAS)}) "
          "at reset.\n")
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(table + "\n")
    return 0


# -- train -----------------------------------------------------------------------------------

def _overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings (VALUE as JSON, else a string) -> a dict."""
    import json

    from vla_bench.errors import ConfigError

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set wants KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def cmd_train(args: argparse.Namespace) -> int:
    """Behaviour-clone a learned baseline; print where its checkpoint is."""
    from vla_bench.learning import ARCHS

    if args.arch not in ARCHS:
        from vla_bench.errors import UnknownNameError

        raise UnknownNameError("architecture", args.arch, ARCHS)
    from vla_bench.learning.train import train

    tov = {k: v for k, v in (("steps", args.steps), ("batch_size", args.batch_size),
                             ("lr", args.lr), ("seed", args.seed)) if v is not None}
    tov.update(_overrides(args.train_set))
    result = train(args.arch, args.data, args.out, preset=args.preset,
                   overrides=_overrides(args.set), train_overrides=tov, device=args.device,
                   threads=args.threads, cache_root=args.cache)
    print(f"{args.arch}: {result['parameters']:,} parameters, {result['steps']} steps, "
          f"validation loss {result['val_loss']:.4f}, validation action MSE "
          f"{result['val_action_mse']:.4f} (normalised), {result['wall_s'] / 60:.1f} min; "
          f"checkpoint {result['checkpoint']}")
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
    from vla_bench.evaluation.records import LANGUAGE_CONTROLS
    from vla_bench.evaluation.runner import SUMMARY_HEADER, evaluate, summary_rows

    try:
        kwargs = json.loads(args.policy_kwargs) if args.policy_kwargs else {}
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--policy-kwargs is not valid JSON ({exc}); e.g. '{{\"scale\": 0.5}}'"
                          ) from exc
    if not isinstance(kwargs, dict):
        raise ConfigError("--policy-kwargs must be a JSON object, e.g. '{\"scale\": 0.5}'")
    if not args.env and not args.suite and not args.track:
        raise ConfigError("say what to evaluate: --env ID (repeatable), --suite or --track")
    perturbations = ["nominal"] + [p for p in (args.perturb or []) if p != "nominal"]
    perturbations += [f"{LANGUAGE_CONTROLS[c]}:1"
                      for c in dict.fromkeys(args.language_control or [])]
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
        retry_errors=args.retry_errors, track=args.track)
    privileged = result.config.get("privileged")
    print(f"policy {result.config['policy_name']!r}: "
          + ("PRIVILEGED (reads the simulator state)" if privileged else "not privileged"))
    print(_markdown_table(SUMMARY_HEADER, summary_rows(result.records)))
    print(f"\n{result.new} episodes run now, {result.skipped} already done (resumed); "
          f"{len(result.records)} in {result.run_dir / 'episodes.jsonl'}")
    aggregate = result.run_dir / "aggregate.json"
    metrics = json.loads(aggregate.read_text())["metrics"] if aggregate.exists() else {}
    for control, g in metrics.get("language_gain", {}).items():
        lo, hi = g["ci95"]
        print(f"language gain vs {control} instruction: {g['gain']:+.2f} "
              f"[{lo:+.2f}, {hi:+.2f}] over {g['n_pairs']} paired episodes")
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

    p = sub.add_parser("check", help="expert, random and blind success and goal visibility "
                                     "per task (Markdown table)")
    p.add_argument("--episodes", type=_positive, default=10, help="seeds per task (default 10)")
    p.add_argument("--env", action="append", help="env id (repeatable; default: every task)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--no-random", action="store_true", help="skip the random-policy episodes")
    p.add_argument("--no-blind", action="store_true",
                   help="skip the blind episodes (expert toward another alternative goal)")
    p.add_argument("--no-visibility", action="store_true",
                   help="skip the goal-visibility renders")
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
    p.add_argument("--cameras", default=",".join(cv.DEFAULT_CAMERAS),
                   help=f"comma-separated cameras (default {','.join(cv.DEFAULT_CAMERAS)}; "
                        "'' for none)")
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
    what.add_argument("--track", choices=("lite", "full"), default=None,
                      help="a leaderboard track's fixed episodes (then pack the run with "
                           "vla-bench submit)")
    p.add_argument("--split", action="extend", nargs="+", metavar="S",
                   help="protocol splits (default test_seen)")
    p.add_argument("--perturb", action="extend", nargs="+", metavar="AXIS:LEVEL",
                   help="perturbations on the same seeds ('all': the manifest's set); "
                        "nominal always runs")
    p.add_argument("--language-control", action="extend", nargs="+",
                   choices=("shuffled", "blank"),
                   help="also run every episode with another episode's instruction (shuffled) "
                        "or none (blank), goal unchanged; the report gives the language gain "
                        "(nominal minus control success, paired 95%% CI) per task")
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

    p = sub.add_parser("train", help="train a learned baseline on generated datasets "
                                      "(resumable)")
    p.add_argument("--arch", required=True,
                   help="rt1, openvla, bcz, diffusion, memory or advanced")
    p.add_argument("--data", required=True, nargs="+", metavar="DIR",
                   help="datasets written by vla-bench generate (one robot and camera set)")
    p.add_argument("--out", required=True, help="output directory (re-run to resume)")
    p.add_argument("--preset", default="default", choices=("default", "tiny"),
                   help="model and optimisation preset (tiny: a smoke test)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a model config value (JSON value), e.g. --set chunk=8")
    p.add_argument("--train-set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a TrainConfig value, e.g. --train-set early_frames=30")
    p.add_argument("--steps", type=_positive, default=None, help="optimisation steps")
    p.add_argument("--batch-size", type=_positive, default=None, help="samples per step")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate")
    p.add_argument("--seed", type=int, default=None, help="seed of the whole run (default 0)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--threads", type=_positive, default=None, help="torch CPU threads")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="frame cache root (default ~/.cache/vla_bench/frames)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("serve", help="serve a policy over openpi's websocket protocol")
    p.add_argument("--policy", required=True,
                   help="registered non-privileged policy (random, noop, an entry point) or "
                        "module:factory")
    p.add_argument("--policy-kwargs", default=None, metavar="JSON",
                   help="keyword arguments of the policy factory, as a JSON object")
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free)")
    p.set_defaults(func=cmd_serve)

    from vla_bench.leaderboard.cli import add_parsers

    add_parsers(sub)
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
