"""The fairness report as one self-contained HTML page: tables of every figure by group and,
per group column, a chart of the rules part (share with an eligible policy) beside the ranking
part (share recommended among the eligible), as PNG images inlined in base64 (no file, no URL
beside the page). Groups are named in Chinese with their code; every figure says whether it
is firms, % or yuan."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from recommender.fairness.inputs import DIMENSIONS
from recommender.fairness.metrics import METRICS, PARTS

_PART_TITLES = {
    "rules": ("规则决定的差异", "what the rules decide: eligibility"),
    "ranking": ("排序带来的差异", "what the ranking adds: the eligible recommended first"),
    "result": ("企业看到的结果", "what firms see"),
    "outcomes": ("申请结果", "what happened to applications"),
}
_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222;max-width:75em}
table{border-collapse:collapse;margin:1em 0;font-size:90%}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:bold;margin:.5em 0}
.muted{color:#777}.note{background:#f6f6f6;padding:.6em 1em;border-left:3px solid #999}img{max-width:100%}"""


def render_html(report: dict[str, Any]) -> str:
    """The report of :func:`recommender.fairness.run.fairness_report` as an HTML page."""
    k = report["method"]["rank_k"]
    parts = [p for p in PARTS if any(m.part == p and m.name in report["metrics"] for m in METRICS)]
    body = [f"<h1>政策推荐公平性报告 <span class=muted>Fairness of the recommendations</span></h1>",
            _inputs(report), _how_to_read(report), "<h2>总体 <span class=muted>overall</span></h2>",
            _overall_table(report, parts)]
    for column, rows in report["by_group"].items():
        en, zh = DIMENSIONS[column]
        body.append(f"<h2>按{_e(zh)} <span class=muted>by {_e(en)} ({_e(column)})</span></h2>")
        chart = _chart(report, rows)
        if chart:
            body.append(f'<img alt="{_e(zh)}: eligible share and recommended share" src="data:image/png;base64,{chart}">')
        for part in parts:
            body.append(_group_table(report, rows, part))
    text = "\n".join(body)
    return ("<!DOCTYPE html>\n<html lang=zh-CN><head><meta charset=utf-8><title>公平性报告 fairness report</title>"
            f"<style>{_CSS}</style></head><body>\n{text}\n</body></html>\n")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _k(label: str, k: int) -> str:
    """A metric label with its ``k`` (the ranks the ranking part looks at) filled in."""
    return label.replace("前k项", f"前{k}项").replace("first k", f"first {k}")


def _inputs(report: dict[str, Any]) -> str:
    i, m = report["inputs"], report["method"]
    lines = [f"匹配结果 matches: {_e(i['matches'])} — {i['match_rows']:,} 行 rows, {i['firms']:,} 户企业 firms",
             f"企业名录 registry: {_e(i['registry'])} — 另有 {i['registry_firms_not_matched']:,} 户不在匹配结果中 "
             "firms of the registry not in the matches (rejected by the run)"]
    if i["applications"] is not None:
        a = i["applications"]
        lines.append(f"申请结果 outcomes: {_e(i['outcomes'])} — {a['decided']:,} 件已决定的申请 decided applications "
                     f"({a['with_prediction']:,} 件有预测获批概率 with a predicted probability), "
                     f"{a['undecided']:,} 件未决定 undecided, {a['other_firms']:,} 件属于不在结果中的企业 of other firms")
    lines.append(f"每户最多显示 {i['shown_per_firm']} 项政策 at most {i['shown_per_firm']} policies shown per firm; "
                 f"{i['firms_with_full_lists']:,} 户的列表已满 firms have a full list (their eligible count may be higher)")
    lines.append(f"置信区间 intervals: {m['confidence']:.0%} 百分位自助法 percentile bootstrap, {m['bootstrap_reps']:,} 次 "
                 f"replicates, seed {m['seed']}; 少于 {m['min_group_size']} 户的组已隐去 groups under "
                 f"{m['min_group_size']} firms suppressed")
    return "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


def _how_to_read(report: dict[str, Any]) -> str:
    k = report["method"]["rank_k"]
    return ("<p class=note>规则部分（可享政策占比）来自政策条件本身；排序部分只看有可享政策的企业，"
            f"看它们的前 {k} 项推荐中是否有可享政策。"
            f" The rules part comes from the policies' criteria; the ranking part looks only at firms with an "
            f"eligible policy and asks whether one is among their first {k} recommendations. The gap in "
            f"“an eligible policy among the first {k}” (eligible share × recommended share) is split into the part "
            "from the rules and the part from the ranking. 差值 difference = 组 − 总体 group − overall; "
            "比值 ratio = 组 ÷ 总体 group ÷ overall.</p>")


def _figure(unit: str, value: float | None) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return f"{value * 100:.1f} %"
    if unit == "difference":
        return f"{value * 100:+.1f} pp"
    if unit == "yuan":
        return f"{value:,.0f} 元"
    return f"{value:.2f}"


def _cell(unit: str, figure: dict[str, Any] | None) -> str:
    if figure is None:
        return "<td>—</td>"
    if figure["value"] is None:
        return f'<td class=muted title="{_e(figure.get("withheld", ""))}">不公布 withheld</td>'
    ci = figure["ci"]
    return f"<td>{_figure(unit, figure['value'])}<br><span class=muted>{_figure(unit, ci[0])} – {_figure(unit, ci[1])}</span></td>"


def _difference(unit: str, figure: dict[str, Any] | None) -> str:
    if figure is None or figure.get("difference") is None:
        return "<td>—</td>"
    diff = figure["difference"]
    text = f"{diff * 100:+.1f} pp" if unit in ("share", "difference") else (
        f"{diff:+,.0f} 元" if unit == "yuan" else f"{diff:+.2f}")
    ratio = figure.get("ratio")
    return f"<td>{text}<br><span class=muted>{'—' if ratio is None else f'× {ratio:.2f}'}</span></td>"


def _overall_table(report: dict[str, Any], parts: list[str]) -> str:
    o = report["overall"]
    if o.get("suppressed"):
        return f"<p>少于 {report['method']['min_group_size']} 户，不公布 fewer firms than the minimum: nothing shown.</p>"
    rows = [f"<tr><td>企业数 firms</td><td>{o['firms']:,} 户</td></tr>"]
    for metric in METRICS:
        if metric.part in parts and metric.name in o.get(metric.part, {}):
            k = report["method"]["rank_k"]
            rows.append(f"<tr><td>{_e(_k(metric.label_zh, k))}<br><span class=muted>{_e(_k(metric.label_en, k))}</span></td>"
                        f"{_cell(metric.unit, o[metric.part][metric.name])}</tr>")
    return "<table><tr><th>指标 metric</th><th>数值 value (95 % CI)</th></tr>" + "".join(rows) + "</table>"


def _group_table(report: dict[str, Any], rows: list[dict[str, Any]], part: str) -> str:
    metrics = [m for m in METRICS if m.part == part and m.name in report["metrics"]]
    zh, en = _PART_TITLES[part]
    head = "<tr><th>组 group</th><th>企业数 firms</th>" + "".join(
        f"<th>{_e(_k(m.label_zh, report['method']['rank_k']))}<br><span class=muted>{_e(m.unit)}</span></th>"
        "<th>与总体之差 vs overall</th>"
        for m in metrics)
    if part == "ranking":
        head += "<th>缺口：规则 / 排序<br><span class=muted>gap: rules / ranking</span></th>"
    body = []
    minimum = report["method"]["min_group_size"]
    for row in rows:
        if row["suppressed"]:
            body.append(f"<tr><td>{_e(row['label'])}</td><td class=muted colspan={1 + 2 * len(metrics) + (part == 'ranking')}>"
                        f"已隐去（组太小或为防推算） suppressed (under {minimum} firms, or to protect one that is)</td></tr>")
            continue
        cells = "".join(_cell(m.unit, row.get(part, {}).get(m.name)) + _difference(m.unit, row.get(part, {}).get(m.name))
                        for m in metrics)
        if part == "ranking":
            split = row.get("ranking", {}).get("gap_split")
            cells += ("<td>—</td>" if split is None else
                      f"<td>{split['from_rules'] * 100:+.1f} pp / {split['from_ranking'] * 100:+.1f} pp</td>")
        body.append(f"<tr><td>{_e(row['label'])}</td><td>{row['firms']:,} 户</td>{cells}</tr>")
    return (f"<table><caption>{_e(zh)} <span class=muted>{_e(en)}</span></caption>{head}</tr>"
            + "".join(body) + "</table>")


def _font() -> str | None:
    """A CJK font matplotlib knows (Noto Sans CJK first), or None: labels then fall back to codes."""
    from matplotlib import font_manager
    names = sorted({f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name},
                   key=lambda n: (not n.startswith("Noto Sans CJK SC"), not n.startswith("Noto Sans"), n))
    return names[0] if names else None


def _chart(report: dict[str, Any], rows: list[dict[str, Any]]) -> str | None:
    """Base64 PNG: per shown group, eligible share (rules) and recommended share (ranking)
    with their intervals, the overall figure as a dashed line; None when no group is shown."""
    shown = [r for r in rows if not r["suppressed"]]
    if not shown:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    font = _font()
    labels = [r["label"] if font else r["group"] for r in shown]
    height = max(2.5, 0.28 * len(shown) + 1.2)
    with plt.rc_context({"font.family": [font] if font else ["DejaVu Sans"], "axes.unicode_minus": False}):
        fig, axes = plt.subplots(1, 2, figsize=(11, height), sharey=True)
        for ax, (part, name, title) in zip(axes, (("rules", "eligible_share", "有可享政策的企业占比 (%)" if font else
                                                   "firms with an eligible policy (%)"),
                                                  ("ranking", "recommended_share", "有可享政策的企业中前k项推荐含可享政策 (%)" if font else
                                                   "eligible among the first k, of firms with one (%)"))):
            ys = range(len(shown))
            values, lows, highs = [], [], []
            for r in shown:
                f = r.get(part, {}).get(name) or {}
                v = f.get("value")
                values.append(float("nan") if v is None else v * 100)
                lows.append(0.0 if v is None else (v - f["ci"][0]) * 100)
                highs.append(0.0 if v is None else (f["ci"][1] - v) * 100)
            ax.barh(list(ys), values, xerr=[lows, highs], color="#5b8db8", ecolor="#333", capsize=2)
            base = report["overall"].get(part, {}).get(name, {}).get("value")
            if base is not None:
                ax.axvline(base * 100, color="#c0392b", linestyle="--", linewidth=1)
            ax.set_title(_k(title, report["method"]["rank_k"]), fontsize=10)
            ax.set_xlim(0, 100)
            ax.set_yticks(list(ys), labels, fontsize=8)
        axes[0].invert_yaxis()            # the axes share y: inverted once, groups top to bottom
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
