"""Report figures as PNG bytes, drawn from the metric dicts (never from raw records).

Matplotlib is imported inside each function (``import vla_bench`` stays light) and figures are
built with ``matplotlib.figure.Figure`` + the Agg canvas directly: no pyplot global state, no
backend switching in the caller's process.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from vla_bench import extras

Series = Mapping[str, Mapping[str, Any]]  # group name -> {"rate", "ci95"} (rate_with_ci output)

POLICY_COLOR = "#3b6ea8"
EXPERT_COLOR = "#c9822b"


def _figure(width: float, height: float) -> Any:
    extras.require("matplotlib", extra="report", purpose="report figures")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _bar_series(ax: Any, names: Sequence[str], series: Series, offset: float, width: float,
                label: str, color: str) -> None:
    rates = [series.get(n, {}).get("rate") for n in names]
    heights = [r if r is not None else 0.0 for r in rates]
    low, high = [], []
    for name, rate in zip(names, heights, strict=True):
        ci = series.get(name, {}).get("ci95")
        low.append(rate - ci[0] if ci else 0.0)
        high.append(ci[1] - rate if ci else 0.0)
    xs = [i + offset for i in range(len(names))]
    ax.bar(xs, heights, width, yerr=[low, high], capsize=3, label=label, color=color)


def success_bars(title: str, policy: Series, expert: Series | None = None,
                 policy_label: str = "policy", expert_label: str = "expert") -> bytes:
    """Success rate per group with Wilson 95 % error bars, policy (and expert) side by side."""
    names = list(policy) + [n for n in (expert or {}) if n not in policy]
    fig = _figure(max(5.0, 0.7 * len(names) + 2.0), 3.6)
    ax = fig.add_subplot()
    width = 0.38 if expert else 0.6
    _bar_series(ax, names, policy, -width / 2 if expert else 0.0, width, policy_label,
                POLICY_COLOR)
    if expert:
        _bar_series(ax, names, expert, width / 2, width, expert_label, EXPERT_COLOR)
        ax.legend(fontsize=8)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate (95% CI)")
    ax.set_title(title)
    return _png(fig)


def safety_bars(policy: Mapping[str, Any], expert: Mapping[str, Any] | None = None,
                policy_label: str = "policy", expert_label: str = "expert") -> bytes:
    """Fraction of episodes with at least one step of each safety category (+ e-stops)."""
    names = list(policy["categories"]) + ["estop"]

    def values(safety: Mapping[str, Any]) -> list[float]:
        cats = safety["categories"]
        out = [cats.get(n, {}).get("incidence") or 0.0 for n in names[:-1]]
        return out + [safety["estop"]["rate"] or 0.0]

    fig = _figure(max(5.0, 0.7 * len(names) + 2.0), 3.6)
    ax = fig.add_subplot()
    width = 0.38 if expert else 0.6
    xs = range(len(names))
    ax.bar([x - (width / 2 if expert else 0) for x in xs], values(policy), width,
           label=policy_label, color=POLICY_COLOR)
    if expert:
        ax.bar([x + width / 2 for x in xs], values(expert), width, label=expert_label,
               color=EXPERT_COLOR)
        ax.legend(fontsize=8)
    ax.set_xticks(list(xs), names, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("episode incidence")
    ax.set_title("Safety: episodes with ≥1 event")
    return _png(fig)


def robustness_bars(robustness: Mapping[str, Any]) -> bytes:
    """Paired success under each perturbation next to nominal success on the same episodes."""
    conds = robustness["conditions"]
    names = list(conds)
    fig = _figure(max(5.0, 0.7 * len(names) + 2.0), 3.6)
    ax = fig.add_subplot()
    width = 0.38
    xs = list(range(len(names)))
    ax.bar([x - width / 2 for x in xs], [conds[n]["nominal_success"] for n in names], width,
           label="nominal (same seeds)", color="#999999")
    _bar_series(ax, names, {n: conds[n]["success"] for n in names}, width / 2, width,
                "perturbed", POLICY_COLOR)
    ax.set_xticks(xs, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate")
    ax.set_title("Robustness: success per perturbation")
    ax.legend(fontsize=8)
    return _png(fig)


def reliability_plot(calibration: Mapping[str, Any]) -> bytes:
    """Reliability diagram: accuracy per confidence bin against the diagonal, with counts."""
    rel = calibration["reliability"]
    fig = _figure(4.6, 4.2)
    ax = fig.add_subplot()
    width = 1.0 / len(rel["bin_centers"])
    filled = [i for i, c in enumerate(rel["counts"]) if c]
    ax.bar([rel["bin_centers"][i] for i in filled], [rel["accuracy"][i] for i in filled],
           width * 0.9, color=POLICY_COLOR, label="success rate in bin")
    ax.plot([rel["confidence"][i] for i in filled], [rel["accuracy"][i] for i in filled], "o",
            color=EXPERT_COLOR, markersize=4, label="mean confidence in bin")
    ax.plot([0, 1], [0, 1], "--", color="#555555", label="perfect calibration")
    for i in filled:  # episode counts above each bar (a bar at 0 would otherwise vanish)
        ax.annotate(f"n={rel['counts'][i]}", (rel["bin_centers"][i], rel["accuracy"][i] + 0.02),
                    ha="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("reported confidence")
    ax.set_ylabel("observed success")
    ax.set_title(f"Reliability (ECE {calibration['ece']:.3f}, Brier {calibration['brier']:.3f})")
    ax.legend(fontsize=8, loc="best")
    return _png(fig)
