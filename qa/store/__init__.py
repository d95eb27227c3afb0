"""The index folder: immutable segments, a manifest per generation, one writer, many readers.

Layout (every file name and SQL statement of an index lives in this package; the shared server's
own files, keys and feedback, are qa/server's):

    INDEX/manifest.json           the current generation: model, live segments, deletion marks
    INDEX/write.lock              held (flock) by the one writer
    INDEX/segments/NAME/          one segment: passages.sqlite, vectors.faiss*, postings/ (postings.py), ids.npy
    INDEX/sources/web-HASH.json   a web source's last crawl (qa.ingest.web): validators, hashes, links

The store knows documents, passages and vectors; it never imports search (what a question is).
"""

from qa.store.manifest import MANIFEST_FILE, Manifest, ModelInfo, read_manifest, rebuild_hint
from qa.store.segment import DocumentRecord, PassageRecord, searchable_text
from qa.store.snapshot import Snapshot
from qa.store.writer import IndexWriter, check_same_model

__all__ = [
    "MANIFEST_FILE",
    "DocumentRecord",
    "IndexWriter",
    "Manifest",
    "ModelInfo",
    "PassageRecord",
    "Snapshot",
    "check_same_model",
    "read_manifest",
    "rebuild_hint",
    "searchable_text",
]
