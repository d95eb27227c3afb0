"""What a hostile filter costs the server: a 64 KB glob, and the worst filter still admitted (32
source globs of 512 characters with 8 wildcards each, distinct per request), over 10,000
documents; CPU time of this process per `POST /ask` (the app through TestClient, the fake encoder).

    .venv/bin/python -m benchmarks.check_filter_bounds
"""

import os
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from qa.collection import Collection
from qa.ingest.documents import Document
from qa.ingest.indexing import index_documents
from tests.fakes import FakeEncoder


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(client: TestClient, filters: dict | None) -> tuple[int, float]:
    started = time.process_time()
    response = client.post("/ask", json={"question": "ferry", **({"filters": filters} if filters else {})})
    return response.status_code, time.process_time() - started


if __name__ == "__main__":
    folder = Path(tempfile.mkdtemp(prefix="qa-filters-"))
    encoder = FakeEncoder()
    documents = [
        Document(doc_id=f"d{n:05d}", source=f"notes/{n % 50:02d}/{n:05d}.txt", title="",
                 text=f"The ferry sails at dawn. Note {n}.", sha256=str(n), root="/data")
        for n in range(10_000)
    ]  # fmt: skip
    index_documents(documents, folder / "notes.qa", encoder=encoder)
    settings = Settings(index=folder / "notes.qa", max_body_bytes=200_000)  # let the glob past the body limit
    app = create_app(settings, Collection.open(folder / "notes.qa", encoder=encoder))
    print(f"load average {os.getloadavg()[0]:.2f}")
    with TestClient(app) as client:
        status, cpu = timed(client, {"source": ["*a" * 32768]})
        print(f"64 KB glob: {status}, {cpu:.2f} s CPU")
        before = rss_mb()
        for round_ in range(5):
            worst = [f"notes/*{round_:03d}*{j:02d}*x*y*z*w*q" + "a" * 480 + "/*" for j in range(32)]
            status, cpu = timed(client, {"source": worst})
            print(f"worst admitted filter, round {round_}: {status}, {cpu:.2f} s CPU")
        print(f"RSS growth over 5 rounds: {rss_mb() - before:.0f} MB")
        status, cpu = timed(client, None)
        print(f"no filter: {status}, {cpu:.2f} s CPU")
