"""Screening and outreach lists as files a caseworker can hand on (``screen``, ``find-firms``,
``/v1/screen`` and the caseworker pages all write through here).

Both files name each firm as people know it (name, credit code, district) and carry two
header rows: Chinese first, the English column name under it (a program reading the file
skips the first row). Verdicts read ``符合 eligible``, fields to supply ``研发费用 rd_expense``;
list cells are joined with ``"; "``.

* **XLSX**: a cover sheet ``说明 Cover`` (list kind, policy title and id, issuer, the
  references with their clauses, evaluation date, catalog and model versions, the counts),
  the rows on ``名单 List`` (frozen header rows and first column, an auto-filter, set column
  widths), and rejected upload rows on ``未受理 Rejected`` with row number, firm id, field
  and reason.
* **CSV** (UTF-8 with a byte-order mark, so spreadsheet programs show Chinese): the same
  columns; rejected rows follow the listed ones with verdict ``未受理 rejected`` and the
  reason under ``failed_criteria``, so every uploaded row appears once.

Every cell goes through the formula-injection guard (:func:`recommender.safe_cells.neutralise`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from recommender.advice import field_words
from recommender.rules import Policy
from recommender.safe_cells import neutralise

ListKind = Literal["screen", "find-firms"]
KIND_WORDS: dict[str, str] = {"screen": "申报筛查结果 Screening of applicants",
                              "find-firms": "免申即享 主动服务名单 Outreach list (firms that qualify)"}
VERDICT_WORDS: dict[str, str] = {"eligible": "符合", "undetermined": "待补充", "ineligible": "不符合",
                                 "rejected": "未受理"}


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    width: float


COLUMNS: tuple[Column, ...] = (
    Column("name", "企业名称", 34), Column("credit_code", "统一社会信用代码", 22),
    Column("district", "所在区县", 10), Column("firm_id", "企业编号", 14), Column("verdict", "结论", 16),
    Column("score", "得分", 9), Column("estimated_benefit", "预计金额（元）", 15),
    Column("failed_criteria", "未满足的条件", 44), Column("unknown_criteria", "无法判定的条件", 44),
    Column("missing_fields", "需补充的信息", 30), Column("verify_yourself", "需自行核实的条件", 50),
    Column("policy_id", "政策编号", 26),
)
REJECT_COLUMNS: tuple[Column, ...] = (Column("row", "行号", 8), Column("firm_id", "企业编号", 16),
                                      Column("field", "字段", 22), Column("reason", "原因", 60))
XLSX_MAX_ROWS = 1_048_576
"""A worksheet's row limit (Excel, LibreOffice)."""


@dataclass(frozen=True)
class Cover:
    """What the list is and how it was made: the cover sheet of the workbook."""

    kind: ListKind
    policy: Policy
    as_of: dt.date
    catalog_version: str
    model_version: str | None = None          # None: no model took part (the CLI's screening)
    made_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))

    def lines(self, rows: Sequence[dict[str, Any]], rejects: Sequence[dict[str, Any]]) -> list[tuple[str, Any]]:
        """``(label, value)`` pairs, one per cover-sheet line (a reference per line)."""
        h = self.policy.header
        counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("eligible", "undetermined", "ineligible")}
        counted = "；".join(f"{VERDICT_WORDS[v]} {v}: {n}" for v, n in counts.items())
        refs = self.policy.references_text() or ["—"]
        return [
            ("名单 List", KIND_WORDS[self.kind]),
            ("政策 Policy", h.title_zh),
            ("Policy (English)", h.title_en),
            ("政策编号 Policy id", h.id),
            ("发布机关 Issuer", f"{h.issuer.name_zh} {h.issuer.name_en}"),
            *((("依据与条款 References" if i == 0 else ""), ref) for i, ref in enumerate(refs)),
            ("评估日期 Evaluation date", self.as_of.isoformat()),
            ("政策目录版本 Catalog version", self.catalog_version),
            ("模型版本 Model version", self.model_version or "未使用 none (verdicts come from the rules)"),
            ("生成时间 Made at", self.made_at.isoformat(sep=" ")),
            ("结果 Results", f"{counted}；{VERDICT_WORDS['rejected']} rejected rows: "
                             f"{len({r['row'] for r in rejects})}"),
            ("说明 Notes", "结论由政策条件逐条判定；“需自行核实的条件”无法由企业数据判断，须窗口人员核实。"
                          " Verdicts follow the policy's conditions one by one; the conditions under "
                          "verify_yourself cannot be judged from the data and must be checked by a caseworker."),
        ]


def _cell(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    if key == "verdict" and isinstance(value, str):
        return f"{VERDICT_WORDS.get(value, '')} {value}".strip()
    if key == "missing_fields" and isinstance(value, list):
        return "; ".join(field_words(f) for f in value)
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return value


def list_cells(rows: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """The listed rows as guarded cells, in :data:`COLUMNS` order."""
    return [[neutralise(_cell(r, c.key)) for c in COLUMNS] for r in rows]


def reject_cells(rejects: Iterable[dict[str, Any]]) -> list[list[Any]]:
    return [[neutralise(r.get(c.key)) for c in REJECT_COLUMNS] for r in rejects]


def _rejected_as_row(rej: dict[str, Any], policy_id: str) -> dict[str, Any]:
    return {"firm_id": rej.get("firm_id"), "policy_id": policy_id, "verdict": "rejected",
            "failed_criteria": [f"{rej['field']}: {rej['reason']} (row {rej['row']})"]}


def handoff_csv(rows: Sequence[dict[str, Any]], rejects: Sequence[dict[str, Any]], cover: Cover) -> bytes:
    """The list as CSV (see the module docstring)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.zh for c in COLUMNS])
    writer.writerow([c.key for c in COLUMNS])
    writer.writerows(list_cells([*rows, *(_rejected_as_row(r, cover.policy.id) for r in rejects)]))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter
    return str(get_column_letter(index))


def _sheet(wb: Any, title: str, columns: Sequence[Column], cells: list[list[Any]]) -> None:
    """A write-only sheet: two styled header rows, frozen, filtered, columns sized."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.create_sheet(title=title)
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[_letter(i)].width = col.width
    ws.freeze_panes = "B3"
    last = _letter(len(columns))
    ws.auto_filter.ref = f"A2:{last}{max(len(cells) + 2, 3)}"
    fill = PatternFill("solid", fgColor="DDE7F3")
    for texts, font in (([c.zh for c in columns], Font(bold=True)), ([c.key for c in columns], Font(italic=True, color="555555"))):
        header = []
        for text in texts:
            cell = WriteOnlyCell(ws, value=text)
            cell.font, cell.fill, cell.alignment = font, fill, Alignment(vertical="top")
            header.append(cell)
        ws.append(header)
    for row in cells:
        ws.append(row)


def handoff_xlsx(rows: Sequence[dict[str, Any]], rejects: Sequence[dict[str, Any]], cover: Cover) -> bytes:
    """The list as an XLSX workbook: cover, list and rejected rows (see the module docstring).

    Raises
    ------
    ValueError
        More rows than a worksheet holds (:data:`XLSX_MAX_ROWS`): write CSV instead.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    if max(len(rows), len(rejects)) + 2 > XLSX_MAX_ROWS:
        raise ValueError(f"{max(len(rows), len(rejects))} rows do not fit in one XLSX sheet "
                         f"({XLSX_MAX_ROWS - 2} at most); write CSV instead")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="说明 Cover")
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100
    for label, value in cover.lines(rows, rejects):
        key = WriteOnlyCell(ws, value=neutralise(label))
        key.font = Font(bold=True)
        text = WriteOnlyCell(ws, value=neutralise(value))
        text.alignment = Alignment(wrap_text=True, vertical="top")
        ws.append([key, text])
    _sheet(wb, "名单 List", COLUMNS, list_cells(rows))
    _sheet(wb, "未受理 Rejected", REJECT_COLUMNS, reject_cells(rejects))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
