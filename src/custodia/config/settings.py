"""Django settings for Custodia. All deployment-specific values come from ``config.env``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from custodia.config import env

BASE_DIR = env.BASE_DIR
PRODUCTION = env.env_str("CUSTODIA_ENV", "development") == "production"
# Off unless asked for: a debug page would show local variables, i.e. personal data.
DEBUG = env.env_bool("CUSTODIA_DEBUG", default=False)
SECRET_KEY = env.secret_key()
ALLOWED_HOSTS = [h for h in env.env_str("CUSTODIA_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env.env_str("CUSTODIA_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "huey.contrib.djhuey",
    "custodia.kernel",
    "custodia.protection",
    "custodia.access",
    "custodia.audit",
    "custodia.customers",
    "custodia.reviews",
    "custodia.approvals",
    "custodia.monitor",
    "custodia.demo",
    "custodia.identity",  # before allauth: its templates override allauth's
    "django.contrib.humanize",  # allauth's session and security-key lists
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.usersessions",
]
INSTALLED_APPS += ["custodia.benchplain"] if env.env_bool("CUSTODIA_BENCH_PLAIN") else []  # `make bench` only

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "custodia.kernel.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "custodia.identity.middleware.SessionLifetimeMiddleware",
    "custodia.identity.middleware.MfaRequiredMiddleware",
    "custodia.monitor.inline.MonitorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "custodia.kernel.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "custodia.config.urls"
WSGI_APPLICATION = "custodia.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "custodia.kernel.context_processors.permissions",
                "custodia.monitor.context_processors.monitor_nav",
            ],
        },
    }
]

DATABASES = {"default": env.database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "access.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["custodia.identity.backends.StaffBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: Simplified Chinese first, English second; UTC stored, Shanghai shown.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "src" / "custodia" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"

STATIC_URL = "/static/"
STATIC_ROOT = env.data_dir() / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.env_int("CUSTODIA_SESSION_AGE", 8 * 3600)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.env_bool("CUSTODIA_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if not SECURE_SSL_REDIRECT:
        # CUSTODIA_SSL_REDIRECT=false: the TLS-terminating proxy in front redirects http to https itself
        # (a deliberate, documented choice), so `check --deploy` need not warn about it.
        SILENCED_SYSTEM_CHECKS = ["security.W008"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "custodia.access.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # MfaEnrolled: no customer data for a person whose role needs a second factor and has none.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "custodia.identity.permissions.MfaEnrolled"],
    "DEFAULT_PAGINATION_CLASS": "custodia.kernel.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "custodia.kernel.api.exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Custodia API",
    "DESCRIPTION": "Customer-asset registry with protected fields. Protected values are masked; "
    "use the reveal endpoint with a stated purpose to see one value (audited).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Background jobs: Huey on SQLite by default, Redis when REDIS_URL is set.
_redis_url = env.env_str("REDIS_URL")
HUEY = {
    "name": "custodia",
    "immediate": env.env_bool("CUSTODIA_HUEY_IMMEDIATE", False),
    "consumer": {"workers": 2, "worker_type": "thread"},
}
if _redis_url:
    HUEY.update({"huey_class": "huey.PriorityRedisHuey", "url": _redis_url})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(env.data_dir() / "huey.sqlite3")})

# Shared cache (login rate limits, used TOTP codes) across every app process: Redis when
# REDIS_URL is set, else a database table (created by the identity app's migration).
if _redis_url:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url,
                          "KEY_PREFIX": "custodia"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "custodia_cache"}}

# Sign-in (django-allauth): staff usernames, no public sign-up, MFA, rate limits, OIDC SSO.
CUSTODIA_SESSION_IDLE_SECONDS = env.env_int("CUSTODIA_SESSION_IDLE_SECONDS", 30 * 60)
CUSTODIA_SESSION_MAX_SECONDS = SESSION_COOKIE_AGE
CUSTODIA_LOGIN_LOCKOUT_SECONDS = env.env_int("CUSTODIA_LOGIN_LOCKOUT_SECONDS", 15 * 60)
_login_failures_account = env.env_int("CUSTODIA_LOGIN_FAILURES_PER_ACCOUNT", 5)
_login_failures_ip = env.env_int("CUSTODIA_LOGIN_FAILURES_PER_IP", 20)
ACCOUNT_ADAPTER = "custodia.identity.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False  # the session cookie ends with the browser
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    # Failed sign-ins per account and per address within a sliding window: never a permanent
    # lockout, and the answer is the same whether the account exists or not.
    "login_failed": f"{_login_failures_ip}/{CUSTODIA_LOGIN_LOCKOUT_SECONDS}s/ip,"
                    f"{_login_failures_account}/{CUSTODIA_LOGIN_LOCKOUT_SECONDS}s/key",
    "login": env.env_str("CUSTODIA_LOGIN_RATE", "30/m/ip"),
    "reauthenticate": "10/m/user",
    "change_password": "5/m/user",
}
ALLAUTH_TRUSTED_PROXY_COUNT = env.env_int("CUSTODIA_TRUSTED_PROXY_COUNT", 0)  # proxies setting X-Forwarded-For
MFA_ADAPTER = "custodia.identity.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = env.env_str("CUSTODIA_MFA_ISSUER", "Custodia")
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION  # http://127.0.0.1 during development
SOCIALACCOUNT_ADAPTER = "custodia.identity.adapter.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True  # a verified e-mail from the company's IdP signs in that person
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_STORE_TOKENS = False
# OIDC single sign-on, off unless CUSTODIA_OIDC_SERVER_URL and CUSTODIA_OIDC_CLIENT_ID are set. Register
# https://<host>/accounts/oidc/<CUSTODIA_OIDC_PROVIDER_ID>/login/callback/ as the redirect URI.
_oidc_server, _oidc_client = env.env_str("CUSTODIA_OIDC_SERVER_URL"), env.env_str("CUSTODIA_OIDC_CLIENT_ID")
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": [{
    "provider_id": env.env_str("CUSTODIA_OIDC_PROVIDER_ID", "sso"),
    "name": env.env_str("CUSTODIA_OIDC_NAME", "SSO"),
    "client_id": _oidc_client,
    "secret": env.env_str("CUSTODIA_OIDC_SECRET"),
    "settings": {"server_url": _oidc_server},
}] if _oidc_server and _oidc_client else []}}

# Custodia's own settings.
# Access reviews (re-certification): a campaign per manager every N months; what is still
# unconfirmed this many days after it opens is revoked automatically.
CUSTODIA_REVIEW_PERIOD_MONTHS = env.env_int("CUSTODIA_REVIEW_PERIOD_MONTHS", 3)
CUSTODIA_REVIEW_DEADLINE_DAYS = env.env_int("CUSTODIA_REVIEW_DEADLINE_DAYS", 14)
# Maker-checker approvals: an approved reveal or export is usable once within this many hours; a
# request nobody decides expires after CUSTODIA_APPROVAL_PENDING_HOURS.
CUSTODIA_APPROVAL_HOURS = env.env_int("CUSTODIA_APPROVAL_HOURS", 24)
CUSTODIA_APPROVAL_PENDING_HOURS = env.env_int("CUSTODIA_APPROVAL_PENDING_HOURS", 72)
CUSTODIA_KEYRING_PATH = env.env_str("CUSTODIA_KEYRING", str(env.data_dir() / "keyring.json"))
# The Merkle audit log (docs/audit-log.md). Witnesses receive every signed tree head: file:PATH,
# syslog (local) or syslog:HOST:PORT, http(s)://webhook; space- or comma-separated. The file witness
# is what `custodia audit verify` compares the database with: keep it on other storage.
CUSTODIA_AUDIT_WITNESSES = env.env_str(
    "CUSTODIA_AUDIT_WITNESSES", f"file:{env.data_dir() / 'audit-witness.jsonl'}").replace(",", " ").split()
CUSTODIA_AUDIT_TRUSTED_KEYS = env.env_str("CUSTODIA_AUDIT_TRUSTED_KEYS").replace(",", " ").split()
CUSTODIA_AUDIT_HEAD_MINUTES = env.env_int("CUSTODIA_AUDIT_HEAD_MINUTES", 10)  # a signed head at least this often
# Retention of event bodies (hashes stay): security events >= 6 months, personal-information
# processing records >= 3 years (PIPL Art. 56). Shorter values are refused.
CUSTODIA_AUDIT_RETENTION_SECURITY_DAYS = max(183, env.env_int("CUSTODIA_AUDIT_RETENTION_SECURITY_DAYS", 183))
CUSTODIA_AUDIT_RETENTION_PROCESSING_DAYS = max(1096, env.env_int("CUSTODIA_AUDIT_RETENTION_PROCESSING_DAYS", 1096))
# Monitoring and intervention (custodia.monitor; docs/monitoring.md).
CUSTODIA_MONITOR_ENABLED = env.env_bool("CUSTODIA_MONITOR_ENABLED", True)
# Detector counters: the database by default; Redis when CUSTODIA_MONITOR_REDIS is set
# (e.g. redis://127.0.0.1:6379/0), or REDIS_URL unless CUSTODIA_MONITOR_REDIS is "off".
_monitor_redis = env.env_str("CUSTODIA_MONITOR_REDIS")
CUSTODIA_MONITOR_REDIS = "" if _monitor_redis == "off" else (_monitor_redis or _redis_url or "")
CUSTODIA_MONITOR_NOTIFY_SEVERITY = env.env_str("CUSTODIA_MONITOR_NOTIFY_SEVERITY", "medium")
CUSTODIA_MONITOR_EMAIL = env.env_str("CUSTODIA_MONITOR_EMAIL").replace(",", " ").split()
CUSTODIA_MONITOR_WEBHOOKS = env.env_str("CUSTODIA_MONITOR_WEBHOOKS").replace(",", " ").split()
CUSTODIA_MONITOR_WEBHOOK_SECRET = env.env_str("CUSTODIA_MONITOR_WEBHOOK_SECRET")
CUSTODIA_MONITOR_SIEM = env.env_str(
    "CUSTODIA_MONITOR_SIEM", "file:" + str(env.data_dir() / "alerts.jsonl")).replace(",", " ").split()
CUSTODIA_MONITOR_SIEM_FORMAT = env.env_str("CUSTODIA_MONITOR_SIEM_FORMAT", "json")
# Mail: SMTP when EMAIL_HOST is set, else each message is written to $CUSTODIA_DATA_DIR/mail/.
EMAIL_HOST = env.env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env.env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env.env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env.env_bool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(env.data_dir() / "mail")
DEFAULT_FROM_EMAIL = env.env_str("DEFAULT_FROM_EMAIL", "custodia@localhost")
CUSTODIA_BASE_URL = env.env_str("CUSTODIA_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

CUSTODIA_PURPOSES = [
    ("contact_customer", _("Contact the customer")),
    ("service_request", _("Handle the customer's service request")),
    ("contract_performance", _("Perform a contract")),
    ("compliance_review", _("Compliance review")),
    ("legal_obligation", _("Statutory duty")),
    ("other", _("Other (explain)")),
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusals": {"()": "custodia.kernel.logs.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["refusals"]}},
    "root": {"handlers": ["console"], "level": env.env_str("CUSTODIA_LOG_LEVEL", "INFO")},
    # The Huey consumer logs through its own handler; do not print every line twice.
    "loggers": {"django.db.backends": {"level": "INFO"}, "huey": {"propagate": False}},
}
