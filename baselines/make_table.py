"""The learned baselines against the scripted expert, uniform random and the blind chance level,
as Markdown, from the lite-track runs' episode records.

    python baselines/make_table.py            # prints; reproduce.sh writes results/table.md

Sources: ``baselines/results/<arch>/episodes.jsonl`` (``vla-bench eval --track lite``), the
ablations in ``baselines/results/ablations/<name>/`` (the same runs of a variant) and the
lite leaderboard entries of the expert, no-op and random policies
(``leaderboard/entries/lite-*/episodes.jsonl.gz``: the same episodes). Every rate is k/n with
Wilson's 95 % interval; the language gain is nominal minus shuffled-instruction success on the
same seeds, with Newcombe's paired 95 % interval.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vla_bench.evaluation.metrics.calibration import calibration_metrics  # noqa: E402
from vla_bench.evaluation.metrics.language import language_gain  # noqa: E402
from vla_bench.evaluation.metrics.stats import wilson_interval  # noqa: E402

ARCHS = ("rt1", "openvla", "bcz", "diffusion", "memory", "advanced")
TASKS = {
    "VLA-Kitchen-PlaceAppleInBasket-v1": "PlaceApple",
    "VLA-Workshop-PlaceBoltInContainer-v1": "PlaceBolt",
    "VLA-Office-GoToPrinter-v1": "GoToPrinter",
    "VLA-Outdoor-WalkToTree-v1": "WalkToTree",
}
# The blind chance level of each task: the expert's expected success toward a uniformly drawn
# one of the task's named alternatives, measured by `vla-bench check --episodes 50` (seeds
# 0-49; README "Task validity" table). A policy that ignores the words cannot beat it on average.
BLIND = {"VLA-Kitchen-PlaceAppleInBasket-v1": 0.19, "VLA-Workshop-PlaceBoltInContainer-v1": 0.25,
         "VLA-Office-GoToPrinter-v1": 0.25, "VLA-Outdoor-WalkToTree-v1": 0.17}
REFERENCES = {"expert (scripted, privileged)": "lite-scripted-expert-*",
              "random (uniform)": "lite-uniform-random-*", "no-op": "lite-no-op-*"}
UNSEEN = ("unseen_objects", "unseen_phrasings", "unseen_layouts")
NAVIGATION = ("VLA-Office-GoToPrinter-v1", "VLA-Outdoor-WalkToTree-v1")


def read(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def rate(records: list[dict[str, Any]]) -> str:
    n = len(records)
    if not n:
        return "–"
    k = sum(bool(r["success"]) for r in records)
    lo, hi = wilson_interval(k, n)
    return f"{100 * k / n:.0f} % ({k}/{n}) [{100 * lo:.0f}, {100 * hi:.0f}]"


def nominal(records: list[dict[str, Any]], env_id: str | None, splits: tuple[str, ...]
            ) -> list[dict[str, Any]]:
    return [r for r in records if r["perturbation"] == "nominal" and r["split"] in splits
            and (env_id is None or r["env_id"] == env_id)]


def runs() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, pattern in REFERENCES.items():
        found = sorted((ROOT / "leaderboard/entries").glob(pattern))
        if found:
            out[name] = read(found[0] / "episodes.jsonl.gz")
    for arch in ARCHS:
        path = ROOT / "baselines/results" / arch / "episodes.jsonl"
        if path.exists():
            out[arch] = read(path)
    for path in sorted((ROOT / "baselines/results/ablations").glob("*/episodes.jsonl")):
        out[f"{path.parent.name} (ablation)"] = read(path)
    return out


def gain_cell(g: dict[str, Any] | None) -> str:
    if g is None:
        return "–"
    return f"{100 * g['gain']:+.0f} pts [{100 * g['ci95'][0]:+.0f}, {100 * g['ci95'][1]:+.0f}]"


def language_runs() -> dict[str, list[dict[str, Any]]]:
    """``reproduce.sh language``: 50 seeds per navigation task, nominal and shuffled."""
    found = {arch: ROOT / "baselines/results/language" / arch / "episodes.jsonl"
             for arch in ARCHS}
    for path in sorted((ROOT / "baselines/results/ablations").glob("*/language/episodes.jsonl")):
        found[f"{path.parent.parent.name} (ablation)"] = path
    return {arch: read(path) for arch, path in found.items() if path.exists()}


def main() -> int:
    data = runs()
    head = ["policy", *TASKS.values(), "all four", "unseen splits (pooled)"]
    print("### Success on the lite track (test_seen, nominal; Wilson 95 % CI)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, recs in data.items():
        cells = [rate(nominal(recs, t, ("test_seen",))) for t in TASKS]
        cells += [rate(nominal(recs, None, ("test_seen",))), rate(nominal(recs, None, UNSEEN))]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("| blind chance level (`vla-bench check`) | "
          + " | ".join(f"{100 * BLIND[t]:.0f} %" for t in TASKS) + " | "
          + f"{100 * sum(BLIND.values()) / len(BLIND):.0f} % | – |")
    print("\n### Language gain (nominal minus shuffled instruction, same 20 seeds per task; "
          "Newcombe paired 95 % CI) and calibration\n")
    head = ["policy", *TASKS.values(), "ECE", "failure-prediction AUROC", "episodes"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, recs in data.items():
        gain = language_gain(recs).get("shuffled", {}).get("by_task", {})
        cells = [gain_cell(gain.get(t)) for t in TASKS]
        cal = calibration_metrics(recs)
        ece = "–" if cal.get("ece") is None else f"{cal['ece']:.2f}"
        auroc = "–" if cal.get("auroc") is None else f"{cal['auroc']:.2f}"
        print(f"| {name} | " + " | ".join(cells) + f" | {ece} | {auroc} | {len(recs)} |")
    lang = language_runs()
    if lang:
        print("\n### Language gain on 50 seeds per navigation task (`reproduce.sh language`: "
              "nominal minus shuffled instruction, paired; Newcombe 95 % CI)\n")
        head = ["policy", *(TASKS[t] for t in NAVIGATION), "both", "nominal / shuffled success"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for name, recs in lang.items():
            gain = language_gain(recs).get("shuffled", {})
            by_task = gain.get("by_task", {})
            ok = [r for r in recs if r["perturbation"] == "nominal"]
            shuffled = [r for r in recs if r["perturbation"] != "nominal"]
            cells = [gain_cell(by_task.get(t)) for t in NAVIGATION]
            cells += [gain_cell(gain or None), f"{rate(ok)} / {rate(shuffled)}"]
            print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
