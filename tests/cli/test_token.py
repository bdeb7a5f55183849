import pytest
from rest_framework.exceptions import AuthenticationFailed

from custodia.access.authentication import ApiTokenAuthentication
from custodia.access.models import ApiToken
from custodia.audit.models import AuditEvent


@pytest.mark.django_db
class TokenCreateTests:
    def test_prints_a_working_token_once_and_audits(self, org, cli):
        code, out = cli("token", "create", "rep01", "--label", "crm sync")
        assert code == 0, out
        token = next(line for line in out.splitlines() if line.startswith("cst_"))
        assert "Store it safely" in out and "Acting as system:cli" in out
        user, record = ApiTokenAuthentication().authenticate_credentials(token)
        assert user == org.rep and record.label == "crm sync"
        assert token not in {t.digest for t in ApiToken.objects.all()}  # only a digest is stored
        event = AuditEvent.objects.get(action="access.token.created")
        assert event.actor_label == "system:cli" and event.target_id == org.rep.pk
        assert event.detail["token_id"] == str(record.id) and token not in str(event.detail)
        with pytest.raises(AuthenticationFailed):
            ApiTokenAuthentication().authenticate_credentials(token + "x")

    def test_unknown_user_is_a_clear_error(self, org, cli):
        code, out = cli("token", "create", "nobody")
        assert code == 1 and "No active member of staff with username 'nobody'" in out
        assert not ApiToken.objects.exists()

    def test_usage_errors(self, org, cli):
        assert cli("token")[0] == 2
        assert cli("token", "create")[0] == 2
