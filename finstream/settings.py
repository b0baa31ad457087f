"""Configuration from the environment (and a .env file). Keys never leave this object in logs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    anthropic_api_key: SecretStr | None = Field(None, alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = Field(None, alias="ANTHROPIC_BASE_URL")
    model: str = Field("claude-sonnet-5-5", alias="FINSTREAM_MODEL")
    # Thinking counts against max_tokens: 32K leaves a long answer room after high-effort thinking
    # and stays within every current model's output limit (128K; providers clamp to the model's).
    max_tokens: int = Field(32000, alias="FINSTREAM_MAX_TOKENS")
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = Field(
        "high", alias="FINSTREAM_EFFORT", description="output_config.effort on adaptive models."
    )
    max_tool_rounds: int = Field(8, alias="FINSTREAM_MAX_TOOL_ROUNDS")
    max_retries: int = Field(3, alias="FINSTREAM_MAX_RETRIES", description="Retries before first byte.")
    retry_max_wait: float = Field(20.0, alias="FINSTREAM_RETRY_MAX_WAIT", description="Cap, seconds.")
    read_timeout: float = Field(60.0, alias="FINSTREAM_READ_TIMEOUT", description="Longest byte gap.")
    demo: bool = Field(False, alias="FINSTREAM_DEMO", description="Force the demo analyst.")
    demo_delay: float = Field(0.02, alias="FINSTREAM_DEMO_DELAY", description="Seconds per demo word.")

    data_dir: Path = Field(Path(user_data_dir("finstream")), alias="FINSTREAM_DATA_DIR")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    max_upload_mb: int = Field(50, alias="FINSTREAM_MAX_UPLOAD_MB")

    api_token: SecretStr | None = Field(None, alias="FINSTREAM_API_TOKEN")
    app_token: SecretStr | None = Field(
        None, alias="FINSTREAM_APP_TOKEN", description="Required when the app binds beyond loopback."
    )
    cors_origins: str = Field("", alias="FINSTREAM_CORS_ORIGINS", description="Comma-separated.")

    # Bounded parsing (finstream/filings/sandbox.py, limits.py): every upload is parsed in a worker
    # process with these limits, so one hostile file cannot take the server down.
    parse_workers: int = Field(2, ge=1, alias="FINSTREAM_PARSE_WORKERS", description="Parser processes.")
    parse_memory_mb: int = Field(
        1024, ge=256, alias="FINSTREAM_PARSE_MEMORY_MB", description="Address space of one parser process."
    )
    parse_cpu_seconds: int = Field(
        60, ge=1, alias="FINSTREAM_PARSE_CPU_SECONDS", description="CPU time for parsing one file."
    )
    max_pdf_pages: int = Field(1500, ge=1, alias="FINSTREAM_MAX_PDF_PAGES")
    max_text_mb: int = Field(
        64, ge=1, alias="FINSTREAM_MAX_TEXT_MB", description="Text extracted from one file (millions of chars)."
    )
    max_xlsx_cells: int = Field(2_000_000, ge=1, alias="FINSTREAM_MAX_XLSX_CELLS")

    # Scale-out: how often a replica shows its runs are alive, and when another takes them for dead.
    heartbeat_seconds: float = Field(5.0, alias="FINSTREAM_HEARTBEAT_SECONDS", gt=0)
    stale_after_seconds: float = Field(30.0, alias="FINSTREAM_STALE_AFTER_SECONDS", gt=0)
    instance_name: str = Field(
        "", alias="FINSTREAM_INSTANCE_NAME",
        description="This replica's name in logs, metrics and X-Finstream-Replica (default: host name).",
    )

    @property
    def use_claude(self) -> bool:
        return self.anthropic_api_key is not None and not self.demo

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'finstream.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
