import pytest
from django.utils import translation

from custodia.access.models import Role
from custodia.kernel.actor import Actor


@pytest.fixture
def as_():
    return Actor.for_user


@pytest.fixture
def limits():
    """limits("rep", reveals_per_hour=2, export_row_limit=3): change a role's limits for the test."""

    def set_(code, **values):
        Role.objects.filter(code=code).update(**values)

    return set_


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English (a deployment shows them in Simplified Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def cli(capsys):
    """``cli("approvals", "list", "--actor", "manager01")`` -> (exit code, stdout + stderr)."""
    from custodia.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run
