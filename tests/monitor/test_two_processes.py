"""Counters work across several app processes: two real servers (``custodia serve``, gunicorn)
on one SQLite database, a rep's API requests alternating between them, are refused at the same
cumulative count as one server alone, so the count is shared. Once with the database store
(the default) and once with Redis (skipped with a message when Redis is not reachable, except
under CI=true, where it fails).

The servers run in their own data directory (a fresh database migrated first, seeded by a
script run in a subprocess); nothing here touches the test database.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import require_component

ROOT = Path(__file__).resolve().parents[2]
THRESHOLD = 150  # volume.viewed.5m, the shipped default
PAGE_SIZE = 25
CUSTOMERS = 300
REDIS_URL = os.environ.get("CUSTODIA_TEST_MONITOR_REDIS") or os.environ.get("REDIS_URL") \
    or "redis://127.0.0.1:6379/13"

SEED = textwrap.dedent("""
    import json, sys

    import django

    django.setup()
    from django.utils import timezone

    from custodia.access.services import api_token_create
    from custodia.customers.models import Customer
    from custodia.kernel.actor import Actor
    from custodia.testing.factories import make_org, make_user

    org = make_org()
    now = timezone.now()
    tokens = {}
    count = int(sys.argv[1])
    for name in sys.argv[2:]:
        rep = make_user(name, "rep", org.team_a, org.manager)
        Customer.objects.bulk_create([
            Customer(kind="individual", name=f"{name}-{i}", owner=rep, team=org.team_a, department=org.dept_a,
                     created_at=now, updated_at=now)
            for i in range(count)
        ])
        tokens[name] = api_token_create(actor=Actor.system("tests"), username=name)
    print(json.dumps(tokens))
""")


def _env(data_dir: Path, redis: str) -> dict:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "CUSTODIA_KEYRING", "CUSTODIA_DEBUG", "CUSTODIA_ENV", "REDIS_URL",
                 "PYTEST_XDIST_WORKER", "CUSTODIA_MONITOR_ENABLED"):
        env.pop(name, None)
    env.update({
        "CUSTODIA_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "custodia.config.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "CUSTODIA_MONITOR_REDIS": redis, "CUSTODIA_MONITOR_SIEM": f"file:{data_dir / 'alerts.jsonl'}",
        "CUSTODIA_LOG_LEVEL": "WARNING", "CUSTODIA_WEB_WORKERS": "1",
    })
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated SQLite database with four reps of 300 customers each and their API tokens."""
    data = tmp_path_factory.mktemp("two-processes")
    env = _env(data, "off")
    cli = [sys.executable, "-m", "custodia.cli"]
    subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=180)
    seeded = subprocess.run([sys.executable, "-c", SEED, str(CUSTOMERS), "mon1", "mon2", "mon3", "mon4"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=180)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    return data, json.loads(seeded.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """``custodia serve`` twice (one gunicorn worker each, no background worker), stopped by the
    ids of the processes started here."""

    def __init__(self, data: Path, redis: str):
        self.data, self.env = data, _env(data, redis)
        self.procs: list[subprocess.Popen] = []
        self.urls: list[str] = []
        self.logs: list = []

    def start(self, count: int = 2, timeout: float = 60) -> list[str]:
        import httpx

        for _ in range(count):
            port = _free_port()
            log = open(self.data / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed in stop()
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "custodia.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", "1", "--no-worker"], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))
            self.urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=5) as http:
            for url, proc in zip(self.urls, self.procs, strict=True):
                while True:
                    assert proc.poll() is None, f"server {url} exited; see {self.data}"
                    try:
                        if http.get(f"{url}/login/").status_code == 200:  # no customer is viewed
                            break
                    except httpx.HTTPError:
                        pass
                    assert time.monotonic() < deadline, f"server {url} did not answer; see {self.data}"
                    time.sleep(0.2)
        return self.urls

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # serve stops its gunicorn
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the session started here only
                proc.wait(timeout=5)
        for log in self.logs:
            log.close()


def page_until_refused(urls: list[str], token: str) -> dict:
    """API list pages of 25, sent to the servers in turn, until one is refused."""
    import httpx

    seen, served_by = 0, set()
    headers = {"Authorization": f"Token {token}", "Accept-Language": "en"}
    with httpx.Client(trust_env=False, timeout=30, headers=headers) as http:
        for n in range(1, CUSTOMERS // PAGE_SIZE + 1):
            url = urls[(n - 1) % len(urls)]
            response = http.get(f"{url}/api/v1/customers/", params={"page": n, "page_size": PAGE_SIZE})
            if response.status_code != 200:
                after = [http.get(f"{u}/api/v1/customers/", params={"page": n + 1, "page_size": PAGE_SIZE})
                         for u in urls]
                return {"seen": seen, "status": response.status_code, "body": response.json(),
                        "served_by": served_by, "after": [(r.status_code, r.json().get("code")) for r in after]}
            served_by.add(url)
            seen += len(response.json()["results"])
    return {"seen": seen, "status": 200, "served_by": served_by}


@pytest.mark.parametrize("store", ["database", "redis"])
def test_counts_are_shared_by_two_server_processes(site, store):
    data, tokens = site
    if store == "redis":
        redis_url = REDIS_URL
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
            reachable = True
        except Exception:  # noqa: BLE001 - any failure means no Redis here
            reachable = False
        require_component(reachable, f"Redis at {redis_url} (the monitor's Redis store)")
        single, shared = "mon3", "mon4"
    else:
        redis_url, single, shared = "off", "mon1", "mon2"
    servers = Servers(data, redis_url)
    try:
        urls = servers.start(2)
        one = page_until_refused(urls[:1], tokens[single])
        two = page_until_refused(urls, tokens[shared])
    finally:
        servers.stop()

    assert one["status"] == 403 and one["body"]["code"] == "monitor_denied", one
    assert one["seen"] + PAGE_SIZE == THRESHOLD  # one server: refused at the request reaching 150
    assert two["status"] == 403 and two["body"]["code"] == "monitor_denied", two
    assert two["served_by"] == set(urls)  # both servers answered before the refusal ...
    assert two["seen"] == one["seen"]  # ... and together they refused at the same count: it is shared
    assert [status for status, _code in two["after"]] == [403, 403]  # and both refuse what follows
