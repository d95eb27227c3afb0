"""A stop that finishes (api/stopping.py): SIGTERM during a long upload ends the server within its
graceful timeout, and the upload is rolled back as a failed one would be."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from qa.collection import Collection
from tests.server_fixtures import make_keys, real_server, small_index

# `qa` with an encoder that embeds passages slowly, in batches as the real model does (a progress
# call after each), and leaves a mark when it starts on a large batch of them.
SLOW_QA = """
import os, sys, time
from pathlib import Path
import embeddings
from tests.fakes import FAKE_MODEL, FakeEncoder

class SlowEncoder(FakeEncoder):
    def encode(self, texts, on_progress=None):
        if len(texts) > 20:
            Path(os.environ["QA_TEST_ENCODING"]).write_text(str(len(texts)))
        vectors = []
        for start in range(0, len(texts), 4):
            time.sleep(0.5 if len(texts) > 20 else 0)
            vectors.append(super().encode(texts[start : start + 4]))
            if on_progress:
                on_progress(len(vectors[-1]))
        import numpy as np
        return np.concatenate(vectors) if vectors else np.zeros((0, self.dimension), np.float32)

embeddings.register_encoder(FAKE_MODEL, lambda name, quantized=False: SlowEncoder(name=name))
embeddings.register_encoder(embeddings.DEFAULT_MODEL, lambda name, quantized=False: SlowEncoder(name=name))
from qa.cli import main
sys.argv = ["qa", *sys.argv[1:]]
main()
"""


def paragraphs(count: int) -> bytes:
    return "\n\n".join(
        f"Report paragraph {n}: the ferry log of day {n} lists every crossing." for n in range(count)
    ).encode()


def test_sigterm_during_an_upload_stops_the_server_and_rolls_the_upload_back(tmp_path, fake_encoder) -> None:
    """The review's server spent over 6 minutes at full CPU "waiting for background tasks" after a
    SIGTERM. Here an upload replacing report.txt is being embedded (about 100 s of it) when the
    server is told to stop: it exits, and afterwards the documents folder and the index both hold
    the report as it was before."""
    index_dir = small_index(tmp_path, fake_encoder)
    _, write, _ = make_keys(index_dir)
    documents = index_dir.parent / f"{index_dir.name}-documents"
    marker = tmp_path / "encoding"
    env = {"QA_TEST_ENCODING": str(marker)}
    auth = {"Authorization": f"Bearer {write}"}
    flags = ("--graceful-timeout", "1")
    with real_server(index_dir, tmp_path / "server.log", *flags, env=env, script=SLOW_QA) as (base, server):
        first = httpx.post(base + "/documents", files={"files": ("report.txt", b"The first report.")}, headers=auth)
        assert first.status_code == 201, first.text
        before_files = files_in(documents)
        before_documents = indexed_texts(index_dir, fake_encoder)

        big = {"files": ("report.txt", paragraphs(800))}
        upload = threading.Thread(target=send_quietly, args=(base, big, auth), daemon=True)
        upload.start()
        deadline = time.monotonic() + 60  # a bound on the test, not a measurement
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), "the upload never reached its embedding"

        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("the server was still running 60 s after SIGTERM") from None

    log = (tmp_path / "server.log").read_text()
    assert "rolling back 1 write(s) in flight" in log
    assert files_in(documents) == before_files  # the first report, as it was; no staging folder left
    assert indexed_texts(index_dir, fake_encoder) == before_documents
    assert "The first report." in before_documents.values()


def send_quietly(base: str, files, headers) -> None:
    try:
        httpx.post(base + "/documents", files=files, headers=headers, timeout=120)
    except httpx.HTTPError:
        pass  # the server stopped under it


def indexed_texts(index_dir: Path, encoder) -> dict[str, str]:
    collection = Collection.open(index_dir, encoder=encoder)
    return {document.doc_id: collection.document(document.doc_id).text for document in collection.documents()}


def files_in(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()} | {
        path.relative_to(folder).as_posix() + "/": b"" for path in folder.rglob("*") if path.is_dir()
    }
