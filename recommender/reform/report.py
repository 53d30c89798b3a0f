"""``report.html`` of a reform: one self-contained page (no external URL; charts are inline
SVG drawn here, their text set in the reader's fonts, so Chinese shows wherever the page does;
matplotlib took 10 s for five charts, most of it loading a CJK font).

What it shows, every figure labelled as firms or as 万元 (yuan ÷ 10,000): per touched policy
the verdict counts and the transition matrix (firms), the cost before and after (万元, with
the yuan beside), and the firms gained and lost and the cost change by district, size class,
industry section and ownership, each group named in words beside its code (the names the
SME page uses).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from recommender.engine import VERDICTS
from recommender.profile import CHOICE_LABELS, ReferenceTables
from recommender.reform.changes import Reform

SIZE_NAMES = {"large": "大型 large", "medium": "中型 medium", "small": "小型 small", "micro": "微型 micro"}
VERDICT_NAMES = {"eligible": "符合 eligible", "undetermined": "待定 undetermined", "ineligible": "不符合 ineligible"}
GROUP_TITLES = {"region_code": "区县 District", "size_class": "企业规模 Size class",
                "ownership": "企业性质 Ownership", "industry_section": "行业门类 Industry section"}
TOP_GROUPS = 15
"""Groups drawn per chart (the most gained + lost); every group is in the table below it."""


def group_label(kind: str, key: str, ref: ReferenceTables) -> str:
    """A group's name for people beside its code: ``500112 渝北区``, ``C 制造业``, ``small 小型``."""
    if key == "unknown":
        return "unknown 未知"
    name = {"region_code": lambda: ref.region_names.get(key),
            "industry_section": lambda: ref.industry_names.get(key),
            "ownership": lambda: CHOICE_LABELS["ownership"].get(key),
            "size_class": lambda: SIZE_NAMES.get(key)}[kind]()
    return f"{key} {name}" if name else key


def wan(yuan: float) -> str:
    """Yuan as 万元 with two decimals and thousands separators."""
    return f"{yuan / 10_000:,.2f}"


def _bars(rows: list[tuple[str, list[float]]], series: list[tuple[str, str]], unit: str) -> str:
    """A horizontal bar chart as inline SVG: one band per row, one bar per series (``(name,
    colour)``), negative values to the left of the axis; ``unit`` labels the axis and each value."""
    label_w, plot_w, band, top = 230, 470, 14 * max(2, len(series)) + 8, 30
    values = [v for _, vs in rows for v in vs]
    low, high = min(0.0, *values) if values else 0.0, max(0.0, *values) if values else 0.0
    span = (high - low) or 1.0
    x0 = label_w + plot_w * (-low / span)
    height = top + band * len(rows) + 34
    out = [f'<svg class="chart" role="img" width="{label_w + plot_w + 90}" height="{height}" '
           f'viewBox="0 0 {label_w + plot_w + 90} {height}" font-size="12">']
    for i, (name, colour) in enumerate(series):
        out.append(f'<rect x="{label_w + 160 * i}" y="6" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{label_w + 160 * i + 16}" y="16">{html.escape(name)}</text>')
    for r, (label, vs) in enumerate(rows):
        y = top + band * r
        out.append(f'<text x="{label_w - 6}" y="{y + band / 2 + 4:.1f}" text-anchor="end">{html.escape(label)}</text>')
        for i, v in enumerate(vs):
            x, w = (x0, plot_w * v / span) if v >= 0 else (x0 + plot_w * v / span, -plot_w * v / span)
            by = y + 4 + 14 * i
            shown = f"{v:,.2f}" if unit == "万元" else f"{abs(v):,.0f}"
            out.append(f'<rect x="{x:.1f}" y="{by}" width="{max(w, 0.5):.1f}" height="12" fill="{series[i][1]}"/>'
                       f'<text x="{max(x + w, x0) + 4:.1f}" y="{by + 10}" font-size="10">{shown}</text>')
    bottom = top + band * len(rows)
    out.append(f'<line x1="{x0:.1f}" y1="{top - 4}" x2="{x0:.1f}" y2="{bottom}" stroke="black"/>'
               f'<text x="{label_w + plot_w / 2}" y="{bottom + 22}" text-anchor="middle">{html.escape(unit)}</text></svg>')
    return "".join(out)


def _cost_chart(summary: dict[str, Any], titles: dict[str, str]) -> str:
    rows = [(f"{titles.get(pid, pid)[:18]}", [p["cost_before"] / 10_000, p["cost_after"] / 10_000])
            for pid, p in summary["policies"].items()]
    return _bars(rows, [("改革前 before", "#8c8c8c"), ("改革后 after", "#1f6fb2")], "万元")


def _group_chart(rows: list[tuple[str, dict[str, Any]]]) -> str:
    return _bars([(label[:20], [float(r["gained"]), -float(r["lost"])]) for label, r in rows],
                 [("新增符合 gained", "#2a9d4b"), ("失去 lost", "#c0392b")],
                 "企业数 firms (gained to the right, lost to the left)")


def _matrix(policy: dict[str, Any]) -> str:
    """The 3 × 3 transition matrix (firms), shaded by count."""
    top = max(policy["transitions"].values()) or 1
    head = "".join(f"<th>{VERDICT_NAMES[v]}</th>" for v in VERDICTS)
    body = []
    for a in VERDICTS:
        cells = []
        for b in VERDICTS:
            n = policy["transitions"][f"{a}->{b}"]
            shade = 255 - int(120 * n / top)
            style = f"background:rgb({shade},{shade},255)" + (";font-weight:bold" if a != b and n else "")
            cells.append(f'<td style="{style}">{n:,}</td>')
        body.append(f"<tr><th>{VERDICT_NAMES[a]}</th>{''.join(cells)}</tr>")
    return (f'<table class="matrix"><caption>改革前 before (rows) → 改革后 after (columns), 企业数 firms</caption>'
            f"<tr><th></th>{head}</tr>{''.join(body)}</table>")


CSS = """body{font-family:"Noto Sans CJK SC","Noto Serif CJK SC",sans-serif;margin:2em;max-width:60em}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}
th{background:#f2f2f2}caption{text-align:left;font-size:.9em;color:#444}img{max-width:100%}
.note{color:#555;font-size:.9em}svg.chart{max-width:100%;height:auto}
@media (max-width:40em){body{margin:.8em}table{display:block;overflow-x:auto}}"""


def render_report(summary: dict[str, Any], reform: Reform, ref: ReferenceTables) -> str:
    """The report page for ``summary`` (the SPEC §9 shape) of ``reform``."""
    e = html.escape
    titles = {p.id: p.header.title_zh for p in reform.base}
    titles.update({p.id: p.header.title_zh for p in reform.reformed})
    out = [f"<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'><title>政策沙盘 Reform report</title>"
           f"<style>{CSS}</style></head><body><h1>政策沙盘 Reform report</h1>",
           "<table><tr><th>改革 reform hash</th><td>" + e(summary["reform_hash"][:16]) + "…</td></tr>"
           f"<tr><th>目录版本 catalog</th><td>{e(summary['catalog_version'])} → {e(summary['reform_catalog_version'])}</td></tr>"
           f"<tr><th>评估日期 as of</th><td>{e(summary['as_of'])}</td></tr>"
           f"<tr><th>读入行 rows read</th><td>{summary['rows_read']:,}</td></tr>"
           f"<tr><th>企业 firms evaluated</th><td>{summary['firms']:,}</td></tr>"
           f"<tr><th>未受理行 rows rejected</th><td>{summary['rows_rejected']:,}</td></tr></table>",
           "<p class='note'>Only the policies the reform changes, adds or removes are evaluated. 成本 cost = the sum "
           "of the estimated benefit of the firms eligible for a policy, in 万元 (10,000 yuan). A policy a catalog "
           "does not have counts as 不符合 ineligible there.</p>",
           "<h2>政策 Policies</h2><table><tr><th>policy</th><th>符合 eligible (firms) before → after</th>"
           "<th>待定 undetermined (firms) before → after</th><th>成本 cost before (万元)</th>"
           "<th>成本 cost after (万元)</th><th>变化 change (万元)</th><th>变化 change (yuan)</th></tr>"]
    for pid, p in summary["policies"].items():
        delta = p["cost_after"] - p["cost_before"]
        out.append(f"<tr><td style='text-align:left'>{e(pid)}<br>{e(titles.get(pid, ''))}</td>"
                   f"<td>{p['before']['eligible']:,} → {p['after']['eligible']:,}</td>"
                   f"<td>{p['before']['undetermined']:,} → {p['after']['undetermined']:,}</td>"
                   f"<td>{wan(p['cost_before'])}</td><td>{wan(p['cost_after'])}</td><td>{wan(delta)}</td>"
                   f"<td>{delta:,.0f}</td></tr>")
    out.append("</table>")
    if summary["policies"]:
        out.append("<h2>成本 Cost before and after (万元)</h2>" + _cost_chart(summary, titles))
    out.append("<h2>转移矩阵 Transition matrix (firms)</h2>")
    for pid, p in summary["policies"].items():
        out.append(f"<h3>{e(pid)} {e(titles.get(pid, ''))}</h3>{_matrix(p)}")
    for kind, title in GROUP_TITLES.items():
        groups = summary["by_group"][kind]
        labelled = [(group_label(kind, key, ref), row) for key, row in groups.items()]
        out.append(f"<h2>{e(title)}: 新增与失去 gained and lost (firms), 成本变化 cost change (万元)</h2>")
        moved = sorted((r for r in labelled if r[1]["gained"] or r[1]["lost"]),
                       key=lambda r: -(r[1]["gained"] + r[1]["lost"]))[:TOP_GROUPS]
        if moved:
            out.append(_group_chart(moved))
        out.append("<table><tr><th>group</th><th>企业 firms</th><th>新增 gained (firms)</th><th>失去 lost (firms)</th>"
                   "<th>成本变化 cost change (万元)</th></tr>")
        for label, row in labelled:
            out.append(f"<tr><td style='text-align:left'>{e(label)}</td><td>{row['firms']:,}</td>"
                       f"<td>{row['gained']:,}</td><td>{row['lost']:,}</td><td>{wan(row['cost_delta'])}</td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(path: Path, summary: dict[str, Any], reform: Reform, ref: ReferenceTables) -> None:
    path.write_text(render_report(summary, reform, ref), encoding="utf-8")
