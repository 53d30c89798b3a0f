"""Every request observed once: its id, its access line and its latency.

:class:`RequestObserver` is the outermost middleware of the application (inside only
Starlette's own error middleware). For each HTTP request it

* takes the id from ``X-Request-ID`` when well formed, else generates one
  (:func:`api.logs.accept_request_id`), sets it for every line logged while the request is
  served (:data:`api.logs.REQUEST_ID`) and returns it in the ``X-Request-ID`` response header;
* when the response has been sent, counts it in the latency histogram by method, route
  template and status (:meth:`api.metrics.ServiceMetrics.observe_request`) and logs one access
  line (logger ``api.access``, level INFO) with ``route``, ``status`` and ``duration_ms``.

The route is the matched route's *template* (``/v1/jobs/{job_id}``), never the raw path: no
job id, firm or search word reaches a label or the access line. An unexpected error (500)
is answered by Starlette's error middleware outside this one; its handler
(:func:`api.errors.install_error_handlers`) adds the request id header itself, and the id
stays set for its log line (each request runs in a task of its own, so the id set here
never leaks into another request).
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import REQUEST_ID, REQUEST_ID_HEADER, accept_request_id
from api.metrics import UNMATCHED_ROUTE, ServiceMetrics, method_label

access = logging.getLogger("api.access")
_HEADER = REQUEST_ID_HEADER.lower().encode("ascii")


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (a mount's prefix for static files)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class RequestObserver:
    """ASGI middleware: request id, access line and latency of every HTTP request."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        raw = next((v for k, v in scope["headers"] if k == _HEADER), None)
        request_id, replaced = accept_request_id(raw)
        REQUEST_ID.set(request_id)
        if replaced:
            access.debug("the X-Request-ID header was malformed (%d bytes); replaced", len(raw or b""))
        header = (_HEADER, request_id.encode("ascii"))
        status = 500                          # unless a response starts: the app raised

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if not any(k.lower() == _HEADER for k, _ in headers):   # the 500 handler's has it
                    message["headers"] = [*headers, header]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_template(scope), method_label(scope["method"])
            self.metrics.observe_request(method, route, status, seconds)
            if access.isEnabledFor(logging.INFO):
                access.info("%s %s %d", method, route, status,
                            extra={"route": route, "status": status, "duration_ms": round(seconds * 1e3, 3)})
