"""Building and updating an index folder: only new or changed documents are embedded."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qa.chunking import ChunkingSettings, Span, split_passages
from qa.documents import (
    SUPPORTED_SUFFIXES,
    Document,
    Skipped,
    UnreadableFile,
    file_sha256,
    load_file,
    make_doc_id,
    scan_paths,
)
from qa.errors import IndexMismatch, NoDocuments, QAError
from qa.store import (
    LEXICAL_FOLDER,
    PASSAGES_FILE,
    VECTORS_FILE,
    Counts,
    Manifest,
    ManifestDocument,
    ModelInfo,
    StagingFolder,
    connect,
    is_safe_target,
    json_or_none,
    read_manifest,
    rebuild_hint,
    utc_now,
    write_manifest,
)


@dataclass
class IndexReport:
    index_dir: Path
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged {self.unchanged}"


def embedding_text(title: str, passage: str) -> str:
    """What the model reads for a passage: its document's title helps place it."""
    return f"{title}\n{passage}" if title else passage


def index_paths(
    paths: Sequence[Path],
    index_dir: Path,
    model: str | None = None,
    rebuild: bool = False,
    show_progress: bool = False,
    chunking: ChunkingSettings | None = None,
    quantize: bool | None = None,
) -> IndexReport:
    """Index the supported files under `paths` into `index_dir`, incrementally unless `rebuild`.

    Documents from other roots already in the index are kept; documents under these roots
    that no longer exist are removed.
    """
    index_dir = Path(index_dir).expanduser().resolve()
    missing = [str(p) for p in paths if not Path(p).expanduser().exists()]
    if missing:
        raise QAError(f"No such file or folder: {', '.join(missing)}")
    scan = scan_paths(paths)
    if not scan.files:
        kinds = " ".join(sorted(SUPPORTED_SUFFIXES))
        raise NoDocuments(
            f"No supported files in {', '.join(str(p) for p in paths)} (supported: {kinds}). The index was not changed."
        )
    builder = _Builder(index_dir, model, rebuild, chunking, quantize)
    roots = sorted({str(root) for root, _ in scan.files})
    seen: set[tuple[str, str]] = set()
    report = IndexReport(index_dir, skipped=list(scan.skipped))
    for root, path in scan.files:
        source = path.relative_to(root).as_posix()
        seen.add((str(root), source))
        sha256 = file_sha256(path)
        existing_id = builder.find(str(root), source)
        if existing_id and builder.manifest.documents[existing_id].sha256 == sha256:
            report.unchanged += 1
            continue
        doc_id = existing_id or make_doc_id(path.relative_to(root), builder.taken_ids())
        try:
            document = load_file(path, root, doc_id, sha256)
        except UnreadableFile as error:
            report.skipped.append(Skipped(str(path), str(error)))
            continue
        builder.put(document)
        if existing_id:
            report.updated += 1
        else:
            report.added += 1
    for doc_id, entry in list(builder.manifest.documents.items()):
        if entry.root in roots and (entry.root, entry.source) not in seen:
            builder.remove(doc_id)
            report.removed += 1
    if report.added + report.updated + report.unchanged == 0:
        raise NoDocuments(
            f"None of the files in {', '.join(map(str, paths))} could be read. The index was not changed."
        )
    builder.manifest.roots = sorted(set(builder.manifest.roots) | set(roots))
    report.passages = builder.commit(show_progress)
    return report


def index_documents(
    documents: Sequence[Document],
    index_dir: Path,
    model: str | None = None,
    show_progress: bool = False,
    chunking: ChunkingSettings | None = None,
    quantize: bool = False,
) -> IndexReport:
    """Build a fresh index from documents already in memory (evaluation corpora use this)."""
    if not documents:
        raise NoDocuments("No documents to index.")
    builder = _Builder(Path(index_dir), model, rebuild=True, chunking=chunking, quantize=quantize)
    for document in documents:
        builder.put(document)
    report = IndexReport(Path(index_dir), added=len(documents))
    report.passages = builder.commit(show_progress)
    return report


class _Builder:
    """Collects the changes to one index, then writes them in a staging folder and swaps it in."""

    def __init__(
        self,
        index_dir: Path,
        model: str | None,
        rebuild: bool,
        chunking: ChunkingSettings | None,
        quantize: bool | None = None,
    ) -> None:
        from embeddings import Encoder
        from embeddings.vector_index import faiss_version

        if not is_safe_target(index_dir):
            raise QAError(f"{index_dir} exists and is not a qa index; choose another --index folder.")
        self.index_dir = index_dir
        previous = None
        if not rebuild and index_dir.exists():
            previous = read_manifest(index_dir)
            if model is not None and Encoder(model).name != previous.model.name:
                raise IndexMismatch(
                    f"The index at {index_dir} was built with {previous.model.name}, not {Encoder(model).name}. "
                    f"Rebuild it: {rebuild_hint(index_dir, previous)} --model {model}"
                )
            if quantize is not None and quantize != previous.model.quantized:
                kind = "int8" if previous.model.quantized else "float32"
                raise IndexMismatch(
                    f"The index at {index_dir} holds {kind} vectors. Rebuild it to change that: "
                    f"{rebuild_hint(index_dir, previous)}{' --quantize' if quantize else ''}"
                )
            model = previous.model.name
            quantize = previous.model.quantized
        self.encoder = Encoder(model, quantized=bool(quantize))
        self.previous = previous
        settings = chunking or (ChunkingSettings(**previous.chunking) if previous else ChunkingSettings())
        self.chunking = settings
        now = utc_now()
        self.manifest = (
            previous.model_copy(deep=True)
            if previous
            else Manifest(
                model=ModelInfo(name=self.encoder.name, dimension=0, max_tokens=0),
                faiss_version=faiss_version(),
                created=now,
                updated=now,
                chunking=asdict(settings),
            )
        )
        self.new_documents: dict[str, Document] = {}
        self.removed_ids: set[str] = set()

    def find(self, root: str, source: str) -> str | None:
        for doc_id, entry in self.manifest.documents.items():
            if entry.root == root and entry.source == source:
                return doc_id
        return None

    def taken_ids(self) -> set[str]:
        return set(self.manifest.documents) | set(self.new_documents)

    def put(self, document: Document) -> None:
        if document.doc_id in self.manifest.documents:
            self.removed_ids.add(document.doc_id)
        self.new_documents[document.doc_id] = document

    def remove(self, doc_id: str) -> None:
        self.removed_ids.add(doc_id)
        del self.manifest.documents[doc_id]

    def commit(self, show_progress: bool) -> int:
        """Write the changed index; returns the number of passages embedded."""
        if self.previous and not self.new_documents and not self.removed_ids:
            return 0
        from embeddings.vector_index import VectorIndex, faiss_version
        from qa.lexical import LexicalIndex

        max_tokens = self.encoder.max_tokens
        chunks = {
            doc_id: split_passages(
                document.text, self.encoder.count_tokens, self.encoder.token_spans, max_tokens - 2, self.chunking
            )
            for doc_id, document in self.new_documents.items()
        }
        texts = [
            embedding_text(document.title, document.text[span.start : span.end])
            for doc_id, document in self.new_documents.items()
            for span in chunks[doc_id]
        ]
        vectors = _embed(self.encoder, texts, show_progress)

        with StagingFolder(self.index_dir) as staging:
            db_path = staging.path / PASSAGES_FILE
            if self.previous:
                shutil.copyfile(self.index_dir / PASSAGES_FILE, db_path)
                vector_index = VectorIndex.load(self.index_dir / VECTORS_FILE, mmap=False)
            else:
                vector_index = VectorIndex.empty(self.encoder.dimension)
            db = connect(db_path)
            with db:
                stale = [pid for doc_id in self.removed_ids for pid in self._old_passage_ids(doc_id, db)]
                vector_index.remove(np.asarray(stale, dtype=np.int64))
                for doc_id in self.removed_ids:
                    db.execute("DELETE FROM passages WHERE doc_id = ?", (doc_id,))
                    db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
                ids = self._insert(db, chunks)
            vector_index.add(np.asarray(ids, dtype=np.int64), vectors)
            lexical_ids, lexical_texts = [], []
            for row in db.execute(
                "SELECT p.id, d.title, p.text FROM passages p JOIN documents d USING (doc_id) ORDER BY p.id"
            ):
                lexical_ids.append(row["id"])
                lexical_texts.append(embedding_text(row["title"], row["text"]))
            db.close()
            LexicalIndex.build(np.asarray(lexical_ids, dtype=np.int64), lexical_texts).save(
                staging.path / LEXICAL_FOLDER
            )
            vector_index = vector_index.resized()
            vector_index.save(staging.path / VECTORS_FILE)
            manifest = self.manifest
            manifest.model = ModelInfo(
                name=self.encoder.name,
                dimension=self.encoder.dimension,
                max_tokens=max_tokens,
                quantized=self.encoder.quantized,
            )
            manifest.faiss_version = faiss_version()
            manifest.updated = utc_now()
            manifest.counts = Counts(documents=len(manifest.documents), passages=len(vector_index))
            if manifest.counts.passages != len(lexical_ids):
                raise IndexMismatch("Internal error: vector and passage counts differ; the index was not changed.")
            write_manifest(staging.path, manifest)
            staging.commit()
        self.encoder.warm_up()  # makes the question encoder's ONNX export now, while torch is loaded anyway
        return len(texts)

    def _old_passage_ids(self, doc_id: str, db) -> list[int]:
        return [row[0] for row in db.execute("SELECT id FROM passages WHERE doc_id = ?", (doc_id,))]

    def _insert(self, db, chunks: dict[str, list[Span]]) -> list[int]:
        ids: list[int] = []
        for doc_id, document in self.new_documents.items():
            db.execute(
                "INSERT INTO documents (doc_id, root, source, title, text, sha256, page_starts) VALUES (?,?,?,?,?,?,?)",
                (
                    doc_id,
                    document.root,
                    document.source,
                    document.title,
                    document.text,
                    document.sha256,
                    json_or_none(document.page_starts),
                ),
            )
            first = self.manifest.next_passage_id
            for ordinal, span in enumerate(chunks[doc_id]):
                db.execute(
                    'INSERT INTO passages (id, doc_id, ordinal, start, "end", page, text) VALUES (?,?,?,?,?,?,?)',
                    (
                        first + ordinal,
                        doc_id,
                        ordinal,
                        span.start,
                        span.end,
                        document.page_at(span.start),
                        document.text[span.start : span.end],
                    ),
                )
                ids.append(first + ordinal)
            self.manifest.next_passage_id = first + len(chunks[doc_id])
            self.manifest.documents[doc_id] = ManifestDocument(
                root=document.root,
                source=document.source,
                sha256=document.sha256,
                first_passage_id=first,
                passages=len(chunks[doc_id]),
            )
        return ids


def _embed(encoder, texts: list[str], show_progress: bool) -> np.ndarray:
    if not show_progress or not texts:
        return encoder.encode(texts)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from qa.console import stderr_console

    with Progress(
        TextColumn("Embedding passages"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("embed", total=len(texts))
        return encoder.encode(texts, on_progress=lambda n: progress.advance(task, n))
