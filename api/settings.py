"""Server settings: one typed object, read from `qa serve` flags and `QA_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from qa.answers import MAX_QUESTION_CHARS, MAX_TOP_K
from qa.errors import InvalidSettings

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
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
    max_upload_files: int = Field(default=100, ge=1, le=1000)
    max_upload_file_bytes: int = Field(default=20 * 2**20, ge=1)
    max_upload_bytes: int = Field(default=100 * 2**20, ge=1)
    parse_timeout: float = Field(default=30.0, gt=0, description="Seconds to read one uploaded file.")
    write_wait: float = Field(default=30.0, ge=0, description="Seconds a write waits for another writer.")
    rate_limit: str | None = Field(
        default=None,
        description="Questions per client, e.g. '60/minute' ('off': none). Unset: off on a loopback host, "
        f"else {DEFAULT_RATE_LIMIT}.",
    )
    upload_rate_limit: str | None = Field(
        default=None,
        description="Uploads per client, as rate_limit. Unset: off on a loopback host, "
        f"else {DEFAULT_UPLOAD_RATE_LIMIT}.",
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

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept "a,b" from the environment or one flag as well as a list."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            return [origin.strip().rstrip("/") for item in value for origin in str(item).split(",") if origin.strip()]
        return value

    def environment(self) -> dict[str, str]:
        """These settings as QA_* variables, so that worker processes (`qa serve --workers`) read
        back the same ones."""
        values = self.model_dump(exclude_none=True)
        values["cors_origins"] = ",".join(self.cors_origins)
        return {f"QA_{name.upper()}": str(value) for name, value in values.items()}


def load_settings(**flags: object) -> Settings:
    """Settings from flags (None means not given) over QA_* variables; bad values raise InvalidSettings."""
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in error.errors())
        raise InvalidSettings(f"Bad server setting ({problems}); check the flags and QA_* variables.") from None
