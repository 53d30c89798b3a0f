"""Request size limits, enforced before a handler reads the body.

Bodies above ``max_body_bytes`` (``max_upload_bytes`` for registry uploads: ``/v1/jobs`` and the workspace's job and
find-firms forms)
get 413 with a JSON error: at once when ``Content-Length`` says so, otherwise as soon as the
streamed body crosses the limit.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError

UPLOAD_PATHS = ("/v1/jobs", "/caseworker/jobs", "/caseworker/find-firms")
"""Registry uploads (the API's and the caseworker workspace's); every other body has the smaller limit."""


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"request body larger than {limit} bytes",
                    [("body", f"at most {limit} bytes (see RECOMMENDER_MAX_BODY_BYTES / _MAX_UPLOAD_BYTES)")])


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over the configured limit."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"] in UPLOAD_PATHS else self.max_body
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(send, _too_large(limit))
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)    # turned into a 413 by the ApiError handler
            return message

        await self.app(scope, limited, send)


async def _send_error(send: Send, err: ApiError) -> None:
    body = json.dumps({"detail": err.detail,
                       "issues": [{"field": f, "reason": r} for f, r in err.issues]}).encode()
    await send({"type": "http.response.start", "status": err.status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
