"""API latency benchmark: POST /v1/match vs a trivial endpoint, at 4 and 32 connections.

Starts the service as deployed (one uvicorn worker unless ``--workers``, bundled catalog,
default model) on a free loopback port, drives it from an asyncio load generator with
keep-alive connections (raw HTTP/1.1 over sockets, so the generator costs little next to the
server), and prints p50/p99 latency, requests/s and errors for each endpoint and
concurrency, in the same run: the first sample firm alone (37 of the 48 policies are its
candidates), and every sample firm in turn (each connection starts at another firm). Then
it holds POST /v1/match under load for ``--memory-seconds`` and samples the server's
resident memory (all its processes) every second.

Usage::

    .venv/bin/python benchmarks/api_latency.py [--seconds 10] [--memory-seconds 60] [--rules-only]
        [--workers 1] [--as-served]

Targets on a 2-core machine: at 4 connections p50 <= 3 ms and p99 <= 10 ms; at 32
connections >= 800 requests/s on one worker with no errors; memory flat.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "samples" / "firms.jsonl"
P50_TARGET_MS = 3.0


@dataclass
class Run:
    """Latencies (seconds), error count and server CPU seconds of one load run."""

    label: str
    connections: int
    seconds: float
    latencies: list[float]
    errors: int
    server_cpu: float = float("nan")

    def line(self) -> str:
        lat = sorted(self.latencies)
        if not lat:
            return f"{self.label:34s} conns={self.connections:3d}  no successful request, errors={self.errors}"
        p50 = lat[len(lat) // 2] * 1e3
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3
        rps = len(lat) / self.seconds
        cpu = self.server_cpu / (len(lat) + self.errors) * 1e3
        return (f"{self.label:34s} conns={self.connections:3d}  p50={p50:8.2f} ms  p99={p99:8.2f} ms  "
                f"req/s={rps:8.1f}  n={len(lat):6d}  errors={self.errors}  server CPU/req={cpu:6.3f} ms")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive",
            f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(port: int, requests: Sequence[bytes], start: int, until: float, out: list[float],
                      errors: list[int]) -> None:
    """One keep-alive connection sending ``requests`` in turn (from ``start``) until ``until``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    first = start % len(requests)
    turn = itertools.cycle([*requests[first:], *requests[:first]])
    try:
        while time.perf_counter() < until:
            request = next(turn)
            begin = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status = await _read_response(reader)
            if status == 200:
                out.append(time.perf_counter() - begin)
            else:
                errors.append(status)
    finally:
        writer.close()


async def _load(port: int, requests: Sequence[bytes], connections: int, seconds: float) -> tuple[list[float], int]:
    until = time.perf_counter() + seconds
    latencies: list[float] = []
    errors: list[int] = []
    await asyncio.gather(*(_connection(port, requests, i, until, latencies, errors) for i in range(connections)))
    return latencies, len(errors)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the worker processes of ``--workers N``)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the server (the process and its workers) has used."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_load(label: str, port: int, requests: Sequence[bytes], connections: int, seconds: float, pid: int) -> Run:
    """One load run; ``server CPU/req`` is the worker's CPU time per request: on a machine
    whose cores are shared (other jobs, the load generator) it is the service time that
    latency and throughput figures cannot isolate."""
    asyncio.run(_load(port, requests, connections, min(1.0, seconds / 5)))      # warm-up
    cpu = cpu_seconds(pid)
    latencies, errors = asyncio.run(_load(port, requests, connections, seconds))
    return Run(label, connections, seconds, latencies, errors, cpu_seconds(pid) - cpu)


def rss_mib(pid: int) -> float:
    """Resident memory of the server's processes, summed."""
    total = 0
    for p in _tree(pid):
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return total / 1024


def start_server(port: int, env: dict[str, str], workers: int = 1, log: Path | None = None) -> subprocess.Popen[bytes]:
    """uvicorn on ``api.main:create_app``; with ``log``, ``recommender serve`` instead (as
    deployed: its log lines, JSON by default, written to ``log``, and multiprocess metrics)."""
    cmd = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--no-access-log", "--log-level", "warning"]
    if log is not None:
        cmd = [sys.executable, "-m", "recommender.cli.main", "serve", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=None if log is None else log.open("wb"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(_request("GET", "/readyz"))
                if b" 200 " in s.recv(4096).split(b"\r\n")[0] + b" ":
                    break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("the server did not become ready")
    while time.monotonic() < deadline:      # every worker loaded: the server's processes idle
        before = cpu_seconds(proc.pid)
        time.sleep(0.5)
        if cpu_seconds(proc.pid) - before < 0.05:
            return proc
    proc.kill()
    raise RuntimeError("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load run")
    parser.add_argument("--memory-seconds", type=float, default=60.0, help="duration of the memory run")
    parser.add_argument("--connections", type=int, nargs="+", default=[4, 32])
    parser.add_argument("--rules-only", action="store_true", help="no learned model (rule order)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (targets: 1)")
    parser.add_argument("--as-of", default="2022-06-30")
    parser.add_argument("--as-served", action="store_true", help="start it with `recommender serve` (its "
                        "log lines, to <var>/serve.log, and multiprocess metrics) instead of bare uvicorn")
    args = parser.parse_args()

    firms = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    matches = [_request("POST", f"/v1/match?as_of={args.as_of}", json.dumps(f).encode(),
                        {"Content-Type": "application/json"}) for f in firms]
    trivial = [_request("GET", "/healthz")]
    port = _free_port()
    with TemporaryDirectory() as var:
        # A deployed service has the model's trees compiled under var/compiled (make install);
        # the temporary var/ (own database and jobs) links to them, else LightGBM predicts.
        compiled = ROOT / "var" / "compiled"
        if compiled.is_dir():
            (Path(var) / "compiled").symlink_to(compiled, target_is_directory=True)
        else:
            print(f"note: no compiled trees in {compiled} (run make install): scoring by LightGBM")
        env = {**os.environ, "RECOMMENDER_VAR_DIR": var, "RECOMMENDER_RULES_ONLY": str(args.rules_only).lower()}
        env.pop("DATABASE_URL", None)
        env.pop("RECOMMENDER_DATABASE_URL", None)
        # the service refuses a database behind the schema: migrate the temporary one first, as an operator does
        subprocess.run([sys.executable, "-m", "recommender.cli.main", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        proc = start_server(port, env, args.workers, Path(var) / "serve.log" if args.as_served else None)
        try:
            ready = json.loads(subprocess.run(
                [sys.executable, "-c", f"import httpx;print(httpx.get('http://127.0.0.1:{port}/readyz').text)"],
                capture_output=True, text=True, check=True).stdout)
            print(f"load average before the run: {os.getloadavg()[0]:.2f} (other jobs share the cores)")
            print(f"server pid {proc.pid}: catalog {ready['catalog_version']} ({ready['policies']} policies), "
                  f"model {ready['model_version']}, cpus {os.cpu_count()}")
            print(f"workers {args.workers}; server RSS after start: {rss_mib(proc.pid):.1f} MiB")
            for conns in args.connections:
                print(run_load("GET /healthz (framework ceiling)", port, trivial, conns, args.seconds,
                               proc.pid).line(), flush=True)
                print(run_load("POST /v1/match (sample firm 1)", port, matches[:1], conns, args.seconds,
                               proc.pid).line(), flush=True)
                print(run_load(f"POST /v1/match ({len(matches)} firms in turn)", port, matches, conns,
                               args.seconds, proc.pid).line(), flush=True)
            print(f"(a closed loop of C connections on one worker has mean latency C / throughput "
                  f"(Little's law): p50 <= {P50_TARGET_MS:g} ms at 4 connections needs >= "
                  f"{4 / P50_TARGET_MS * 1e3:,.0f} requests/s, i.e. <= {P50_TARGET_MS / 4:.2f} ms of server "
                  f"time a request)")
            if args.memory_seconds > 0:
                samples: list[float] = []

                async def sample() -> None:
                    end = time.perf_counter() + args.memory_seconds
                    while time.perf_counter() < end:
                        samples.append(rss_mib(proc.pid))
                        await asyncio.sleep(1.0)

                async def memory_run() -> tuple[list[float], int]:
                    load = asyncio.create_task(_load(port, matches, 4, args.memory_seconds))
                    await sample()
                    return await load

                lat, errors = asyncio.run(memory_run())
                third = max(1, len(samples) // 3)
                print(f"memory over {args.memory_seconds:.0f} s of POST /v1/match at 4 connections "
                      f"({len(lat)} requests, {errors} errors): RSS first {samples[0]:.1f} MiB, "
                      f"max {max(samples):.1f} MiB, last {samples[-1]:.1f} MiB; mean of first third "
                      f"{statistics.mean(samples[:third]):.1f}, last third {statistics.mean(samples[-third:]):.1f} MiB")
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
