"""Configuration classes read from the environment: every knob of the service is listed here."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
# The shortest SECRET_KEY production accepts (it signs links and keys the login counters).
MIN_SECRET_LENGTH = 32
# Development's public SECRET_KEY: production refuses it.
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - public on purpose, refused by production


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _origins(raw: str) -> list[str]:
    return [origin.strip() for origin in raw.split(",") if origin.strip()]


class Config:
    """Development defaults: nothing needs to be set to run on the embedded database."""

    # Signs preview URLs; production must set its own.
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    # Any PostgreSQL with pgvector; unset = start the embedded server under instance/.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    # Data directory of the embedded PostgreSQL (used only when DATABASE_URL is unset).
    EMBEDDED_PGDATA = os.environ.get("EMBEDDED_PGDATA", str(BASE_DIR / "instance" / "pg"))
    # pre-ping: a connection the server dropped (a restart) is replaced, not handed out; hide_parameters:
    # an error's message never carries a statement's values (emails, hashes, notes) into a log. A pooled
    # connection lives at most DB_POOL_RECYCLE_SECONDS and the server closes one idle for
    # DB_IDLE_SESSION_SECONDS: idle connections never hold a server in "shutting down" (a smart shutdown
    # waits for its clients).
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 10,
        "pool_timeout": 10,
        "hide_parameters": True,
        "pool_recycle": _int("DB_POOL_RECYCLE_SECONDS", 30),
        "connect_args": {
            "options": f"-c idle_session_timeout={_int('DB_IDLE_SESSION_SECONDS', 60) * 1000}",
            "connect_timeout": 5,
        },
    }
    # Frontend origins allowed by CORS, comma separated; never "*".
    ALLOWED_ORIGINS = _origins(os.environ.get("ALLOWED_ORIGINS", "http://localhost:3000"))
    # Where image files live: "local" (UPLOAD_DIR, outside any static route) or "s3" (an S3-compatible bucket:
    # AWS, MinIO, R2, Supabase Storage; credentials from boto3's usual chain).
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(BASE_DIR / "instance" / "uploads"))
    S3_BUCKET = os.environ.get("S3_BUCKET", "")
    S3_PREFIX = os.environ.get("S3_PREFIX", "")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
    S3_REGION = os.environ.get("S3_REGION", os.environ.get("AWS_DEFAULT_REGION", ""))
    # The master key that wraps every user's photo key: a file of "<version> <base64 key>" lines (rotation adds
    # one), or one base64 key. Development makes one under instance/ on first run; production refuses to start
    # without. Keep it apart from the database and storage backups: with it they are readable, without it not.
    MASTER_KEY_FILE = os.environ.get("BCD_MASTER_KEY_FILE", "")
    MASTER_KEY = os.environ.get("BCD_MASTER_KEY", "")
    DEV_MASTER_KEY_FILE = str(BASE_DIR / "instance" / "master.key")
    # Where `flask bcd backup` and `restore` find pg_dump and pg_restore (else the embedded server's, else PATH).
    PG_BIN_DIR = os.environ.get("PG_BIN_DIR", "")
    # A local write's temporary file older than this (seconds) was left by a killed process: each worker sweeps
    # them when its pool starts (a younger one may belong to a write still under way).
    TEMPORARY_FILE_MAX_AGE_SECONDS = _float("TEMPORARY_FILE_MAX_AGE_SECONDS", 3600.0)
    # Largest request body in bytes (uploads); larger answers 413.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024)
    MAX_FORM_PARTS = 20
    # Most images one session may hold.
    MAX_IMAGES_PER_SESSION = _int("MAX_IMAGES_PER_SESSION", 30)
    # Lifetime of a bearer token, hours, and how long one may go unused before it ends (idle limit).
    TOKEN_TTL_HOURS = _int("TOKEN_TTL_HOURS", 24 * 7)
    TOKEN_IDLE_HOURS = _int("TOKEN_IDLE_HOURS", 72)
    # Sudo mode: export, erasure, second-factor changes and new share links need her password or a code given
    # within this many seconds (a sign-in counts).
    REAUTH_WINDOW_SECONDS = _int("REAUTH_WINDOW_SECONDS", 300)
    # A new account signs in only once its email is verified (production's default).
    EMAIL_VERIFICATION_REQUIRED = os.environ.get("EMAIL_VERIFICATION_REQUIRED", "0") == "1"
    # Outgoing mail: smtp://[user:password@]host[:port] (STARTTLS when the server offers it) or smtps://...;
    # unset = each mail is written to OUTBOX_DIR instead (development). Links in mail point at FRONTEND_URL.
    SMTP_URL = os.environ.get("SMTP_URL", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "BCD <no-reply@localhost>")
    FRONTEND_URL = os.environ.get("FRONTEND_URL", "http://localhost:3000").rstrip("/")
    OUTBOX_DIR = os.environ.get("OUTBOX_DIR", str(BASE_DIR / "instance" / "outbox"))
    # The pause after a failed send, doubled each time up to an hour (a mail is retried until it goes).
    MAIL_RETRY_SECONDS = _float("MAIL_RETRY_SECONDS", 30.0)
    # Lifetime of a signed image-preview URL, seconds.
    PREVIEW_URL_TTL_SECONDS = _int("PREVIEW_URL_TTL_SECONDS", 300)
    # Lifetime of generate-report's signed PDF download link, seconds.
    REPORT_URL_TTL_SECONDS = _int("REPORT_URL_TTL_SECONDS", 900)
    # Overrides of quality thresholds, e.g. {"blur_effect_blurred": 0.7} (bcd_app/vision/quality.py).
    QUALITY_THRESHOLDS: dict = {}
    # Flask-Limiter storage for burst limits ("memory://" or a redis:// URI).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1") == "1"
    # Burst limits (approximate, per process). Logins get a wide one, only against the password hash's CPU cost:
    # a carrier's NAT puts thousands of phones behind one address, and the exact failure counts guard the passwords.
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "20 per minute")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "300 per minute")
    # Public links (calendar feeds, share links), per address: a phone's calendar refreshes a few times an hour.
    PUBLIC_LINK_RATE_LIMIT = os.environ.get("PUBLIC_LINK_RATE_LIMIT", "60 per minute")
    # Analysis needs the person's consent to the processing of her health data (the production default).
    CONSENT_REQUIRED = os.environ.get("CONSENT_REQUIRED", "0") == "1"
    UPLOAD_RATE_LIMIT = os.environ.get("UPLOAD_RATE_LIMIT", "60 per minute")
    # Exact analyses per user per rolling 24 h, counted in PostgreSQL.
    ANALYSIS_DAILY_QUOTA = _int("ANALYSIS_DAILY_QUOTA", 20)
    # Analysis threads per process, and most jobs waiting before the API answers 503.
    JOB_WORKERS = _int("JOB_WORKERS", 1)
    JOB_QUEUE_LIMIT = _int("JOB_QUEUE_LIMIT", 200)
    # A running job renews its lease every heartbeat; an expired lease is re-queued.
    JOB_LEASE_SECONDS = _int("JOB_LEASE_SECONDS", 45)
    JOB_HEARTBEAT_SECONDS = _float("JOB_HEARTBEAT_SECONDS", 10.0)
    JOB_POLL_SECONDS = _float("JOB_POLL_SECONDS", 1.0)
    JOB_MAX_ATTEMPTS = _int("JOB_MAX_ATTEMPTS", 3)
    # Nice value of the analysis and background threads (0-19). 0: a thread that holds the worker's interpreter
    # lock at a low priority is starved by busy cores and stalls every request of its worker, probes included
    # (priority inversion; bench/probe_bench.py: /health took seconds under an upload storm at 19).
    JOB_NICE = _int("JOB_NICE", 0)
    # Background work on uploaded photos (model output, comparison, display copy) waits for a moment without
    # requests in its worker, at most this many seconds a step (0 = never waits): it yields to requests itself.
    BACKGROUND_YIELD_SECONDS = _float("BACKGROUND_YIELD_SECONDS", 1.0)
    # Photos waiting in one process for their model output, computed as they arrive (one thread, at the
    # analyses' priority) so the analysis finds it ready; beyond this many the analysis computes it. 0 = off.
    PRECOMPUTE_QUEUE = _int("PRECOMPUTE_QUEUE", 64)
    # Start the job pool in this process (gunicorn workers and tests turn it on).
    JOBS_AUTOSTART = os.environ.get("JOBS_AUTOSTART", "0") == "1"
    # How long analyze-session (without ?async_process=true) waits for the result before answering 202.
    SYNC_ANALYSIS_TIMEOUT_SECONDS = _float("SYNC_ANALYSIS_TIMEOUT_SECONDS", 30.0)
    # The API's public origin for absolute URLs (previews, region maps); unset = the request's host.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    # A TorchScript embedder to use instead of the bundled EfficientNet-Lite0.
    EMBEDDING_MODEL_PATH = os.environ.get("EMBEDDING_MODEL_PATH")
    # Register each angle onto the baseline and compare it region by region (0 = whole-image distances only).
    REGION_ANALYSIS = os.environ.get("REGION_ANALYSIS", "1") == "1"
    # Threads the model's runtime (ONNX Runtime) may use for one forward pass (TORCH_THREADS: its old name).
    MODEL_THREADS = _int("MODEL_THREADS", _int("TORCH_THREADS", 1))
    # Where the model's exported ONNX graph is kept (unset: ~/.cache/bcd-models); written once per model.
    MODEL_CACHE_DIR = os.environ.get("MODEL_CACHE_DIR")
    # Proxies in front that set X-Forwarded-For (deploy/serve: nginx, 1); 0 = the peer is the client.
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
    # Addresses (networks) allowed to read /metrics; anyone else gets 403.
    METRICS_ALLOWED_NETWORKS = _origins(os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128"))
    # One JSON object per log line (production) instead of plain text.
    LOG_JSON = os.environ.get("LOG_JSON", "0") == "1"
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")


class TestConfig(Config):
    """Tests: a throwaway database is given by the fixtures; limits are off unless a test wants them."""

    TESTING = True
    RATELIMIT_ENABLED = False
    JOB_POLL_SECONDS = 0.2


class ProductionConfig(Config):
    """Production: refuses to start on unsafe or missing settings."""

    LOG_JSON = os.environ.get("LOG_JSON", "1") == "1"
    CONSENT_REQUIRED = os.environ.get("CONSENT_REQUIRED", "1") == "1"
    EMAIL_VERIFICATION_REQUIRED = os.environ.get("EMAIL_VERIFICATION_REQUIRED", "1") == "1"

    @classmethod
    def validate(cls) -> None:
        """Raise RuntimeError when a setting would be unsafe in production."""
        secret = os.environ.get("SECRET_KEY", "")
        if not secret:
            raise RuntimeError("SECRET_KEY must be set in production")
        if secret == DEV_SECRET_KEY or len(secret) < MIN_SECRET_LENGTH:
            raise RuntimeError(
                f"SECRET_KEY must be a secret of at least {MIN_SECRET_LENGTH} characters, not the development "
                "default: `python -c 'import secrets; print(secrets.token_urlsafe(48))'` makes one"
            )
        if not os.environ.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production (no embedded fall-back)")
        if not cls.ALLOWED_ORIGINS or "*" in cls.ALLOWED_ORIGINS:
            raise RuntimeError("ALLOWED_ORIGINS must list explicit origins in production, never '*'")
        if not (os.environ.get("BCD_MASTER_KEY_FILE") or os.environ.get("BCD_MASTER_KEY")):
            raise RuntimeError(
                "BCD_MASTER_KEY_FILE (or BCD_MASTER_KEY, base64 of 32 random bytes) must be set in production: it "
                "wraps every user's photo key. Make one with `flask bcd new-master-key PATH` and keep it apart "
                "from the database and storage backups."
            )
        key_file = os.environ.get("BCD_MASTER_KEY_FILE")
        if key_file and Path(key_file).resolve() == Path(Config.DEV_MASTER_KEY_FILE).resolve():
            raise RuntimeError(
                "BCD_MASTER_KEY_FILE is the key development made beside the data: make a production one with "
                "`flask bcd new-master-key PATH` and keep it apart from the database and storage backups"
            )
        if cls.EMAIL_VERIFICATION_REQUIRED and not os.environ.get("SMTP_URL"):
            raise RuntimeError("SMTP_URL must be set in production: verification and reset links go by mail")
        if os.environ.get("STORAGE_BACKEND") == "s3" and not os.environ.get("S3_BUCKET"):
            raise RuntimeError("S3_BUCKET must be set when STORAGE_BACKEND=s3")
