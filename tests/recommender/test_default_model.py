"""The committed default model belongs to the bundled catalog (retrain after catalog edits)."""

from __future__ import annotations

import json

from recommender.matching.runtime import load_ranker
from recommender.settings import Settings


def test_default_model_loads_for_the_bundled_catalog(catalog) -> None:
    model_dir = Settings().resolved_model_dir()
    assert model_dir is not None, "data/models/default is missing"
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["catalog_version"] == catalog.version, (
        "the catalog changed since the default model was trained: rebuild it (data/models/README.md)")
    ranker = load_ranker(model_dir, catalog, required=True)
    assert ranker is not None and ranker.version.startswith("ltr-")
