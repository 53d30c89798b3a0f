"""Bulk runs: every row accounted for, resume identical to an uninterrupted run, formats agree."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from recommender.bulk.run import run_registry
from recommender.errors import InputFileError
from tests.recommender.registry_kit import AS_OF, PLANTED, planted_registry, write_registry

ROOT = Path(__file__).resolve().parents[2]
@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> tuple[Path, int, int]:
    df, good = planted_registry()
    path = write_registry(df, tmp_path_factory.mktemp("reg") / "registry.csv")
    return path, good, len(df)


def test_counts_reconcile_and_rejects_name_field_and_reason(registry, catalog, ref, tmp_path) -> None:
    path, good, total = registry
    out = tmp_path / "matches.parquet"
    summary = run_registry(path, out, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=7)
    assert summary["rows_read"] == total
    assert summary["firms_matched"] == good
    assert summary["rows_rejected"] == total - good
    assert summary["reconciles"] is True
    rejects = pd.read_csv(tmp_path / "matches.rejects.csv", dtype={"firm_id": str})
    got = {(r.firm_id, r.field, r.reason) for r in rejects.itertuples()}
    for i, (col, _, reason) in enumerate(PLANTED):
        assert (f"BAD-{i}", col, reason) in got
    assert (json.loads((ROOT / "data/samples/firms.jsonl").read_text(encoding="utf-8").splitlines()[0])["firm_id"],
            "firm_id", "duplicate firm_id (an earlier row has it)") in got
    assert sorted(rejects["row"].unique()) == list(range(good + 1, total + 1))
    result = pd.read_parquet(out)
    assert set(result["firm_id"]) == set(pd.read_csv(path, dtype=str)["firm_id"][:good])
    assert list(result.columns) == ["firm_id", "rank", "policy_id", "verdict", "score",
                                    "approval_probability", "estimated_benefit", "expected_value"]
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"
    assert json.loads((tmp_path / "matches.summary.json").read_text())["reconciles"] is True


def test_csv_output_written_part_by_part_equals_the_whole_table(registry, catalog, ref, tmp_path) -> None:
    path, good, total = registry
    run_registry(path, tmp_path / "m.parquet", catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=7)
    summary = run_registry(path, tmp_path / "m.csv", catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=7)
    assert summary["rows_read"] > 2 * 7                                   # several parts
    whole = pd.read_parquet(tmp_path / "m.parquet").to_csv(index=False)   # one header, every row
    assert (tmp_path / "m.csv").read_text(encoding="utf-8") == whole
    lines = (tmp_path / "m.rejects.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "row,firm_id,field,reason" and "row,firm_id,field,reason" not in lines[1:]
    assert summary["reject_records"] == len(lines) - 1 and summary["rows_rejected"] == total - good


def test_unknown_column_rejects_rows_unless_allowed(catalog, ref, tmp_path) -> None:
    df = pd.DataFrame([{"firm_id": "A", "region_code": "500112", "industry_code": "C36", "colour": "red"},
                       {"firm_id": "B", "region_code": "500112", "industry_code": "C36", "colour": None}])
    path = write_registry(df, tmp_path / "r.csv")
    s = run_registry(path, tmp_path / "o.parquet", catalog=catalog, ref=ref, as_of=AS_OF)
    assert (s["firms_matched"], s["rows_rejected"]) == (1, 1)
    s = run_registry(path, tmp_path / "o2.parquet", catalog=catalog, ref=ref, as_of=AS_OF, allow_unknown_columns=True)
    assert (s["firms_matched"], s["rows_rejected"]) == (2, 0)
    assert (tmp_path / "o2.rejects.csv").read_text(encoding="utf-8") == "row,firm_id,field,reason\n"  # header only


def test_firm_without_match_gets_one_empty_row(catalog, ref, tmp_path) -> None:
    df = pd.DataFrame([{"firm_id": "BANK", "region_code": "110105", "industry_code": "J6621",
                        "dishonest_record": "true", "major_incident_last_year": "true", "certifications": ""}])
    out = tmp_path / "o.csv"
    run_registry(write_registry(df, tmp_path / "r.csv"), out, catalog=catalog, ref=ref, as_of=dt.date(2010, 1, 1))
    result = pd.read_csv(out, keep_default_na=False)
    assert result[["firm_id", "rank", "policy_id"]].values.tolist() == [["BANK", 0, ""]]


def test_resume_after_interruption_is_byte_identical(registry, catalog, ref, tmp_path) -> None:
    path, *_ = registry
    full = tmp_path / "full.parquet"
    run_registry(path, full, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=5)
    part = tmp_path / "part.parquet"
    with pytest.raises(InterruptedError):
        run_registry(path, part, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=5, stop_after_chunks=2)
    assert not part.exists() and len(list((tmp_path / "part.parquet.parts").glob("chunk-*[0-9].arrow"))) == 2
    assert not list(tmp_path.glob(".part.parquet.tmp-*"))        # the streamed output was removed
    run_registry(path, part, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=5, resume=True)
    assert part.read_bytes() == full.read_bytes()
    assert (tmp_path / "part.rejects.csv").read_bytes() == (tmp_path / "full.rejects.csv").read_bytes()


def test_resume_refuses_checkpoints_of_another_run(registry, catalog, ref, tmp_path) -> None:
    path, *_ = registry
    out = tmp_path / "o.parquet"
    with pytest.raises(InterruptedError):
        run_registry(path, out, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=5, stop_after_chunks=1)
    with pytest.raises(InputFileError, match="the checkpoints belong to a different run"):
        run_registry(path, out, catalog=catalog, ref=ref, as_of=dt.date(2022, 7, 1), chunk_rows=5, resume=True)


def test_csv_parquet_xlsx_give_identical_results(catalog, ref, tmp_path) -> None:
    df, _ = planted_registry()
    # an empty list of certifications ("" in Parquet: none held) has no text form in CSV or
    # XLSX, whose empty cell is unknown: compare the formats on what all three can say
    df["certifications"] = df["certifications"].replace("", None)
    outputs = []
    for suffix in (".csv", ".parquet", ".xlsx"):
        src = write_registry(df, tmp_path / f"registry{suffix}")
        out = tmp_path / f"out{suffix}.parquet"
        run_registry(src, out, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=8)
        outputs.append((pd.read_parquet(out), pd.read_csv(tmp_path / f"out{suffix}.rejects.csv", dtype=str)))
    for result, rejects in outputs[1:]:
        pd.testing.assert_frame_equal(result, outputs[0][0])
        pd.testing.assert_frame_equal(rejects, outputs[0][1])


def test_unsupported_file_type(catalog, ref, tmp_path) -> None:
    src = tmp_path / "registry.txt"
    src.write_text("x", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"unsupported registry type '.txt'"):
        run_registry(src, tmp_path / "o.parquet", catalog=catalog, ref=ref, as_of=AS_OF)


def test_corrupt_xlsx_is_a_clear_input_error(catalog, ref, tmp_path) -> None:
    src = tmp_path / "registry.xlsx"
    src.write_bytes(b"not a zip file")
    with pytest.raises(InputFileError, match=r"registry.xlsx: cannot read: File is not a zip file"):
        run_registry(src, tmp_path / "o.parquet", catalog=catalog, ref=ref, as_of=AS_OF)


def test_firm_details_name_each_firm_after_its_id(registry, catalog, ref, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``firm_details``: name, credit code and district (the region code's name) on every row of
    a firm, between firm_id and rank; the other columns as without them."""
    path, good, _ = registry
    plain, detailed = tmp_path / "plain.csv", tmp_path / "detailed.csv"
    run_registry(path, plain, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=7)
    summary = run_registry(path, detailed, catalog=catalog, ref=ref, as_of=AS_OF, chunk_rows=7, firm_details=True)
    assert summary["reconciles"] is True
    without = pd.read_csv(plain, dtype={"firm_id": str}, keep_default_na=False)
    with_ = pd.read_csv(detailed, dtype={"firm_id": str, "credit_code": str}, keep_default_na=False)
    assert list(with_.columns) == ["firm_id", "name", "credit_code", "district", "rank", "policy_id", "verdict",
                                   "score", "approval_probability", "estimated_benefit", "expected_value"]
    pd.testing.assert_frame_equal(with_.drop(columns=["name", "credit_code", "district"]), without)
    source = pd.read_csv(path, dtype=str, keep_default_na=False).head(good).set_index("firm_id")
    for firm_id, rows in with_.groupby("firm_id"):
        first = source.loc[firm_id]
        assert set(rows["name"]) == {first["name"]} and set(rows["credit_code"]) == {first["credit_code"]}
        assert set(rows["district"]) == {ref.region_names.get(first["region_code"], "")}
    assert "渝北区" in set(with_["district"])
