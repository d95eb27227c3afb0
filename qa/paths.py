"""Where things live: the user's data folder, the bundled seeds and the default index."""

from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_home() -> Path:
    """`$QA_HOME`, else `$XDG_DATA_HOME/qa`, else `~/.local/share/qa`."""
    if os.environ.get("QA_HOME"):
        return Path(os.environ["QA_HOME"]).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "qa"


def seeds_dir() -> Path:
    """The default corpus: `$QA_SEEDS`, else `seeds/` of this checkout."""
    return Path(os.environ.get("QA_SEEDS") or PROJECT_ROOT / "seeds")


def default_index_dir(model: str | None = None) -> Path:
    """The seeds index, one per model so that switching models never mixes vectors."""
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
