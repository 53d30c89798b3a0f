"""``recommender catalog readme``: the README block of policies in force and changes since a
reference catalog, printed or rewritten in place between its markers."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.rules import Catalog
from recommender.rules.catalog_summary import BEGIN, END
from recommender.settings import DEFAULT_DATA_DIR, PROJECT_ROOT

runner = CliRunner()


def _reference(tmp_path: Path) -> Path:
    """The bundled catalog without cq-green-factory and with the tech-SME staff limit at 400."""
    ref = tmp_path / "reference"
    shutil.copytree(DEFAULT_DATA_DIR / "catalog", ref)
    (ref / "green" / "cq-green-factory.yaml").unlink()
    tech = ref / "innovation" / "cn-tech-sme-evaluation.yaml"
    text = tech.read_text(encoding="utf-8")
    assert text.count("    value: 500\n") == 1
    tech.write_text(text.replace("    value: 500\n", "    value: 400\n"), encoding="utf-8")
    return ref


def test_block_lists_policies_in_force_with_their_status(tmp_path: Path, catalog: Catalog) -> None:
    ref = _reference(tmp_path)
    res = runner.invoke(app, ["catalog", "readme", "--as-of", "2026-12-06", "--since", str(ref)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    live = [p for p in catalog if p.in_force(dt.date(2026, 12, 6))]
    assert lines[0] == BEGIN and lines[-1] == END
    assert lines[1].startswith(f"On 2026-12-06, **{len(live)} of the {len(catalog)} catalog policies are in force** "
                               f"(catalog {catalog.version})")
    assert lines[3] == (f"Since the reference catalog `{ref}` ({len(catalog) - 1} policies): **1 added**, "
                        f"**0 removed**, **0 ended**, **1 changed**, **{len(catalog) - 2} unchanged** "
                        f"(`recommender catalog diff {ref} {DEFAULT_DATA_DIR / 'catalog'}`).")
    rows = [x for x in lines if x.startswith("| ") and "`" in x]
    assert len(rows) == len(live)
    assert "| innovation | `cn-tech-sme-evaluation` | 科技型中小企业评价 | open | changed |" in rows
    assert all(p.id in "".join(rows) for p in live)
    assert not any("cn-rent-relief-2022" in x for x in rows)           # ended 2022-12-31


def test_write_replaces_the_block_and_refuses_a_file_without_one(tmp_path: Path) -> None:
    ref = _reference(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n{BEGIN}\nold text\n{END}\nafter\n", encoding="utf-8")
    res = runner.invoke(app, ["catalog", "readme", "--as-of", "2026-12-06", "--since", str(ref), "--write", str(readme)])
    assert res.exit_code == 0, res.output
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\nbefore\n{BEGIN}\nOn 2026-12-06, ") and text.endswith(f"|\n{END}\nafter\n")
    assert "old text" not in text and text.count(BEGIN) == 1
    plain = tmp_path / "plain.md"
    plain.write_text("# no block\n", encoding="utf-8")
    res = runner.invoke(app, ["catalog", "readme", "--since", str(ref), "--write", str(plain)])
    assert res.exit_code == 2 and "the file has no block between" in res.output
    assert plain.read_text(encoding="utf-8") == "# no block\n"
    missing = runner.invoke(app, ["catalog", "readme", "--since", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and f"error: '{tmp_path / 'nope'}' is" in missing.output


def test_the_project_readme_holds_the_block() -> None:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.index(BEGIN) < text.index(END)
