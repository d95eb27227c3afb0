"""`qa index --ray`: reading, parsing, chunking and embedding run on a Ray cluster.

The driver (this process) plans the run exactly as a local `qa index` does, under the index's write
lock: which files are new or changed, which documents are gone. The planned files then flow through
a Ray Data pipeline whose embedding step is a pool of actors, each loading the model once. Every
block of results comes back here and is written as one segment, committed as a local run commits
(every `flush_passages` passages or `flush_seconds`, and at the end) through the same writer, so
incremental runs, resuming, `--compact`, crash safety and live readers hold.

What a cluster must share: the documents, at the same absolute path on every node (a shared
filesystem), and the model (installed with qa on every node). Only the driver writes the index.
Ray is imported here only, and only when `--ray` is used.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

import numpy as np

from embeddings import Encoder
from qa.errors import RayUnavailable
from qa.events import OnProgress, Progress, ignore
from qa.ingest.chunking import ChunkingSettings
from qa.ingest.documents import Skipped
from qa.ingest.indexing import Flushes, IndexOptions, embed_documents
from qa.ingest.planning import FileToRead, IndexReport, read_file
from qa.store import IndexWriter

RAY_MISSING = "--ray needs Ray, which is not installed: pip install 'qa-passages[ray]' (or: pip install 'ray[data]')"
LOCAL = "local"  # --ray local: start a one-node cluster on this machine for this run only
MAX_FILES_PER_BLOCK = 64


def import_ray():
    """Ray and Ray Data, or a one-line RayUnavailable saying what to install."""
    try:
        import ray
        import ray.data  # noqa: F401  (the pipeline needs the data extra, not only the core)
    except ImportError:
        raise RayUnavailable(RAY_MISSING) from None
    return ray


def add_on_ray(
    collection,
    paths: Sequence[Path],
    options: IndexOptions | None = None,
    address: str | None = "auto",
    actors: int | None = None,
    on_progress: OnProgress = ignore,
) -> IndexReport:
    """`collection.add(paths, options)`, with the files read and embedded on the Ray cluster at `address`.

    `collection` is a `qa.collection.Collection` (not imported here: ingest sits below it).
    `address`: "auto" (the cluster started on this machine with `ray start`), "local" (a one-node
    cluster for this run), or HOST:PORT of a cluster's head; ignored when Ray is already connected
    in this process. `actors`: how many embedding actors (default: one per CPU of the cluster).
    An encoder the collection was given (tests pass a fake) is pickled to the actors; by default
    each loads the index's model.
    """
    ray = import_ray()
    started = connect(ray, address, on_progress)
    try:
        return collection.add(paths, replace(options or IndexOptions(), build=RayPipeline(ray, actors)), on_progress)
    finally:
        if started:
            ray.shutdown()


def connect(ray, address: str | None, on_progress: OnProgress = ignore) -> bool:
    """Join (or start) the cluster; True when this call connected, so the caller disconnects."""
    if ray.is_initialized():
        return False
    address = address or "auto"
    on_progress(Progress(f"Connecting to the Ray cluster ({address})…"))
    options = {"log_to_driver": True, "logging_level": "WARNING", "configure_logging": True}
    try:
        if address == LOCAL:
            ray.init(include_dashboard=False, **options)
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        hint = "start one with `ray start --head`, or use --ray local" if address == "auto" else "is it running?"
        raise RayUnavailable(f"Cannot reach a Ray cluster at {address!r} ({_first_line(error)}); {hint}.") from None
    return True


class RayPipeline:
    """The `build` step of an index write (`IndexOptions.build`) on Ray: one segment per block of results."""

    def __init__(self, ray, actors: int | None = None) -> None:
        self.ray = ray
        self.actors = actors

    def __call__(
        self,
        writer: IndexWriter,
        encoder: Encoder,
        settings: ChunkingSettings,
        files: list[FileToRead],
        report: IndexReport,
        on_progress: OnProgress,
        flushes: Flushes,
    ) -> int:
        if not files:
            return 0
        import ray.data

        _quiet(ray.data.DataContext.get_current())
        actors = self.actors or max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        per_block = max(1, min(MAX_FILES_PER_BLOCK, math.ceil(len(files) / (actors * 4))))
        blocks = math.ceil(len(files) / per_block)
        actors = min(actors, blocks)
        by_id = {file.doc_id: file for file in files}
        items = [{"doc_id": f.doc_id, "file": pickle.dumps(f)} for f in files]  # any source's items
        dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
            EmbedFiles,
            fn_constructor_args=(encoder_factory(encoder), asdict(settings), report.limits),
            batch_size=per_block,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=1,
        )
        task = f"Reading and embedding on Ray ({actors} actors)"
        on_progress(Progress(task, 0, len(files)))
        done = passages = 0
        for block in dataset.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1):
            records, rows, vectors = [], [], []
            for doc_id, skipped, payload, matrix in zip(
                block["doc_id"], block["skipped"], block["payload"], block["vectors"]
            ):
                file = by_id[str(doc_id)]
                if skipped:
                    report.skipped.append(Skipped(file.item.identity, str(skipped)))
                    report.files.pop(file.item.identity, None)
                    continue
                report.count_read(file)
                record, passage_rows = pickle.loads(payload)
                records.append(record)
                rows += passage_rows
                if passage_rows:
                    vectors.append(np.frombuffer(matrix, dtype=np.float32).reshape(len(passage_rows), -1))
            if records:
                flushes.write(records, rows, np.concatenate(vectors) if rows else np.zeros((0, encoder.dimension)))
                passages += len(rows)
                if flushes.due():
                    flushes.flush()
            done += len(block["doc_id"])
            on_progress(Progress(task, done, len(files)))
        return passages


class EmbedFiles:
    """A Ray actor: loads the encoder once, then reads, chunks and embeds batches of files.

    Each output row is one file: `skipped` (why it could not be read, else empty), `payload` (its
    document and passage records, pickled) and `vectors` (float32 bytes, one row per passage)."""

    def __init__(self, make_encoder: Callable[[], Encoder], chunking: dict, limits) -> None:
        self.encoder = make_encoder()
        self.settings = ChunkingSettings(**chunking)
        self.limits = limits

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        report = IndexReport(Path("."), limits=self.limits)
        documents, skipped = [], {}
        for pickled in batch["file"]:
            file: FileToRead = pickle.loads(pickled)
            document = read_file(file, report)
            if document is None:
                skipped[file.doc_id] = report.skipped[-1].reason
            else:
                documents.append(document)
        # one encode call for the whole batch: batches of similar length, as a local run makes them
        records, passages, vectors = embed_documents(documents, self.encoder, self.settings)
        record_of = {record.doc_id: record for record in records}
        rows_of: dict[str, list[int]] = {}
        for row, passage in enumerate(passages):
            rows_of.setdefault(passage.doc_id, []).append(row)
        out = {"skipped": [], "payload": [], "vectors": []}
        for doc_id in map(str, batch["doc_id"]):
            rows = rows_of.get(doc_id, [])
            out["skipped"].append(skipped.get(doc_id, ""))
            out["payload"].append(
                pickle.dumps((record_of[doc_id], [passages[i] for i in rows])) if doc_id in record_of else b""
            )
            out["vectors"].append(np.ascontiguousarray(vectors[rows], dtype=np.float32).tobytes() if rows else b"")
        return {"doc_id": batch["doc_id"], **{name: np.array(values, dtype=object) for name, values in out.items()}}


def _quiet(context) -> None:
    """The core never prints: progress goes to `on_progress`, Ray Data keeps its warnings only."""
    import logging

    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"


def encoder_factory(encoder: Encoder) -> Callable[[], Encoder]:
    """What each actor calls to get its encoder: the sentence-transformers model loaded there by
    name, or (a test's fake, any other encoder) a copy of `encoder` itself."""
    from embeddings import SentenceTransformerEncoder

    if isinstance(encoder, SentenceTransformerEncoder):
        options = {"cache_dir": encoder.cache_dir, "backend": encoder.backend}  # the driver's configuration
        options["passages"] = encoder.passage_precision  # as the driver resolved it for this index
        return partial(SentenceTransformerEncoder, encoder.name, quantized=encoder.quantized, **options)
    return partial(_same, encoder)


def _same(encoder: Encoder) -> Encoder:
    return encoder


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
