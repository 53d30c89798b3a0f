"""Registries (CSV, Parquet, XLSX) read in bounded-memory chunks and validated
(:mod:`recommender.profile.validation`): the one registry reader of every entry point.

Every sheet of a workbook is read, as one registry: the sheets must share the first sheet's
header (a sheet with no cells at all is ignored). A header that names a column twice is
refused, naming it. A CSV row with more or fewer cells than the header is kept in place as a
:data:`~recommender.profile.validation.MALFORMED` row, so its number is right and it is rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl.utils.exceptions import InvalidFileException

from recommender.errors import InputFileError
from recommender.profile.reference import ReferenceTables

from recommender.profile.validation import MALFORMED, REJECT_COLUMNS, drop_duplicate_ids, validate_chunk

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq", ".xlsx")


def iter_raw_chunks(path: Path, chunk_rows: int = 100_000) -> Iterator[pd.DataFrame]:
    """Raw chunks of a registry file, in order; CSV/XLSX as text, Parquet as stored."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputFileError("file not found", path=str(path))
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputFileError(f"unsupported registry type {suffix!r} (use {', '.join(SUPPORTED_SUFFIXES)})", path=str(path))
    try:
        if suffix == ".csv":
            chunks = _csv_chunks(path, chunk_rows)
        elif suffix in (".parquet", ".pq"):
            chunks = _parquet_chunks(path, chunk_rows)
        else:
            chunks = _xlsx_chunks(path, chunk_rows)
        for raw in chunks:
            check_header(list(raw.columns), path)
            yield raw
    except (pa.ArrowInvalid, OSError, ValueError, zipfile.BadZipFile, KeyError, InvalidFileException) as err:
        raise InputFileError(f"cannot read: {err}".replace("\n", " "), path=str(path)) from None


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV registry's first line, stripped (as every reader uses them)."""
    with open(path, "rb") as fh:
        head = fh.readline().decode("utf-8-sig").strip()
    return [c.strip() for c in head.split(",")]


def check_header(names: list[Any], path: Path) -> None:
    """InputFileError naming the first column the header names twice (1-based positions)."""
    first: dict[Any, int] = {}
    for i, name in enumerate(names, start=1):
        if name in first:
            twice = f"names column {name!r} twice" if name != "" else "leaves two columns without a name"
            raise InputFileError(f"the header {twice} (columns {first[name]} and {i}); "
                                 "every column must have its own name", path=str(path))
        first[name] = i


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Chunks of exactly ``chunk_rows`` rows (the last one shorter), read one row group at a
    time: one reader over the whole file keeps decoded state for every row group it passed
    (measured: Arrow memory 70 MB after the first 50k firms, 288 MB after 3M), so a run's
    memory grew with the registry; a reader per row group holds one row group at most."""
    pf = pq.ParquetFile(path)
    pending: list[pa.RecordBatch] = []
    size = 0
    for group in range(pf.num_row_groups):
        for batch in pf.iter_batches(batch_size=chunk_rows, row_groups=[group]):
            pending.append(batch)
            size += batch.num_rows
            while size >= chunk_rows:
                table = pa.Table.from_batches(pending, schema=pf.schema_arrow)
                yield table.slice(0, chunk_rows).to_pandas()
                rest = table.slice(chunk_rows)
                pending, size = rest.to_batches(), rest.num_rows
    if size:
        yield pa.Table.from_batches(pending, schema=pf.schema_arrow).to_pandas()


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Chunks of exactly ``chunk_rows`` rows (the last one shorter). A row with more or fewer
    cells than the header is skipped by the parser and put back in its place as a
    :data:`MALFORMED` row (:class:`_MalformedRows`), so every row keeps its number."""
    names = csv_header(path)
    convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                   strings_can_be_null=True, null_values=[""])
    read = pacsv.ReadOptions(block_size=max(1 << 20, chunk_rows * 200), encoding="utf-8")
    skipped: list[int] = []                      # cells of each row the parser skipped

    def skip(row: Any) -> str:
        skipped.append(row.actual_columns)
        return "skip"

    reader = pacsv.open_csv(path, read_options=read, convert_options=convert,
                            parse_options=pacsv.ParseOptions(invalid_row_handler=skip))
    malformed: _MalformedRows | None = None
    pending: list[pd.DataFrame] = []
    size = 0
    next_row = 1
    for batch in reader:
        df = batch.to_pandas()
        df.columns = [str(c).lstrip("\ufeff").strip() for c in df.columns]
        if skipped:              # a skipped row is parsed before the batch it belongs to is returned
            malformed = malformed or _MalformedRows(path)
            df = malformed.interleave(df, next_row)
        next_row += len(df)
        pending.append(df)
        size += len(df)
        while size >= chunk_rows:
            merged = pd.concat(pending, ignore_index=True)
            yield merged.iloc[:chunk_rows].reset_index(drop=True)
            rest = merged.iloc[chunk_rows:].reset_index(drop=True)
            pending, size = ([rest] if len(rest) else []), len(rest)
    if skipped:
        malformed = malformed or _MalformedRows(path)
        columns = pending[-1].columns if pending else [str(c).lstrip("\ufeff").strip() for c in reader.schema.names]
        tail = malformed.interleave(pd.DataFrame({c: pd.Series(dtype=object) for c in columns}), next_row,
                                    until_end=True)
        if len(tail):
            pending.append(tail)
            size += len(tail)
        if malformed.count != len(skipped):
            raise InputFileError(f"{len(skipped)} rows do not have the header's {malformed.columns} cells, "
                                 "but they cannot be told apart from the others; fix the file", path=str(path))
    while size:
        merged = pd.concat(pending, ignore_index=True)
        yield merged.iloc[:chunk_rows].reset_index(drop=True)
        rest = merged.iloc[chunk_rows:].reset_index(drop=True)
        pending, size = ([rest] if len(rest) else []), len(rest)


class _MalformedRows:
    """The rows of a CSV file that do not have the header's number of cells, found by reading
    it once more with the ``csv`` module (only a file that has such rows pays for it), and put
    back among the rows the fast parser kept, as :data:`MALFORMED` rows."""

    def __init__(self, path: Path) -> None:
        rows: list[int] = []
        firm_ids: list[str | None] = []
        reasons: list[str] = []
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                reader = csv.reader(fh)
                header = [c.strip() for c in next(reader, [])]
                at = header.index("firm_id") if "firm_id" in header else None
                row = 0
                for cells in reader:
                    if not cells:                        # an empty line is no row (as for the parser)
                        continue
                    row += 1
                    if len(cells) != len(header):
                        rows.append(row)
                        firm_ids.append(cells[at] if at is not None and at < len(cells) else None)
                        word = "more" if len(cells) > len(header) else "fewer"
                        reasons.append(f"malformed row: {len(cells)} cells, {word} than the header's "
                                       f"{len(header)}")
        except (csv.Error, UnicodeDecodeError) as err:
            raise InputFileError(f"cannot read: {err}", path=str(path)) from None
        self.columns = len(header)
        self.count = len(rows)
        self._rows = np.array(rows, dtype=np.int64)
        self._firm_ids = np.array(firm_ids, dtype=object)
        self._reasons = np.array(reasons, dtype=object)
        self._next = 0                                   # the first row not yet put back

    def interleave(self, good: pd.DataFrame, first_row: int, *, until_end: bool = False) -> pd.DataFrame:
        """``good`` (the parser's rows from row ``first_row`` on) with the malformed rows that
        fall among them put back in place (all that are left, with ``until_end``)."""
        take = self._next
        while take < self.count and (until_end or self._rows[take] < first_row + len(good) + (take - self._next)):
            take += 1
        picked = slice(self._next, take)
        self._next = take
        if picked.start == picked.stop:
            return good
        n = len(good) + (picked.stop - picked.start)
        bad_at = self._rows[picked] - first_row
        is_bad = np.zeros(n, dtype=bool)
        is_bad[bad_at] = True
        bad = pd.DataFrame({c: pd.Series([None] * len(bad_at), dtype=object) for c in good.columns})
        if "firm_id" in bad.columns:
            bad["firm_id"] = self._firm_ids[picked]
        bad[MALFORMED] = self._reasons[picked]
        good = good.assign(**{MALFORMED: None})
        both = pd.concat([good.astype(object), bad], ignore_index=True)
        order = np.concatenate([np.flatnonzero(~is_bad), bad_at])
        return both.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


def _xlsx_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Rows of every sheet in order, as one registry: each sheet must have the first sheet's
    header (a sheet without any cell is skipped; trailing empty header cells do not count)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        header: list[str] | None = None           # the first sheet's, every cell named
        names0: list[str] = []                     # the first sheet's, as written
        first = ""
        buf: list[tuple[Any, ...]] = []
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            try:
                names = [str(h).strip() if h is not None else "" for h in next(rows, None) or []]
                if header is None:
                    header, names0, first = _named(names), names, ws.title
                elif not any(names) and all(r is None or all(v is None for v in r) for r in rows):
                    continue                                  # an empty sheet
                elif _trimmed(names) != _trimmed(names0):
                    shown = ", ".join(_trimmed(names)[:6]) + (", …" if len(_trimmed(names)) > 6 else "")
                    raise InputFileError(f"sheet {ws.title!r} does not have the header of sheet {first!r} "
                                         f"(its columns: {shown or 'none'}); every sheet of a registry workbook "
                                         "must hold the registry, under the same header", path=str(path))
                for r in rows:
                    if r is None or all(v is None for v in r):
                        continue
                    buf.append(_xlsx_row(r, len(header), ws.title, path))
                    if len(buf) >= chunk_rows:
                        yield pd.DataFrame(buf, columns=header, dtype=object)
                        buf = []
            finally:
                rows.close()                 # the sheet's file inside the workbook
        if buf:
            yield pd.DataFrame(buf, columns=header, dtype=object)
    finally:
        wb.close()


def _named(names: list[str]) -> list[str]:
    """A sheet's header with a name for each unnamed cell, ``(column F)``: a sheet often spans
    empty, formatted columns after its last name; a value under no name is then rejected as
    an unknown field that says where it is."""
    from openpyxl.utils import get_column_letter
    return [name or f"(column {get_column_letter(i)})" for i, name in enumerate(names, start=1)]


def _trimmed(names: list[str]) -> list[str]:
    """A header without its trailing empty cells."""
    end = len(names)
    while end and not names[end - 1]:
        end -= 1
    return names[:end]


def _xlsx_row(cells: tuple[Any, ...], width: int, sheet: str, path: Path) -> tuple[Any, ...]:
    """A data row's cells, as many as the header has (a sheet may be narrower or wider)."""
    if len(cells) > width and any(v is not None for v in cells[width:]):
        raise InputFileError(f"sheet {sheet!r} has a value beyond the first sheet's {width} columns",
                             path=str(path))
    return tuple(_xlsx_cell(v) for v in cells[:width]) + (None,) * (width - len(cells))


def _xlsx_cell(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def read_registry(path: Path, ref: ReferenceTables, *, allow_unknown_columns: bool = False,
                  chunk_rows: int = 100_000, strict: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole registry at once: (valid typed frame with ``_row``, rejects). Small files only.

    ``strict`` (training, evaluation) refuses the file on any bad row, by the same rules: an
    :class:`InputFileError` names the first bad row's number, field and reason, and how many
    rows are bad; the rejects returned are then always empty.
    """
    valid, rejects, offset = [], [], 1
    seen: set[str] = set()
    for raw in iter_raw_chunks(path, chunk_rows):
        chunk = validate_chunk(raw, offset, ref, allow_unknown_columns=allow_unknown_columns)
        chunk = drop_duplicate_ids(chunk, seen)
        offset += chunk.rows_read
        valid.append(chunk.valid)
        rejects.append(chunk.rejects)
    if not valid:
        raise InputFileError("the registry has no data rows", path=str(path))
    bad = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=REJECT_COLUMNS)
    if strict and len(bad):
        refuse(bad, offset - 1, path)
    return pd.concat(valid, ignore_index=True), bad


def refuse(rejects: pd.DataFrame, rows: int, path: Path) -> None:
    """InputFileError naming the first rejected row (number, field, reason) and how many of
    the ``rows`` rows are rejected."""
    first = rejects.sort_values("row", kind="stable").iloc[0]
    n_bad = rejects["row"].nunique()
    more = f"; {n_bad} of {rows} rows are bad" if n_bad > 1 else ""
    raise InputFileError(f"{first['field']}: {first['reason']}{more} (match-registry lists them all as rejects)",
                         path=str(path), location=f"row {first['row']}")
