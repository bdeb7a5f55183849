"""A bounded HTTP load generator: a fixed number of threads, each with its own httpx client,
sending GETs back to back to a loopback server for a fixed time (and at most a fixed number of
requests). Latency is measured on the client, from sending the request to reading the whole body.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

PathPicker = Callable[[random.Random], str]


@dataclass
class RunResult:
    label: str
    seconds: float = 0.0
    ok: int = 0
    errors: int = 0
    statuses: dict = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def merge(self, other: RunResult) -> None:
        self.seconds += other.seconds
        self.ok += other.ok
        self.errors += other.errors
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.latencies.extend(other.latencies)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def client(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Token {token}", "Accept": "application/json"},
        timeout=httpx.Timeout(30.0), limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        trust_env=False,  # never a proxy: loopback only
    )


def run(label: str, base_url: str, token: str, pick: PathPicker, *, concurrency: int, duration: float,
        max_requests: int, seed: int) -> RunResult:
    """Drive ``concurrency`` closed-loop clients for ``duration`` seconds (or ``max_requests``)."""
    if not base_url.startswith(("http://127.0.0.1:", "http://[::1]:", "http://localhost:")):
        raise ValueError("the load generator only talks to a loopback server")
    lock = threading.Lock()
    budget = {"left": max_requests}
    parts = [RunResult(label) for _ in range(concurrency)]
    start_gate = threading.Barrier(concurrency + 1)
    deadline_box = {}

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        part = parts[n]
        with client(base_url, token) as http:
            start_gate.wait()
            deadline = deadline_box["t"]
            while time.perf_counter() < deadline:
                with lock:
                    if budget["left"] <= 0:
                        break
                    budget["left"] -= 1
                path = pick(rng)
                t0 = time.perf_counter()
                try:
                    response = http.get(path)
                    response.read()
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                elapsed = time.perf_counter() - t0
                part.statuses[status] = part.statuses.get(status, 0) + 1
                if status == 200:
                    part.ok += 1
                    part.latencies.append(elapsed)
                else:
                    part.errors += 1

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(concurrency)]
    for t in threads:
        t.start()
    deadline_box["t"] = time.perf_counter() + duration
    began = time.perf_counter()
    start_gate.wait()
    for t in threads:
        t.join(timeout=duration + 60)
    total = RunResult(label)
    for part in parts:
        total.merge(part)
    total.seconds = time.perf_counter() - began
    return total
