"""Identity events (ids 400–499): second factors, lockouts, deactivation.

Sign-in, failed sign-in and sign-out keep their access events (USER_LOGGED_IN 201,
USER_LOGIN_FAILED 202, USER_LOGGED_OUT 203), now recorded from allauth's signals.
"""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

MFA_ENROLLED = event(400, "MFA_ENROLLED", "identity.mfa.enrolled",
                     _("{actor} enrolled a second factor"), security=True)
MFA_REMOVED = event(401, "MFA_REMOVED", "identity.mfa.removed",
                    _("{actor} removed a second factor"), security=True)
MFA_USED = event(402, "MFA_USED", "identity.mfa.used",
                 _("{actor} confirmed their identity with a second factor"), security=True)
MFA_FAILED = event(403, "MFA_FAILED", "identity.mfa.failed",
                   _("Failed second-factor check"), security=True)
MFA_RECOVERY_CODES_REGENERATED = event(404, "MFA_RECOVERY_CODES_REGENERATED", "identity.mfa.recovery_codes.regenerated",
                                       _("{actor} generated new recovery codes"), security=True)
LOGIN_LOCKED = event(410, "LOGIN_LOCKED", "identity.login.locked",
                     _("Sign-in temporarily locked after repeated attempts"), security=True)
USER_DEACTIVATED = event(420, "USER_DEACTIVATED", "identity.user.deactivated",
                         _("{actor} deactivated a member of staff"), security=True)
USER_ACCESS_CUT = event(421, "USER_ACCESS_CUT", "identity.user.access_cut",
                        _("Sessions and API tokens of a deactivated member of staff were ended"), security=True)
USER_STATUS_CHANGED = event(422, "USER_STATUS_CHANGED", "identity.user.status_changed",
                            _("{actor} changed a member of staff's employment status"), security=True)
