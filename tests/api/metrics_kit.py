"""Reading ``GET /metrics`` in the tests: the samples of Prometheus' text format by name and labels."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition: ``(name, labels) → value`` (``_created`` samples left out)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if not s.name.endswith("_created")}


def scrape(client: httpx.Client) -> Samples:
    """``GET /metrics`` with the client's key (an admin's), parsed."""
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sample ``name`` with exactly ``labels`` (``None``: absent)."""
    return samples.get((name, frozenset(labels.items())))


def requests(samples: Samples, method: str, route: str, status: int) -> float:
    """Requests counted for ``method route`` answered with ``status`` (0 if none)."""
    return value(samples, "recommender_http_request_duration_seconds_count", method=method, route=route,
                 status=str(status)) or 0.0


def with_name(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """Every sample called ``name``, by its labels."""
    return {labels: v for (n, labels), v in samples.items() if n == name}
