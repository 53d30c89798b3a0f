"""Property-based run of the OpenAPI schema (schemathesis) against a live uvicorn server.

The schema is the app's own (built without starting it, at import); a test checks that the
live server serves exactly this schema. Every operation gets a bounded number of generated
requests, sent with an admin key so the handlers, not the key check, see the data. Checks:
no server error, only documented status codes and content types, and every response body
valid against its documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from .api_testkit import KEYS, LiveServer, make_settings
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from api.main import create_app
from recommender.settings import Settings

MAX_EXAMPLES = 50
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPENAPI: dict[str, Any] = create_app(Settings()).openapi()

schema = schemathesis.openapi.from_dict(OPENAPI)
schema.config.generation.update(modes=[GenerationMode.POSITIVE], max_examples=MAX_EXAMPLES,
                                deterministic=True, database="none")
# The coverage phase sends hundreds of boundary cases per operation regardless of
# max_examples; examples + fuzzing keep the run bounded (< 1 minute).
schema.config.phases.coverage.enabled = False
schema.config.phases.stateful.enabled = False


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cfg = make_settings(tmp_path_factory.mktemp("fuzz"), job_chunk_rows=1000, rules_only=True)
    with LiveServer(create_app(cfg)) as srv:
        yield srv.url


def test_live_server_serves_this_schema(base_url: str) -> None:
    assert httpx.get(f"{base_url}/openapi.json").json() == OPENAPI


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])
def test_api_conforms_to_its_schema(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers={"X-API-Key": KEYS["admin"]}, checks=CHECKS)
