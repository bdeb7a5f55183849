"""`manage.py check --deploy --fail-level WARNING` passes with production settings (issue 3's
quality bar), run in a subprocess so the settings are read from a production environment; the
development defaults stay usable over plain http on 127.0.0.1 (`make demo`)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_check(tmp_path, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("CUSTODIA_") and k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    base |= {"CUSTODIA_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "custodia.config.settings"}
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=120)


class DeployCheckTests:
    def test_production_settings_pass_the_deploy_check(self, tmp_path):
        key = tmp_path / "secret_key"
        key.write_text(secrets.token_urlsafe(50))
        result = run_check(tmp_path, CUSTODIA_ENV="production", CUSTODIA_SECRET_KEY_FILE=str(key),
                           CUSTODIA_ALLOWED_HOSTS="crm.example.cn")
        assert result.returncode == 0, result.stdout + result.stderr

    def test_behind_a_tls_proxy_that_redirects(self, tmp_path):
        result = run_check(tmp_path, CUSTODIA_ENV="production", CUSTODIA_SSL_REDIRECT="false")
        assert result.returncode == 0, result.stdout + result.stderr

    def test_development_stays_on_plain_http(self, tmp_path):
        """Development (the default) serves http://127.0.0.1: no secure-only cookies, no HSTS, so the
        deploy check rightly warns there."""
        result = run_check(tmp_path)
        assert result.returncode != 0
        assert "security.W012" in result.stderr and "security.W004" in result.stderr
