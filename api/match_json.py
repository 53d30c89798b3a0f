"""Match results rendered to JSON bytes directly, as their response models would render them.

FastAPI validates a returned dict against the route's ``response_model`` and serialises the
model: for a match result of ten policies that is several milliseconds, most of a request.
The result dicts are built by the domain in the documented shape already, so
:func:`match_response` only adds what the models would (a declared field with a default that
the dict leaves out, e.g. ``rank_reasons: null``) and encodes with orjson. The route keeps
``response_model`` for the OpenAPI document; a test holds the bytes, parsed, equal to the
model's own rendering (and schemathesis checks them against the schema).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response
from pydantic import BaseModel

from api.schemas import CriterionResult, MatchResult, PolicyMatch


def _defaults(model: type[BaseModel]) -> tuple[tuple[str, Any], ...]:
    """``(name, default)`` of every optional field (the defaults are immutable or copied)."""
    return tuple((name, f.get_default(call_default_factory=True)) for name, f in model.model_fields.items()
                 if not f.is_required())


_RESULT = _defaults(MatchResult)
_MATCH = _defaults(PolicyMatch)
_CRITERION = _defaults(CriterionResult)


def _fill(d: dict[str, Any], defaults: tuple[tuple[str, Any], ...]) -> None:
    for name, value in defaults:
        if name not in d:
            d[name] = list(value) if isinstance(value, list) else value


def complete(result: dict[str, Any]) -> dict[str, Any]:
    """The result with the optional fields its models declare and it leaves out (in place)."""
    _fill(result, _RESULT)
    for m in result.get("matches", ()):
        _fill(m, _MATCH)
        for c in m.get("criteria", ()):
            _fill(c, _CRITERION)
    return result


def match_response(result: dict[str, Any]) -> Response:
    """One match result (SPEC §5) as a JSON response."""
    return Response(orjson.dumps(complete(result), option=orjson.OPT_SERIALIZE_NUMPY),
                    media_type="application/json")


def batch_response(body: dict[str, Any]) -> Response:
    """A batch envelope ``{catalog_version, model_version, results}`` as a JSON response."""
    for r in body["results"]:
        complete(r)
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")
