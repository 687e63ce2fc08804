"""The leaderboard's subcommands: ``vla-bench submit`` and ``vla-bench leaderboard add|build``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vla_bench.errors import ConfigError

CARD_FIELDS = ("model_name", "architecture", "parameters", "training_data", "code", "commit",
               "description")


def _card(args: argparse.Namespace) -> dict[str, Any]:
    card: dict[str, Any] = {}
    if args.card:
        try:
            card = json.loads(Path(args.card).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"--card {args.card}: cannot read a JSON object ({exc})") from exc
        if not isinstance(card, dict):
            raise ConfigError(f"--card {args.card} must hold a JSON object")
    for name in CARD_FIELDS:
        value = getattr(args, name)
        if value is not None:
            card[name] = value
    missing = [f for f in ("model_name", "architecture", "training_data") if not card.get(f)]
    if missing:
        flags = ", ".join("--" + f.replace("_", "-") for f in missing)
        raise ConfigError(f"the policy card needs {missing}: give {flags} or --card FILE")
    if "privileged" in card:
        raise ConfigError("the policy card may not set 'privileged': it is taken from the run")
    return card


def cmd_submit(args: argparse.Namespace) -> int:
    """Pack a track run and its policy card into a bundle."""
    from vla_bench.leaderboard.bundle import pack

    out = pack(args.run_dir, args.out, _card(args))
    print(f"bundle: {out} ({out.stat().st_size} bytes); add it with "
          f"`vla-bench leaderboard add {out}`")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """Validate, re-score and store a bundle."""
    from vla_bench.leaderboard.store import add

    entry = add(args.bundle, args.root)
    s = entry.scores
    kind = "privileged, ranked apart" if entry.privileged else "not privileged"
    print(f"accepted: {entry.entry_id} ({kind})")
    print(f"re-scored test_seen success {s['success']['rate']:.1%} over {s['success']['n']} "
          f"episodes ({s['n_episodes']} in all); run `vla-bench leaderboard build`")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Write the leaderboard README and site."""
    from vla_bench.leaderboard.site import build

    paths = build(args.root)
    print(f"wrote {len(paths)} files: {paths[0]}, {paths[1]}")
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``submit`` and ``leaderboard`` on the top-level subparsers."""
    p = sub.add_parser("submit", help="pack a track run into a leaderboard bundle")
    p.add_argument("run_dir", help="a run directory of `vla-bench eval --track ...`")
    p.add_argument("--out", required=True, help="bundle path (.tar.gz)")
    p.add_argument("--card", default=None, help="policy card as a JSON file (fields below)")
    p.add_argument("--model-name", dest="model_name", default=None)
    p.add_argument("--architecture", default=None)
    p.add_argument("--parameters", type=int, default=None,
                   help="parameter count (default: what the policy reported)")
    p.add_argument("--training-data", dest="training_data", default=None,
                   help="what it was trained on ('none' for untrained controllers)")
    p.add_argument("--code", default=None, help="where the code is (optional)")
    p.add_argument("--commit", default=None, help="code commit (optional)")
    p.add_argument("--description", default=None, help="one paragraph (optional)")
    p.set_defaults(func=cmd_submit)

    lb = sub.add_parser("leaderboard", help="add a bundle to the leaderboard, or build its site")
    lsub = lb.add_subparsers(dest="leaderboard_command", required=True)
    p = lsub.add_parser("add", help="validate, re-score and store a bundle")
    p.add_argument("bundle")
    p.add_argument("--root", default="leaderboard",
                   help="leaderboard folder (default ./leaderboard)")
    p.set_defaults(func=cmd_add)
    p = lsub.add_parser("build", help="write leaderboard/README.md and leaderboard/site/")
    p.add_argument("--root", default="leaderboard",
                   help="leaderboard folder (default ./leaderboard)")
    p.set_defaults(func=cmd_build)
