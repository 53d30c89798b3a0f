"""A registry of the sample firms with one planted bad row per kind of bad input, written as
CSV, Parquet or XLSX: shared by the bulk-run tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]

AS_OF = dt.date(2022, 6, 30)

# (column, bad value, expected reason) — one planted row per kind of bad input
PLANTED = [
    ("credit_code", "91500112MA5U7A2B10", "check character is '0', expected 'N' (GB 32100-2015)"),
    ("industry_code", "C99", "'C99': division 99 does not exist in GB/T 4754-2017"),
    ("region_code", "509999", "'509999' is not in the administrative division table (GB/T 2260)"),
    ("revenue", "-1", "must be >= 0"),
    ("export_share", "1.5", "must be <= 1"),
    ("established_on", "2999-01-01", "is in the future"),
    ("established_on", "01/02/2020", "not a date (YYYY-MM-DD or YYYY/M/D)"),
    ("established_on", "1899-12-31", "is before 1900-01-01"),
    ("employees", "12.5", "must be a whole number"),
    ("total_assets", "lots", "not a number"),
    ("listed", "maybe", "must be true or false"),
    ("ownership", "public", "must be one of ['collective', 'foreign', 'other', 'private', 'state']"),
    ("certifications", "hnte;iso9001", "unknown certification(s) ['iso9001']"),
    ("region_code", "", "required field is missing"),
]


def planted_registry() -> tuple[pd.DataFrame, int]:
    firms = [json.loads(x) for x in (ROOT / "data/samples/firms.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = []
    for f in firms:
        row = {k: (";".join(v) if isinstance(v, list) else v) for k, v in f.items()}
        rows.append(row)
    good = len(rows)
    base = dict(rows[0])
    for i, (col, value, _) in enumerate(PLANTED):
        rows.append({**base, "firm_id": f"BAD-{i}", col: value})
    rows.append({**base})                                   # duplicate firm_id of row 1
    df = pd.DataFrame(rows).astype(object)
    df = df.where(df.notna(), None)
    return df.map(lambda v: v if v is None or isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)), good


def write_registry(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_excel(path, index=False)
    return path
