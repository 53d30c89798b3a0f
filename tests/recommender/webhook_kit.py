"""A local webhook receiver for the alert tests: a tiny threaded HTTP server that records
every POST (path, headers, raw body) and answers 204 — or, for the first ``fail_first``
requests, ``fail_status`` — and a signature check as a receiver would do it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("X-Signature", ""), expected)


class Receiver:
    """``with Receiver(fail_first=2) as hook:`` serves at ``hook.url`` until the block ends."""

    def __init__(self, *, fail_first: int = 0, fail_status: int = 503) -> None:
        self.received: list[Received] = []          # every request, failed ones too
        self.fail_first = fail_first
        self.fail_status = fail_status
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner._lock:
                    owner.received.append(Received(self.path, dict(self.headers.items()), body))
                    failing = len(owner.received) <= owner.fail_first
                self.send_response(owner.fail_status if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def accepted(self) -> list[Received]:
        """The requests answered 2xx (after the failing ones)."""
        with self._lock:
            return self.received[self.fail_first:]
