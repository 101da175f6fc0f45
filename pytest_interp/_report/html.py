"""The HTML report: one self-contained page with a heatmap per claim.

Nothing is fetched at view time (inline CSS and JS, a Content-Security-Policy of
`default-src 'none'` that allows only this page's own script by its hash). Claim names,
variants and docstrings come from other people's files, so every string is escaped on its
way into the page, and the data block for the filters is JSON with `<`, `>` and `&` written
as \\u escapes, so `</script>` inside a claim name cannot end the block.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from .. import __version__
from .._verdicts import metric_names
from .html_assets import SCRIPT, STYLE
from .trend import describe, si, span, trends as fit_trends

KINDS = ("holds", "vacuous", "breaks", "mixed", "untrained", "n/a", "error")
SYMBOL = {"holds": "✓", "vacuous": "○", "breaks": "✗", "mixed": "◐", "untrained": "?", "n/a": "·",
          "error": "E", "none": ""}
MEANING = {"holds": "the claim holds (on the quorum of seeds)",
           "vacuous": "holds, but also on the untrained control: says nothing about learning",
           "breaks": "the claim breaks", "mixed": "seeds disagree (k/n seeds hold)",
           "untrained": "the model missed its accuracy target", "n/a": "the model lacks a site the claim needs",
           "error": "the claim raised an error"}
AXES = ("family", "size", "optimizer")

Verdict = Mapping[str, Any]


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def json_for_script(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no <, > or & survive literally."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def kind(v: Verdict) -> str:
    """The colour class of a verdict: vacuous is a hold that also held on the control."""
    k = str(v.get("verdict", "n/a")).split(" ")[0]
    if k == "holds" and v.get("vacuous"):
        return "vacuous"
    return k if k in KINDS else "error"


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kmg]?)$")


def size_value(size: str) -> float:
    m = _SIZE.match(str(size).strip().lower())
    if not m:
        return math.inf
    return float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)]


def claim_label(v: Mapping[str, Any]) -> str:
    return str(v["claim"]) + (f"[{v['variant']}]" if v.get("variant") else "")


def _ordered(values: Iterable[str], preferred: Sequence[Any] | None) -> list[str]:
    vals = set(values)
    first = [str(p) for p in (preferred or []) if str(p) in vals]
    return first + sorted(vals - set(first))


def _num(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, (int, float)) else "–"


def _hover(v: Verdict) -> str:
    lines = [f"{v['family']} {v['size']} {v['optimizer']} · {v['task']}",
             f"params: {v['params'] if v.get('params') is not None else 'unknown'}",
             f"verdict: {v['verdict']}{' (vacuous)' if v.get('vacuous') else ''}, "
             f"{v.get('seeds_holding', 0)}/{v.get('seeds_run', 0)} seeds hold"]
    for m in v.get("measurements") or []:
        lines.append(f"{m['name']} = {_num(m['mean'])} [{_num(m['low'])}, {_num(m['high'])}], "
                     f"needs {m['op']} {_num(m['threshold'])}")
    if v.get("control"):
        lines.append(f"untrained control: {v['control']}")
    return "\n".join(lines)


def _cell(v: Verdict | None, metric: str | None) -> str:
    """One verdict's cell; its value is the claim's `metric`, the same in every cell (the hover lists all)."""
    if v is None:
        return '<td class="cell k-none" data-kind="none" title="not run"></td>'
    k = kind(v)
    m = next((m for m in v.get("measurements") or [] if m["name"] == metric), None)
    value = f'<span class="val">{esc(_num(m["mean"]))}</span>' if m else ""
    mixed = f'<span class="val">{esc(v["verdict"].split(" ", 1)[1])}</span>' if k == "mixed" else ""
    return (f'<td class="cell k-{esc(k.replace("/", ""))}" data-kind="{esc(k)}" data-family="{esc(v["family"])}" '
            f'data-size="{esc(v["size"])}" title="{esc(_hover(v))}"><span class="sym">{esc(SYMBOL[k])}</span>'
            f'{mixed or value}</td>')


def _heatmaps(vs: Sequence[Verdict], families: list[str], sizes: list[str], optimizers: list[str]) -> str:
    tasks = sorted({str(v["task"]) for v in vs})
    at = {(v["family"], v["size"], v["optimizer"], v["task"]): v for v in vs}
    metric = next(iter(metric_names(vs)), None)  # the one most cells measured
    panels = []
    for opt in optimizers:
        head = "".join(f'<th scope="col" data-size="{esc(s)}">{esc(s)}</th>' for s in sizes)
        rows = []
        for fam in families:
            for task in tasks:
                name = fam if len(tasks) == 1 else f"{fam} · {task}"
                cells = "".join(_cell(at.get((fam, s, opt, task)), metric) for s in sizes)
                rows.append(f'<tr data-family="{esc(fam)}"><th scope="row">{esc(name)}</th>{cells}</tr>')
        panels.append(f'<div class="panel" data-optimizer="{esc(opt)}"><h4>{esc(opt)}</h4>'
                      f'<table class="heat"><thead><tr><th></th>{head}</tr></thead>'
                      f'<tbody>{"".join(rows)}</tbody></table></div>')
    return f'<div class="panels">{"".join(panels)}</div>'


def _metric_table(vs: Sequence[Verdict]) -> str:
    rows = []
    for v in vs:
        ms = v.get("measurements") or [None]
        for m in ms:
            attrs = f'data-family="{esc(v["family"])}" data-size="{esc(v["size"])}" data-optimizer="{esc(v["optimizer"])}"'
            k = kind(v)
            metric = "" if m is None else (
                f"<td>{esc(m['name'])}</td><td class=num>{esc(_num(m['mean']))}</td>"
                f"<td class=num>[{esc(_num(m['low']))}, {esc(_num(m['high']))}]</td>"
                f"<td class=num>{esc(m['op'])} {esc(_num(m['threshold']))}</td>"
                f"<td class=num>{esc(_num(m['null']['mean'])) if m.get('null') else ''}</td>")
            if m is None:
                metric = '<td colspan="5" class="none">no measurement</td>'
            rows.append(
                f"<tr {attrs}><td>{esc(v['family'])}</td><td>{esc(v['size'])}</td>"
                f"<td class=num>{esc(v['params'] if v.get('params') is not None else '')}</td>"
                f"<td>{esc(v['optimizer'])}</td><td>{esc(v['task'])}</td>"
                f'<td><span class="chip k-{esc(k.replace("/", ""))}">{esc(SYMBOL[k])}</span> {esc(v["verdict"])}'
                f"{' (vacuous)' if v.get('vacuous') else ''}</td>"
                f"<td class=num>{esc(v.get('seeds_holding', 0))}/{esc(v.get('seeds_run', 0))}</td>{metric}</tr>")
    head = ("<tr><th>family</th><th>size</th><th>params</th><th>algorithm</th><th>task</th><th>verdict</th>"
            "<th>seeds holding</th><th>metric</th><th>mean</th><th>95% interval</th><th>threshold</th>"
            "<th>null</th></tr>")
    return (f'<details class="metrics"><summary>metrics table ({len(rows)} rows)</summary>'
            f'<table class="data"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></details>')


def _sparkline(t: Mapping[str, Any]) -> str:
    """Metric against log10(params): points, the fitted line and the threshold (dashed)."""
    w, h, pad = 120, 28, 3
    xs = [math.log10(p["params"]) for p in t["points"]]
    ys = [p["value"] for p in t["points"]] + [t["threshold"]]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-12:
        y0, y1 = y0 - 1, y1 + 1

    def px(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (w - 2 * pad)

    def py(y: float) -> float:
        return h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad)

    fit = [t["intercept"] + t["slope_per_decade"] * x for x in (x0, x1)]
    dots = "".join(f'<circle cx="{px(x):.1f}" cy="{py(p["value"]):.1f}" r="2.5"/>' for x, p in zip(xs, t["points"]))
    return (f'<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">'
            f'<line class="thr" x1="{pad}" x2="{w - pad}" y1="{py(t["threshold"]):.1f}" y2="{py(t["threshold"]):.1f}"/>'
            f'<line class="fit" x1="{px(x0):.1f}" x2="{px(x1):.1f}" y1="{py(fit[0]):.1f}" y2="{py(fit[1]):.1f}"/>'
            f"{dots}</svg>")


def _trend_table(ts: Sequence[Mapping[str, Any]]) -> str:
    if not ts:
        return ""
    rows = []
    for t in ts:
        cross = t["crossing_params"]
        slope = f"{t['slope_per_decade']:+.3g}"
        cross_text = ("never (flat)" if t["crossing_log10_params"] is None else
                      (f"~{si(cross)}" if cross is not None else f"10^{t['crossing_log10_params']:.1f}")
                      + ("" if span(t) == "within the sizes run" else f" ({span(t)})"))
        rows.append(
            f'<tr data-family="{esc(t["family"])}" data-optimizer="{esc(t["optimizer"])}" title="{esc(describe(t))}">'
            f"<td>{esc(t['family'])}</td><td>{esc(t['optimizer'])}</td><td>{esc(t['metric'])}</td>"
            f"<td class=num>{esc(slope)}</td>"
            f"<td class=num>{esc(t['op'])} {esc(_num(t['threshold']))}</td>"
            f"<td class=num>{esc(cross_text)}</td><td>{esc(t['holds_on'] or '')}</td>"
            f"<td class=num>{esc(_num(t['r2']))}</td><td>{_sparkline(t)}</td></tr>")
    head = ("<tr><th>family</th><th>algorithm</th><th>metric</th><th>slope / decade</th><th>threshold</th>"
            "<th>crosses at (params)</th><th>holds</th><th>r²</th><th>metric vs log10 params</th></tr>")
    return (f'<h4>Scale trend</h4><table class="data trend"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _counts(vs: Sequence[Verdict]) -> str:
    n: dict[str, int] = defaultdict(int)
    for v in vs:
        n[kind(v)] += 1
    return ", ".join(f"{n[k]} {k}" for k in KINDS if n[k])


def _claim_section(index: int, label: str, doc: str | None, vs: Sequence[Verdict], ts: Sequence[Mapping[str, Any]],
                   grid: Mapping[str, Any]) -> str:
    families = _ordered((str(v["family"]) for v in vs), grid.get("families"))
    sizes = sorted({str(v["size"]) for v in vs}, key=lambda s: (size_value(s), s))
    optimizers = _ordered((str(v["optimizer"]) for v in vs), grid.get("optimizers"))
    tasks = ", ".join(sorted({str(v["task"]) for v in vs}))
    doc_html = f'<p class="doc">{esc(doc)}</p>' if doc else ""
    return (f'<section class="claim" data-claim="{index}"><h2 class="claim-name">{esc(label)}</h2>{doc_html}'
            f'<p class="meta">task {esc(tasks)} · {esc(_counts(vs))}</p>'
            f"{_heatmaps(vs, families, sizes, optimizers)}{_metric_table(vs)}{_trend_table(ts)}</section>")


def _legend() -> str:
    items = "".join(f'<li><span class="chip k-{esc(k.replace("/", ""))}">{esc(SYMBOL[k])}</span> '
                    f'<b>{esc(k)}</b> <span class="muted">{esc(MEANING[k])}</span></li>' for k in KINDS)
    return f'<ul class="legend">{items}</ul>'


def _docs(results: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in results:
        doc = r.get("doc")
        if isinstance(doc, str) and doc.strip():
            out.setdefault(claim_label(r), doc.strip())
    return out


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    return f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'"


def _run_info(doc: Mapping[str, Any], n_claims: int) -> str:
    grid = doc.get("grid") or {}
    rows = [("claims", str(n_claims))]
    for key, name in (("families", "families"), ("sizes", "sizes"), ("optimizers", "learning algorithms")):
        if grid.get(key):
            rows.append((name, ", ".join(str(x) for x in grid[key])))
    for key in ("seeds", "quorum", "device"):
        if grid.get(key) is not None:
            rows.append((key, str(grid[key])))
    stats = doc.get("stats") or {}
    if stats:
        rows.append(("stats", ", ".join(f"{k} {v}" for k, v in sorted(stats.items()))))
    if doc.get("merged_from"):
        rows.append(("merged from", ", ".join(str(x) for x in doc["merged_from"])))
    return '<dl class="run">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows) + "</dl>"


def _baseline_section(changes: Sequence[Mapping[str, Any]] | None) -> str:
    """Regressions and other changes against the baseline, worst first (the gate's reasons, on the page)."""
    if changes is None:
        return ""
    shown = [c for c in changes if c["kind"] != "unchanged"]
    if not shown:
        return '<section id="baseline"><h2>Against the baseline</h2><p class="muted">No changes.</p></section>'
    rows = "".join(
        f'<tr class="change-{esc(c["kind"])}"><td>{esc(c["kind"])}</td><td>{esc(c["claim"])}</td>'
        f'<td>{esc(c.get("variant") or "")}</td><td>{esc(c["cell"])}</td><td>{esc(c.get("before") or "–")}</td>'
        f'<td>{esc(c.get("now") or "–")}</td><td>{esc(c.get("detail") or "")}</td></tr>' for c in shown)
    return ('<section id="baseline"><h2>Against the baseline</h2><table><thead><tr><th>change</th><th>claim</th>'
            '<th>variant</th><th>cell</th><th>baseline</th><th>now</th><th>detail</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></section>")


def render(doc: Mapping[str, Any], title: str = "pytest-interp report",
           changes: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The page for a results document (with `verdicts`; trends are fitted when absent).

    `changes`, when the run compared with a baseline: one mapping per entry with `kind`,
    `claim`, `variant`, `cell`, `before`, `now`, `detail`, in the order to show.
    """
    verdicts = list(doc.get("verdicts") or [])
    trend_list = list(doc["trends"]) if "trends" in doc else fit_trends(verdicts)
    grid = doc.get("grid") or {}
    by_claim: dict[str, list[Verdict]] = defaultdict(list)
    for v in verdicts:
        by_claim[claim_label(v)].append(v)
    trends_of: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for t in trend_list:
        trends_of[claim_label(t)].append(t)
    docs = _docs(doc.get("results") or [])
    labels = sorted(by_claim)
    sections = [_claim_section(i, label, docs.get(label), by_claim[label], trends_of[label], grid)
                for i, label in enumerate(labels)]
    axes = [{"key": "family", "name": "family", "values": _ordered({str(v["family"]) for v in verdicts},
                                                                     grid.get("families"))},
            {"key": "size", "name": "size", "values": sorted({str(v["size"]) for v in verdicts},
                                                              key=lambda s: (size_value(s), s))},
            {"key": "optimizer", "name": "learning algorithm",
             "values": _ordered({str(v["optimizer"]) for v in verdicts}, grid.get("optimizers"))}]
    data = {"claims": labels, "axes": axes}
    body = "".join(sections) or '<p class="muted">No claim results in this file.</p>'
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_csp())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{esc(title)}</h1>{_run_info(doc, len(labels))}{_baseline_section(changes)}{_legend()}"
        '<p class="muted">Hover a cell for its metric and interval; each claim\'s metrics table lists them all.</p>'
        f'<div id="filters"></div><main>{body}</main>'
        f'<footer class="muted">pytest-interp {esc(__version__)}, results schema '
        f'{esc(doc.get("schema_version", "?"))}</footer>'
        f'<script type="application/json" id="interp-data">{json_for_script(data)}</script>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
