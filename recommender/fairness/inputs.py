"""What a fairness report reads: a ``match-registry`` output, the registry it was made from
(for each firm's groups) and, optionally, an outcomes file (SPEC §7 interactions).

The output holds one row per (firm, shown policy): the firm's eligible and undetermined
policies, best first, at most ``--top-k`` of them (10 by default); a firm without any gets one
row with an empty ``policy_id``. Ineligible policies are never in it. So every per-firm figure
here is about the policies *shown*: a firm whose list is full (as many rows as the largest
rank in the file) may have more eligible policies beyond it, and its count of eligible
policies is then a lower bound. :attr:`FirmTable.full_lists` counts those firms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from recommender.errors import InputFileError
from recommender.facts import CATEGORY_FACTS, SIZE_NAMES_ZH, EvalFrame
from recommender.learning import read_interactions
from recommender.profile import CHOICE_LABELS, ReferenceTables, drop_duplicate_ids, iter_raw_chunks, validate_chunk
from recommender.safe_cells import PREFIX, needs_prefix

DIMENSIONS: dict[str, tuple[str, str]] = {
    "region_code": ("district", "区县"),
    "size_class": ("size class", "企业规模"),
    "ownership": ("ownership", "企业性质"),
    "industry_section": ("industry section (GB/T 4754)", "行业门类"),
}
"""The group columns of a report, with their English and Chinese names."""
UNKNOWN = "unknown"
"""The group of a firm whose value is not known (no ownership, a size that cannot be decided)."""
UNKNOWN_ZH = "未知"
VERDICTS = ("eligible", "undetermined", "ineligible")
REQUIRED_COLUMNS = ("firm_id", "rank", "policy_id", "verdict", "estimated_benefit")
_GROUP_SOURCES = ("firm_id", "region_code", "industry_code", "ownership", "employees", "revenue", "total_assets")


@dataclass(frozen=True)
class Grouping:
    """One group column over the firms: ``codes[i]`` indexes ``keys`` (and ``labels``)."""

    name: str
    codes: np.ndarray
    keys: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class FirmTable:
    """One entry per firm of the matches (in first-seen order)."""

    firm_ids: np.ndarray            # object
    n_eligible: np.ndarray          # float: eligible policies shown
    top_eligible: np.ndarray        # float 0/1: the rank-1 policy is eligible
    recommended: np.ndarray         # float 0/1: an eligible policy at rank <= rank_k
    benefit: np.ndarray             # float yuan: estimated benefit summed over eligible policies shown
    match_rows: int
    shown_max: int                  # the largest rank in the file (the run's --top-k, or less)
    full_lists: int                 # firms with shown_max rows: more eligible policies may exist
    rank_k: int

    @property
    def n(self) -> int:
        return len(self.firm_ids)

    @property
    def has_eligible(self) -> np.ndarray:
        return (self.n_eligible > 0).astype(np.float64)


@dataclass(frozen=True)
class Applications:
    """Decided applications (approved or rejected) of firms in the matches (SPEC §7)."""

    firm: np.ndarray                # index into FirmTable
    approved: np.ndarray            # float 0/1
    probability: np.ndarray         # approval_probability of the (firm, policy) in the matches, NaN if none
    rows_read: int
    undecided: int                  # outcome "applied": not decided yet
    other_firms: int                # decided rows of firms not in the matches


@dataclass(frozen=True)
class ShownPairs:
    """The (firm, policy) rows of the matches with their approval probability (NaN if none):
    what the calibration gap compares applications with."""

    firm: np.ndarray                # index into FirmTable
    policy: pa.Array                # policy_id, "" on a no-match row
    probability: np.ndarray


def read_matches(path: Path, rank_k: int) -> tuple[FirmTable, ShownPairs]:
    """The per-firm table of a ``match-registry`` output (CSV or Parquet), and its shown
    (firm, policy) pairs for the calibration gap. Text columns stay in Arrow (5M rows of a
    1M-firm output: no Python string per row).

    Raises
    ------
    InputFileError
        Naming the file and the column (a missing column, an empty ``firm_id``, a rank that
        is not a whole number, an unknown verdict, a benefit that is not a number).
    """
    path = Path(path)
    table = _read_table(path, text=("firm_id", "policy_id", "verdict"))
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise InputFileError(f"column {missing[0]}: required column missing (a match-registry output has "
                             f"{', '.join(REQUIRED_COLUMNS)})", path=str(path))
    if not table.num_rows:
        raise InputFileError("the matches have no rows", path=str(path))
    firm, policy, verdict = (_text(table, c) for c in ("firm_id", "policy_id", "verdict"))
    blank = _flags(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(firm), ""), True))
    if blank.any():
        raise InputFileError("column firm_id: empty value", path=str(path), location=f"row {_first(blank)}")
    rank = _numbers(table, "rank", path, whole=True)
    benefit = _numbers(table, "estimated_benefit", path)
    prob = (_numbers(table, "approval_probability", path)
            if "approval_probability" in table.column_names else np.full(table.num_rows, np.nan))
    bad_p = ~np.isnan(prob) & ((prob < 0) | (prob > 1))
    if bad_p.any():
        raise InputFileError("column approval_probability: must be between 0 and 1", path=str(path),
                             location=f"row {_first(bad_p)}")
    verdict = pc.fill_null(verdict, "")
    bad = ~_flags(pc.is_in(verdict, value_set=pa.array(["", *VERDICTS])))
    if bad.any():
        row = _first(bad)
        raise InputFileError(f"column verdict: {verdict[row - 1].as_py()!r} is not one of {', '.join(VERDICTS)}",
                             path=str(path), location=f"row {row}")
    encoded = pc.dictionary_encode(firm)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    ids = encoded.dictionary.to_pylist()
    if path.suffix.lower() == ".csv":
        ids = [_unguarded(i) for i in ids]
    n = len(ids)
    policy = pc.fill_null(policy, "")
    has_policy = _flags(pc.not_equal(policy, ""))
    eligible = _flags(pc.equal(verdict, "eligible")) & has_policy
    k = int(rank.max())

    def per_firm(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights.astype(np.float64), minlength=n)

    shown = per_firm(has_policy)
    firms = FirmTable(
        firm_ids=np.array(ids, dtype=object),
        n_eligible=per_firm(eligible),
        top_eligible=np.minimum(per_firm(eligible & (rank == 1)), 1.0),
        recommended=np.minimum(per_firm(eligible & (rank <= rank_k)), 1.0),
        benefit=per_firm(np.where(eligible, np.nan_to_num(benefit, nan=0.0), 0.0)),
        match_rows=table.num_rows, shown_max=k, full_lists=int(((shown >= k) & (k > 0)).sum()), rank_k=rank_k)
    return firms, ShownPairs(codes, policy, prob)


def read_groups(path: Path, firms: FirmTable, ref: ReferenceTables) -> tuple[dict[str, Grouping], int]:
    """Each firm's groups from the registry (read and validated as ``match-registry`` reads it:
    a row it rejects has no match to report on), and the number of registry firms that are not
    in the matches. Size classes come from the derived-fact rule (SPEC §3), industry sections
    from the canonical GB/T 4754 code.

    Raises
    ------
    InputFileError
        A firm of the matches that is not in the registry (the registry is not the one the
        matches were made from), or a registry that cannot be read.
    """
    parts: list[pd.DataFrame] = []
    seen: set[str] = set()
    offset = 1
    for raw in iter_raw_chunks(Path(path)):
        chunk = drop_duplicate_ids(validate_chunk(raw, offset, ref, allow_unknown_columns=True), seen)
        offset += chunk.rows_read
        valid = chunk.valid
        size, _ = CATEGORY_FACTS["size_class"].codes(EvalFrame.from_profiles(valid, dt.date.today(), ref))
        parts.append(pd.DataFrame({"firm_id": valid["firm_id"].astype(str).to_numpy(),
                                   "region_code": valid["region_code"].astype(str).to_numpy(),
                                   "industry_section": valid["industry_code"].astype(str).str[:1].to_numpy(),
                                   "ownership": valid["ownership"].to_numpy(dtype=object),
                                   "size_class": np.asarray(size)}))
    registry = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(_GROUP_SOURCES))
    at = pd.Index(registry["firm_id"]).get_indexer(pd.Index(firms.firm_ids))
    if (at < 0).any():
        absent = firms.firm_ids[at < 0]
        raise InputFileError(f"column firm_id: {len(absent)} firms of the matches are not in this registry "
                             f"(first: {absent[0]!r}); give the registry the matches were made from",
                             path=str(path))
    rows = registry.iloc[at]
    sizes = rows["size_class"].to_numpy()
    size_keys = tuple(SIZE_NAMES_ZH)
    size_text = np.array([*size_keys, UNKNOWN], dtype=object)[np.where(sizes >= 0, sizes, len(size_keys))]
    groups = {
        "region_code": _grouping("region_code", rows["region_code"].to_numpy(dtype=object), ref.region_names),
        "size_class": _grouping("size_class", size_text, SIZE_NAMES_ZH, order=size_keys),
        "ownership": _grouping("ownership", rows["ownership"].to_numpy(dtype=object), CHOICE_LABELS["ownership"],
                               order=tuple(CHOICE_LABELS["ownership"])),
        "industry_section": _grouping("industry_section", rows["industry_section"].to_numpy(dtype=object),
                                      ref.industry_names),
    }
    return groups, len(registry) - firms.n


def read_applications(path: Path, firms: FirmTable, shown: ShownPairs) -> Applications:
    """Decided applications of the outcomes file whose firm is in the matches, with the
    approval probability the matches gave the same (firm, policy), if they showed it.

    Raises
    ------
    InputFileError
        As :func:`recommender.learning.read_interactions`, naming the file and column.
    """
    log = read_interactions(Path(path))
    decided = log["outcome"].isin(("approved", "rejected")).to_numpy()
    firm = pd.Index(firms.firm_ids).get_indexer(pd.Index(log["firm_id"]))
    keep = decided & (firm >= 0)
    apps = pd.DataFrame({"firm": firm[keep], "policy_id": log["policy_id"].to_numpy()[keep],
                         "approved": (log["outcome"].to_numpy()[keep] == "approved").astype(np.float64)})
    # only the shown pairs of firms that applied: a few of millions
    near = np.isin(shown.firm, np.unique(apps["firm"].to_numpy()))
    pairs = pd.DataFrame({"firm": shown.firm[near],
                          "policy_id": shown.policy.filter(pa.array(near)).to_numpy(zero_copy_only=False),
                          "approval_probability": shown.probability[near]})
    pairs = pairs[pairs["policy_id"] != ""].drop_duplicates(["firm", "policy_id"])
    apps = apps.merge(pairs, on=["firm", "policy_id"], how="left", sort=False)
    return Applications(firm=apps["firm"].to_numpy(), approved=apps["approved"].to_numpy(),
                        probability=apps["approval_probability"].to_numpy(dtype=np.float64),
                        rows_read=len(log), undecided=int((~decided).sum()),
                        other_firms=int((decided & (firm < 0)).sum()))


def _grouping(name: str, values: np.ndarray, names: dict[str, str], order: tuple[str, ...] | None = None) -> Grouping:
    """Group codes over ``values`` (None → :data:`UNKNOWN`), keys in ``order`` (else sorted),
    unknown last; each label is the Chinese name with the key (``渝北区 500112``)."""
    text = pd.Series(values, dtype=object).fillna(UNKNOWN).astype(str)
    present = set(text.unique())
    known = [k for k in (order if order is not None else sorted(present - {UNKNOWN})) if k in present]
    keys = tuple([*known, *([UNKNOWN] if UNKNOWN in present else [])])
    codes = pd.Index(keys).get_indexer(text)
    labels = tuple(UNKNOWN_ZH if k == UNKNOWN else f"{names.get(k, k)} {k}" for k in keys)
    return Grouping(name, codes.astype(np.intp), keys, labels)


def _read_table(path: Path, text: tuple[str, ...]) -> pa.Table:
    """The columns of a CSV (every column as text, empty cells null) or Parquet file that a
    report reads, as Arrow."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputFileError("file not found", path=str(path))
    try:
        if suffix == ".csv":
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                strings_can_be_null=True, null_values=[""],
                column_types={c: pa.string() for c in (*text, "rank", "estimated_benefit", "approval_probability")}))
        elif suffix in (".parquet", ".pq"):
            table = pq.read_table(path)
        else:
            raise InputFileError(f"unsupported type {suffix!r} (use .csv or .parquet)", path=str(path))
    except (pa.ArrowInvalid, OSError, ValueError) as err:
        raise InputFileError(f"cannot read: {err}".replace("\n", " "), path=str(path)) from None
    return table.select([c for c in (*REQUIRED_COLUMNS, "approval_probability") if c in table.column_names])


def _text(table: pa.Table, name: str) -> pa.Array:
    """A column as one Arrow string array (ids stored as numbers or dictionaries become text)."""
    column = table.column(name).combine_chunks()
    return column if column.type == pa.string() else pc.cast(column, pa.string())


def _flags(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array (no nulls) as numpy."""
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def _first(mask: np.ndarray) -> int:
    """The 1-based row number of the first true entry."""
    return int(np.flatnonzero(mask)[0]) + 1


def _numbers(table: pa.Table, name: str, path: Path, *, whole: bool = False) -> np.ndarray:
    """A numeric column as float64 (NaN where empty); a cell that is not a number (or, with
    ``whole``, not a whole number >= 0, and never empty) is an error naming the column and row."""
    column = table.column(name).to_pandas()
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    given = column.notna().to_numpy()
    bad = given & ~np.isfinite(values)
    what = "a number"
    if whole:
        bad |= ~given | (np.isfinite(values) & ((values < 0) | (values != np.round(values))))
        what = "a whole number >= 0"
    if bad.any():
        row = _first(bad)
        raise InputFileError(f"column {name}: {column.iloc[row - 1]!r} is not {what}", path=str(path),
                             location=f"row {row}")
    return values


def _unguarded(firm_id: str) -> str:
    """A firm id as it was before the CSV writer's formula guard (``'=X`` → ``=X``)."""
    if firm_id.startswith(PREFIX) and needs_prefix(firm_id[len(PREFIX):]):
        return firm_id[len(PREFIX):]
    return firm_id
