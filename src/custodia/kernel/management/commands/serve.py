"""`custodia serve`: the web app under gunicorn plus the background worker (Huey consumer)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

# The path only (%(U)s), never the query string: a search by mobile number must not reach the log.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class Command(BaseCommand):
    help = "Serve the app with gunicorn and run the background worker alongside it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=int(os.environ.get("CUSTODIA_WEB_WORKERS", "2")))
        parser.add_argument("--no-worker", action="store_true", help="do not start the background worker")

    def handle(self, *args, **opts):
        env = dict(os.environ, DATABASE_URL=os.environ.get("DATABASE_URL", ""))
        if not env["DATABASE_URL"]:
            env.pop("DATABASE_URL")
        env["CUSTODIA_KEYRING"] = str(settings.CUSTODIA_KEYRING_PATH)
        bin_dir = os.path.dirname(sys.executable)
        web = [os.path.join(bin_dir, "gunicorn"), "custodia.config.wsgi:application",
               "--bind", f"{opts['host']}:{opts['port']}", "--workers", str(opts["workers"]),
               "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT, "--graceful-timeout", "10"]
        procs = [subprocess.Popen(web, env=env)]
        if not opts["no_worker"]:
            manage = [sys.executable, "-m", "django", "run_huey", "--settings", "custodia.config.settings"]
            procs.append(subprocess.Popen(manage, env=env))
        self.stdout.write(f"Serving on http://{opts['host']}:{opts['port']}/ (Ctrl-C to stop)")

        def stop(*_):
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in procs):
                try:
                    procs[0].wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for proc in procs:
                proc.wait(timeout=15)
