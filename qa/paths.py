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


def ensure_default_index(model: str | None = None, show_progress: bool = False) -> Path:
    """The seeds index, built on first use."""
    from qa.indexing import index_paths
    from qa.store import MANIFEST_FILE, recover_interrupted_swap

    index_dir = default_index_dir(model)
    recover_interrupted_swap(index_dir)
    if not (index_dir / MANIFEST_FILE).exists():
        if show_progress:
            from qa.console import stderr_console

            stderr_console().print(f"Indexing the seed documents into {index_dir} (first use)…")
        index_paths([seeds_dir()], index_dir, model=model, show_progress=show_progress)
    return index_dir
