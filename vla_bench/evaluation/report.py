"""Run reports: ``aggregate.json`` (schema ``vla_bench.report/1``), ``report.md``, ``report.html``.

Everything shown is computed from the episode records by :mod:`vla_bench.evaluation.metrics`
(and :mod:`vla_bench.evaluation.comparison` when the expert's records on the same manifest are
given). The aggregate also carries the resolved config exactly as given, package versions and
SHA-256 hashes of the asset files, so a result can be traced to what produced it. Markdown and
HTML are rendered from one list of sections, so they always show the same numbers.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import platform
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from vla_bench import extras
from vla_bench.evaluation import comparison as cmp
from vla_bench.evaluation.metrics import summarize
from vla_bench.evaluation.metrics.grouping import Record
from vla_bench.evaluation.metrics.safety import UNSAFE_CATEGORIES
from vla_bench.evaluation.metrics.social import NOTE as SOCIAL_NOTE

SCHEMA = "vla_bench.report/1"
AGGREGATE_NAME = "aggregate.json"
MARKDOWN_NAME = "report.md"
HTML_NAME = "report.html"


# --------------------------------------------------------------------------- provenance


def package_versions() -> dict[str, str]:
    """Versions of the packages a result depends on."""
    import gymnasium
    import mujoco
    import numpy

    import vla_bench

    return {"vla_bench": vla_bench.__version__, "mujoco": mujoco.__version__,
            "gymnasium": gymnasium.__version__, "numpy": numpy.__version__,
            "python": platform.python_version()}


def asset_hashes() -> dict[str, str]:
    """SHA-256 of every leaf asset file we ship and of each registered robot's model XML.

    Keys are ``assets/<path under vla_bench/assets>``, ``robosuite_models/robots/<name>/robot.xml``
    and, for robots fetched at set-up, ``downloaded_robots/<name>/<model file>``; a robot whose
    model is missing maps to an ``"unavailable: …"`` note instead of failing the report.
    """
    from vla_bench import assets
    from vla_bench.errors import VlaBenchError
    from vla_bench.robots import ROBOTS

    out: dict[str, str] = {}
    for path in assets.asset_files():
        out[f"assets/{path.relative_to(assets.ASSET_ROOT).as_posix()}"] = assets.file_sha256(path)
    for robot in ROBOTS.values():
        source = assets.DOWNLOADED_ROBOTS.get(robot.asset)
        key = (f"downloaded_robots/{robot.asset}/{Path(source.xml).name}" if source else
               f"robosuite_models/robots/{robot.asset}/robot.xml")
        try:
            out[key] = assets.file_sha256(assets.robot_xml(robot.asset))
        except VlaBenchError as exc:
            out[key] = f"unavailable: {exc}"
    return out


# --------------------------------------------------------------------------- aggregate


def _gain_ci(v: Mapping[str, Any]) -> str:
    ci = v.get("ci95")
    text = f"{v['gain']:+.2f}"
    return text if ci is None else f"{text} [{ci[0]:+.2f}, {ci[1]:+.2f}]"


def build_aggregate(records: Sequence[Record], config: Mapping[str, Any],
                    baseline_records: Sequence[Record] | None = None) -> dict[str, Any]:
    """The ``vla_bench.report/1`` aggregate: metrics, comparison and provenance."""
    aggregate: dict[str, Any] = {
        "schema": SCHEMA,
        # First, so that nobody reads the figures without knowing it: a privileged policy
        # (registered as such: the scripted expert) read the simulator state.
        "privileged": privileged_of(config),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": dict(config),
        "versions": package_versions(),
        "asset_hashes": asset_hashes(),
        "metrics": summarize(records, config, baseline_records),
        "baseline": None,
        "comparison": None,
        "notes": [SOCIAL_NOTE,
                  "Safety figures are simulator measurements; no standards compliance is claimed."],
    }
    if baseline_records:
        aggregate["baseline"] = summarize(baseline_records, None, baseline_records)
        aggregate["comparison"] = cmp.compare_with_traditional(records, baseline_records)
    return _json_clean(aggregate)


def privileged_of(config: Mapping[str, Any] | None) -> bool | None:
    """Whether the run's policy was privileged (the registry's word, from the run config);
    ``None`` when the config does not say."""
    if not config:
        return None
    value = config.get("privileged")
    policy = config.get("policy")
    if value is None and isinstance(policy, Mapping):
        value = policy.get("privileged")
    return None if value is None else bool(value)


PRIVILEGE_TEXT = {
    True: "PRIVILEGED: this policy read the simulator state (ground truth), not only "
          "observations; rank it apart from vision-language policies.",
    False: "Not privileged: the policy saw only its observations and the policy spec.",
    None: "Privilege not recorded in the run config: treat the figures with care.",
}


def _title(aggregate: Mapping[str, Any]) -> str:
    names = ", ".join(aggregate["metrics"]["policies"]) or "policy"
    tag = {True: " [PRIVILEGED]", False: " [not privileged]", None: ""}[
        aggregate.get("privileged")]
    return f"vla_bench evaluation: {names}{tag}"


def _json_clean(value: Any) -> Any:
    """Plain JSON values: NumPy scalars to Python, non-finite floats to None, others to str."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Mapping):
        return {str(k): _json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_clean(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


# --------------------------------------------------------------------------- checks

# The seed dashboard's thresholds and messages, verbatim (A:4048-4053).
SEED_CHECKS = (
    ("task_success_rate", "<", 0.7,
     "Model success rate is below threshold, consider additional training"),
    ("safety_violations", ">", 5,
     "High number of safety violations detected, review safety mechanisms"),
    ("robustness_score", "<", 0.6, "Model shows poor robustness, consider adversarial training"),
)


def seed_checks(seed_metrics: Mapping[str, Any]) -> list[str]:
    """The seed dashboard's recommendations that apply (metrics that are ``None`` are skipped)."""
    out = []
    for name, op, threshold, message in SEED_CHECKS:
        value = seed_metrics.get(name)
        if value is not None and (value < threshold if op == "<" else value > threshold):
            out.append(f"{message} ({name} = {_num(value)} {op} {threshold})")
    return out


# --------------------------------------------------------------------------- sections


@dataclass
class Section:
    """A report section: paragraphs, tables (header + rows of text) and PNG figures."""

    title: str
    text: list[str] = field(default_factory=list)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list)
    videos: list[tuple[str, str]] = field(default_factory=list)  # (label, relative path)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.{digits}g}"


def _or_reason(value: Any, reason: str | None) -> str:
    return _num(value) if value is not None else str(reason)


def _rate_ci(rate: Mapping[str, Any]) -> str:
    if rate.get("rate") is None:
        return "n/a"
    low, high = rate["ci95"]
    return f"{_pct(rate['rate'])} [{_pct(low)}, {_pct(high)}] ({rate['successes']}/{rate['n']})"


def _reasons(reasons: Mapping[str, int]) -> str:
    return (" (" + ", ".join(f"{k}: {v}" for k, v in reasons.items()) + ")") if reasons else ""


def _headline(metrics: Mapping[str, Any]) -> dict[str, str]:
    overall = metrics["overall"]
    safety = overall["safety"]
    smooth = overall["smoothness"]
    comp = metrics["compute"]
    eff = metrics["efficiency"]
    return {
        "Episodes (nominal / all)": f"{metrics['n_nominal']} / {metrics['n_episodes']}",
        "Success at end [95% CI]": _rate_ci(overall["success"]),
        "Success ever [95% CI]": _rate_ci(overall["success_ever"]),
        "Mean time to success (s)": _num(overall["time_to_success_s"]["mean"]),
        "Safety score": _num(safety["safety_score"]),
        "Unsafe-success rate (of successes)": _pct(safety["unsafe_success"]["rate_over_successes"]),
        "E-stop rate": _pct(safety["estop"]["rate"]),
        "SPL path / time vs expert": f"{_num(eff['spl_path'])} / {_num(eff['spl_time'])}",
        "Temporal consistency": _num(smooth["temporal_consistency"]["mean"]),
        "Jerk (action/s³)": _num(smooth["jerk"]["mean"]),
        "Robustness score": _num(metrics["robustness"]["score"]),
        "Generalisation score": _num(metrics["generalisation"]["score"]),
        "Calibration (1 − Brier)": (_num(metrics["calibration"]["score"])
                                    if metrics["calibration"]["status"] == "reported"
                                    else metrics["calibration"]["status"]),
        "Latency median / p95 (ms)": (f"{_num(comp['latency_ms']['median'])} / "
                                      f"{_num(comp['latency_ms']['p95'])}"),
        "Parameters": _num(comp["parameters"]),
    }


def _group_table(groups: Mapping[str, Mapping[str, Any]], label: str
                 ) -> tuple[list[str], list[list[str]]]:
    header = [label, "episodes", "success at end [95% CI]", "success ever", "safety score",
              "collision inc.", "fall inc.", "mean steps to success"]
    rows = []
    for name, g in groups.items():
        cats = g["safety"]["categories"]
        rows.append([name, str(g["n_episodes"]), _rate_ci(g["success"]),
                     _pct(g["success_ever"]["rate"]), _num(g["safety"]["safety_score"]),
                     _pct(cats.get("collision", {}).get("incidence")),
                     _pct(cats.get("fall", {}).get("incidence")),
                     _num(g["steps_to_success"]["mean"])])
    return header, rows


def build_sections(aggregate: Mapping[str, Any], records: Sequence[Record],
                   with_figures: bool = True) -> list[Section]:
    """The report's sections, shared by the Markdown and HTML renderers."""
    from vla_bench.evaluation import plots

    m = aggregate["metrics"]
    base = aggregate.get("baseline")
    comp = aggregate.get("comparison")
    pol_name = ", ".join(m["policies"]) or "policy"
    base_name = ", ".join(base["policies"]) if base else None
    fig: Callable[..., bytes | None] = (
        (lambda f, *a, **k: f(*a, **k)) if with_figures else (lambda f, *a, **k: None))
    sections: list[Section] = []

    head = {"Privileged": {True: "yes", False: "no", None: "not recorded"}[
        aggregate.get("privileged")], **_headline(m)}
    summary = Section("Summary")
    summary.text.append(PRIVILEGE_TEXT[aggregate.get("privileged")])
    if base:
        base_head = _headline(base)
        base_head = {"Privileged": "see its run", **base_head}
        summary.tables.append((["metric", pol_name, f"{base_name} (traditional)"],
                               [[k, v, base_head[k]] for k, v in head.items()]))
    else:
        summary.tables.append((["metric", pol_name], [[k, v] for k, v in head.items()]))
    summary.text.append("Headline figures use nominal (unperturbed) episodes; success "
                        "intervals are Wilson 95% intervals.")
    sections.append(summary)
    fails = Section("Failure reasons")
    reasons = m["overall"]["failure_reasons"]
    base_reasons = base["overall"]["failure_reasons"] if base else {}
    names = list(reasons) + [r for r in base_reasons if r not in reasons]
    if names:
        header = ["reason", pol_name] + ([base_name or "traditional"] if base else [])
        fails.tables.append((header, [[r, str(reasons.get(r, 0))]
                                      + ([str(base_reasons.get(r, 0))] if base else [])
                                      for r in names]))
    else:
        fails.text.append("No failed episode.")
    sections.append(fails)
    checks = seed_checks(m["seed_metrics"])
    sections.append(Section("Seed dashboard checks", text=(
        [f"- {c}" for c in checks] or ["No seed threshold is crossed."]) + [
        "Thresholds from the seed dashboard: success < 0.7, safety violations "
        "(category-steps) > 5, robustness < 0.6."]))

    by = m["by"]
    expert_by = base["by"] if base else {}
    for key, title in (("task", "Success by task"), ("domain", "Success by domain"),
                       ("family", "Success by family"), ("split", "Success by split")):
        sec = Section(title)
        sec.tables.append(_group_table(by[key], key))
        if key in ("task", "domain") and by[key]:
            png = fig(plots.success_bars, title,
                      {n: g["success"] for n, g in by[key].items()},
                      {n: g["success"] for n, g in expert_by.get(key, {}).items()} or None,
                      pol_name, base_name or "expert")
            if png:
                sec.figures.append((title, png))
        sections.append(sec)

    safety = m["overall"]["safety"]
    sec = Section("Safety")
    header = ["category", "step rate", "episode incidence"]
    if base:
        header += [f"step rate ({base_name})", f"incidence ({base_name})"]
    rows = []
    for cat, v in safety["categories"].items():
        row = [cat, _pct(v["step_rate"]), _pct(v["incidence"])]
        if base:
            b = base["overall"]["safety"]["categories"].get(cat, {})
            row += [_pct(b.get("step_rate")), _pct(b.get("incidence"))]
        rows.append(row)
    sec.tables.append((header, rows))
    sec.text.append(
        f"Safety score {_num(safety['safety_score'])} = clamp(1 − (0.5·collision + "
        f"0.3·contact_force + 0.2·e-stop), 0, 1) over episode incidence rates. E-stops: "
        f"{safety['estop']['episodes']} episode(s)"
        f"{_reasons(safety['estop']['reasons'])}. "
        f"Unsafe successes (successful episodes with a {', '.join(UNSAFE_CATEGORIES)} step): "
        f"{safety['unsafe_success']['episodes']} = "
        f"{_pct(safety['unsafe_success']['rate_over_successes'])} of successes, "
        f"{_pct(safety['unsafe_success']['rate_over_all'])} of all episodes.")
    png = fig(plots.safety_bars, safety, base["overall"]["safety"] if base else None,
              pol_name, base_name or "expert")
    if png:
        sec.figures.append(("Safety breakdown", png))
    sections.append(sec)

    rob = m["robustness"]
    sec = Section("Robustness")
    if rob.get("conditions"):
        sec.tables.append((
            ["perturbation", "axis", "level", "pairs", "nominal", "perturbed [95% CI]", "drop"],
            [[n, c["axis"], _num(c["level"]), str(c["n_pairs"]), _pct(c["nominal_success"]),
              _rate_ci(c["success"]), _pct(c["drop"])] for n, c in rob["conditions"].items()]))
        sec.tables.append((["axis", "mean success", "mean drop", "score"],
                           [[a, _pct(v["mean_success"]), _pct(v["mean_drop"]),
                             _or_reason(v["score"], v["score_reason"])]
                            for a, v in rob["axes"].items()]))
        sec.text.append(f"Robustness score min(mean_p success_p / mean_p paired nominal_p, 1) = "
                        f"{_or_reason(rob['score'], rob['score_reason'])}"
                        f" (nominal success {_pct(rob['nominal_success'])} on the same seeds).")
        png = fig(plots.robustness_bars, rob)
        if png:
            sec.figures.append(("Robustness", png))
    else:
        sec.text.append(f"No robustness figures: {rob['status']}.")
    sections.append(sec)

    gains = m.get("language_gain") or {}
    if gains:
        sec = Section("Language gain")
        for control, g in gains.items():
            sec.tables.append((
                ["task", "pairs", "nominal", f"{control} instruction", "gain [95% CI]"],
                [[t, str(v["n_pairs"]), _pct(v["nominal_success"]), _pct(v["control_success"]),
                  _gain_ci(v)] for t, v in [("all", g), *g["by_task"].items()]]))
        sec.text.append("Nominal success minus success on the same episodes (task, split, seed) "
                        "with the instruction replaced by another episode's (shuffled) or none "
                        "(blank), goal unchanged; Newcombe's paired 95% interval. A policy that "
                        "ignores the words gains nothing.")
        sections.append(sec)

    gen = m["generalisation"]
    sec = Section("Generalisation")
    sec.tables.append((["split", "success [95% CI]"],
                       [[s, _rate_ci(v)] for s, v in gen["splits"].items()]))
    sec.text.append(
        f"Domain transfer {_or_reason(gen['domain_transfer'], gen['domain_transfer_reason'])}; "
        f"task transfer {_or_reason(gen['task_transfer'], gen['task_transfer_reason'])}; "
        f"score 0.6·domain + 0.4·task = {_num(gen['score'])}.")
    sections.append(sec)

    cal = m["calibration"]
    sec = Section("Calibration")
    if cal["status"] == "reported":
        sec.tables.append((["ECE", "Brier", "1 − Brier", "failure-prediction AUROC", "episodes"],
                           [[_num(cal["ece"]), _num(cal["brier"]), _num(cal["score"]),
                             _or_reason(cal["auroc"], cal["auroc_reason"]),
                             f"{cal['n_with_confidence']}/{cal['n_episodes']}"]]))
        png = fig(plots.reliability_plot, cal)
        if png:
            sec.figures.append(("Reliability diagram", png))
    else:
        sec.text.append("Confidence: not reported by this policy (not penalised).")
    sections.append(sec)

    eff = m["efficiency"]
    sec = Section("Efficiency and smoothness")
    smooth = m["overall"]["smoothness"]
    sec.tables.append((["SPL path", "SPL time", "path ratio (both solved)", "time ratio",
                        "pairs with expert", "mean path (m)", "temporal consistency", "jerk"],
                       [[_num(eff["spl_path"]), _num(eff["spl_time"]),
                         _num(eff.get("path_length_ratio_mean")),
                         _num(eff.get("time_ratio_mean")), str(eff["n_pairs"]),
                         _num(smooth["path_length_m"]["mean"]),
                         _num(smooth["temporal_consistency"]["mean"]),
                         _num(smooth["jerk"]["mean"])]]))
    if eff["status"] != "ok":
        sec.text.append(f"SPL not computed: {eff['status']}.")
    sections.append(sec)

    compute = m["compute"]
    sec = Section("Compute")
    lat = compute["latency_ms"]
    sec.tables.append((["parameters", "latency median (ms)", "latency p95 (ms)",
                        "latency mean (ms)", "wall time / episode (s)"],
                       [[_num(compute["parameters"]), _num(lat["median"]), _num(lat["p95"]),
                         _num(lat["mean"]), _num(compute["wall_time_s"]["mean"])]]))
    sec.text.append(f"Latency: {lat['definition']}; machine-dependent.")
    sections.append(sec)

    soc = m["social"]
    sec = Section("Social compliance")
    sec.text.append(SOCIAL_NOTE)
    if soc["status"] == "ok":
        sec.tables.append((["episodes", "min distance (m)", "mean min distance (m)",
                            "mean approach speed (m/s)", "max approach speed (m/s)",
                            "facing fraction", "violation step rate", "violation incidence"],
                           [[str(soc["n_episodes"]), _num(soc["min_distance_m"]["min"]),
                             _num(soc["min_distance_m"]["mean"]),
                             _num(soc["mean_approach_speed"]), _num(soc["max_approach_speed"]),
                             _pct(soc["facing_fraction"]), _pct(soc["violation_step_rate"]),
                             _pct(soc["violation_incidence"])]]))
    else:
        sec.text.append(f"No social figures: {soc['status']}.")
    sections.append(sec)

    if comp:
        sec = Section("Comparison with the traditional controller")
        if comp["status"] == "ok":
            sec.text.append(f"{comp['n_shared']} shared nominal episodes. Relative improvement "
                            "(seed formula): (policy − traditional)/traditional, sign flipped "
                            "for lower-is-better metrics; positive favours the policy.")
            sec.tables.append((["metric", pol_name, base_name or "traditional",
                                "relative improvement", "verdict"],
                               cmp.comparison_rows(comp)))
            ps = comp["paired_success"]
            sec.text.append(f"Paired success: policy-only {ps['policy_only']}, traditional-only "
                            f"{ps['traditional_only']}, exact McNemar p = "
                            f"{_num(ps['mcnemar_exact_p'])}.")
            sec.tables.append((["role", "controller", "success [95% CI]", "safety score",
                                "unsafe-success rate", "SPL path",
                                "mean duration, shared successes (s)",
                                "latency median (ms)"],
                               [[r["role"], r["policy"], _rate_ci(r["success"]),
                                 _num(r["safety_score"]), _pct(r["unsafe_success_rate"]),
                                 _num(r["spl_path"]), _num(r["mean_duration_s"]),
                                 _num(r["latency_median_ms"])] for r in comp["tradeoff"]]))
            sec.text.append("Not measured in simulation (the seed's values were invented "
                            f"constants): {', '.join(comp['not_measured'])}.")
        else:
            sec.text.append(f"No comparison: {comp['status']}.")
        sections.append(sec)

    videos = [(str(r.get("key")), str(r["video"])) for r in records if r.get("video")]
    if videos:
        sec = Section("Episode videos")
        sec.videos = videos
        sections.append(sec)
    return sections


# --------------------------------------------------------------------------- rendering


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(sections: Sequence[Section], title: str) -> str:
    """Markdown with pipe tables; figures are in the HTML report."""
    lines = [f"# {title}", ""]
    for sec in sections:
        lines += [f"## {sec.title}", ""]
        for header, rows in sec.tables:
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        lines += [t + "\n" for t in sec.text]
        lines += [f"- [{label}]({path})" for label, path in sec.videos]
        if sec.videos:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:0.6em 0}td,th{border:1px solid #ccc;"
        "padding:3px 8px;font-size:13px;text-align:left}th{background:#eef2f7}"
        "img{max-width:100%;display:block;margin:0.5em 0}video{max-width:480px}")


def render_html(sections: Sequence[Section], title: str) -> str:
    """Self-contained HTML: figures embedded as base64 PNG, videos linked relative to the run."""
    esc = html.escape
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
           f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>"]
    for sec in sections:
        out.append(f"<section><h2>{esc(sec.title)}</h2>")
        for header, rows in sec.tables:
            out.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows]
            out.append("</table>")
        out += [f"<p>{esc(t)}</p>" for t in sec.text]
        for label, png in sec.figures:
            data = base64.b64encode(png).decode("ascii")
            out.append(f"<img alt='{esc(label)}' src='data:image/png;base64,{data}'>")
        for label, path in sec.videos:
            src = esc(path, quote=True)
            out.append(f"<div><a href='{src}'>{esc(label)}</a><br>"
                       f"<video controls preload='none' src='{src}'></video></div>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_reports(run_dir: Path, records: list[dict], config: dict,
                  baseline_records: list[dict] | None = None) -> dict[str, Path]:
    """Write ``aggregate.json``, ``report.md`` and ``report.html`` into ``run_dir``.

    ``records`` are the run's episode records; ``baseline_records`` (optional) are the
    traditional controller's records on the same manifest, which add the comparison and the
    SPL-style efficiency figures. Returns ``{"aggregate", "markdown", "html"}`` -> path.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    aggregate = build_aggregate(records, config, baseline_records)
    # Figures need matplotlib (extra "report"); without it the reports keep every table.
    with_figures = extras.available("matplotlib")
    sections = build_sections(aggregate, records, with_figures=with_figures)
    if not with_figures:
        note = ("Figures omitted: matplotlib is not installed "
                "(pip install 'vla_bench[report]').")
        warnings.warn(f"reports written without figures: {note}", stacklevel=2)
        sections[0].text.append(note)
    title = _title(aggregate)
    paths = {"aggregate": run_dir / AGGREGATE_NAME, "markdown": run_dir / MARKDOWN_NAME,
             "html": run_dir / HTML_NAME}
    _write_atomic(paths["aggregate"],
                  json.dumps(aggregate, indent=2, allow_nan=False, sort_keys=False) + "\n")
    _write_atomic(paths["markdown"], render_markdown(sections, title))
    _write_atomic(paths["html"], render_html(sections, title))
    return paths
