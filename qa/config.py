"""Configuration: the one place that reads the `QA_*` environment variables and finds folders.

`current()` reads the environment each time it is called (tests change `QA_HOME` per test), and
the rest of `qa` receives the values. The server's own variables (`QA_HOST`, `QA_PORT` …) are the
HTTP face's settings, in `api/settings.py`; `QA_WORKERS` is read by `qa serve`'s option.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

logger = logging.getLogger(__name__)

APP_NAME = "qa"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENCODER_BACKENDS = ("auto", "torch")
PASSAGE_PRECISIONS = ("auto", "float32", "bfloat16")  # embeddings.bf16.PRECISIONS, without importing numpy
DEFAULT_WAIT = 5.0  # seconds a writer waits for another one to finish (`--wait`)
# A long index write commits what it has embedded every so many passages or seconds, whichever
# comes first (`--flush-passages`, `--flush-minutes`). 500 passages are ~8 s of the fp32 model on 2
# cores, and a flush costs 0.03-0.2 s (docs/PERFORMANCE.md, "Long runs that survive").
DEFAULT_FLUSH_PASSAGES = 500
DEFAULT_FLUSH_SECONDS = 60.0


@dataclass(frozen=True)
class Config:
    """What the environment says, with every default filled in."""

    home: Path  # QA_HOME: indexes, chat history, evaluation caches
    seeds: Path  # QA_SEEDS: the default corpus
    cache_dir: Path  # QA_CACHE_DIR: ONNX exports of models
    encoder_backend: str  # QA_ENCODER_BACKEND: "auto" (ONNX Runtime when the model exports) or "torch"
    ray_address: str | None  # QA_RAY_ADDRESS: the Ray cluster `qa index` uses when --ray is not given
    progress_seconds: float = 5.0  # QA_PROGRESS_SECONDS: between progress lines when stderr is not a terminal
    # QA_PASSAGES: what a new index embeds its passages in: "auto" (bfloat16 where the CPU has AMX
    # and torch is installed, else float32), "float32" or "bfloat16" (embeddings.bf16)
    passages: str = "auto"

    def encoder_options(self) -> dict:
        """What `embeddings.load_encoder` is given, as embeddings reads no environment of ours."""
        return {"cache_dir": self.cache_dir, "backend": self.encoder_backend}


def current(environ: Mapping[str, str] | None = None) -> Config:
    """The configuration as the environment holds it now."""
    environ = os.environ if environ is None else environ
    backend = (environ.get("QA_ENCODER_BACKEND") or "auto").strip().lower()
    if backend not in ENCODER_BACKENDS:
        logger.warning("QA_ENCODER_BACKEND=%s is not one of %s; using auto", backend, ", ".join(ENCODER_BACKENDS))
        backend = "auto"
    passages = (environ.get("QA_PASSAGES") or "auto").strip().lower()
    if passages not in PASSAGE_PRECISIONS:
        logger.warning("QA_PASSAGES=%s is not one of %s; using auto", passages, ", ".join(PASSAGE_PRECISIONS))
        passages = "auto"
    return Config(
        passages=passages,
        home=_path(environ.get("QA_HOME")) or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        seeds=_path(environ.get("QA_SEEDS")) or _shipped_seeds(),
        cache_dir=_path(environ.get("QA_CACHE_DIR")) or Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        encoder_backend=backend,
        ray_address=environ.get("QA_RAY_ADDRESS") or None,
        progress_seconds=_seconds(environ, "QA_PROGRESS_SECONDS", 5.0),
    )


def load_encoder(model: str | None, quantized: bool, *, prepack: bool = True, passages: str = "float32"):
    """The encoder for `model` as configured now; a model that is not installed is a
    `ModelNotInstalled` whose message says what to install. `prepack=False`: for one question;
    `passages`: what passages are embedded in (`embeddings.load_encoder`)."""
    import embeddings
    from qa.errors import ModelNotInstalled

    try:
        return embeddings.load_encoder(
            model, quantized=quantized, prepack=prepack, passages=passages, **current().encoder_options()
        )
    except embeddings.ModelUnavailable as error:
        raise ModelNotInstalled(str(error)) from None


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds ≥ 0 from the environment; anything else is warned about and ignored."""
    value = environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
        if seconds >= 0:
            return seconds
    except ValueError:
        pass
    logger.warning("%s=%s is not a number of seconds; using %g", name, value, default)
    return default


def _shipped_seeds() -> Path:
    """`seeds/` of this checkout; in an installed wheel, where the wheel put them (sys.prefix)."""
    checkout = PROJECT_ROOT / "seeds"
    installed = Path(sys.prefix) / "share" / "qa-passages" / "seeds"
    return installed if not checkout.is_dir() and installed.is_dir() else checkout


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def data_home() -> Path:
    """`$QA_HOME`, else the user data folder (`$XDG_DATA_HOME/qa`, else `~/.local/share/qa`)."""
    return current().home


def seeds_dir() -> Path:
    """The default corpus: `$QA_SEEDS`, else `seeds/` of this checkout."""
    return current().seeds


def default_index_dir(model: str | None = None) -> Path:
    """The index of the default corpus: one per model, so that switching models never mixes
    vectors, and one per corpus folder, so that another checkout, an installed wheel or
    `QA_SEEDS` never answers from another folder's documents: `seeds-<model>-<8 hex digits of the
    folder's path>` (qa.collection.default_index also takes over an older unnamed one)."""
    former = former_default_index_dir(model)
    folder = hashlib.sha256(str(seeds_dir().resolve()).encode()).hexdigest()[:8]
    return former.with_name(f"{former.name}-{folder}")


def former_default_index_dir(model: str | None = None) -> Path:
    """Where qa kept the default index before it was named for its folder: `seeds-<model>`."""
    from embeddings.model import resolve_model

    name = resolve_model(model)[0]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name.rsplit("/", 1)[-1]).strip("-").lower()
    return data_home() / "indexes" / f"seeds-{slug}"


def server_data_dir(index_dir: Path) -> Path:
    """What a shared server keeps beside an index (API keys, answer feedback): `INDEX-server/`
    next to the index folder, so that a rebuilt index keeps its keys."""
    index_dir = Path(index_dir).expanduser().resolve()
    return index_dir.parent / f"{index_dir.name}-server"


def uploads_dir(index_dir: Path) -> Path:
    """Where files uploaded over HTTP are kept (`$QA_DOCUMENTS_DIR` overrides it per server):
    `INDEX-documents/` next to the index folder."""
    index_dir = Path(index_dir).expanduser().resolve()
    return index_dir.parent / f"{index_dir.name}-documents"
