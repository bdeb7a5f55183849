import os
import subprocess
import sys
from pathlib import Path

import pytest

from custodia.audit.models import AuditEvent
from custodia.protection.keyring import get_keyring

CUSTODIA = Path(sys.executable).with_name("custodia")


@pytest.mark.django_db
class CheckTests:
    def test_healthy_installation_passes(self, cli):
        get_keyring().active_kek()
        code, out = cli("check")
        assert code == 0, out
        for name in ("database reachable", "migrations applied", "keyring file", "keyring canary",
                     "audit registry closed"):
            assert name in out
        assert "FAIL" not in out and "All checks passed" in out

    def test_keyring_readable_by_others_fails(self, cli, settings, tmp_path):
        settings.CUSTODIA_KEYRING_PATH = str(tmp_path / "keyring.json")
        get_keyring().active_kek()
        os.chmod(settings.CUSTODIA_KEYRING_PATH, 0o644)
        code, out = cli("check")
        assert code == 1 and "mode 0644" in out and "FAIL" in out

    def test_missing_keyring_with_data_keys_fails(self, org, cli, settings, tmp_path, customer_factory):
        customer_factory(org.rep)
        settings.CUSTODIA_KEYRING_PATH = str(tmp_path / "elsewhere" / "keyring.json")
        code, out = cli("check")
        assert code == 1 and "restore the keyring file" in out
        assert not (tmp_path / "elsewhere" / "keyring.json").exists()

    def test_unregistered_audit_action_fails(self, cli):
        get_keyring().active_kek()
        AuditEvent.objects.bulk_create([AuditEvent(occurred_at="2026-01-01T00:00:00Z", event_type=99999,
                                                   action="rogue.action", actor_label="x", actor_role="x")])
        code, out = cli("check")
        assert code == 1 and "99999/rogue.action" in out


def test_console_script_honours_database_url(tmp_path):
    """The real ``custodia`` script: --database-url is read before the settings load."""
    data = tmp_path / "data"
    database = tmp_path / "elsewhere.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CUSTODIA_KEYRING", "DJANGO_SETTINGS_MODULE")}
    env["CUSTODIA_DATA_DIR"] = str(data)
    url = f"sqlite:///{database}"
    migrate = subprocess.run([CUSTODIA, "migrate", "--database-url", url, "-v", "0"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    check = subprocess.run([CUSTODIA, "--database-url", url, "check"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert str(database) in check.stdout and "All checks passed" in check.stdout
    assert database.exists() and not (data / "custodia.sqlite3").exists()
    assert oct(os.stat(data / "keyring.json").st_mode & 0o777) == "0o600"
    other = subprocess.run([CUSTODIA, "check", f"--database-url=sqlite:///{tmp_path / 'empty.sqlite3'}"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert other.returncode == 1 and "unapplied" in other.stdout
