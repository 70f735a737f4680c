"""Settings for the KVKK processor portal, read from the environment.

One file for every environment (``PORTAL_ENV`` = development | test |
production). Production is the default: a process started without
``PORTAL_ENV=development`` gets production settings and refuses to start without
its own secret key and master keys, or with DEBUG on. `make run` sets
``PORTAL_ENV=development`` for everything it starts; the tests use ``test``.
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

PORTAL_ENV = env_str("PORTAL_ENV", "production")
if PORTAL_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"PORTAL_ENV must be development, test or production, not {PORTAL_ENV!r}"
    )
PRODUCTION = PORTAL_ENV == "production"

_DEV_SECRET = "django-insecure-development-only-key-never-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
DEBUG = env_bool("DEBUG", not PRODUCTION)

if PRODUCTION:
    if (
        SECRET_KEY == _DEV_SECRET
        or SECRET_KEY.startswith("django-insecure-")
        or len(SECRET_KEY) < 50
    ):
        raise ImproperlyConfigured(
            "Production needs its own SECRET_KEY (at least 50 characters). "
            "On a development machine, set PORTAL_ENV=development."
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production.")

# Tenant hosts are <slug>.<base domain>; the base domain itself is the platform host.
PORTAL_BASE_DOMAIN = env_str("PORTAL_BASE_DOMAIN", "localhost")
# Port shown in printed links (development); empty in production behind a proxy.
PORTAL_PUBLIC_PORT = env_str("PORTAL_PUBLIC_PORT", "" if PRODUCTION else "8000")
PORTAL_SCHEME = env_str("PORTAL_SCHEME", "https" if PRODUCTION else "http")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [PORTAL_BASE_DOMAIN, f".{PORTAL_BASE_DOMAIN}"])

# --- Applications -----------------------------------------------------------
# Users, sessions, OTP devices, lockouts and the audit log exist in every
# schema: a controller's staff are users of that controller's schema only.
_PER_SCHEMA_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "accounts",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_otp",
    "django_otp.plugins.otp_totp",  # backup codes are accounts.BackupCodeDevice (hashed)
    "axes",
    "simple_history",
    "audit",
]
SHARED_APPS = [
    "tenants",  # before django_tenants: its `migrate` also serves the key database
    "django_tenants",
    *_PER_SCHEMA_APPS,
    "config.apps.PlatformAdminConfig",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
TENANT_APPS = [
    *_PER_SCHEMA_APPS,
    "subjects",
    "requests",
    "retention",
    "transfers",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_NAME = "public"
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tenants.middleware.LanguageMiddleware",
    "tenants.middleware.TenantStatusMiddleware",
    "retention.middleware.LedgerBehindMiddleware",
    "accounts.middleware.RequireVerifiedDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "subjects.middleware.ValueTamperedMiddleware",
]

ROOT_URLCONF = "config.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.portal",
            ],
        },
    },
]

# --- Data stores --------------------------------------------------------------
# Two PostgreSQL roles. The runtime role (POSTGRES_USER) serves web and workers: it owns
# nothing and may only append to the processing log. The owner role (POSTGRES_OWNER_USER)
# runs migrations and provisioning; a process runs as it only with PORTAL_DB_ROLE=owner
# (migrate commands, the provisioning worker). config/db_roles.py checks and grants.
PORTAL_DB_ROLE = env_str("PORTAL_DB_ROLE", "runtime")
if PORTAL_DB_ROLE not in {"runtime", "owner"}:
    raise ImproperlyConfigured(f"PORTAL_DB_ROLE must be runtime or owner, not {PORTAL_DB_ROLE!r}")
DB_RUNTIME_USER = env_str("POSTGRES_USER", "kvkk_app")
DB_OWNER_USER = env_str("POSTGRES_OWNER_USER", "kvkk_owner")
DB_CREDENTIALS = {
    "runtime": {"USER": DB_RUNTIME_USER, "PASSWORD": env_str("POSTGRES_PASSWORD", "")},
    "owner": {"USER": DB_OWNER_USER, "PASSWORD": env_str("POSTGRES_OWNER_PASSWORD", "")},
}
_DATA_DB = env_str("POSTGRES_DB", "kvkk")
_DB_SERVER = {
    "HOST": env_str("POSTGRES_HOST", "127.0.0.1"),
    "PORT": env_str("POSTGRES_PORT", "5432"),
    "CONN_MAX_AGE": env_int("POSTGRES_CONN_MAX_AGE", 60),
    **DB_CREDENTIALS[PORTAL_DB_ROLE],
}
DATABASES = {
    # The data: one schema per controller (django-tenants), the platform's own in public.
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": _DATA_DB,
        **_DB_SERVER,
    },
    # The key database: tenant and subject keys, nothing else (subjects/crypto.py). Backed up
    # apart from the data with a short retention, so no data backup decrypts on its own and
    # a destroyed key is gone from the only place keys live.
    "keys": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env_str("POSTGRES_KEYS_DB", f"{_DATA_DB}_keys"),
        **_DB_SERVER,
    },
}
# Models that live in the key database (config.routers.KeyDatabaseRouter).
KEY_DATABASE_MODELS = frozenset(
    {
        "subjects.controllerkey",
        "subjects.subjectdatakey",
        "retention.destroyedbatch",
        # The ledger's first shape (one row per item), still routed so that its migrations
        # (created in 0001, removed in 0005) run in the key database only.
        "retention.destroyedrecord",
    }
)
DATABASE_ROUTERS = (
    "config.routers.KeyDatabaseRouter",
    "django_tenants.routers.TenantSyncRouter",
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("CACHE_URL", REDIS_URL),
        # Keys carry the schema name, so no tenant ever reads another's entries.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "kvkk"),
    }
}
# How long the portal trusts a controller's last destruction-ledger id (retention.middleware):
# a restored data backup is refused within these seconds. Tests roll the ledger back after
# every test, so they never cache it.
RETENTION_LEDGER_CACHE_SECONDS = env_int(
    "RETENTION_LEDGER_CACHE_SECONDS", 0 if PORTAL_ENV == "test" else 5
)

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "portal")
# Provisioning creates schemas, so it runs on a worker of its own that connects as the owner
# role (PORTAL_DB_ROLE=owner, `celery worker -Q <this queue>`); web and other workers never do.
CELERY_PROVISIONING_QUEUE = env_str(
    "CELERY_PROVISIONING_QUEUE", f"{CELERY_TASK_DEFAULT_QUEUE}-provisioning"
)
CELERY_TASK_ROUTES = {
    "tenants.tasks.provision": {"queue": CELERY_PROVISIONING_QUEUE},
    # Drops schemas of controllers whose grace period ended: needs the owner role too.
    "tenants.tasks.contract_scan": {"queue": CELERY_PROVISIONING_QUEUE},
}
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/Istanbul"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Items one destruction batch ends in one transaction (retention.destruction). Bigger batches
# mean fewer commits and ledger rows; a batch's ids are a few hundred kilobytes of text.
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 50_000)
# The Redis broker hands a task taken by a worker that died (acks_late) to another worker only
# after this many seconds. A destruction run longer than that may be handed out twice while it
# runs: the per-controller lock (retention/runs.py) turns the second copy away.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 3600),
    # Portals (or test runs) sharing one Redis keep their queues and unacked tasks apart.
    "global_keyprefix": env_str("CELERY_BROKER_KEY_PREFIX", ""),
}
# An approved or running destruction run without progress for this long is queued again by the
# hourly sweep (retention.tasks.runs_resume), whatever became of its worker.
RETENTION_STALLED_MINUTES = env_int("RETENTION_STALLED_MINUTES", 30)

# --- E-mail ----------------------------------------------------------------------------
# Alerts to controller admins (a destruction backlog). `make run` and the tests use a local
# SMTP sink (aiosmtpd); production sets its relay here.
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25 if PRODUCTION else 1025)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"portal@{PORTAL_BASE_DOMAIN}")

# --- Data-subject applications: the public form (requests.intake, requests.throttle) ----
# Attachments: each at most this size, at most this many on one form.
INTAKE_ATTACHMENT_MAX_BYTES = env_int("INTAKE_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
INTAKE_ATTACHMENT_MAX_COUNT = env_int("INTAKE_ATTACHMENT_MAX_COUNT", 5)
# Rate limits per hour: applications per client address and per identity number; code
# requests and code checks per address and per identity number; codes per reference
# (besides one a minute).
INTAKE_SUBMITS_PER_IP_HOUR = env_int("INTAKE_SUBMITS_PER_IP_HOUR", 10)
INTAKE_SUBMITS_PER_IDENTITY_HOUR = env_int("INTAKE_SUBMITS_PER_IDENTITY_HOUR", 3)
INTAKE_CODES_PER_IP_HOUR = env_int("INTAKE_CODES_PER_IP_HOUR", 20)
INTAKE_CHECKS_PER_IP_HOUR = env_int("INTAKE_CHECKS_PER_IP_HOUR", 60)
INTAKE_CODES_PER_IDENTITY_HOUR = env_int("INTAKE_CODES_PER_IDENTITY_HOUR", 10)
INTAKE_CHECKS_PER_IDENTITY_HOUR = env_int("INTAKE_CHECKS_PER_IDENTITY_HOUR", 30)
INTAKE_CODES_PER_HOUR = env_int("INTAKE_CODES_PER_HOUR", 5)
# A code request answers after at least this long, whoever asks: the work for a known and
# an unknown person or reference differs by milliseconds (requests/views/intake.py).
INTAKE_CODE_REQUEST_FLOOR_MS = env_int("INTAKE_CODE_REQUEST_FLOOR_MS", 200)
# Text messages with codes (requests/sms.py). The default hands them to the e-mail relay as
# <digits>@SMS_EMAIL_GATEWAY_DOMAIN (an operator's e-mail-to-SMS gateway); until that is
# set, they reach only the relay (the SMTP sink under `make run`), no phone.
SMS_BACKEND = env_str("SMS_BACKEND", "requests.sms.EmailGatewaySmsBackend")
SMS_EMAIL_GATEWAY_DOMAIN = env_str("SMS_EMAIL_GATEWAY_DOMAIN", "sms.invalid")

# --- Authentication and sessions -----------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"

# Idle timeout: the session expires this many seconds after the last request.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Lockout after repeated failed log-ins (django-axes), keyed by user name *and* address:
# failures from one address lock that user name there only, so nobody elsewhere can keep a
# controller's `admin` locked out of their own office.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Reverse proxies in front of the portal, each appending to X-Forwarded-For (one when it runs
# behind a TLS proxy): lockout, rate limits and the processing log take the client's address
# from there (config/client_ip.py), never the proxy's.
TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if PRODUCTION and env_bool("BEHIND_TLS_PROXY", False) else 0
)
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# A separate, higher limit per address across all user names (guessing many names from one
# place). Counted in the cache, whose keys carry the schema, so it holds per controller
# (accounts/lockout.py). 30 failures in 15 minutes is six user names' worth of the limit above.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
LOGIN_ADDRESS_WINDOW = timedelta(minutes=env_int("LOGIN_ADDRESS_WINDOW_MINUTES", 15))

OTP_TOTP_ISSUER = "KVKK Portal"
# Backup codes issued at a time (each works once), and django-otp's throttle after a wrong
# one: the n-th consecutive failure waits factor * 2**(n-1) seconds before the next try.
OTP_BACKUP_CODES = 10
OTP_BACKUP_CODE_THROTTLE_FACTOR = 1
# The platform admin never shows an authenticator's secret key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Invitation links for new staff stay valid this long.
PORTAL_INVITATION_HOURS = env_int("PORTAL_INVITATION_HOURS", 72)
# After a controller's contract ends its portal stays read-only this many days for the return
# of its data (an export); then its data, keys and schema are destroyed (tenants.contract).
PORTAL_CONTRACT_GRACE_DAYS = env_int("PORTAL_CONTRACT_GRACE_DAYS", 30)

# --- Personal-data encryption (subjects/crypto.py) ------------------------------------
# "id:<32 random bytes, urlsafe base64>" entries, current first; older ones stay listed
# until `manage.py rotate_master_key` has re-wrapped every tenant key.
_DEV_MASTER_KEY = "dev:ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTAwMDA="
PORTAL_MASTER_KEYS = env_list("PORTAL_MASTER_KEYS", [] if PRODUCTION else [_DEV_MASTER_KEY])
if PRODUCTION and (not PORTAL_MASTER_KEYS or _DEV_MASTER_KEY in PORTAL_MASTER_KEYS):
    raise ImproperlyConfigured(
        "Production needs its own PORTAL_MASTER_KEYS. "
        "On a development machine, set PORTAL_ENV=development."
    )

# --- Processing-log checkpoints (audit/signing.py) ------------------------------------
# The platform's Ed25519 key signs each chain head: base64 of its 32-byte private seed. Its
# public key is published on the platform host; each checkpoint is also a line of this file.
_DEV_SIGNING_KEY = "ZGV2ZWxvcG1lbnQtb25seS1zaWduaW5nLWtleS0wMDA="
PORTAL_SIGNING_KEY = env_str("PORTAL_SIGNING_KEY", "" if PRODUCTION else _DEV_SIGNING_KEY)
if PRODUCTION and PORTAL_SIGNING_KEY in {"", _DEV_SIGNING_KEY}:
    raise ImproperlyConfigured("Production needs its own PORTAL_SIGNING_KEY.")
AUDIT_CHECKPOINT_LOG = Path(
    env_str("AUDIT_CHECKPOINT_LOG", str(BASE_DIR / ".run" / "audit-checkpoints.jsonl"))
)

# --- Retention and destruction (retention/minutes.py) ---------------------------------
# How long the operator keeps backups (data and key database), in days. Destruction minutes
# state the date on which the last backup that may still hold the destroyed data expires:
# the run's finish date plus this. Set it to the backup schedule's real retention.
PORTAL_BACKUP_RETENTION_DAYS = env_int("PORTAL_BACKUP_RETENTION_DAYS", 35)
if PORTAL_BACKUP_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("PORTAL_BACKUP_RETENTION_DAYS must be 0 or more days.")

# --- E-signed applications (requests/esign.py) -------------------------------------
# Trust anchors for PAdES/CAdES identity checks come from the platform admin (tenants'
# ESignTrustAnchor); this optional PEM bundle adds more, e.g. a development test CA.
ESIGN_TRUST_ANCHORS_FILE = env_str("ESIGN_TRUST_ANCHORS_FILE", "")
# Largest signed file (and largest detached signed content) the intake accepts.
ESIGN_MAX_BYTES = env_int("ESIGN_MAX_BYTES", 5 * 1024 * 1024)
# Attempts per client address, and per reference, in a fixed window (cache counters).
ESIGN_ATTEMPTS_PER_ADDRESS = env_int("ESIGN_ATTEMPTS_PER_ADDRESS", 10)
ESIGN_ATTEMPTS_PER_REFERENCE = env_int("ESIGN_ATTEMPTS_PER_REFERENCE", 5)
ESIGN_ATTEMPT_WINDOW = timedelta(minutes=env_int("ESIGN_ATTEMPT_WINDOW_MINUTES", 60))

# --- REST API ------------------------------------------------------------------------
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 5 * 1024 * 1024)
# An interaction's attachment travels base64-encoded in a JSON body (4 bytes for every 3), so
# the body limit must hold it with the rest of the largest valid body: checked at start-up
# by subjects.services.attachment_limits_check.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 3 * 1024 * 1024)
API_BULK_MAX_SUBJECTS = env_int("API_BULK_MAX_SUBJECTS", 1000)
# A file uploaded with a data-subject application (web form or a scan registered by staff).
APPLICATION_UPLOAD_MAX_BYTES = env_int("APPLICATION_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["subjects.api.auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["subjects.api.auth.HasTokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["subjects.api.auth.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env_str("API_RATE_PER_TOKEN", "600/minute")},
    "DEFAULT_PARSER_CLASSES": ["subjects.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "subjects.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KVKK Portal — personal-data register API",
    "DESCRIPTION": (
        "Controller systems push and update the personal data the processor holds for the "
        "controller. Authenticate with `Authorization: Token <token>`; tokens are created in "
        "the portal under Settings → API tokens. Errors come as "
        '`{"error": {"code", "message", "fields"}}` in the language of `Accept-Language` '
        "(Turkish by default)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "IdentifierKindEnum": "subjects.models.IdentifierKind",
        "InteractionKindEnum": "subjects.models.Interaction.Kind",
    },
}

# --- Security headers -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Language and time ---------------------------------------------------------
LANGUAGE_CODE = "tr"
LANGUAGES = [("tr", "Türkçe"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Istanbul"
USE_TZ = True

# --- Static files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION  # serve from static/ directly, no collectstatic
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Logging: every line names the schema it came from ----------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"schema": {"()": "config.logging.SchemaFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(schema)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["schema"], "formatter": "plain"}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
