import pytest

from custodia.cli import COMMANDS, UsageError, main, pop_database_url


class MainTests:
    def test_help_lists_every_command(self, capsys):
        assert main(["--help"]) == 0
        out = capsys.readouterr().out
        for name in ("serve", "demo", "import", "export", "keys", "token", "check", "migrate", "manage",
                     "--database-url"):
            assert name in out
        assert set(COMMANDS) >= {"serve", "demo", "import", "export", "keys", "token", "check"}

    def test_unknown_command_is_a_usage_error(self, capsys):
        assert main(["frobnicate"]) == 2
        assert "unknown command 'frobnicate'" in capsys.readouterr().err

    def test_two_word_commands_need_their_second_word(self, capsys):
        assert main(["import", "contacts", "x.csv"]) == 2
        assert "needs one of: customers" in capsys.readouterr().err
        assert main(["export"]) == 2
        assert main([]) == 2

    def test_command_usage_errors_exit_2(self, capsys):
        assert main(["import", "customers"]) == 2  # FILE missing
        assert main(["export", "customers", "--format", "pdf"]) == 2

    def test_database_url_is_taken_from_anywhere(self):
        assert pop_database_url(["--database-url", "sqlite:///a", "check"]) == (["check"], "sqlite:///a")
        assert pop_database_url(["check", "--database-url=postgres://h/db"]) == (["check"], "postgres://h/db")
        assert pop_database_url(["import", "customers", "f.csv"]) == (["import", "customers", "f.csv"], None)
        with pytest.raises(UsageError):
            pop_database_url(["check", "--database-url"])
        assert main(["check", "--database-url"]) == 2


@pytest.mark.django_db
class ServeAndDemoRoutingTests:
    def test_serve_and_demo_route_to_their_commands(self, capsys):
        assert main(["serve", "--help"]) == 0
        assert "--port" in capsys.readouterr().out
        assert main(["demo", "--help"]) == 0
        assert "--customers" in capsys.readouterr().out

    def test_manage_passes_through(self, capsys):
        assert main(["manage", "showmigrations", "customers"]) == 0
        assert "0001_initial" in capsys.readouterr().out
