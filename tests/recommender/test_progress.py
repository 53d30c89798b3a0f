"""Bulk-run progress: a bar on a terminal, log lines elsewhere, nothing with --quiet."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recommender.bulk.progress import RunProgress, eta_seconds, registry_rows

ROOT = Path(__file__).resolve().parents[2]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_registry_rows_per_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    df = pd.DataFrame({"firm_id": [f"F{i}" for i in range(7)], "employees": range(7)})
    pq.write_table(pa.Table.from_pandas(df), tmp_path / "r.parquet", row_group_size=3)
    df.to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "nolf.csv").write_text((tmp_path / "r.csv").read_text().rstrip("\n"))
    df.to_excel(tmp_path / "r.xlsx", index=False)
    (tmp_path / "header.csv").write_text("firm_id,employees\n")
    assert [registry_rows(tmp_path / n) for n in ("r.parquet", "r.csv", "nolf.csv", "r.xlsx", "header.csv")] == \
        [7, 7, 7, 7, 0]
    assert registry_rows(tmp_path / "missing.csv") is None
    assert registry_rows(tmp_path / "r.json") is None


@pytest.mark.parametrize(("done", "total", "elapsed", "want"),
                         [(250, 1000, 10.0, 30.0), (1000, 1000, 5.0, 0.0), (1200, 1000, 5.0, 0.0),
                          (0, 1000, 3.0, None), (5, None, 1.0, None), (5, 10, 0.0, None)])
def test_eta(done, total, elapsed, want) -> None:  # type: ignore[no-untyped-def]
    assert eta_seconds(done, total, elapsed) == want


def test_log_lines_when_not_a_terminal(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="recommender.match_registry")
    with RunProgress(100_000, stream=io.StringIO()) as progress:
        progress(50_000, 1)
        progress(100_000, 2)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("50,000/100,000 rows, 1 chunks, ") and "rows/s, about " in lines[0]
    assert lines[1].endswith("about 0 s left")


def test_quiet_reports_nothing(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="recommender.match_registry")
    stream = _Terminal()
    with RunProgress(10, quiet=True, stream=stream) as progress:
        progress(10, 1)
    assert caplog.records == [] and stream.getvalue() == ""


def test_bar_on_a_terminal(caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="recommender.match_registry")
    stream = _Terminal()
    with RunProgress(1_000, stream=stream) as progress:
        progress(400, 1)
        progress(1_000, 2)
    shown = stream.getvalue()
    assert "1000/1000" in shown and "rows/s" in shown and "ETA" in shown
    assert caplog.records == []                       # the bar, not log lines


def test_match_registry_logs_progress_when_piped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in (ROOT / "data" / "samples" / "firms.jsonl").read_text().splitlines()]
    pd.DataFrame(rows).drop(columns=["certifications"], errors="ignore").to_csv(tmp_path / "reg.csv", index=False)
    cmd = [sys.executable, "-m", "recommender.cli.main", "match-registry", str(tmp_path / "reg.csv"),
           "--out", str(tmp_path / "out.parquet"), "--as-of", "2022-06-30", "--chunk-rows", "10"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    logged = [x for x in proc.stderr.splitlines() if "rows/s" in x]
    assert len(logged) == 3 and f"/{len(rows):,} rows, 3 chunks" in logged[-1]
    quiet = subprocess.run([*cmd, "--quiet"], capture_output=True, text=True, timeout=300, cwd=ROOT,
                           stdin=subprocess.DEVNULL)
    assert quiet.returncode == 0 and "rows/s" not in quiet.stderr
