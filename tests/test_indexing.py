"""Incremental indexing and the index folder, with the real model on small documents."""

import json
import shutil
from pathlib import Path

import pytest

from qa.collection import Collection, index_paths
from qa.errors import IndexMismatch, IndexNotFound, NoDocuments, QAError
from qa.store import MANIFEST_FILE, StagingFolder, read_manifest, recover_interrupted_swap

pytestmark = pytest.mark.slow

HARBOUR = "The harbour of Valletta closes every winter for repairs to the old stone quay."
ORCHARD = "The orchard behind the mill grows forty kinds of pears and a few quinces."
COMET = "Astronomers tracked the comet for three nights before clouds rolled in."


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "harbour.txt").write_text(HARBOUR)
    (folder / "orchard.md").write_text(ORCHARD)
    return folder


def top_source(index_dir: Path, question: str) -> str:
    return Collection.open(index_dir).ask(question, top_k=1).passages[0].citation.source


def test_reindexing_embeds_only_changes_and_results_follow(corpus, tmp_path):
    index_dir = tmp_path / "docs.qa"
    first = index_paths([corpus], index_dir)
    assert (first.added, first.updated, first.removed, first.unchanged) == (2, 0, 0, 0)
    assert top_source(index_dir, "When does the harbour close?") == "harbour.txt"

    again = index_paths([corpus], index_dir)
    assert (again.added, again.updated, again.removed, again.unchanged, again.passages) == (0, 0, 0, 2, 0)

    (corpus / "harbour.txt").unlink()
    (corpus / "orchard.md").write_text(ORCHARD + " The mill itself burned down in 1901.")
    (corpus / "sky").mkdir()
    (corpus / "sky" / "comet.txt").write_text(COMET)
    changed = index_paths([corpus], index_dir)
    assert changed.summary == "added 1, updated 1, removed 1, unchanged 0"
    assert changed.passages == 2

    collection = Collection.open(index_dir)
    assert {d.source for d in collection.documents()} == {"orchard.md", "sky/comet.txt"}
    assert top_source(index_dir, "What happened to the comet?") == "sky/comet.txt"
    assert "burned down in 1901" in collection.ask("When did the mill burn?", top_k=1).passages[0].text
    manifest = read_manifest(index_dir)
    assert manifest.counts.documents == 2 and manifest.counts.passages == 2
    assert set(manifest.documents) == {"orchard", "sky__comet"}


def test_manifest_records_what_loading_checks(corpus, tmp_path):
    index_dir = tmp_path / "docs.qa"
    index_paths([corpus], index_dir)
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text())
    assert manifest["format_version"] == 1
    assert manifest["model"] == {
        "name": "sentence-transformers/all-MiniLM-L6-v2",
        "dimension": 384,
        "max_tokens": 256,
        "quantized": False,
    }
    assert manifest["faiss_version"] and manifest["created"] and manifest["updated"]
    entry = manifest["documents"]["harbour"]
    assert entry["source"] == "harbour.txt" and len(entry["sha256"]) == 64
    assert sorted(p.name for p in index_dir.iterdir()) == ["bm25", "manifest.json", "passages.sqlite", "vectors.faiss"]


def test_folder_without_supported_files_leaves_the_index_untouched(corpus, tmp_path):
    index_dir = tmp_path / "docs.qa"
    index_paths([corpus], index_dir)
    before = (index_dir / MANIFEST_FILE).read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "picture.png").write_bytes(b"\x89PNG")
    with pytest.raises(NoDocuments, match="not changed"):
        index_paths([empty], index_dir)
    assert (index_dir / MANIFEST_FILE).read_bytes() == before


def test_an_index_never_replaces_a_folder_of_user_files(corpus, tmp_path):
    with pytest.raises(QAError, match="not a qa index"):
        index_paths([corpus], corpus)
    assert (corpus / "harbour.txt").read_text() == HARBOUR


def test_loading_checks_counts_and_model(corpus, tmp_path):
    index_dir = tmp_path / "docs.qa"
    index_paths([corpus], index_dir)
    with pytest.raises(IndexMismatch, match="--rebuild"):
        Collection.open(index_dir, model="some/other-model")
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text())
    manifest["counts"]["passages"] += 1
    (index_dir / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="inconsistent.*--rebuild"):
        Collection.open(index_dir)
    (index_dir / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(IndexMismatch, match="unreadable"):
        Collection.open(index_dir)
    with pytest.raises(IndexNotFound, match="qa index"):
        Collection.open(tmp_path / "nowhere.qa")


def test_a_failed_write_leaves_the_old_index(corpus, tmp_path):
    index_dir = tmp_path / "docs.qa"
    index_paths([corpus], index_dir)
    before = (index_dir / MANIFEST_FILE).read_bytes()
    with StagingFolder(index_dir) as staging:
        (staging.path / "half-written").write_text("x")
        staging_path = staging.path
        # leaving the block without commit() is what a crash or an exception does
    assert not staging_path.exists()
    assert (index_dir / MANIFEST_FILE).read_bytes() == before


def test_a_crash_between_the_two_renames_is_recovered(corpus, tmp_path):
    index_dir = tmp_path / "docs.qa"
    index_paths([corpus], index_dir)
    shutil.move(index_dir, index_dir.with_name(".docs.qa.old"))
    recover_interrupted_swap(index_dir)
    assert Collection.open(index_dir).stats().documents == 2
