"""Bulk outputs that must be complete or absent, and rows that must never disappear: a full
disk at every step of ``match-registry``, stale summaries and leftover temporaries, workbooks
with several sheets, headers that name a column twice, CSV rows with a cell too many or too
few — through the CLI, the bulk run, a job and ``/v1/screen``.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from recommender.bulk import parts, run as batch
from recommender.cli.main import app
from recommender.errors import OutputFileError
from recommender.bulk.progress import registry_rows
from recommender.profile.registry import read_registry
from recommender.bulk.files import disk_errors

from tests.api.api_testkit import AS_OF, KEYS, SAMPLES, LiveServer, make_settings, registry_frame

runner = CliRunner()
POLICY = "cn-small-low-profit-cit"
ROW_FIELD = "(row)"                 # the rejects' field of a malformed row


def _profiles() -> list[dict[str, Any]]:
    return [json.loads(x) for x in SAMPLES.read_text(encoding="utf-8").splitlines() if x.strip()]


def _frame(prefix: str = "") -> pd.DataFrame:
    profiles = _profiles()
    if prefix:
        profiles = [{**p, "firm_id": prefix + p["firm_id"]} for p in profiles]
    return registry_frame(profiles)


@pytest.fixture(autouse=True)
def _rules_ranker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI ranks by the rules (no model to load or compile)."""
    monkeypatch.setenv("RECOMMENDER_MODEL_DIR", str(tmp_path / "no-model"))


def _match_registry(registry: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["match-registry", str(registry), "--out", str(out), "--as-of", AS_OF,
                               "--quiet", "--chunk-rows", "4", *extra])


def _errors(result: Any) -> list[str]:
    """The lines of standard error but the warning that the default model is not used."""
    return [x for x in result.stderr.splitlines() if not x.startswith("warning: default model not used")]


def _summary(out: Path) -> dict[str, Any]:
    return dict(json.loads(out.with_name(out.stem + ".summary.json").read_text()))


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- item 4: complete or absent --------------------------------------------------------

def _no_space(*_: Any, **__: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fail_at(step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the disk full when the run reaches ``step``."""
    if step == "checkpoint":
        monkeypatch.setattr(parts, "write_ipc", _no_space)
    elif step in ("output", "rejects"):
        real_close = parts.OutputStream.close

        def close(self: parts.OutputStream) -> None:
            if (self._schema is None) == (step == "rejects") and not self._closed:
                real_close(self)
                _no_space()
            real_close(self)
        monkeypatch.setattr(parts.OutputStream, "close", close)
    else:
        real_write = Path.write_text

        def write_text(self: Path, *args: Any, **kwargs: Any) -> int:
            if ".summary.json" in self.name:
                _no_space()
            return real_write(self, *args, **kwargs)
        monkeypatch.setattr(Path, "write_text", write_text)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("step", ["checkpoint", "output", "rejects", "summary"])
def test_full_disk_leaves_no_summary_vouching_for_another_output(step: str, suffix: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    _frame("OLD-").to_csv(old, index=False)
    _frame("NEW-").to_csv(new, index=False)
    out = tmp_path / f"matches{suffix}"
    assert _match_registry(old, out).exit_code == 0
    assert _summary(out)["reconciles"] is True
    _fail_at(step, monkeypatch)
    result = _match_registry(new, out)
    assert result.exit_code == 2, result.output
    assert _errors(result) == [f"error: no space left on device writing {out}"]
    summary = out.with_name(out.stem + ".summary.json")
    assert not summary.exists()                         # the old one vouched for the old output
    assert not out.with_name("matches.rejects.csv").exists() or out.exists()
    assert _hidden(tmp_path) == []                      # no temporaries left behind


def test_full_disk_in_a_job_fails_the_job_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          catalog, ref) -> None:  # type: ignore[no-untyped-def]
    reg = tmp_path / "reg.csv"
    _frame().to_csv(reg, index=False)
    _fail_at("summary", monkeypatch)
    with pytest.raises(OutputFileError, match="^no space left on device writing "):
        batch.run_registry(reg, tmp_path / "out.csv", catalog=catalog, ref=ref, as_of=pd.Timestamp(AS_OF).date(),
                           chunk_rows=4, threads=2)


def test_a_full_disk_under_screen_out_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = tmp_path / "reg.csv"
    _frame().to_csv(reg, index=False)
    monkeypatch.setattr(Path, "write_bytes", _no_space)
    out = tmp_path / "screened.csv"
    result = runner.invoke(app, ["screen", str(reg), "--policy", POLICY, "--out", str(out), "--as-of", AS_OF])
    assert result.exit_code == 2, result.output
    assert _errors(result) == [f"error: no space left on device writing {out}"]


def test_quota_is_reported_like_a_full_disk(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError) as caught, disk_errors(tmp_path / "o.csv"):
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
    assert str(caught.value) == f"disk quota exceeded writing {tmp_path / 'o.csv'}"
    with pytest.raises(PermissionError), disk_errors(tmp_path / "o.csv"):
        raise PermissionError(errno.EACCES, "denied")    # other errors are not disguised


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_summary_carries_the_outputs_rows_and_checksum(suffix: str, tmp_path: Path) -> None:
    reg = tmp_path / "reg.csv"
    _frame().to_csv(reg, index=False)
    out = tmp_path / f"m{suffix}"
    assert _match_registry(reg, out).exit_code == 0
    summary = _summary(out)
    assert summary["output_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    rows = len(pd.read_csv(out)) if suffix == ".csv" else pq.read_metadata(out).num_rows
    assert summary["output_rows"] == rows and rows >= summary["match_rows"] > 0
    assert summary["reconciles"] is True


def test_a_run_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    reg = tmp_path / "reg.csv"
    _frame().to_csv(reg, index=False)
    out = tmp_path / "m.csv"
    dead = 2 ** 22 + 1                                   # above Linux's largest pid: never running
    left = [f".m.csv.tmp-{dead}-140000", f".m.rejects.csv.tmp-{dead}-1", f".m.summary.json.tmp-{dead}"]
    for name in left:
        (tmp_path / name).write_text("half")
    alive = tmp_path / f".m.csv.tmp-{os.getppid()}-1"    # a running process's: not ours to remove
    alive.write_text("busy")
    assert _match_registry(reg, out, "--stop-after-chunks", "2").exit_code == 3
    assert _hidden(tmp_path) == [alive.name]
    parts = tmp_path / "m.csv.parts"
    (parts / f".chunk-000009.arrow.tmp-{dead}").write_text("half")
    (tmp_path / left[0]).write_text("half")
    assert _match_registry(reg, out, "--resume").exit_code == 0
    assert _hidden(tmp_path) == [alive.name]
    assert not parts.exists()


def test_a_stale_summary_is_removed_when_a_run_starts(tmp_path: Path) -> None:
    reg = tmp_path / "reg.csv"
    _frame().to_csv(reg, index=False)
    out = tmp_path / "m.csv"
    assert _match_registry(reg, out).exit_code == 0
    assert _match_registry(reg, out, "--stop-after-chunks", "1").exit_code == 3
    assert not out.with_name("m.summary.json").exists() and not out.exists()


def test_the_registry_cannot_be_its_own_output(tmp_path: Path) -> None:
    reg = tmp_path / "reg.csv"
    _frame().to_csv(reg, index=False)
    result = _match_registry(reg, reg)
    assert result.exit_code == 2 and "cannot also be an output" in _errors(result)[0]
    assert len(pd.read_csv(reg)) == len(_profiles())


# --- item 5: every sheet --------------------------------------------------------------

def _workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


def test_every_sheet_of_a_workbook_is_read(tmp_path: Path, ref) -> None:  # type: ignore[no-untyped-def]
    first, second = _frame("A-"), _frame("B-")
    second.loc[2, "revenue"] = -1                          # row 3 of sheet 2: row n + 3 of the registry
    book = _workbook(tmp_path / "two.xlsx", {"firms": first, "more firms": second, "notes": pd.DataFrame()})
    n = len(first)
    assert registry_rows(book) == 2 * n
    out = tmp_path / "m.csv"
    result = _match_registry(book, out)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows_read"], summary["firms_matched"], summary["rows_rejected"]) == (2 * n, 2 * n - 1, 1)
    assert summary["reconciles"] is True
    assert set(pd.read_csv(out)["firm_id"]) == set(first["firm_id"]) | set(second["firm_id"]) - {second["firm_id"][2]}
    rejects = pd.read_csv(tmp_path / "m.rejects.csv")
    assert rejects.to_dict("records") == [{"row": n + 3, "firm_id": second["firm_id"][2], "field": "revenue",
                                           "reason": "must be >= 0"}]
    valid, _ = read_registry(book, ref)
    assert len(valid) == 2 * n - 1


def test_a_sheet_that_does_not_hold_the_registry_is_refused_by_name(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "mixed.xlsx", {"firms": _frame(), "notes": pd.DataFrame({"note": ["see above"]})})
    for args in (["match-registry", str(book), "--out", str(tmp_path / "m.csv"), "--quiet"],
                 ["screen", str(book), "--policy", POLICY], ["find-firms", str(book), "--policy", POLICY,
                                                             "--out", str(tmp_path / "f.csv")]):
        result = runner.invoke(app, [*args, "--as-of", AS_OF])
        assert result.exit_code == 2, result.output
        [line] = _errors(result)
        assert line.startswith(f"error: {book}: sheet 'notes' does not have the header of sheet 'firms' "
                               "(its columns: note)")


def test_unnamed_columns_of_a_sheet_are_told_apart(tmp_path: Path, ref) -> None:  # type: ignore[no-untyped-def]
    """Empty formatted columns after the last name are no duplicate; a value under no name is
    an unknown field that says which column it is in."""
    import openpyxl
    from openpyxl.styles import Font
    frame = _frame()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    for row in frame.head(4).itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in row])
    width = frame.shape[1]
    for extra in (1, 2, 3):
        ws.cell(row=1, column=width + extra).font = Font(bold=True)      # a cell, without a value
    ws.cell(row=3, column=width + 2).value = "stray"
    wb.save(tmp_path / "wide.xlsx")
    valid, rejects = read_registry(tmp_path / "wide.xlsx", ref)
    letter = openpyxl.utils.get_column_letter(width + 2)
    assert len(valid) == 3
    assert rejects.to_dict("records") == [{"row": 2, "firm_id": frame["firm_id"][1], "field": f"(column {letter})",
                                           "reason": "unknown field (not in SPEC §2)"}]


# --- item 8: duplicate header names, malformed CSV rows -------------------------------------

def _duplicated(tmp_path: Path, suffix: str) -> Path:
    frame = _frame()
    frame.insert(3, "revenue_again", frame["revenue"])
    frame = frame.rename(columns={"revenue_again": "revenue"})
    path = tmp_path / f"dup{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_excel(path, index=False)
    return path


DUPLICATE = "the header names column 'revenue' twice (columns 4 and "


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("command", ["match-registry", "screen", "find-firms"])
def test_a_duplicated_column_is_named(command: str, suffix: str, tmp_path: Path) -> None:
    path = _duplicated(tmp_path, suffix)
    args = {"match-registry": ["--out", str(tmp_path / "m.csv"), "--quiet"], "screen": ["--policy", POLICY],
            "find-firms": ["--policy", POLICY, "--out", str(tmp_path / "f.csv")]}[command]
    result = runner.invoke(app, [command, str(path), *args, "--as-of", AS_OF])
    assert result.exit_code == 2, result.output
    [line] = _errors(result)
    assert line.startswith(f"error: {path}: {DUPLICATE}")


def _malformed_csv(tmp_path: Path) -> tuple[Path, int, dict[int, str]]:
    """The sample firms as CSV with a quoted line break, one cell too many on row 3, one too
    few on row 6 and on the last row, and a negative revenue on row 9."""
    frame = _frame()
    frame.loc[0, "business_scope"] = "line one\nline two, with a comma"
    frame.loc[8, "revenue"] = -1
    lines = frame.to_csv(index=False, lineterminator="\n").split("\n")
    header_cells = frame.shape[1]
    rows = [lines[0], lines[1] + "\n" + lines[2], *lines[3:-1]]    # one entry per data row
    rows[3] += ",extra"                                # data row 3
    rows[6] = rows[6].rsplit(",", 1)[0]               # data row 6
    rows.append(rows[2].replace(frame["firm_id"][1], "LAST", 1).rsplit(",", 1)[0])
    path = tmp_path / "malformed.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    n = len(rows) - 1
    expected = {3: f"malformed row: {header_cells + 1} cells, more than the header's {header_cells}",
                6: f"malformed row: {header_cells - 1} cells, fewer than the header's {header_cells}",
                n: f"malformed row: {header_cells - 1} cells, fewer than the header's {header_cells}"}
    return path, n, expected


@pytest.mark.parametrize("chunk_rows", ["2", "4", "1000"])
@pytest.mark.parametrize("threads", ["1", "2"])
def test_a_malformed_csv_row_is_rejected_and_the_rest_kept(chunk_rows: str, threads: str, tmp_path: Path) -> None:
    path, n, expected = _malformed_csv(tmp_path)
    frame = _frame()
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["match-registry", str(path), "--out", str(out), "--as-of", AS_OF, "--quiet",
                                 "--chunk-rows", chunk_rows, "--threads", threads])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows_read"], summary["rows_rejected"], summary["firms_matched"]) == (n, 4, n - 4)
    assert summary["reconciles"] is True
    rejects = pd.read_csv(tmp_path / "m.rejects.csv", keep_default_na=False)
    assert rejects.to_dict("records") == [
        {"row": 3, "firm_id": frame["firm_id"][2], "field": ROW_FIELD, "reason": expected[3]},
        {"row": 6, "firm_id": frame["firm_id"][5], "field": ROW_FIELD, "reason": expected[6]},
        {"row": 9, "firm_id": frame["firm_id"][8], "field": "revenue", "reason": "must be >= 0"},
        {"row": n, "firm_id": "LAST", "field": ROW_FIELD, "reason": expected[n]},
    ]
    kept = set(pd.read_csv(out)["firm_id"])
    assert kept == set(frame["firm_id"]) - {frame["firm_id"][i] for i in (2, 5, 8)}


def test_malformed_rows_in_screen_and_read_registry(tmp_path: Path, ref) -> None:  # type: ignore[no-untyped-def]
    path, n, expected = _malformed_csv(tmp_path)
    valid, rejects = read_registry(path, ref, chunk_rows=3)
    assert len(valid) + rejects["row"].nunique() == n
    assert list(valid["_row"]) == [r for r in range(1, n + 1) if r not in (3, 6, 9, n)]
    result = runner.invoke(app, ["screen", str(path), "--policy", POLICY, "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(rows) == n
    assert [r["failed_criteria"] for r in rows if r["verdict"] == "rejected"][0] == [
        f"{ROW_FIELD}: {expected[3]} (row 3)"]


def test_the_dask_engine_names_a_duplicated_column_and_refuses_a_malformed_row(  # type: ignore[no-untyped-def]
        tmp_path: Path, catalog, ref) -> None:
    from recommender.bulk.cluster import run_registry_dask
    from recommender.errors import InputFileError
    as_of = pd.Timestamp(AS_OF).date()
    dup = _duplicated(tmp_path, ".csv")
    with pytest.raises(InputFileError, match=f"^{dup}: " + DUPLICATE.replace("(", r"\(")):
        run_registry_dask(dup, tmp_path / "d.csv", catalog=catalog, ref=ref, as_of=as_of)
    path, _, _ = _malformed_csv(tmp_path)
    cells = len(_frame().columns)
    expected = rf"more cells than the header \(row 3: {cells + 1} cells, the header has {cells}\)"
    with pytest.raises(InputFileError, match=expected):
        run_registry_dask(path, tmp_path / "m.csv", catalog=catalog, ref=ref, as_of=as_of)


# --- the API: /v1/screen and jobs ----------------------------------------------------------

@pytest.fixture(scope="module")
def caseworker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    from api.main import create_app
    var = tmp_path_factory.mktemp("var")
    with LiveServer(create_app(make_settings(var, model_dir=var / "no-model"))) as srv, \
            srv.client(KEYS["caseworker"]) as client:
        yield client


def _wait(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while (job := client.get(f"/v1/jobs/{job_id}").json())["state"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return dict(job)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_v1_screen_names_a_duplicated_column(suffix: str, caseworker: httpx.Client, tmp_path: Path) -> None:
    path = _duplicated(tmp_path, suffix)
    r = caseworker.post("/v1/screen", params={"policy_id": POLICY, "as_of": AS_OF},
                        files={"file": (f"a{suffix}", path.read_bytes(), "application/octet-stream")})
    assert r.status_code == 422, r.text
    assert DUPLICATE in r.text


def test_a_job_names_a_duplicated_column(caseworker: httpx.Client, tmp_path: Path) -> None:
    path = _duplicated(tmp_path, ".csv")
    r = caseworker.post("/v1/jobs", params={"as_of": AS_OF},
                        files={"file": ("r.csv", path.read_bytes(), "text/csv")})
    assert r.status_code == 202, r.text
    job = _wait(caseworker, r.json()["id"])
    assert job["state"] == "failed" and DUPLICATE in job["error"]


def test_a_job_and_v1_screen_keep_the_rows_beside_a_malformed_one(caseworker: httpx.Client, tmp_path: Path) -> None:
    path, n, expected = _malformed_csv(tmp_path)
    r = caseworker.post("/v1/jobs", params={"as_of": AS_OF},
                        files={"file": ("r.csv", path.read_bytes(), "text/csv")})
    job = _wait(caseworker, r.json()["id"])
    assert job["state"] == "succeeded", job
    assert (job["rows_read"], job["rows_rejected"]) == (n, 4)
    rejects = pd.read_csv(io.StringIO(caseworker.get(job["rejects_url"]).text))
    assert list(rejects["row"]) == [3, 6, 9, n]
    r = caseworker.post("/v1/screen", params={"policy_id": POLICY, "as_of": AS_OF},
                        files={"file": ("a.csv", path.read_bytes(), "text/csv")})
    assert r.status_code == 200, r.text
    assert [x["row"] for x in r.json()["rejects"]] == [3, 6, 9, n]
    assert r.json()["rejects"][0]["reason"] == expected[3]
