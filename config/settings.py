"""Sapa settings, read from the environment (see the README's configuration table)."""

from __future__ import annotations

import base64
import hashlib
import logging
import warnings
from datetime import timedelta

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import BASE_DIR, dev_secret_key, env
from .logs import logging_config

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off. In development, run "
            "management commands through `make manage ARGS=...` or `make shell` (they use the "
            "environment of `make run`), or put DJANGO_DEBUG=true in a .env file beside manage.py."
        )
    SECRET_KEY = dev_secret_key()

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "agents",
    "divisions",
    "devices_app",
    "templates_app",
    "rotation",
    "chats",
    "supervision",
]

MIDDLEWARE = [
    "config.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.UntrustedTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "agents.middleware.AgentTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so their process_exception runs first: a failed throttle check (agents/throttle.py)
    # and an unreachable database (config/database_outage.py) answer 503, never 500.
    "config.database_outage.DatabaseUnavailableMiddleware",
    "agents.throttle.ThrottleUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
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
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agents.context_processors.current_agent",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # env.db() sets no OPTIONS: without WAL, IMMEDIATE transactions and a busy timeout, SQLite
    # answers "database is locked" as soon as two processes write at once.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        # How long a write waits for another process's write lock before giving up (503).
        "timeout": env.float("DATABASE_BUSY_TIMEOUT", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests start other processes (Uvicorn, Celery, concurrent workers): they need a file.
    _db["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request may run in a different thread: persistent connections pile up
    # until the server refuses clients. A pool with CONN_MAX_AGE=0 is the supported way.
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=20),
        # How long a request waits for a connection before giving up (503).
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "agents.User"

# --- Redis: one URL for the Celery broker, the channel layer and the cache -------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sapa",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

CHANNEL_LAYERS = {
    "default": {
        # The pub/sub layer delivered every push in our measurements where the default layer
        # silently dropped some over its per-process capacity (docs/ARCHITECTURE.md "Known traps").
        # Sapa's
        # subclass adds the reconnect signal channels-redis lacks (chats/channel_layer.py).
        "BACKEND": "chats.channel_layer.ResyncingPubSubChannelLayer",
        "CONFIG": {
            # redis-py's async pool allows 100 connections by default: a burst of socket
            # handshakes past that answers HTTP 500.
            "hosts": [{"address": REDIS_URL, "max_connections": 2000}],
            "prefix": "sapa",
        },
    }
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
# Every task guards on the row's state, so running it again after a lost worker is a no-op;
# that is what makes late acknowledgement safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_LONGEST_COUNTDOWN = 60 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis redelivers an unacknowledged task after this long: it must exceed every countdown.
    "visibility_timeout": env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=CELERY_LONGEST_COUNTDOWN * 2
    ),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE: dict = {}
# Rotation and presence (rotation issue): safety nets behind the event-driven paths.
CELERY_BEAT_SCHEDULE["queue-drain"] = {"task": "chats.queue_drain", "schedule": 30.0}
CELERY_BEAT_SCHEDULE["presence-sweep"] = {"task": "chats.presence_sweep", "schedule": 10.0}
# Outbound safety net: unconfirm sends whose worker died, re-enqueue lost send tasks.
CELERY_BEAT_SCHEDULE["chats.sweep-stuck-messages"] = {
    "task": "chats.sweep_stuck_messages",
    "schedule": env.float("SEND_SWEEP_INTERVAL", default=30.0),
}
CELERY_TIMEZONE = "UTC"

# --- Presence (agents/presence.py) -------------------------------------------------------------
# Each open agent socket refreshes its Redis key every HEARTBEAT seconds; the key lives TTL
# seconds, so an agent whose web process died shows offline within TTL (+ the sweep's 10 s).
# A clean disconnect keeps the key GRACE seconds, so a reload does not flip the agent offline.
PRESENCE_HEARTBEAT_SECONDS = env.float("PRESENCE_HEARTBEAT_SECONDS", default=10.0)
PRESENCE_TTL_SECONDS = env.float("PRESENCE_TTL_SECONDS", default=30.0)
PRESENCE_GRACE_SECONDS = env.float("PRESENCE_GRACE_SECONDS", default=20.0)
# How often an open agent socket re-reads its agent's access from the database: the net under
# changes no signal reports (SQL by hand, a queryset update of users). agents.access
AGENT_ACCESS_RECHECK_SECONDS = env.float("AGENT_ACCESS_RECHECK_SECONDS", default=30.0)
if PRESENCE_HEARTBEAT_SECONDS >= PRESENCE_TTL_SECONDS:
    raise ImproperlyConfigured("PRESENCE_HEARTBEAT_SECONDS must be below PRESENCE_TTL_SECONDS.")

# --- Auth -------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out device number + IP before any token is checked.
    "axes.backends.AxesStandaloneBackend",
    "agents.backends.AgentTokenBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "agents:login"
LOGIN_REDIRECT_URL = "chats:inbox"

AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Axes' cache handler, refusing sign-ins while Redis is unreachable (agents/throttle.py).
AXES_HANDLER = "agents.throttle.FailClosedCacheHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
# An office behind one NAT shares an IP: lock the device number at that IP, not the whole IP.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "device_number"
AXES_USERNAME_CALLABLE = "agents.backends.axes_username"
AXES_PASSWORD_FORM_FIELD = "token"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "agents/locked_out.html"
# The client address is REMOTE_ADDR: Uvicorn (--proxy-headers) takes it from X-Forwarded-For
# only when the connection comes from a proxy listed in FORWARDED_ALLOW_IPS (default
# 127.0.0.1), so a client cannot choose the address it is throttled by.
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
# No SECURE_PROXY_SSL_HEADER: Uvicorn already sets the scheme from X-Forwarded-Proto for trusted
# proxies only (FORWARDED_ALLOW_IPS), while Django would believe the header from anyone.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PUBLIC_BASE_URL.startswith("https://")
SECURE_HSTS_SECONDS = env.int(
    "SECURE_HSTS_SECONDS", default=31_536_000 if PUBLIC_BASE_URL.startswith("https://") else 0
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy: no inline script anywhere ---------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("id", _("Indonesian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date, time and date-with-time format per language (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Jakarta")
PHONE_REGION = env.str("PHONE_REGION", default="ID")

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# WhiteNoise is a synchronous app: under ASGI Django warns, once per process, that it reads the
# file through a thread. That is the known cost of serving static files from the app (a proxy
# or CDN in front serves them in production), not a fault to show on every start.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators", category=Warning
)

# --- Media: attachments (chats.media, chats.services.media) ---------------------------------------
# MEDIA_ROOT is private: nothing serves it directly. Attachments go out through views that check
# who may see the conversation, and outgoing uploads through signed, expiring URLs.
# Stored attachments of messages older than this many days are deleted daily; 0 keeps them.
MEDIA_RETENTION_DAYS = env.int("MEDIA_RETENTION_DAYS", default=90)
# Largest incoming attachment copied from the gateway (bytes); bigger ones are refused.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=64 * 1024 * 1024)
# Downloads are bounded by these (seconds), as the threads pool ignores Celery time limits.
ATTACHMENT_CONNECT_TIMEOUT = env.float("ATTACHMENT_CONNECT_TIMEOUT", default=5.0)
ATTACHMENT_READ_TIMEOUT = env.float("ATTACHMENT_READ_TIMEOUT", default=20.0)
ATTACHMENT_DOWNLOAD_DEADLINE = env.float("ATTACHMENT_DOWNLOAD_DEADLINE", default=60.0)
# Fonnte keeps an incoming file ~30 minutes: retries must fit well inside that window.
ATTACHMENT_COPY_MAX_RETRIES = env.int("ATTACHMENT_COPY_MAX_RETRIES", default=5)
ATTACHMENT_COPY_RETRY_BACKOFF = env.float("ATTACHMENT_COPY_RETRY_BACKOFF", default=5.0)
ATTACHMENT_COPY_RETRY_BACKOFF_MAX = env.float("ATTACHMENT_COPY_RETRY_BACKOFF_MAX", default=120.0)
# Refuse attachment URLs that resolve to private / loopback / link-local addresses (SSRF), except
# in development, where the sandbox gateway and tests serve files from 127.0.0.1.
MEDIA_ALLOW_PRIVATE_URLS = env.bool("MEDIA_ALLOW_PRIVATE_URLS", default=DEBUG)
# How long a signed link to an outgoing upload stays valid for the gateway (seconds).
SIGNED_MEDIA_MAX_AGE = env.int("SIGNED_MEDIA_MAX_AGE", default=24 * 60 * 60)
if ATTACHMENT_CONNECT_TIMEOUT + ATTACHMENT_DOWNLOAD_DEADLINE >= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("ATTACHMENT_DOWNLOAD_DEADLINE must end before the task time limit.")
if ATTACHMENT_COPY_RETRY_BACKOFF_MAX > CELERY_LONGEST_COUNTDOWN:
    raise ImproperlyConfigured("Attachment retries must stay under the visibility timeout.")
CELERY_BEAT_SCHEDULE["chats.attachment-copy-sweep"] = {
    "task": "chats.attachment_copy_sweep",
    "schedule": env.float("ATTACHMENT_SWEEP_INTERVAL", default=300.0),
}
CELERY_BEAT_SCHEDULE["chats.media-retention"] = {
    "task": "chats.media_retention",
    "schedule": crontab(hour=2, minute=30),
}

# --- Gateways ---------------------------------------------------------------------------------
# Gateway credentials are encrypted at rest (devices_app/crypto.py) with these Fernet keys,
# newest first; the older ones only decrypt. Required when DJANGO_DEBUG is off: a key derived
# from the secret key would be lost with it.
GATEWAY_CREDENTIALS_KEYS = env.list("GATEWAY_CREDENTIALS_KEYS", default=[])
if not GATEWAY_CREDENTIALS_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "GATEWAY_CREDENTIALS_KEYS must be set when DJANGO_DEBUG is off (see the README)."
        )
    # Development only: derived from the secret key (devices_app.crypto.key_from_secret).
    GATEWAY_CREDENTIALS_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(f"sapa-gateway-credentials:{SECRET_KEY}".encode()).digest()
        ).decode()
    ]
# The device console re-reads a gateway's (rate-limited) profile at most this often (seconds).
GATEWAY_PROFILE_MAX_AGE = env.float("GATEWAY_PROFILE_MAX_AGE", default=60.0)
# The console's QR image is fetched again this often (seconds) until the device is connected.
GATEWAY_QR_REFRESH_SECONDS = env.int("GATEWAY_QR_REFRESH_SECONDS", default=15)
# ... at most this many times (20 × 15 s = 5 minutes), then it waits for a person to press again.
GATEWAY_QR_MAX_RENEWALS = env.int("GATEWAY_QR_MAX_RENEWALS", default=20)
FONNTE_API_URL = env.str("FONNTE_API_URL", default="https://api.fonnte.com").rstrip("/")
# ApiWago is self-hosted: one server (its address and APIKEY) serves every session token.
APIWAGO_API_URL = env.str("APIWAGO_API_URL", default="").rstrip("/")
APIWAGO_API_KEY = env.str("APIWAGO_API_KEY", default="")
# Sessions Sapa starts reject incoming calls (a chat desk cannot take them), with this message.
APIWAGO_REJECT_CALLS = env.bool("APIWAGO_REJECT_CALLS", default=True)
APIWAGO_REJECT_MESSAGE = env.str("APIWAGO_REJECT_MESSAGE", default="")
WONOTIFY_API_URL = env.str("WONOTIFY_API_URL", default="https://wonotify.com/api").rstrip("/")
# Webhook bodies Sapa could not read are kept for staff (devices_app.UnparsedWebhook), this
# many per device at most.
UNPARSED_WEBHOOKS_KEPT = env.int("UNPARSED_WEBHOOKS_KEPT", default=500)
# Every gateway call is bounded by these (seconds): the threads pool ignores Celery time limits.
GATEWAY_CONNECT_TIMEOUT = env.float("GATEWAY_CONNECT_TIMEOUT", default=5.0)
GATEWAY_READ_TIMEOUT = env.float("GATEWAY_READ_TIMEOUT", default=20.0)
GATEWAY_WRITE_TIMEOUT = env.float("GATEWAY_WRITE_TIMEOUT", default=10.0)
GATEWAY_POOL_TIMEOUT = env.float("GATEWAY_POOL_TIMEOUT", default=5.0)
GATEWAY_MAX_CONNECTIONS = env.int("GATEWAY_MAX_CONNECTIONS", default=100)

# --- Outbound sends (chats.services.outbound, docs/ARCHITECTURE.md "Delivery semantics") ----------
# Per-device pacing (token bucket in Redis): messages per second, burst, longest booked wait.
# A rate of 0 turns pacing off. Each device's admin page may set its own pace; these are the
# defaults it shows.
SEND_RATE_PER_DEVICE = env.float("SEND_RATE_PER_DEVICE", default=1.0)
SEND_BURST_PER_DEVICE = env.int("SEND_BURST_PER_DEVICE", default=5)
SEND_PACING_MAX_WAIT = env.float("SEND_PACING_MAX_WAIT", default=60.0)
# A random gap (seconds) between two sends of one device, like Fonnte's `delay: "2-5"`; 0 = none.
SEND_GAP_MIN_SECONDS = env.float("SEND_GAP_MIN_SECONDS", default=0.0)
SEND_GAP_MAX_SECONDS = env.float("SEND_GAP_MAX_SECONDS", default=0.0)
if not 0 <= SEND_GAP_MIN_SECONDS <= SEND_GAP_MAX_SECONDS <= SEND_PACING_MAX_WAIT:
    raise ImproperlyConfigured(
        "Need 0 <= SEND_GAP_MIN_SECONDS <= SEND_GAP_MAX_SECONDS <= SEND_PACING_MAX_WAIT."
    )
# Automatic retries, only when the gateway certainly did not take the message.
SEND_RETRY_BACKOFF = env.int("SEND_RETRY_BACKOFF", default=2)
SEND_RETRY_BACKOFF_MAX = env.int("SEND_RETRY_BACKOFF_MAX", default=300)
SEND_MAX_RETRIES = env.int("SEND_MAX_RETRIES", default=6)
# The sweep: `sending` older than this is unconfirmed (must exceed the longest gateway call);
# `queued` this long past its expected run is re-enqueued.
SEND_STUCK_AFTER = env.int("SEND_STUCK_AFTER", default=120)
SEND_QUEUED_STUCK_AFTER = env.int("SEND_QUEUED_STUCK_AFTER", default=60)
SEND_SWEEP_BATCH = env.int("SEND_SWEEP_BATCH", default=500)
if SEND_STUCK_AFTER <= (
    GATEWAY_CONNECT_TIMEOUT + GATEWAY_WRITE_TIMEOUT + GATEWAY_READ_TIMEOUT + GATEWAY_POOL_TIMEOUT
):
    raise ImproperlyConfigured("SEND_STUCK_AFTER must exceed the longest gateway call.")
if (
    max(SEND_PACING_MAX_WAIT, SEND_RETRY_BACKOFF_MAX)
    >= (CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"])
):
    raise ImproperlyConfigured("Send countdowns must stay under the broker's visibility timeout.")
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
# Visits of a public rotator link from one address per minute that take a turn; more answer 429
# (rotation/throttle.py). 0 turns the limit off.
ROTATOR_VISITS_PER_MINUTE = env.int("ROTATOR_VISITS_PER_MINUTE", default=20)
# /healthz remembers a Celery worker's answer this long (config/health.py).
HEALTH_CELERY_REMEMBER_SECONDS = env.int("HEALTH_CELERY_REMEMBER_SECONDS", default=10)

# --- Logs (config/logs.py; README "Logs") ----------------------------------------------------
# LOG_FORMAT=json writes one JSON object per line with the request, device, conversation and
# message ids; the default is a line a person reads.
LOGGING = logging_config(
    level=env.str("LOG_LEVEL", default="INFO").upper(),
    log_format=env.str("LOG_FORMAT", default="console"),
)
# Python warnings become records too, so a JSON log holds nothing but JSON lines.
logging.captureWarnings(True)
# Believe the proxy's X-Request-ID (when it sets or overwrites it for every request); otherwise
# each request gets a new id.
TRUST_REQUEST_ID_HEADER = env.bool("TRUST_REQUEST_ID_HEADER", default=False)
