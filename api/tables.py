"""Screening results as files a caseworker opens in a spreadsheet (CSV with BOM, or XLSX).

List columns are joined with ``"; "``; a text cell a spreadsheet would read as a formula
(``=…``, ``+…``, ``-…``, ``@…``) is written with a leading apostrophe; rejected upload rows
follow the screened ones with verdict ``rejected`` and the reason, so every uploaded row
appears once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from recommender import neutralise

COLUMNS = ("firm_id", "policy_id", "verdict", "score", "estimated_benefit", "failed_criteria",
           "unknown_criteria", "missing_fields")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cells(row: dict[str, Any]) -> list[Any]:
    return ["; ".join(row[c]) if isinstance(row.get(c), list) else row.get(c) for c in COLUMNS]


def _reject_cells(rej: dict[str, Any], policy_id: str) -> list[Any]:
    reason = f"{rej['field']}: {rej['reason']} (row {rej['row']})"
    return [rej.get("firm_id"), policy_id, "rejected", None, None, reason, "", ""]


def table_rows(rows: Sequence[dict[str, Any]], rejects: Sequence[dict[str, Any]],
               policy_id: str) -> list[list[Any]]:
    """The spreadsheet's rows, formula-like text cells guarded (:mod:`recommender.safe_cells`)."""
    return [[neutralise(v) for v in cells]
            for cells in [*map(_cells, rows), *(_reject_cells(r, policy_id) for r in rejects)]]


def to_csv(rows: Sequence[dict[str, Any]], rejects: Sequence[dict[str, Any]], policy_id: str) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs show Chinese text correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(table_rows(rows, rejects, policy_id))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[dict[str, Any]], rejects: Sequence[dict[str, Any]], policy_id: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="screening")
    ws.append(list(COLUMNS))
    for cells in table_rows(rows, rejects, policy_id):
        ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
