"""Building and updating an index: only new or changed documents are read and embedded, under the
index's write lock. A long run writes a segment and commits it every `flush_passages` passages or
`flush_seconds` seconds, so a crash, a kill or Ctrl-C loses only the work since; the next run of the
same command skips what was committed (its content hashes match) and goes on from there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings import Encoder
from qa.compressed import shown_suffix, type_suffix
from qa.config import DEFAULT_FLUSH_PASSAGES, DEFAULT_FLUSH_SECONDS, DEFAULT_WAIT
from qa.errors import DocumentNotFound, NoDocuments, PathNotFound, QAError
from qa.events import OnProgress, Progress, ignore
from qa.ingest.chunking import ChunkingSettings, Span, split_passages
from qa.ingest.documents import (
    DEFAULT_READ_LIMITS,
    Document,
    ReadLimits,
    Skipped,
    skipped_lines,
)
from qa.ingest.isolation import prepare_workers
from qa.ingest.planning import FileToRead, IndexReport, plan_files, read_file, with_chrome
from qa.ingest.readers import ParsedFile, supported_types
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
from qa.store.manifest import MAX_SKIPPED_KEPT, SkippedFile, SourceRecord, is_current, utc_now
from qa.store.merge_policy import DEFAULT_MERGE_POLICY, MergePolicy

logger = logging.getLogger(__name__)

# Passages per encoder call (at most; a flush is never later than `flush_passages`): memory stays
# bounded, and the encoder sorts by length within a call, so the larger it is the less padding.
# On SciFact, 500 passages a call pad 4.1 % more tokens than one call for everything, 1,000 2.1 %.
EMBED_GROUP = 1024


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
    # A long write commits what it has embedded so far whenever either is reached (None: never by
    # that measure), so a crash loses at most that much work. Within a transaction (`lock`) or a
    # rebuild of an existing index, segments are still written at `flush_passages`, but committed
    # once at the end, so readers never see half of the change.
    flush_passages: int | None = DEFAULT_FLUSH_PASSAGES
    flush_seconds: float | None = DEFAULT_FLUSH_SECONDS


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
    prepare_workers(type_suffix(getattr(item, "path", "")) for item in scan.items)
    if not scan.items:
        raise NoDocuments(
            f"No supported files in {', '.join(str(p) for p in paths)} "
            f"(supported: {supported_types()}). The index was not changed." + _skipped_lines(scan.skipped)
        )
    report = IndexReport(index_dir, skipped=list(scan.skipped), ignored=scan.ignored, limits=limits)
    roots = [str(root)] if root is not None else scan.roots or [str(Path(p).expanduser().resolve()) for p in paths]
    opened = _open_writer(index_dir, model, encoder, options, options.quantize)
    flushes = Flushes(opened.writer, report, roots, options, commits=opened.may_flush)
    started = opened.writer.manifest.generation
    try:
        with opened as (writer, encoder, settings):
            files = with_chrome(plan_files(writer, scan, report), scan, writer, limits, on_progress)
            report.passages = (build or build_here)(writer, encoder, settings, files, report, on_progress, flushes)
            if report.added + report.updated + report.unchanged == 0:
                raise NoDocuments(
                    f"None of the files in {', '.join(map(str, paths))} could be read. The index was not changed."
                    + _skipped_lines(report.skipped)
                )
            # Folders named by a person (not an upload's documents folder) are remembered as sources.
            now = utc_now()
            sources = [SourceRecord(kind="folder", location=folder, last_sync=now) for folder in scan.roots]
            _commit(
                writer,
                report,
                roots,
                skipped_changed=_remember_skipped(writer.manifest, report.skipped, paths),
                sources=sources if root is None else (),
            )
    except KeyboardInterrupt as interrupt:
        raise WriteInterrupted(index_dir, started) from interrupt
    encoder.warm_up()  # the ONNX export exists before the first question, even when nothing was embedded
    return report


class WriteInterrupted(KeyboardInterrupt):
    """Ctrl-C during `index_paths`: the generations it committed as it went are kept, the batch
    since is discarded, and the next run of the same write goes on from there. The message says
    what the index holds now (read from its manifest, so it is right whenever the signal came)."""

    def __init__(self, index_dir: Path, started: int) -> None:
        try:
            manifest = read_manifest(index_dir)
            generation, documents = manifest.generation, manifest.counts.documents
        except QAError:
            generation, documents = started, 0
        if generation == started:
            message = "nothing was committed yet; the index is as it was."
        else:
            message = (
                f"the index holds {documents} documents (generation {generation}, committed as it went); "
                "run the same command again to index the rest."
            )
        super().__init__(message)
        self.generation = generation
        self.documents = documents


@dataclass
class Flushes:
    """When a build step writes a segment and commits what it has done so far (IndexOptions'
    flush_passages and flush_seconds). `commits` False (a transaction, or a rebuild replacing an
    index readers use): segments are written at `flush_passages` and committed once at the end."""

    writer: IndexWriter
    report: IndexReport
    roots: list[str]
    options: IndexOptions
    commits: bool = True
    since: float = field(default_factory=time.monotonic)
    unflushed: int = 0  # passages in segments written since the last flush

    def due(self, pending: int = 0) -> bool:
        """Is it time to flush, with `pending` passages embedded and not yet written?"""
        passages = pending + self.unflushed
        if passages <= 0:
            return False
        if self.options.flush_passages is not None and passages >= self.options.flush_passages:
            return True
        seconds = self.options.flush_seconds
        return self.commits and seconds is not None and time.monotonic() - self.since >= seconds

    def write(self, records: Sequence[DocumentRecord], passages: Sequence[PassageRecord], vectors) -> None:
        """Write one segment (uncommitted)."""
        self.writer.add(records, passages, vectors)
        self.unflushed += len(passages)

    def flush(self) -> None:
        """Commit the segments written so far, when this write may commit as it goes."""
        self.unflushed = 0
        self.since = time.monotonic()
        if not self.commits or not self.writer.has_changes:
            return
        _commit(self.writer, self.report, self.roots)
        logger.info("flushed: generation %d committed", self.report.generation)


# Reads and embeds the planned files, writes them to the writer as segments (asking `Flushes`
# when to write and commit), counts what it read in the report (`count_read`, `skipped`) and
# returns the number of passages written.
BuildSegments = Callable[
    [IndexWriter, Any, ChunkingSettings, list[FileToRead], IndexReport, OnProgress, "Flushes"], int
]
READING, EMBEDDING = "Reading files", "Embedding passages"


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
    report = IndexReport(
        index_dir, skipped=list(scan.skipped), kept=list(scan.kept), ignored=scan.ignored, limits=options.limits
    )
    with _open_writer(index_dir, model, encoder, options, options.quantize) as (writer, encoder, settings):
        files = with_chrome(plan_files(writer, scan, report), scan, writer, options.limits, on_progress)
        flushes = Flushes(writer, report, list(roots), options, commits=False)  # one generation per sync
        report.passages = (options.build or build_here)(writer, encoder, settings, files, report, on_progress, flushes)
        _commit(writer, report, roots, sources=sources)
    return report


def build_here(
    writer: IndexWriter,
    encoder,
    settings: ChunkingSettings,
    files: list[FileToRead],
    report: IndexReport,
    on_progress: OnProgress,
    flushes: Flushes,
) -> int:
    """Read, chunk and embed the files in this process, a few hundred passages at a time; a segment
    is written (and committed) whenever `flushes` says it is due, and the rest at the end."""
    chunked: list[tuple[DocumentRecord, list[PassageRecord], list[str]]] = []  # read, not yet embedded
    ready_records, ready_passages, ready_vectors = [], [], []  # embedded, not yet written
    read = embedded = found = written = 0
    group = min(EMBED_GROUP, flushes.options.flush_passages or EMBED_GROUP)
    work = WorkLeft(files)
    on_progress(Progress(READING, 0, len(files), share=0.0))

    def report_progress() -> None:
        on_progress(Progress(READING, read, len(files), share=work.share(embedded, found)))
        on_progress(Progress(EMBEDDING, embedded, found))

    def embed() -> None:
        nonlocal embedded
        texts = [text for _, _, document_texts in chunked for text in document_texts]
        before = embedded

        def advance(count: int) -> None:  # counted a batch at a time, as the encoder reports them
            nonlocal embedded
            embedded += count
            report_progress()

        if texts:
            ready_vectors.append(encoder.encode(texts, on_progress=advance))
        for record, passages, _ in chunked:
            ready_records.append(record)
            ready_passages.extend(passages)
        embedded = before + len(texts)  # the same whether or not the encoder reported its batches
        chunked.clear()
        report_progress()

    def write() -> None:
        nonlocal written
        vectors = np.concatenate(ready_vectors) if ready_vectors else np.zeros((0, encoder.dimension), np.float32)
        flushes.write(ready_records, ready_passages, vectors)
        written += len(ready_passages)
        ready_records.clear()
        ready_passages.clear()
        ready_vectors.clear()

    for position, file in enumerate(files):
        on_progress(Progress(READING, read, len(files), share=work.share(embedded, found), current=file.item.name))
        document = read_file(file, report)
        read, passages = read + 1, 0
        if document is not None:
            chunked.append(chunk_document(document, encoder, settings))
            passages = len(chunked[-1][1])
            found += passages
        work.read(position, passages)
        on_progress(Progress(READING, read, len(files), share=work.share(embedded, found)))
        if sum(len(passages) for _, passages, _ in chunked) >= group:
            embed()
        if flushes.due(len(ready_passages)):
            write()
            flushes.flush()
    embed()
    if ready_records:
        write()  # committed by the caller, with the run's deletions
    return written


class WorkLeft:
    """The share of a run done, for the time left: passages embedded against the passages found so
    far and those the files not read yet should give, at what files of their type gave per byte
    (Node.js's API pages give one passage per 1,251 bytes of HTML, its change logs one per 395 of
    Markdown: by bytes alone, its 25-minute run said "about 4 min left" with 16 to go). A type not
    read yet counts at the run's rate so far."""

    def __init__(self, files: Sequence[FileToRead]) -> None:
        self.kinds = [shown_suffix(file.item.name) for file in files]
        self.sizes = [file.item.size() for file in files]
        self.unread: dict[str, int] = {}  # type → bytes not read yet
        self.bytes_read: dict[str, int] = {}
        self.passages: dict[str, int] = {}  # type → passages its files gave
        for kind, size in zip(self.kinds, self.sizes):
            self.unread[kind] = self.unread.get(kind, 0) + size

    def read(self, position: int, passages: int) -> None:
        kind, size = self.kinds[position], self.sizes[position]
        self.unread[kind] -= size
        self.bytes_read[kind] = self.bytes_read.get(kind, 0) + size
        self.passages[kind] = self.passages.get(kind, 0) + passages

    def share(self, embedded: int, found: int) -> float:
        read = sum(self.bytes_read.values())
        if not read:
            return 0.0
        overall = sum(self.passages.values()) / read
        expected = sum(
            left * (self.passages[kind] / self.bytes_read[kind] if kind in self.bytes_read else overall)
            for kind, left in self.unread.items()
        )
        total = found + expected
        return min(1.0, embedded / total) if total else 1.0


def chunk_document(document: Document, encoder, settings: ChunkingSettings):
    """(document record, passage records, searchable texts) of one document cut into passages as
    indexing does (passage ids are assigned by `IndexWriter.add`)."""
    record = DocumentRecord(
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
    passages, texts = [], []
    for ordinal, span in enumerate(passage_spans(document, encoder, settings)):
        text = document.text[span.start : span.end]
        section = getattr(span, "section", ())
        page = document.page_at(span.start)
        ocr = page in document.ocr_pages  # passages never mix recognised and typed pages
        passages.append(PassageRecord(0, document.doc_id, ordinal, span.start, span.end, page, text, section, ocr))
        texts.append(searchable_text(document.title, text, section))
    return record, passages, texts


def embed_documents(
    documents: Sequence[Document], encoder, settings: ChunkingSettings, on_progress: OnProgress = ignore
):
    """(document records, passage records, vectors) of documents chunked and embedded as indexing
    does, ready for `IndexWriter.add` (passage ids are assigned there): a Ray actor makes them, the
    driver writes them."""
    records, passages, texts = [], [], []
    for document in documents:
        record, document_passages, document_texts = chunk_document(document, encoder, settings)
        records.append(record)
        passages += document_passages
        texts += document_texts
    task = EMBEDDING
    on_progress(Progress(task, 0, len(texts)))
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        on_progress(Progress(task, done, len(texts)))

    vectors = encoder.encode(texts, on_progress=advance) if texts else np.zeros((0, encoder.dimension), np.float32)
    return records, passages, vectors


def passage_spans(document: Document, encoder, settings: ChunkingSettings) -> list[Span] | list[SectionSpan]:
    """A document's passages: along its blocks when its reader found structure (HTML, Markdown,
    Word, PDF, …), never across a page, so a PDF's passage never mixes recognised and typed pages;
    else as plain text always was."""
    args = (encoder.count_tokens, encoder.token_spans, encoder.max_tokens - 2, settings)
    if document.blocks:
        return split_sections(document.text, document.blocks, *args, page_starts=document.page_starts)
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
                passage_precision=getattr(self.encoder, "passage_precision", "float32"),
            ),
            faiss_version=_faiss_version(),
            created=now,
            updated=now,
            chunking=asdict(self.chunking),
        )
        self.writer = IndexWriter.open(index_dir, fresh, rebuild, options.wait, options.merge_policy, options.lock)
        # Commit as it goes, unless inside a transaction, or replacing an index readers are using.
        self.may_flush = options.lock is None and not (rebuild and self.writer.manifest.generation > 0)

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


def new_index_encoder(model: str | None) -> Encoder:
    """The encoder a new index of `model` (the default model when None) is built with, as configured."""
    return _encoder(model, None, None)


def _encoder(model: str | None, quantize: bool | None, previous: Manifest | None):
    from qa import config

    # A new index is float32 unless `--quantize`: int8 indexes twice as fast but lost 0.003 of
    # SQuAD gold@1 (docs/PERFORMANCE.md, "int8 as the default?"). An index keeps what it was built with.
    quantized = previous.model.quantized if previous and quantize is None else bool(quantize)
    # Passages in bfloat16 where the CPU has AMX: ~2.5 × as fast, within a cosine of 1e-4 of float32
    # (docs/PERFORMANCE.md, "bfloat16 passages"). A new index chooses (QA_PASSAGES, "auto" by
    # default); an index keeps what it chose.
    passages = previous.model.passage_precision if previous else config.current().passages
    return config.load_encoder(model, quantized, passages=passages)


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


def _remember_skipped(manifest: Manifest, skipped: Sequence[Skipped], paths: Sequence[Path]) -> bool:
    """Keep this run's skipped files in the manifest (`qa info` lists them), in place of those it
    had from earlier runs below the same paths (looked at again now); whether that changed it."""
    looked = [str(Path(p).expanduser().resolve()) for p in paths]

    def below(path: str) -> bool:
        return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in looked)

    kept = [entry for entry in manifest.skipped if not below(entry.path)]
    now = {entry.path: entry for entry in kept} | {s.path: SkippedFile(path=s.path, reason=s.reason) for s in skipped}
    remembered = sorted(now.values(), key=lambda entry: entry.path)[:MAX_SKIPPED_KEPT]
    changed = remembered != manifest.skipped
    manifest.skipped = remembered
    return changed


def _commit(
    writer: IndexWriter,
    report: IndexReport,
    roots: Sequence[str],
    compact: bool = False,
    skipped_changed: bool = False,
    sources: Sequence[SourceRecord] = (),
) -> None:
    """Commit when anything changed, or when the skipped files or the sources' last syncs did."""
    if writer.has_changes or compact or skipped_changed or sources:
        manifest = writer.commit(roots=roots, compact=compact, sources=sources)
    else:
        manifest = writer.manifest
    report.generation = manifest.generation
    report.segments = len(manifest.segments)
    report.vectors = "int8" if manifest.model.quantized else manifest.model.passage_precision


def _skipped_lines(skipped: Sequence[Skipped]) -> str:
    if not skipped:
        return ""
    lines = skipped_lines(skipped)
    more = len(lines) - 20
    return "\nSkipped:" + "".join(f"\n  {line}" for line in lines[:20]) + (f"\n  … and {more} more" if more > 0 else "")


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
    if is_current(index_dir, None if chunking is None else asdict(chunking)):
        return index_dir
    on_progress(Progress(f"Indexing {name} into {index_dir} (first use)…"))
    options = IndexOptions(rebuild=True, chunking=chunking)
    if source and isinstance(source[0], Document):
        index_documents(source, index_dir, options, model=model, encoder=encoder, on_progress=on_progress)
    else:
        index_paths(source, index_dir, options, model=model, encoder=encoder, on_progress=on_progress)
    return index_dir
