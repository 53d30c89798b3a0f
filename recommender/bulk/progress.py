"""Progress of a bulk run: a bar with rows/s and ETA on a terminal, log lines elsewhere.

``match-registry`` calls the reporter after every finished chunk with the rows done so far.
On an interactive terminal it draws a rich progress bar (rows, rows/s, time left); when
standard error is not a terminal (a cron job, CI, a pipe) it writes one log line per chunk
instead, with the same figures; ``--quiet`` silences both. The total comes from the file
(:func:`registry_rows`): exact for Parquet, an estimate for CSV and XLSX, enough for an ETA.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("recommender.match_registry")


def registry_rows(path: Path) -> int | None:
    """Data rows of a registry file: Parquet's metadata; CSV's line count less the header
    (quoted line breaks make it an estimate); XLSX's sheet dimensions, every sheet less its
    header row. None when unknown."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq
            return int(pq.ParquetFile(path).metadata.num_rows)
        if suffix == ".csv":
            lines, last = 0, b"\n"
            with open(path, "rb") as fh:
                while block := fh.read(1 << 22):
                    lines += block.count(b"\n")
                    last = block[-1:]
            lines += last != b"\n"              # a last line without its line break
            return max(lines - 1, 0)
        if suffix == ".xlsx":
            from openpyxl import load_workbook
            wb = load_workbook(path, read_only=True)
            try:                               # every sheet is read, each under its header row
                rows = [ws.max_row for ws in wb.worksheets]
            finally:
                wb.close()
            return None if None in rows else sum(max(int(r) - 1, 0) for r in rows)
    except Exception:                          # the run itself reports an unreadable file
        return None
    return None


def eta_seconds(done: int, total: int | None, elapsed: float) -> float | None:
    """Seconds left at the rate so far; None before any row or without a total.

    >>> eta_seconds(250, 1000, 10.0)
    30.0
    >>> eta_seconds(0, 1000, 1.0) is None, eta_seconds(10, None, 1.0) is None
    (True, True)
    """
    if total is None or done <= 0 or elapsed <= 0:
        return None
    return max(total - done, 0) * elapsed / done


class RunProgress:
    """Callable ``(rows done, chunks done)``; use as a context manager (the bar is closed on exit).

    Parameters
    ----------
    total : int, optional
        Rows expected (None: no bar length, no ETA).
    quiet : bool
        Report nothing.
    stream : file, default ``sys.stderr``
        Where the bar goes; whether it is a terminal decides bar or log lines.
    """

    def __init__(self, total: int | None, *, quiet: bool = False, stream: IO[str] | None = None) -> None:
        self.total = total
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = not quiet and bool(getattr(self.stream, "isatty", lambda: False)())
        if not quiet and not self.interactive and not log.handlers and not logging.getLogger().handlers:
            handler = logging.StreamHandler(self.stream)       # a run without logging set up still logs
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
        self._started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> RunProgress:
        self._started = time.perf_counter()
        if self.interactive:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)
            self._bar = Progress(TextColumn("matching"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]} rows/s"), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task("rows", total=self.total, rate="-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, rows: int, chunks: int) -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self._started
        rate = rows / elapsed if elapsed > 0 else 0.0
        if self._bar is not None:
            total = max(self.total, rows) if self.total is not None else None   # an estimate may fall short
            self._bar.update(self._task, completed=rows, total=total, rate=f"{rate:,.0f}")
            return
        eta = eta_seconds(rows, self.total, elapsed)
        of = f"/{self.total:,}" if self.total is not None else ""
        left = f", about {eta:,.0f} s left" if eta is not None else ""
        log.info("%s%s rows, %d chunks, %s rows/s%s", f"{rows:,}", of, chunks, f"{rate:,.0f}", left)
