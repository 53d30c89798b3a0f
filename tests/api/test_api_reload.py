"""POST /v1/admin/reload: atomic under concurrent requests; a broken catalog is refused."""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from .api_testkit import AS_OF, KEYS, LiveServer, make_settings

from api.main import create_app

ADMIN = {"X-API-Key": KEYS["admin"]}


def _one_policy_file(catalog: Path) -> Path:
    return sorted(catalog.rglob("*.yaml"))[0]


def test_reload_is_atomic_under_load(tmp_path: Path, catalog_copy: Path, profile: dict[str, Any]) -> None:
    settings = make_settings(tmp_path / "var", catalog_dir=catalog_copy, rules_only=True)
    victim = _one_policy_file(catalog_copy)
    kept = victim.read_bytes()
    seen: dict[str, set[int]] = defaultdict(set)
    failures: list[str] = []
    stop = threading.Event()

    with LiveServer(create_app(settings)) as srv:
        def hammer() -> None:
            with srv.client() as c:
                while not stop.is_set():
                    r = c.post("/v1/match", params={"as_of": AS_OF, "all": "true"}, json=profile)
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                        continue
                    body = r.json()
                    seen[body["catalog_version"]].add(len(body["matches"]))

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        versions = []
        with srv.client() as admin:
            admin.headers.update(ADMIN)
            for i in range(3):
                if i % 2 == 0:
                    victim.unlink()
                else:
                    victim.write_bytes(kept)
                r = admin.post("/v1/admin/reload")
                assert r.status_code == 200, r.text
                versions.append(r.json()["catalog_version"])
        stop.set()
        for t in threads:
            t.join()

    assert failures == []
    assert len(set(versions)) == 2
    assert set(seen) == set(versions)
    # every response saw one whole catalog: one policy count per catalog version
    assert all(len(counts) == 1 for counts in seen.values()), dict(seen)
    assert len({next(iter(c)) for c in seen.values()}) == len(seen)


def test_broken_catalog_is_refused_and_the_old_one_keeps_serving(tmp_path: Path, catalog_copy: Path,
                                                                   profile: dict[str, Any]) -> None:
    settings = make_settings(tmp_path / "var", catalog_dir=catalog_copy, rules_only=True)
    with LiveServer(create_app(settings)) as srv, srv.client() as c:
        before = c.get("/readyz").json()["catalog_version"]
        victim = _one_policy_file(catalog_copy)
        victim.write_text(victim.read_text(encoding="utf-8") + "\nsurprise_key: 1\n", encoding="utf-8")
        r = c.post("/v1/admin/reload", headers=ADMIN)
        assert r.status_code == 409
        body = r.json()
        assert body["detail"].startswith("catalog refused:")
        assert body["issues"][0]["field"].startswith(str(victim.relative_to(catalog_copy)))
        assert body["issues"][0]["reason"] == "unknown key"
        assert c.get("/readyz").json()["catalog_version"] == before
        served = c.post("/v1/match", params={"as_of": AS_OF}, json=profile)
        assert served.status_code == 200 and served.json()["catalog_version"] == before


def test_unparseable_yaml_is_refused(tmp_path: Path, catalog_copy: Path) -> None:
    settings = make_settings(tmp_path / "var", catalog_dir=catalog_copy, rules_only=True)
    with LiveServer(create_app(settings)) as srv, srv.client() as c:
        (catalog_copy / "relief" / "zz-broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
        r = c.post("/v1/admin/reload", headers=ADMIN)
        assert r.status_code == 409
        assert r.json()["issues"][0]["field"].startswith("relief/zz-broken.yaml")


def test_reload_is_audited(clients: dict[Any, httpx.Client]) -> None:
    r = clients["admin"].post("/v1/admin/reload")
    assert r.status_code == 200
    entry = clients["admin"].get("/v1/admin/audit", params={"limit": 1}).json()[0]
    assert (entry["action"], entry["role"], entry["catalog_version"]) == ("reload", "admin", r.json()["catalog_version"])
