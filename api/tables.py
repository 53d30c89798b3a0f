"""Screening and outreach lists as downloads: the domain's hand-on files
(:func:`recommender.handoff_csv`, :func:`recommender.handoff_xlsx`: Chinese and English header
rows, a cover sheet, rejected rows on their own sheet, every cell guarded against formula
injection) wrapped in an HTTP response with a file name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from fastapi.responses import Response

from recommender import Cover, handoff_csv, handoff_xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def handoff_response(fmt: Literal["csv", "xlsx"], rows: Sequence[dict[str, Any]],
                     rejects: Sequence[dict[str, Any]], cover: Cover) -> Response:
    """The list as a CSV or XLSX attachment named after its kind, policy and evaluation date."""
    stem = "screening" if cover.kind == "screen" else "outreach"
    name = f"{stem}-{cover.policy.id}-{cover.as_of.isoformat()}.{fmt}"
    if fmt == "csv":
        return Response(handoff_csv(rows, rejects, cover), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(handoff_xlsx(rows, rejects, cover), media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
