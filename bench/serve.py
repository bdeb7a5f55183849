"""Start and stop gunicorn on a free loopback port for the HTTP benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
from common import GUNICORN, REPO, bench_env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``gunicorn custodia.config.wsgi`` with N sync workers on 127.0.0.1, plain endpoints mounted."""

    def __init__(self, data_dir: Path, *, workers: int = 2, env: dict | None = None, name: str = "gunicorn"):
        self.data_dir = data_dir
        self.workers = workers
        self.extra_env = env or {}  # e.g. CUSTODIA_MONITOR_ENABLED for the monitoring benchmark
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / f"{name}.log"

    def start(self, probe_path: str, token: str, timeout: float = 60.0) -> None:
        cmd = [GUNICORN, "custodia.config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(self.workers), "--worker-class", "sync", "--backlog", "128",
               "--timeout", "60", "--graceful-timeout", "5", "--log-level", "warning",
               "--error-logfile", str(self.log)]
        self.proc = subprocess.Popen(cmd, env=bench_env(self.data_dir, **self.extra_env), cwd=REPO, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, headers={"Authorization": f"Token {token}"},
                          trust_env=False, timeout=10) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log}")
                try:
                    if http.get(probe_path).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {self.log}")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the master we started)."""
        if self.proc is None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)  # the master we started; it stops its workers
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own new session only
            self.proc.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
