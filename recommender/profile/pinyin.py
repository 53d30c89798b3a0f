"""The pinyin of every GB/T 4754-2017 industry name, made once and kept as data.

``data/reference/industry_pinyin.csv`` (``code,pinyin,initials``; ``code`` canonical, e.g.
``C3670``; ``pinyin`` the toneless syllables separated by spaces; ``initials`` their first
letters) lets the industry lookup match what a firm owner types on a phone (``qclbj``,
``qiche``) without a pinyin dictionary at run time. It is written by this module's
:func:`write_table` (``python -m recommender.profile.pinyin``) with ``pypinyin`` (a dev
dependency; its dictionary is bundled, nothing is fetched), and a test holds the committed
file equal to a fresh build.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from recommender.profile.reference import ReferenceTables, load_reference
from recommender.settings import DEFAULT_DATA_DIR

TABLE_NAME = "industry_pinyin.csv"
_SYLLABLE = re.compile(r"[a-z0-9]+")


def pinyin_rows(ref: ReferenceTables) -> list[tuple[str, str, str]]:
    """``(code, pinyin, initials)`` for every industry name, in the table's order.

    Non-Chinese characters (punctuation, ``3D``) are dropped except letters and digits, which
    are kept lower-cased as their own syllable.
    """
    from pypinyin import Style, lazy_pinyin  # dev dependency: only the table's builder needs it

    rows = []
    for code, name in ref.industry_names.items():
        syllables = [s for part in lazy_pinyin(name, style=Style.NORMAL, errors="default")
                     for s in _SYLLABLE.findall(part.lower())]
        rows.append((code, " ".join(syllables), "".join(s[0] for s in syllables)))
    return rows


def render_table(ref: ReferenceTables) -> str:
    """The CSV text of :func:`pinyin_rows` with its header (``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("code", "pinyin", "initials"))
    writer.writerows(pinyin_rows(ref))
    return out.getvalue()


def write_table(data_dir: Path = DEFAULT_DATA_DIR) -> Path:
    """Write ``data_dir/reference/industry_pinyin.csv`` from the industry table there."""
    path = Path(data_dir) / "reference" / TABLE_NAME
    path.write_text(render_table(load_reference(Path(data_dir))), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_table())
