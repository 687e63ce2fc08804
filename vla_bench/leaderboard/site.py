"""``vla-bench leaderboard build``: ``leaderboard/README.md`` and a static site.

The site is ``leaderboard/site/index.html`` (one sortable table per track, privileged entries
ranked apart) and one page per entry with its plots. Every asset is inline (CSS, the sorting
script, PNGs as data URIs): the pages make no network request, so they open from a file or
any static host.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vla_bench.leaderboard.store import DEFAULT_ROOT, Entry, entries

SITE = "site"
COLUMNS = ("rank", "model", "architecture", "success [95% CI]", "safety score", "robustness",
           "calibration", "generalisation", "language gain [95% CI]", "parameters",
           "latency ms (median)")

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em}table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:right}td{white-space:nowrap}
th:nth-child(2),td:nth-child(2),th:nth-child(3),td:nth-child(3){text-align:left}
th{background:#f3f5f8;cursor:pointer;user-select:none}th.sorted-asc:after{content:" \\25B2"}
th.sorted-desc:after{content:" \\25BC"}.priv{color:#8a4b00}.na{color:#999}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}code{background:#f3f3f3;padding:0 .2em}
"""
# Click a header to sort by its column; click again to reverse. Cells carry data-v (a number,
# or empty for "not reported", which always sorts last).
_JS = """
document.querySelectorAll('table.board').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var desc=!th.classList.contains('sorted-desc');
      t.querySelectorAll('th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc')});
      th.classList.add(desc?'sorted-desc':'sorted-asc');
      var rows=Array.prototype.slice.call(t.tBodies[0].rows);
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;
        if(x===''&&y==='')return 0;if(x==='')return 1;if(y==='')return -1;
        var nx=parseFloat(x),ny=parseFloat(y),c;
        c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return desc?-c:c;});
      rows.forEach(function(r){t.tBodies[0].appendChild(r)});
    });
  });
});
"""


def _fmt(v: float | None, pct: bool = False, missing: str = "not reported") -> str:
    if v is None:
        return missing
    return f"{v:.1%}" if pct else f"{v:.3f}"


def row_cells(entry: Entry, rank: int) -> list[tuple[str, str]]:
    """(text, sort value) per column of one entry's row."""
    s, card = entry.scores, entry.submission["policy_card"]
    succ = s["success"]
    ci = succ.get("ci95")
    gain = s.get("language_gain")
    lat = s.get("latency_ms")
    params = s.get("parameters") if s.get("parameters") is not None else card.get("parameters")
    return [
        (str(rank), str(rank)),
        (entry.model_name, entry.model_name),
        (str(card["architecture"]), str(card["architecture"])),
        (f"{_fmt(succ['rate'], True)} [{ci[0]:.1%}, {ci[1]:.1%}]" if ci else "–",
         "" if succ["rate"] is None else f"{succ['rate']:.6f}"),
        (_fmt(s.get("safety_score")), _num(s.get("safety_score"))),
        # Robustness and generalisation are ratios to nominal success: undefined at 0.
        (_fmt(s.get("robustness"), missing="undefined"), _num(s.get("robustness"))),
        (_fmt(s.get("calibration")), _num(s.get("calibration"))),
        (_fmt(s.get("generalisation"), missing="undefined"), _num(s.get("generalisation"))),
        ("not run" if gain is None else
         f"{gain['gain']:+.2f} [{gain['ci95'][0]:+.2f}, {gain['ci95'][1]:+.2f}]",
         "" if gain is None else f"{gain['gain']:.6f}"),
        ("not reported" if params is None else f"{params:,}", _num(params)),
        (_fmt(lat) if lat is None else f"{lat:.2f}", _num(lat)),
    ]


def _num(v: Any) -> str:
    return "" if v is None else f"{float(v):.6f}"


def ranked(track_entries: Sequence[Entry]) -> list[Entry]:
    """Best first: test_seen success, then safety score."""
    def key(e: Entry) -> tuple[float, float]:
        return (-(e.scores["success"]["rate"] or 0.0), -(e.scores.get("safety_score") or 0.0))
    return sorted(track_entries, key=key)


def _groups(all_entries: Sequence[Entry]) -> dict[str, dict[str, list[Entry]]]:
    tracks: dict[str, dict[str, list[Entry]]] = {}
    for e in all_entries:
        kind = "privileged" if e.privileged else "policies"
        tracks.setdefault(e.track, {"policies": [], "privileged": []})[kind].append(e)
    return {t: {k: ranked(v) for k, v in g.items()} for t, g in sorted(tracks.items())}


def _html_table(rows: Sequence[Entry], track: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = []
    for rank, e in enumerate(rows, 1):
        cells = row_cells(e, rank)
        tds = []
        for i, (text, value) in enumerate(cells):
            inner = html.escape(text)
            if i == 1:
                inner = f'<a href="{html.escape(e.entry_id)}.html">{inner}</a>'
            cls = ' class="na"' if text in ("not reported", "not run", "undefined") else ""
            tds.append(f'<td data-v="{html.escape(value)}"{cls}>{inner}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (f'<table class="board" data-track="{track}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
            f"<body>{body}<script>{_JS}</script></body></html>\n")


def _index(groups: Mapping[str, Mapping[str, list[Entry]]]) -> str:
    parts = ["<h1>vla_bench leaderboard</h1>",
             "<p>Every entry is re-scored from its episode records by <code>vla-bench "
             "leaderboard add</code>; claimed aggregates are checked, never trusted. Success is "
             "on the nominal <code>test_seen</code> episodes of the track. Click a column "
             "header to sort.</p>"]
    if not groups:
        parts.append("<p>No entries yet.</p>")
    for track, g in groups.items():
        parts.append(f"<h2>Track <code>{html.escape(track)}</code></h2>")
        parts.append(_html_table(g["policies"], track) if g["policies"]
                     else "<p>No non-privileged entries.</p>")
        if g["privileged"]:
            parts.append('<h3 class="priv">Privileged (reads the simulator state; ranked '
                         "apart)</h3>")
            parts.append(_html_table(g["privileged"], track + "-privileged"))
    return _page("vla_bench leaderboard", "".join(parts))


def _img(png: bytes | None, alt: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _entry_page(e: Entry) -> str:
    from vla_bench.evaluation import plots
    from vla_bench.evaluation.metrics import summarize

    m = summarize(e.records(), e.submission["run_config"])
    card = e.submission["policy_card"]
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in card.items() if v is not None)
    by_task = m["by"]["task"]
    figures = [
        _img(plots.success_bars("Success per task (nominal)",
                                {n: g["success"] for n, g in by_task.items()}), "success"),
        _img(plots.safety_bars(m["overall"]["safety"]), "safety"),
    ]
    if m["robustness"].get("conditions"):
        figures.append(_img(plots.robustness_bars(m["robustness"]), "robustness"))
    if m["calibration"].get("status") == "reported":
        figures.append(_img(plots.reliability_plot(m["calibration"]), "reliability"))
    scores = json.dumps(e.scores, indent=2)
    priv = ('<p class="priv"><b>Privileged</b>: this policy read the simulator state.</p>'
            if e.privileged else "")
    body = (f'<p><a href="index.html">&larr; leaderboard</a></p><h1>{html.escape(e.model_name)}'
            f"</h1>{priv}<p>Track <code>{html.escape(e.track)}</code>, entry "
            f"<code>{html.escape(e.entry_id)}</code>, {e.scores['n_episodes']} episodes.</p>"
            f"<h2>Policy card</h2><table>{rows}</table><h2>Figures</h2>{''.join(figures)}"
            f"<h2>Scores</h2><pre>{html.escape(scores)}</pre>")
    return _page(e.model_name, body)


def _markdown(groups: Mapping[str, Mapping[str, list[Entry]]]) -> str:
    lines = ["# Leaderboard", "",
             "Generated by `vla-bench leaderboard build` from the entries in `entries/` (each "
             "re-scored from its episode records). The site is `site/index.html`.", ""]
    if not groups:
        lines.append("No entries yet.")
    for track, g in groups.items():
        for kind in ("policies", "privileged"):
            if not g[kind]:
                continue
            title = f"Track `{track}`" + (" — privileged (reads the simulator state; ranked "
                                          "apart)" if kind == "privileged" else "")
            lines += [f"## {title}", "", "| " + " | ".join(COLUMNS) + " |",
                      "|" + "---|" * len(COLUMNS)]
            for rank, e in enumerate(g[kind], 1):
                lines.append("| " + " | ".join(t for t, _ in row_cells(e, rank)) + " |")
            lines.append("")
    return "\n".join(lines) + "\n"


def build(root: str | Path = DEFAULT_ROOT) -> list[Path]:
    """Write ``README.md``, ``site/index.html`` and one page per entry under ``root``."""
    root = Path(root)
    all_entries = entries(root)
    groups = _groups(all_entries)
    site = root / SITE
    site.mkdir(parents=True, exist_ok=True)
    for stale in site.glob("*.html"):
        stale.unlink()
    written = [root / "README.md", site / "index.html"]
    written[0].write_text(_markdown(groups))
    written[1].write_text(_index(groups))
    for e in all_entries:
        path = site / f"{e.entry_id}.html"
        path.write_text(_entry_page(e))
        written.append(path)
    return written
