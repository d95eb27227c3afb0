"""Incremental indexing into segments, as a user runs `qa index` and `qa remove`, with the fake encoder."""

import json
from pathlib import Path

import pytest

from qa.collection import Collection
from qa.errors import DocumentNotFound, IndexMismatch, IndexNotFound, ModelMismatch, NoDocuments, NotAnIndex
from qa.ingest.indexing import IndexOptions, compact_index, index_paths, remove_documents
from qa.store import MANIFEST_FILE, read_manifest
from qa.store.merge_policy import DEFAULT_MERGE_POLICY, TieredMergePolicy

MERGE_FACTOR = DEFAULT_MERGE_POLICY.factor

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


@pytest.fixture
def index_dir(tmp_path):
    return tmp_path / "docs.qa"


def sources(index_dir: Path, encoder) -> set[str]:
    return {d.source for d in Collection.open(index_dir, encoder=encoder).documents()}


def top_source(index_dir: Path, encoder, question: str) -> str:
    return Collection.open(index_dir, encoder=encoder).ask(question, top_k=1).passages[0].citation.source


def test_reindexing_embeds_only_changes_and_results_follow(corpus, index_dir, fake_encoder):
    first = index_paths([corpus], index_dir, encoder=fake_encoder)
    assert (first.added, first.updated, first.removed, first.unchanged) == (2, 0, 0, 0)
    assert top_source(index_dir, fake_encoder, "When does the harbour close?") == "harbour.txt"

    embedded = fake_encoder.encoded
    again = index_paths([corpus], index_dir, encoder=fake_encoder)
    assert (again.added, again.updated, again.removed, again.unchanged, again.passages) == (0, 0, 0, 2, 0)
    assert fake_encoder.encoded == embedded

    (corpus / "harbour.txt").unlink()
    (corpus / "orchard.md").write_text(ORCHARD + " The mill itself burned down in 1901.")
    (corpus / "sky").mkdir()
    (corpus / "sky" / "comet.txt").write_text(COMET)
    changed = index_paths([corpus], index_dir, encoder=fake_encoder)
    assert changed.summary == "added 1, updated 1, removed 1, unchanged 0"
    assert changed.removed_names.endswith("harbour.txt")
    assert changed.passages == 2

    collection = Collection.open(index_dir, encoder=fake_encoder)
    assert {d.source for d in collection.documents()} == {"orchard.md", "sky/comet.txt"}
    assert top_source(index_dir, fake_encoder, "What happened to the comet?") == "sky/comet.txt"
    assert "burned down in 1901" in collection.ask("When did the mill burn?", top_k=1).passages[0].text
    manifest = read_manifest(index_dir)
    assert manifest.counts.documents == 2 and manifest.counts.passages == 2


def test_adding_one_file_keeps_the_other_documents_of_its_folder(corpus, index_dir, fake_encoder):
    """Naming a file used to remove every other document of its folder."""
    index_paths([corpus], index_dir, encoder=fake_encoder)
    memo = corpus / "memo.txt"
    memo.write_text(COMET)

    report = index_paths([memo], index_dir, encoder=fake_encoder)

    assert report.summary == "added 1, updated 0, removed 0, unchanged 0"
    assert sources(index_dir, fake_encoder) == {"harbour.txt", "orchard.md", "memo.txt"}
    memo.write_text(COMET + " The comet returns in 2061.")
    assert index_paths([memo], index_dir, encoder=fake_encoder).summary == "added 0, updated 1, removed 0, unchanged 0"
    assert sources(index_dir, fake_encoder) == {"harbour.txt", "orchard.md", "memo.txt"}


def test_a_file_of_an_indexed_folder_named_alone_is_the_same_document(corpus, index_dir, fake_encoder):
    (corpus / "sub").mkdir()
    (corpus / "sub" / "comet.txt").write_text(COMET)
    index_paths([corpus], index_dir, encoder=fake_encoder)

    report = index_paths([corpus / "sub" / "comet.txt"], index_dir, encoder=fake_encoder)

    assert report.summary == "added 0, updated 0, removed 0, unchanged 1"
    assert len(Collection.open(index_dir, encoder=fake_encoder).documents()) == 3


def test_deleted_files_are_removed_only_when_their_folder_is_indexed(corpus, index_dir, fake_encoder):
    index_paths([corpus], index_dir, encoder=fake_encoder)
    (corpus / "harbour.txt").unlink()
    (corpus / "memo.txt").write_text(COMET)

    assert index_paths([corpus / "memo.txt"], index_dir, encoder=fake_encoder).removed == 0
    assert "harbour.txt" in sources(index_dir, fake_encoder)
    assert index_paths([corpus], index_dir, encoder=fake_encoder).removed == 1
    assert sources(index_dir, fake_encoder) == {"orchard.md", "memo.txt"}


def test_remove_by_doc_id_file_or_folder(corpus, index_dir, fake_encoder):
    (corpus / "sky").mkdir()
    (corpus / "sky" / "comet.txt").write_text(COMET)
    index_paths([corpus], index_dir, encoder=fake_encoder)

    assert remove_documents(["harbour"], index_dir).removed == 1
    assert remove_documents([str(corpus / "sky")], index_dir).removed_names.endswith("sky/comet.txt")
    assert sources(index_dir, fake_encoder) == {"orchard.md"}
    with pytest.raises(DocumentNotFound, match="Nothing was removed"):
        remove_documents([str(corpus / "orchard.md"), "no-such-doc"], index_dir)
    assert sources(index_dir, fake_encoder) == {"orchard.md"}
    assert remove_documents([str(corpus / "orchard.md")], index_dir).removed == 1
    assert Collection.open(index_dir, encoder=fake_encoder).stats().documents == 0


def test_an_update_adds_one_segment_and_leaves_the_others_alone(corpus, index_dir, fake_encoder):
    index_paths([corpus], index_dir, encoder=fake_encoder)
    segments = index_dir / "segments"
    (first,) = list(segments.iterdir())
    before = {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in first.rglob("*")}
    (corpus / "comet.txt").write_text(COMET)
    (corpus / "orchard.md").write_text(ORCHARD + " New pears.")

    report = index_paths([corpus], index_dir, encoder=fake_encoder)

    assert (report.generation, report.segments) == (2, 2)
    assert {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in first.rglob("*")} == before
    manifest = read_manifest(index_dir)
    assert manifest.segments[0].deleted_documents == ["orchard"]
    assert manifest.counts.documents == 3


def test_a_merge_policy_given_in_the_options_decides_the_merges(tmp_path, index_dir, fake_encoder):
    folder = tmp_path / "notes"
    folder.mkdir()
    never = TieredMergePolicy(factor=1000)
    for number in range(MERGE_FACTOR + 2):
        (folder / f"note{number:02d}.txt").write_text(f"Note {number}: the ferry number {number} left at dawn.")
        index_paths(
            [folder / f"note{number:02d}.txt"], index_dir, IndexOptions(merge_policy=never), encoder=fake_encoder
        )
    assert len(read_manifest(index_dir).segments) == MERGE_FACTOR + 2  # the default would have merged ten
    (folder / "last.txt").write_text("The last ferry left at dusk.")
    index_paths([folder / "last.txt"], index_dir, encoder=fake_encoder)  # the default policy merges again
    assert len(read_manifest(index_dir).segments) < MERGE_FACTOR
    assert read_manifest(index_dir).counts.documents == MERGE_FACTOR + 3


def test_no_merge_makes_a_segment_past_the_cap_so_a_huge_index_is_never_merged_whole():
    from qa.store.manifest import SegmentInfo

    def segments(*sizes: int) -> list[SegmentInfo]:
        return [SegmentInfo(name=f"s{i}", documents=1, passages=size) for i, size in enumerate(sizes)]

    policy = TieredMergePolicy(factor=4, max_segment_passages=1000)
    assert [s.name for s in policy.next_merge(segments(300, 300, 300, 300))] == ["s0", "s1", "s2"]
    assert policy.next_merge(segments(600, 600, 600, 600)) == []  # no two fit: they stay apart
    assert [s.name for s in policy.next_merge(segments(600, 600, 600, 600, 5, 5, 5, 5))] == ["s4", "s5", "s6", "s7"]
    assert len(TieredMergePolicy(factor=4).next_merge(segments(600, 600, 600, 600))) == 4  # the default cap: 2M


def test_small_segments_are_merged_and_compact_makes_one(tmp_path, index_dir, fake_encoder):
    folder = tmp_path / "notes"
    folder.mkdir()
    for number in range(MERGE_FACTOR + 2):
        (folder / f"note{number:02d}.txt").write_text(f"Note {number}: the ferry number {number} left at dawn.")
        index_paths([folder / f"note{number:02d}.txt"], index_dir, encoder=fake_encoder)
    manifest = read_manifest(index_dir)
    assert len(manifest.segments) < MERGE_FACTOR
    assert manifest.counts.documents == MERGE_FACTOR + 2
    asked = Collection.open(index_dir, encoder=fake_encoder).ask("ferry number 7", top_k=1)
    assert asked.passages[0].citation.source == "note07.txt"

    remove_documents(["note03"], index_dir)
    report = compact_index(index_dir)
    manifest = read_manifest(index_dir)
    assert report.segments == 1 and manifest.segments[0].deleted_documents == []
    assert manifest.counts.documents == manifest.segments[0].documents == MERGE_FACTOR + 1
    assert len(list((index_dir / "segments").iterdir())) == 1
    again = Collection.open(index_dir, encoder=fake_encoder).ask("ferry number 7", top_k=1)
    assert again.passages[0].text == asked.passages[0].text


def test_the_folder_holds_a_manifest_a_lock_and_segments(corpus, index_dir, fake_encoder):
    index_paths([corpus], index_dir, encoder=fake_encoder)
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text())
    assert manifest["format_version"] == 2 and manifest["generation"] == 1
    assert manifest["model"] == {
        "name": fake_encoder.name,
        "dimension": 64,
        "max_tokens": 128,
        "quantized": False,
        "passage_precision": "float32",
    }
    assert manifest["faiss_version"] and manifest["created"] and manifest["updated"]
    assert sorted(p.name for p in index_dir.iterdir()) == ["manifest.json", "segments", "write.lock"]
    (segment,) = (index_dir / "segments").iterdir()
    assert sorted(p.name for p in segment.iterdir()) == [
        "ids.npy",
        "passages.sqlite",
        "postings",
        "vectors.faiss.f32.npy",
        "vectors.faiss.ids.npy",
    ]


def test_folder_without_supported_files_leaves_the_index_untouched(corpus, index_dir, tmp_path, fake_encoder):
    index_paths([corpus], index_dir, encoder=fake_encoder)
    before = (index_dir / MANIFEST_FILE).read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "picture.psd").write_bytes(b"8BPS")
    (empty / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(NoDocuments, match="not changed") as error:
        index_paths([empty], index_dir, encoder=fake_encoder)
    assert "broken.pdf: cannot parse .pdf" in str(error.value)  # every file, with why it was skipped
    assert "picture.psd: unsupported type .psd" in str(error.value)
    with pytest.raises(NoDocuments, match="picture.psd: unsupported"):
        index_paths([empty / "picture.psd"], index_dir, encoder=fake_encoder)
    assert (index_dir / MANIFEST_FILE).read_bytes() == before


def test_an_index_never_replaces_a_folder_of_user_files(corpus, fake_encoder):
    with pytest.raises(NotAnIndex, match="not a qa index"):
        index_paths([corpus], corpus, encoder=fake_encoder)
    assert (corpus / "harbour.txt").read_text() == HARBOUR


def test_a_new_index_whose_first_manifest_is_being_written_is_still_an_index(corpus, tmp_path, fake_encoder):
    """Two `qa index` runs start at once on a new folder: the second must not take the first's
    manifest, caught between being written and renamed into place, for a folder of user files."""
    index_dir = tmp_path / "both.qa"
    (index_dir / "segments").mkdir(parents=True)
    (index_dir / "write.lock").touch()
    (index_dir / ".manifest.json.4242.tmp").write_text("{")
    index_paths([corpus], index_dir, encoder=fake_encoder)
    assert read_manifest(index_dir).counts.documents == len(list(corpus.iterdir()))


def test_loading_checks_model_format_and_manifest(corpus, index_dir, tmp_path, fake_encoder):
    from tests.fakes import FakeEncoder

    index_paths([corpus], index_dir, encoder=fake_encoder)
    with pytest.raises(ModelMismatch, match="--rebuild"):
        Collection.open(index_dir, encoder=FakeEncoder(name="some/other-model"))
    with pytest.raises(ModelMismatch, match="--rebuild"):
        index_paths([corpus], index_dir, encoder=FakeEncoder(name="some/other-model"))
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text())
    (index_dir / MANIFEST_FILE).write_text(json.dumps({"format_version": 1, "roots": manifest["roots"]}))
    with pytest.raises(IndexMismatch, match=r"older format \(1\).*qa index .*docs --index .*--rebuild"):
        Collection.open(index_dir, encoder=fake_encoder)
    (index_dir / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(IndexMismatch, match="unreadable"):
        Collection.open(index_dir, encoder=fake_encoder)
    with pytest.raises(IndexNotFound, match="qa index"):
        Collection.open(tmp_path / "nowhere.qa", encoder=fake_encoder)


def test_rebuild_replaces_an_index_of_the_old_format(corpus, index_dir, fake_encoder):
    index_dir.mkdir()
    (index_dir / MANIFEST_FILE).write_text(json.dumps({"format_version": 1}))
    (index_dir / "passages.sqlite").write_bytes(b"old")
    (index_dir / "bm25").mkdir()

    index_paths([corpus], index_dir, IndexOptions(rebuild=True), encoder=fake_encoder)

    assert sorted(p.name for p in index_dir.iterdir()) == ["manifest.json", "segments", "write.lock"]
    assert sources(index_dir, fake_encoder) == {"harbour.txt", "orchard.md"}


def test_a_missing_segment_is_reported_as_damage(corpus, index_dir, fake_encoder):
    import shutil

    index_paths([corpus], index_dir, encoder=fake_encoder)
    shutil.rmtree(next((index_dir / "segments").iterdir()))
    with pytest.raises(IndexMismatch, match="damaged.*--rebuild"):
        Collection.open(index_dir, encoder=fake_encoder)


def test_the_encoder_loads_on_first_use_even_after_a_new_commit(corpus, index_dir, fake_encoder, tmp_path):
    """A collection opened for writing loads the index's model when first asked for it, from the
    newest generation (here the registered fake of that name), without waiting on itself."""
    import threading

    index_paths([corpus], index_dir, encoder=fake_encoder)
    collection = Collection(index_dir)
    collection.searcher()
    (tmp_path / "late.txt").write_text("A late note about the harbour ferry.")
    index_paths([tmp_path / "late.txt"], index_dir, encoder=fake_encoder)  # the searcher is stale now
    found = []
    worker = threading.Thread(target=lambda: found.append(collection.encoder), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert found and found[0].name == fake_encoder.name
    assert collection.ask("late note harbour", top_k=1).passages[0].citation.source == "late.txt"


def test_a_file_over_a_read_limit_is_skipped_with_its_reason_and_the_rest_indexed(corpus, index_dir, fake_encoder):
    """Text is read in the bounded worker too (above `max_inline_bytes`): 6 MB of U+FDFA, which
    NFKC turns into 36 million characters, needs more memory than the worker may take (half as
    much sat at the limit once the worker server preloaded only the text parsers). It is skipped
    with that reason; every other file of the folder is indexed."""
    from qa.ingest.limits import MIB, ReadLimits

    (corpus / "expands.txt").write_text("\ufdfa" * 2_000_000)
    options = IndexOptions(limits=ReadLimits(max_memory_bytes=400 * MIB))
    report = index_paths([corpus], index_dir, options, encoder=fake_encoder)
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("expands.txt", "it needs more than 400 MiB to read")
    ]
    assert report.added == 2
    assert sorted(d.source for d in Collection.open(index_dir).documents()) == ["harbour.txt", "orchard.md"]


def test_a_new_index_is_float32_unless_told_and_an_existing_one_keeps_its_kind(corpus, tmp_path):
    """int8 is opt-in (`--quantize`; docs/PERFORMANCE.md says why it is not the default), and an
    index keeps the kind it was built with."""
    import embeddings
    from tests.fakes import FakeEncoder

    asked: list[bool] = []

    def factory(name: str, quantized: bool) -> FakeEncoder:
        asked.append(quantized)
        encoder = FakeEncoder(name=name)
        encoder.quantized = quantized
        return encoder

    def kind(index_dir: Path) -> bool:
        return read_manifest(index_dir).model.quantized

    with embeddings.registered_encoder(embeddings.DEFAULT_MODEL, factory):
        index_paths([corpus], tmp_path / "default.qa")
        index_paths([corpus], tmp_path / "int8.qa", IndexOptions(quantize=True))
        assert (kind(tmp_path / "default.qa"), kind(tmp_path / "int8.qa")) == (False, True)

        (corpus / "comet.txt").write_text(COMET)
        asked.clear()
        index_paths([corpus], tmp_path / "int8.qa")
        assert asked == [True] and kind(tmp_path / "int8.qa")
        with pytest.raises(ModelMismatch, match="int8"):
            index_paths([corpus], tmp_path / "int8.qa", IndexOptions(quantize=False))
