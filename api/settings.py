"""Server settings: one typed object, read from `qa serve` flags and `QA_*` environment variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from qa.answers import MAX_QUESTION_CHARS, MAX_TOP_K
from qa.errors import InvalidSettings

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
WILDCARD = {"0.0.0.0", "::", ""}
DEFAULT_RATE_LIMIT = "60/minute"
DEFAULT_UPLOAD_RATE_LIMIT = "20/minute"


class Settings(BaseSettings):
    """Everything the HTTP server needs to start; flags passed to `qa serve` override the environment."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    index: Path | None = Field(default=None, description="Index folder to serve; unset means the bundled seeds index.")
    model: str | None = Field(
        default=None, description="Embedding model name or path; unset means the model the index was built with."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Origins allowed to call the API from a browser, e.g. the page that embeds the widget. "
            "Comma-separated in QA_CORS_ORIGINS; '*' allows any origin. Empty: same origin only."
        ),
    )
    max_question_chars: int = Field(default=MAX_QUESTION_CHARS, ge=1, le=MAX_QUESTION_CHARS)
    max_top_k: int = Field(default=MAX_TOP_K, ge=1, le=MAX_TOP_K)
    max_body_bytes: int = Field(default=65536, ge=1)
    # A shared server: keys, uploads, rate limits (README "A shared server").
    require_key: bool = Field(default=False, description="Reads (/ask, /documents, /feedback) need a read key too.")
    documents_dir: Path | None = Field(
        default=None, description="Where uploaded files are kept; unset means INDEX-documents/ beside the index."
    )
    watch: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders the server indexes and follows as their one writer (qa watch in the server). "
        "Comma-separated in QA_WATCH.",
    )
    refresh_every: float | None = Field(
        default=None,
        description="Seconds between re-syncs of the web sources the index remembers (QA_REFRESH_EVERY: 90s, 15m, "
        "1h, 1d). Unset: never.",
    )
    max_upload_files: int = Field(default=100, ge=1, le=1000)
    max_upload_file_bytes: int = Field(default=20 * 2**20, ge=1)
    max_upload_bytes: int = Field(default=100 * 2**20, ge=1)
    parse_timeout: float = Field(default=30.0, gt=0, description="Seconds to read one uploaded file.")
    write_wait: float = Field(default=30.0, ge=0, description="Seconds a write waits for another writer.")
    feedback: bool = Field(
        default=True, description="Keep votes sent to POST /feedback; off: it answers 404 and keeps nothing."
    )
    rate_limit: str | None = Field(
        default=None,
        description="Questions (and votes, counted apart) per client, e.g. '60/minute' ('off': none). Unset: off "
        "on a loopback host, "
        f"else {DEFAULT_RATE_LIMIT}.",
    )
    upload_rate_limit: str | None = Field(
        default=None,
        description="Uploads per client, as rate_limit. Unset: off on a loopback host, "
        f"else {DEFAULT_UPLOAD_RATE_LIMIT}.",
    )

    # The server's edge: connections, headers and bodies, proxies and hosts, stopping (docs/SHARED_SERVER.md).
    max_connections: int = Field(
        default=1000, ge=1, description="Open connections at once; past them a request gets 503 (uvicorn's cap)."
    )
    max_header_bytes: int = Field(
        default=16384, ge=1024, description="Bytes of request line and headers; past them 431."
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a client has to send a request's headers once it connects or starts one.",
    )
    keep_alive: int = Field(default=5, ge=1, description="Seconds an idle connection is kept open between requests.")
    body_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a request body may go without a byte arriving (then 408)."
    )
    min_body_rate: int = Field(
        default=1024, ge=0, description="Bytes per second a body must average once body_timeout has passed (then 408)."
    )
    graceful_timeout: int = Field(
        default=10, ge=0, description="Seconds a stopping server gives requests in flight; then uploads roll back."
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxy addresses whose X-Forwarded-For/-Proto are believed ('*': any). Empty: none.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host header values the server answers ('*': any). Empty: the bind address and localhost.",
    )

    @field_validator("rate_limit", "upload_rate_limit")
    @classmethod
    def _parse_limit(cls, value: str | None) -> str | None:
        """Refuse a limit the rate limiter could not read, at start-up rather than on the first request."""
        if value is None or value.strip().lower() == "off":
            return value
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate like '60/minute' or '10 per second'") from None
        return value

    def rate_limits(self) -> tuple[str | None, str | None]:
        """(questions, uploads) per client, None where off; off on a loopback host unless set."""
        local = self.host in LOOPBACK

        def chosen(value: str | None, default: str) -> str | None:
            value = value if value is not None else (None if local else default)
            return None if value is None or value.strip().lower() == "off" else value

        return chosen(self.rate_limit, DEFAULT_RATE_LIMIT), chosen(self.upload_rate_limit, DEFAULT_UPLOAD_RATE_LIMIT)

    @field_validator("refresh_every", mode="before")
    @classmethod
    def _parse_every(cls, value: object) -> object:
        return parse_every(value) if isinstance(value, str | int | float) else value

    @field_validator("watch", mode="before")
    @classmethod
    def _split_folders(cls, value: object) -> object:
        return _split(value) if isinstance(value, str | list | tuple) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept "a,b" from the environment or one flag as well as a list."""
        return [origin.rstrip("/") for origin in _split(value)] if isinstance(value, str | list | tuple) else value

    @field_validator("forwarded_allow_ips", "allowed_hosts", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        return _split(value) if isinstance(value, str | list | tuple) else value

    def trusted_hosts(self) -> list[str]:
        """The Host header values to answer: those set, else the bind address and localhost (a page
        on another site that rebinds its DNS name to this address is refused). A server bound to
        every address also answers to this machine's names."""
        if self.allowed_hosts:
            return self.allowed_hosts
        hosts = ["localhost", "127.0.0.1"]
        if self.host in WILDCARD:
            import socket

            hosts += [socket.gethostname(), socket.getfqdn()]
        elif self.host not in hosts:
            hosts.append(self.host)
        return list(dict.fromkeys(hosts))

    def environment(self) -> dict[str, str]:
        """These settings as QA_* variables, so that worker processes (`qa serve --workers`) read
        back the same ones."""
        values = self.model_dump(exclude_none=True)
        for name in ("cors_origins", "forwarded_allow_ips", "allowed_hosts"):
            values[name] = ",".join(getattr(self, name))
        return {f"QA_{name.upper()}": str(value) for name, value in values.items()}


def _split(value: str | list | tuple) -> list[str]:
    """ "a,b" (an environment variable, or one flag) or a list of them, as a list of names."""
    items = [value] if isinstance(value, str) else value
    return [name.strip() for item in items for name in str(item).split(",") if name.strip()]


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str | float | None) -> float | None:
    """'90', '90s', '15m', '1h', '1d' as seconds; None or '' or 'off' as None."""
    if text is None or (isinstance(text, str) and text.strip().lower() in {"", "off"}):
        return None
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
        if not match:
            raise InvalidSettings(f"Not a duration: {text!r} (say 90s, 15m, 1h or 1d).")
        seconds = float(match[1]) * _UNITS[match[2] or "s"]
    if seconds < 1:
        raise InvalidSettings(f"A refresh every {seconds:g} s is too often (at least 1 s).")
    return seconds


def load_settings(**flags: object) -> Settings:
    """Settings from flags (None means not given) over QA_* variables; bad values raise InvalidSettings."""
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in error.errors())
        raise InvalidSettings(f"Bad server setting ({problems}); check the flags and QA_* variables.") from None
