"""A broken catalog file fails at load with file, policy id and criterion path: one per kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recommender.rules.catalog import load_catalog
from recommender.errors import CatalogError
from recommender.settings import DEFAULT_DATA_DIR

BROKEN = Path(__file__).parent / "catalog_invalid"
LEAF = "criteria[0](revenue_floor)"

EXPECTED = {
    "duplicate_key": "file innovation/cn-broken.yaml: invalid YAML: duplicate key 'value'",
    "unknown_top_key": "file innovation/cn-broken.yaml, policy cn-broken, at extra_key: unknown key",
    "unknown_field": f"file innovation/cn-broken.yaml, policy cn-broken, at {LEAF}: unknown field "
                     "'revenu' (not a SPEC §2 profile field or §3 derived fact)",
    "unknown_operator": f"file innovation/cn-broken.yaml, policy cn-broken, at {LEAF}: unknown operator "
                        "'=>' (allowed: >=, >, <=, <, ==, !=)",
    "missing_label": f"file innovation/cn-broken.yaml, policy cn-broken, at {LEAF}: 'label_en' is required "
                     "(every criterion carries a bilingual label)",
    "missing_clause": f"file innovation/cn-broken.yaml, policy cn-broken, at {LEAF}: 'clause' is required on "
                      "a leaf (or on an ancestor)",
    "tier_without_bound": "file innovation/cn-broken.yaml, policy cn-broken, at criteria[0](rd).tiers[0]: "
                          "every tier but the last needs a bound; the last has none",
    "unknown_certification": "file innovation/cn-broken.yaml, policy cn-broken, at criteria[0](cert): unknown "
                             "certification 'iso9001'",
    "unknown_industry_code": "file innovation/cn-broken.yaml, policy cn-broken, at criteria[0](ind): 'C99' "
                             "does not exist in GB/T 4754-2017",
    "duplicate_criterion_id": "file innovation/cn-broken.yaml, policy cn-broken, at criteria[1]: duplicate "
                              "criterion id 'revenue_floor'",
    "bool_field_with_order": "file innovation/cn-broken.yaml, policy cn-broken, at criteria[0](listed): bool "
                             "field 'listed' takes == or !=, got '>='",
    "unknown_criterion_key": "file innovation/cn-broken.yaml, policy cn-broken, at criteria[0]: unknown key(s) "
                             "['weight'] for a 'compare' criterion",
    "unknown_formula_op": "file innovation/cn-broken.yaml, policy cn-broken, at benefit.amount: unknown formula "
                          "operator 'pow'",
    "string_threshold": f"file innovation/cn-broken.yaml, policy cn-broken, at {LEAF}: value must be a number, "
                        "got '10000000'",
    "yaml_syntax": "file innovation/cn-broken.yaml: invalid YAML:",
}


def _catalog_with(tmp_path: Path, name: str, *, folder: str = "innovation", stem: str = "cn-broken") -> Path:
    root = tmp_path / "catalog"
    (root / folder).mkdir(parents=True)
    shutil.copy(BROKEN / f"{name}.yaml", root / folder / f"{stem}.yaml")
    return root


def test_the_template_itself_is_valid(tmp_path: Path) -> None:
    assert load_catalog(_catalog_with(tmp_path, "valid"), data_dir=DEFAULT_DATA_DIR).ids == ["cn-broken"]


def test_every_broken_file_has_an_expectation() -> None:
    assert {p.stem for p in BROKEN.glob("*.yaml")} - {"valid"} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_is_refused_with_location(tmp_path: Path, name: str) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(_catalog_with(tmp_path, name), data_dir=DEFAULT_DATA_DIR)
    message = str(info.value)
    assert message.startswith(EXPECTED[name]), message
    if name not in ("yaml_syntax", "duplicate_key"):
        assert info.value.policy_id == "cn-broken"


def test_duplicate_yaml_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="duplicate key 'value'"):
        load_catalog(_catalog_with(tmp_path, "duplicate_key"), data_dir=DEFAULT_DATA_DIR)


def test_file_name_must_equal_id(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"^file innovation/cn-other.yaml, policy cn-broken: file name "
                                           r"must equal the policy id \(cn-broken.yaml\)$"):
        load_catalog(_catalog_with(tmp_path, "valid", stem="cn-other"), data_dir=DEFAULT_DATA_DIR)


def test_family_folder_must_match(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"^file relief/cn-broken.yaml, policy cn-broken: file must live "
                                           r"under innovation/ \(its family\)$"):
        load_catalog(_catalog_with(tmp_path, "valid", folder="relief"), data_dir=DEFAULT_DATA_DIR)


def test_empty_catalog_dir(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    with pytest.raises(CatalogError, match="no policy files under"):
        load_catalog(tmp_path / "catalog", data_dir=DEFAULT_DATA_DIR)


def test_version_is_a_content_hash(tmp_path: Path) -> None:
    root = _catalog_with(tmp_path, "valid")
    v1 = load_catalog(root, data_dir=DEFAULT_DATA_DIR).version
    path = root / "innovation" / "cn-broken.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("10000000", "10000001"), encoding="utf-8")
    assert load_catalog(root, data_dir=DEFAULT_DATA_DIR).version != v1
