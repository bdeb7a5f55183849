from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "custodia.access"
    label = "access"
    verbose_name = _("Access")

    def ready(self):
        # A person's grants are cached on their user object for a request; any change to roles,
        # grants, assignments or time-bound grants makes those caches stale at once (in-process;
        # other processes build a new user object per request anyway). Not audit: cache only.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from custodia.access import jobs, models, policy  # noqa: F401  (jobs: register the periodic task)

        for model in (models.Role, models.RoleGrant, models.CustomerAssignment, models.AccessGrant):
            post_save.connect(policy.invalidate, sender=model, dispatch_uid=f"access-invalidate-save-{model.__name__}")
            post_delete.connect(policy.invalidate, sender=model,
                                dispatch_uid=f"access-invalidate-delete-{model.__name__}")
        m2m_changed.connect(policy.invalidate, sender=models.RoleGrant.departments.through,
                            dispatch_uid="access-invalidate-departments")
