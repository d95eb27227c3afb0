"""Building and updating an index: only new or changed documents are read and embedded, and each
run commits one new segment (plus deletion marks) under the index's write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import Encoder
from qa.config import DEFAULT_WAIT
from qa.errors import DocumentNotFound, NoDocuments, PathNotFound, QAError
from qa.events import OnProgress, Progress, ignore
from qa.ingest.chunking import ChunkingSettings, Span, split_passages
from qa.ingest.documents import (
    DEFAULT_READ_LIMITS,
    Document,
    ReadLimits,
    Skipped,
)
from qa.ingest.planning import FileToRead, IndexReport, plan_files, read_file
from qa.ingest.readers import ParsedFile, supported_suffixes
from qa.ingest.sections import SectionSpan, split_sections
from qa.ingest.sources import FolderSource, SourceScan
from qa.store import (
    MANIFEST_FILE,
    DocumentRecord,
    IndexWriter,
    Manifest,
    ModelInfo,
    PassageRecord,
    check_same_model,
    read_manifest,
    rebuild_hint,
    searchable_text,
)
from qa.store.lock import WriterLock
from qa.store.manifest import SourceRecord, utc_now
from qa.store.merge_policy import DEFAULT_MERGE_POLICY, MergePolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexOptions:
    """How one write to an index goes: `qa index`'s flags, an upload's limits, the Ray build."""

    rebuild: bool = False  # start the index afresh
    chunking: ChunkingSettings | None = None  # None: the index's own, or the defaults for a new one
    quantize: bool | None = None  # int8 vectors; None: as the index was built
    wait: float = DEFAULT_WAIT  # seconds to wait for another writer
    limits: ReadLimits = DEFAULT_READ_LIMITS  # what reading one file may cost
    root: Path | None = None  # name files relative to this folder (the server's documents folder)
    build: BuildSegments | None = None  # reads and embeds the planned files: here by default, or on Ray
    merge_policy: MergePolicy = DEFAULT_MERGE_POLICY  # which segments each commit merges
    lock: WriterLock | None = None  # the writer lock, held by a longer transaction (an upload)


def index_paths(
    paths: Sequence[Path],
    index_dir: Path,
    options: IndexOptions = IndexOptions(),
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    on_progress: OnProgress = ignore,
    parsed: Mapping[Path, ParsedFile] | None = None,
) -> IndexReport:
    """Index the supported files under `paths` into `index_dir`, incrementally unless `options.rebuild`.

    A file argument adds or updates that file only. Documents that came from below a folder
    argument and whose file is gone are removed. Everything else in the index is kept.
    `options.build` reads and embeds the planned files into segments: here by default, or on a Ray
    cluster (`qa.ingest.distributed`); either way one generation is committed here, under the lock.
    `parsed` holds files already read (by resolved path), which are not read again.
    """
    build, limits, root = options.build, options.limits, options.root
    index_dir = Path(index_dir).expanduser().resolve()
    missing = [str(p) for p in paths if not Path(p).expanduser().exists()]
    if missing:
        raise PathNotFound(f"No such file or folder: {', '.join(missing)}")
    scan = FolderSource(paths, root, parsed or {}).scan()
    if not scan.items:
        raise NoDocuments(
            f"No supported files in {', '.join(str(p) for p in paths)} "
            f"(supported: {' '.join(sorted(supported_suffixes()))}). The index was not changed."
            + _skipped_lines(scan.skipped)
        )
    report = IndexReport(index_dir, skipped=list(scan.skipped), limits=limits)
    with _open_writer(index_dir, model, encoder, options, options.quantize) as (writer, encoder, settings):
        files = plan_files(writer, scan, report)
        report.passages = (build or build_here)(writer, encoder, settings, files, report, on_progress)
        if report.added + report.updated + report.unchanged == 0:
            raise NoDocuments(
                f"None of the files in {', '.join(map(str, paths))} could be read. The index was not changed."
                + _skipped_lines(report.skipped)
            )
        roots = [str(root)] if root is not None else scan.roots or [str(Path(p).expanduser().resolve()) for p in paths]
        # Folders named by a person (not an upload's documents folder) are remembered as sources.
        now = utc_now()
        sources = [SourceRecord(kind="folder", location=folder, last_sync=now) for folder in scan.roots]
        _commit(writer, report, roots, sources=sources if root is None else ())
    encoder.warm_up()  # the ONNX export exists before the first question, even when nothing was embedded
    return report


def index_scan(
    scan: SourceScan,
    index_dir: Path,
    options: IndexOptions = IndexOptions(),
    *,
    roots: Sequence[str] = (),
    sources: Sequence[SourceRecord] = (),
    model: str | None = None,
    encoder: Encoder | None = None,
    on_progress: OnProgress = ignore,
) -> IndexReport:
    """Bring the index in line with what a source listed (`scan`), as `index_paths` does for
    folders, and commit one generation when anything changed: what a watcher or a web crawl
    writes. An empty scan is no error (a watched folder may be emptied); `roots` and `sources`
    (synced now) are recorded in the manifest."""
    index_dir = Path(index_dir).expanduser().resolve()
    report = IndexReport(index_dir, skipped=list(scan.skipped), kept=list(scan.kept), limits=options.limits)
    with _open_writer(index_dir, model, encoder, options, options.quantize) as (writer, encoder, settings):
        files = plan_files(writer, scan, report)
        report.passages = (options.build or build_here)(writer, encoder, settings, files, report, on_progress)
        _commit(writer, report, roots, sources=sources)
    return report


# Reads and embeds the planned files, writes them to the writer as segments, counts what it read in
# the report (`count_read`, `skipped`) and returns the number of passages written.
BuildSegments = Callable[[IndexWriter, Any, ChunkingSettings, list[FileToRead], IndexReport, OnProgress], int]


def build_here(
    writer: IndexWriter, encoder, settings: ChunkingSettings, files: list[FileToRead], report, on_progress
) -> int:
    """Read, chunk and embed the files in this process, as one segment."""
    documents = [document for file in files if (document := read_file(file, report)) is not None]
    return _add(writer, encoder, settings, documents, on_progress)


def embed_documents(
    documents: Sequence[Document], encoder, settings: ChunkingSettings, on_progress: OnProgress = ignore
):
    """(document records, passage records, vectors) of documents chunked and embedded as indexing
    does, ready for `IndexWriter.add` (passage ids are assigned there): a Ray actor makes them, the
    driver writes them."""
    records, passages, texts = [], [], []
    for document in documents:
        spans = passage_spans(document, encoder, settings)
        records.append(
            DocumentRecord(
                document.doc_id,
                document.root,
                document.source,
                document.title,
                document.text,
                document.sha256,
                document.page_starts,
                document.modified,
                tuple(document.tags),
            )  # fmt: skip
        )
        for ordinal, span in enumerate(spans):
            text = document.text[span.start : span.end]
            section = getattr(span, "section", ())
            page = document.page_at(span.start)
            passages.append(PassageRecord(0, document.doc_id, ordinal, span.start, span.end, page, text, section))
            texts.append(searchable_text(document.title, text, section))
    task = "Embedding passages"
    on_progress(Progress(task, 0, len(texts)))
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        on_progress(Progress(task, done, len(texts)))

    vectors = encoder.encode(texts, on_progress=advance) if texts else np.zeros((0, encoder.dimension), np.float32)
    return records, passages, vectors


def passage_spans(document: Document, encoder, settings: ChunkingSettings) -> list[Span] | list[SectionSpan]:
    """A document's passages: along its blocks when its reader found structure (HTML, Markdown),
    else as plain text always was."""
    args = (encoder.count_tokens, encoder.token_spans, encoder.max_tokens - 2, settings)
    if document.blocks:
        return split_sections(document.text, document.blocks, *args)
    return split_passages(document.text, *args)


def index_documents(
    documents: Sequence[Document],
    index_dir: Path,
    options: IndexOptions = IndexOptions(rebuild=True),
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    on_progress: OnProgress = ignore,
) -> IndexReport:
    """Index documents already in memory (evaluation corpora use this): a fresh index, or without
    `options.rebuild` added to the existing one (a document whose doc_id is there replaces it)."""
    if not documents:
        raise NoDocuments("No documents to index.")
    index_dir = Path(index_dir)
    report = IndexReport(index_dir, added=len(documents))
    quantize = bool(options.quantize) if options.rebuild else options.quantize
    with _open_writer(index_dir, model, encoder, options, quantize) as (writer, encoder, settings):
        report.passages = _add(writer, encoder, settings, documents, on_progress)
        _commit(writer, report, [])
    return report


def remove_documents(
    targets: Sequence[str],
    index_dir: Path,
    wait: float = DEFAULT_WAIT,
    ids_only: bool = False,
    lock: WriterLock | None = None,
) -> IndexReport:
    """Remove documents by doc_id, by file path, or every document below a folder path (`ids_only`:
    by doc_id alone, as over HTTP, where a path means nothing). `lock`: as IndexOptions.lock.

    A target that matches nothing is an error and nothing is removed."""
    index_dir = Path(index_dir).expanduser().resolve()
    report = IndexReport(index_dir)
    manifest = read_manifest(index_dir)
    with IndexWriter.open(index_dir, manifest, wait=wait, lock=lock) as writer:
        chosen: dict[str, str] = {}
        unmatched = []
        for target in targets:
            found = _match(writer, target, ids_only)
            if not found:
                unmatched.append(target)
            chosen.update(found)
        if unmatched and ids_only:
            raise DocumentNotFound(f"No document with id {unmatched[0]!r} in this index.")
        if unmatched:
            raise DocumentNotFound(
                f"No document in {index_dir} matches {', '.join(map(repr, unmatched))} (a doc_id, or a file or "
                "folder that was indexed). Nothing was removed; `qa info` lists the documents."
            )
        for doc_id, source in chosen.items():
            writer.delete(doc_id)
            report.removed_sources.append(source)
        report.removed = len(chosen)
        _commit(writer, report, [])
    return report


def compact_index(index_dir: Path, wait: float = DEFAULT_WAIT) -> IndexReport:
    """Merge every segment into one and drop deleted passages for good."""
    index_dir = Path(index_dir).expanduser().resolve()
    report = IndexReport(index_dir)
    with IndexWriter.open(index_dir, read_manifest(index_dir), wait=wait) as writer:
        _commit(writer, report, [], compact=True)
    return report


def _match(writer: IndexWriter, target: str, ids_only: bool = False) -> dict[str, str]:
    """doc_id → source path of the live documents a `qa remove` target names."""
    if writer.has_document(target):
        return {target: writer.source_of(target)}
    if ids_only:
        return {}
    absolute = str(Path(target).expanduser().resolve())
    found = dict(writer.documents_under(absolute))
    existing = writer.find(absolute)
    if existing:
        found[existing[0]] = absolute
    return found


class _open_writer:
    """The writer with the encoder and chunking the index was (or will be) built with."""

    def __init__(self, index_dir, model, encoder, options: IndexOptions, quantize: bool | None) -> None:
        rebuild, chunking = options.rebuild, options.chunking
        previous = None
        if not rebuild and (index_dir / MANIFEST_FILE).exists():
            previous = read_manifest(index_dir)
        self.encoder = encoder or _encoder(model or (previous.model.name if previous else None), quantize, previous)
        if previous:
            hint = rebuild_hint(index_dir, previous.roots)
            check_same_model(previous, self.encoder.name, quantize, f"{hint}{' --model ' + model if model else ''}")
        self.chunking = chunking or (ChunkingSettings(**previous.chunking) if previous else ChunkingSettings())
        now = utc_now()
        fresh = Manifest(
            model=ModelInfo(
                name=self.encoder.name,
                dimension=self.encoder.dimension,
                max_tokens=self.encoder.max_tokens,
                quantized=self.encoder.quantized,
            ),
            faiss_version=_faiss_version(),
            created=now,
            updated=now,
            chunking=asdict(self.chunking),
        )
        self.writer = IndexWriter.open(index_dir, fresh, rebuild, options.wait, options.merge_policy, options.lock)

    def __enter__(self):
        return self.writer, self.encoder, self.chunking

    def __exit__(self, *exc_info) -> None:
        self.writer.close()


def writing_encoder(index_dir: Path, model: str | None, quantize: bool | None) -> Encoder:
    """The encoder a write to `index_dir` uses: `model`, else the one the index was built with
    (the default for a new index), loaded once for many writes (a watcher's)."""
    index_dir = Path(index_dir).expanduser().resolve()
    previous = read_manifest(index_dir) if (index_dir / MANIFEST_FILE).exists() else None
    return _encoder(model or (previous.model.name if previous else None), quantize, previous)


def _encoder(model: str | None, quantize: bool | None, previous: Manifest | None):
    import embeddings
    from qa import config

    quantized = previous.model.quantized if previous and quantize is None else bool(quantize)
    return embeddings.load_encoder(model, quantized=quantized, **config.current().encoder_options())


def _faiss_version() -> str:
    from embeddings.vector_index import faiss_version

    return faiss_version()


def _add(writer: IndexWriter, encoder, settings: ChunkingSettings, documents, on_progress: OnProgress) -> int:
    """Chunk and embed documents, and write them to the writer as one segment."""
    if not documents:
        return 0
    records, passages, vectors = embed_documents(documents, encoder, settings, on_progress)
    writer.add(records, passages, vectors)
    return len(passages)


def _commit(
    writer: IndexWriter,
    report: IndexReport,
    roots: Sequence[str],
    compact: bool = False,
    sources: Sequence[SourceRecord] = (),
) -> None:
    """Commit when anything changed, or when sources were synced (their last sync is recorded)."""
    if writer.has_changes or compact or sources:
        manifest = writer.commit(roots=roots, compact=compact, sources=sources)
    else:
        manifest = writer.manifest
    report.generation = manifest.generation
    report.segments = len(manifest.segments)


def _skipped_lines(skipped: Sequence[Skipped]) -> str:
    if not skipped:
        return ""
    lines = [f"\n  {item.path}: {item.reason}" for item in skipped[:20]]
    more = len(skipped) - 20
    return "\nSkipped:" + "".join(lines) + (f"\n  … and {more} more" if more > 0 else "")


def ensure_index(
    index_dir: Path,
    source: Sequence[Path] | Sequence[Document],
    name: str,
    model: str | None = None,
    encoder=None,
    chunking: ChunkingSettings | None = None,
    on_progress: OnProgress = ignore,
) -> Path:
    """`index_dir` as it is when it holds a current index (this format, these chunking settings);
    otherwise built afresh from `source`, folders or documents (the seeds, evaluation corpora and
    benchmark corpora are indexed this way on first use)."""
    try:
        manifest = read_manifest(index_dir)
        if chunking is None or manifest.chunking == asdict(chunking):
            return index_dir
        logger.info("%s was indexed with other chunking settings; building it again", index_dir)
    except QAError as error:
        logger.info("%s is not a current index (%s); building it", index_dir, error)
    on_progress(Progress(f"Indexing {name} into {index_dir} (first use)…"))
    options = IndexOptions(rebuild=True, chunking=chunking)
    if source and isinstance(source[0], Document):
        index_documents(source, index_dir, options, model=model, encoder=encoder, on_progress=on_progress)
    else:
        index_paths(source, index_dir, options, model=model, encoder=encoder, on_progress=on_progress)
    return index_dir
