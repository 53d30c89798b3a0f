"""What observing a request costs: :class:`api.observe.RequestObserver` around a trivial ASGI app.

The load generator of ``api_latency.py`` measures the whole service on a shared machine,
where other jobs move the figures by more than the cost of a histogram and a log line. This
script isolates that cost: it calls a trivial ASGI app (answers 200, empty body) directly,
``--requests`` times, in CPU time (``time.process_time``), bare and wrapped in the observer

* with the metrics in memory and the access line filtered out (logging not configured, as
  under bare uvicorn: the level check is all it costs);
* as ``recommender serve`` runs it: multiprocess metrics (files in a temporary directory) and
  the JSON access line written to a file.

Prints microseconds of CPU per request for each, and the difference. Usage::

    .venv/bin/python benchmarks/observability_overhead.py [--requests 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ROOT = Path(__file__).resolve().parent.parent

SCOPE_HEADERS = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]


async def _trivial(scope: Scope, receive: Receive, send: Send) -> None:
    scope["route"] = _ROUTE                   # as the router leaves it
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


class _Route:
    path = "/v1/match"


_ROUTE = _Route()


async def _drive(app: ASGIApp, n: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    start = time.process_time()
    for _ in range(n):
        scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/v1/match", "headers": SCOPE_HEADERS}
        await app(scope, receive, send)
    return (time.process_time() - start) / n * 1e6


def _measure(mode: str, n: int) -> float:
    """Microseconds of CPU per request in ``mode`` (run in this process)."""
    from api.logs import ContextFilter, JsonFormatter
    from api.metrics import ServiceMetrics
    from api.observe import RequestObserver

    if mode == "bare":
        return asyncio.run(_drive(_trivial, n))
    metrics = ServiceMetrics(api_version="bench")
    if mode == "served":
        handler = logging.FileHandler(os.environ["BENCH_LOG"], encoding="utf-8")
        handler.setFormatter(JsonFormatter())
        handler.addFilter(ContextFilter())
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
    return asyncio.run(_drive(RequestObserver(_trivial, metrics=metrics), n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--mode", choices=["bare", "memory", "served"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:                                  # one measurement, in a fresh process
        print(f"{_measure(args.mode, args.requests):.2f}")
        return
    results = {}
    with TemporaryDirectory() as tmp:
        for mode in ("bare", "memory", "served"):
            env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_LOG": str(Path(tmp) / "access.log")}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            if mode == "served":                   # set before prometheus_client is imported, as serve does
                (Path(tmp) / "metrics").mkdir()
                env["PROMETHEUS_MULTIPROC_DIR"] = str(Path(tmp) / "metrics")
            out = subprocess.run([sys.executable, __file__, "--mode", mode, "--requests", str(args.requests)],
                                 env=env, capture_output=True, text=True, check=True).stdout
            results[mode] = float(out.strip())
        lines = sum(1 for _ in open(Path(tmp) / "access.log", encoding="utf-8"))
    print(f"load average: {os.getloadavg()[0]:.2f}; {args.requests:,} requests per mode (CPU µs per request)")
    print(f"trivial ASGI app, bare:                                  {results['bare']:7.2f} µs")
    print(f"+ observer, metrics in memory, access line filtered out: {results['memory']:7.2f} µs "
          f"(+{results['memory'] - results['bare']:.2f})")
    print(f"+ observer as served: multiprocess metrics, JSON line:   {results['served']:7.2f} µs "
          f"(+{results['served'] - results['bare']:.2f}; {lines:,} log lines written)")


if __name__ == "__main__":
    main()
