"""The index folder: immutable segments, a manifest per generation, one writer, many readers.

Layout (all file names and every SQL statement live in this package):

    INDEX/manifest.json           the current generation: model, live segments, deletion marks
    INDEX/write.lock              held (flock) by the one writer
    INDEX/segments/NAME/          one segment: passages.sqlite, vectors.faiss, postings/, ids.npy
"""

from qa.store.manifest import FORMAT_VERSION, MANIFEST_FILE, Manifest, ModelInfo, read_manifest, rebuild_hint
from qa.store.segment import DocumentRecord, PassageRecord, StoredDocument, StoredPassage, searchable_text
from qa.store.snapshot import Snapshot
from qa.store.writer import IndexWriter, check_same_model, is_index_or_empty

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "DocumentRecord",
    "IndexWriter",
    "Manifest",
    "ModelInfo",
    "PassageRecord",
    "Snapshot",
    "StoredDocument",
    "StoredPassage",
    "check_same_model",
    "is_index_or_empty",
    "read_manifest",
    "rebuild_hint",
    "searchable_text",
]
