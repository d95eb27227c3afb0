"""Scale-out: `qa index --ray` on a real local Ray cluster gives the index a local run gives, survives
a worker that dies, and says what to install without Ray; `qa serve --workers 2` answers from
several processes that all follow new generations.

The cluster binds to 127.0.0.1 only, with usage stats off; it is started once for the module and
stopped with `ray.shutdown()`. Nothing here stops a process by name.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.ingest.indexing import index_paths, remove_documents
from qa.store import Snapshot
from tests.conftest import PROJECT_ROOT, SEED_QUESTIONS, SEEDS
from tests.fakes import DyingEncoder, FakeEncoder
from tests.server_fixtures import free_port, wait_for

QUESTIONS = ["Who is Moussa Koussa?", "Which officers defected?", "What did the Foreign Office say?"]


@pytest.fixture(scope="module")
def ray_cluster():
    """A 2-CPU cluster in this process; its workers import this project (and tests.fakes)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
        try:
            import ray
        except ImportError:
            pytest.skip("Ray is not installed (pip install -e '.[test]' installs it)")
        try:
            ray.init(
                num_cpus=2,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                object_store_memory=200 * 1024**2,
                logging_level="WARNING",
            )
        except Exception as error:  # no shared memory, no free ports…: say why, do not fail
            pytest.skip(f"a local Ray cluster cannot start on this machine: {error}")
        yield ray
        ray.shutdown()


@pytest.fixture
def corpus(tmp_path) -> Path:
    """The seeds, a Markdown note in a subfolder, and a file no parser can read."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    (folder / "notes").mkdir()
    (folder / "notes" / "extra.md").write_text("# Defections\n\nSeveral Libyan officers defected in March.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    return folder


def contents(index_dir: Path) -> dict[tuple[str, int, int], tuple[str, np.ndarray]]:
    """Every live passage by (doc_id, start, end): its text and its stored vector."""
    snapshot = Snapshot.open(index_dir)
    ids = [passage_id for passage_id, _, _ in snapshot.passage_texts()]
    rows = snapshot.passages(ids)
    vectors = snapshot.vectors(np.array(ids, dtype=np.int64))
    return {(rows[i].doc_id, rows[i].start, rows[i].end): (rows[i].text, vector) for i, vector in zip(ids, vectors)}


def documents(index_dir: Path) -> list[tuple[str, str, str, str]]:
    return [(d.doc_id, d.source, d.title, d.sha256) for d in Snapshot.open(index_dir).documents()]


def assert_same_index(ray_dir: Path, local_dir: Path, min_cosine: float) -> None:
    assert documents(ray_dir) == documents(local_dir)
    distributed, local = contents(ray_dir), contents(local_dir)
    assert distributed.keys() == local.keys()
    for key, (text, vector) in local.items():
        assert distributed[key][0] == text
        assert float(np.dot(distributed[key][1], vector)) >= min_cosine, key


def answers(index_dir: Path, questions, encoder=None) -> list[tuple[tuple, frozenset]]:
    """Per question: the best passage, and the set of passages shown (ties may swap places)."""
    from qa.collection import Collection

    collection = Collection.open(index_dir, encoder=encoder)
    found = []
    for question in questions:
        cited = [(p.citation.doc_id, p.citation.start, p.citation.end) for p in collection.ask(question).passages]
        found.append((cited[0], frozenset(cited)))
    return found


def index_on_ray(paths, index_dir, encoder, actors=None):
    from qa.collection import Collection
    from qa.ingest.distributed import add_on_ray
    from qa.ingest.indexing import IndexOptions

    # Flushing by passages only: a loaded machine must not turn one run into two generations.
    options = IndexOptions(flush_seconds=None)
    return add_on_ray(Collection(index_dir, encoder=encoder), paths, options, address=None, actors=actors)


@pytest.mark.slow
def test_ray_gives_the_local_index_and_stays_incremental(ray_cluster, corpus, tmp_path):
    ray_dir, local_dir = tmp_path / "ray.qa", tmp_path / "local.qa"
    report = index_on_ray([corpus], ray_dir, FakeEncoder(), actors=2)
    expected = index_paths([corpus], local_dir, encoder=FakeEncoder())
    assert (report.added, report.passages, report.generation) == (expected.added, expected.passages, 1)
    assert [s.path for s in report.skipped] == [s.path for s in expected.skipped] == [str(corpus / "broken.pdf")]
    assert_same_index(ray_dir, local_dir, min_cosine=0.9999)
    assert answers(ray_dir, QUESTIONS, FakeEncoder()) == answers(local_dir, QUESTIONS, FakeEncoder())

    from qa.collection import Collection

    reader = Collection.open(ray_dir, encoder=FakeEncoder())  # a live reader, open across the update
    changed = sorted(corpus.glob("*.txt"))[0]
    changed.write_text(changed.read_text() + "\nA sentence added later about the Libyan embassy.\n")
    (corpus / "notes" / "extra.md").unlink()
    (corpus / "notes" / "new.md").write_text("# Ambassadors\n\nThe ambassador to the UN resigned.\n")
    again = index_on_ray([corpus], ray_dir, FakeEncoder())
    assert (again.added, again.updated, again.removed, again.unchanged) == (1, 1, 1, 4)
    local_again = index_paths([corpus], local_dir, encoder=FakeEncoder())
    assert (local_again.added, local_again.updated, local_again.removed) == (1, 1, 1)
    assert_same_index(ray_dir, local_dir, min_cosine=0.9999)
    assert reader.stats().generation == 2 and "notes__new" in {d.doc_id for d in reader.documents()}

    unchanged = index_on_ray([corpus], ray_dir, FakeEncoder())
    # Nothing embedded again; the new generation only records the folder's last sync (qa info).
    assert (unchanged.added, unchanged.updated, unchanged.unchanged, unchanged.passages) == (0, 0, 6, 0)
    assert reader.stats().documents == 6


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_retried_and_the_index_ends_complete(ray_cluster, corpus, tmp_path):
    marker = tmp_path / "killed-pid"
    report = index_on_ray([corpus], tmp_path / "ray.qa", DyingEncoder(str(marker)), actors=2)
    assert marker.exists(), "no worker was killed"
    assert int(marker.read_text()) != os.getpid()  # a cluster worker died, not this process
    index_paths([corpus], tmp_path / "local.qa", encoder=FakeEncoder())
    assert report.added == 6
    assert_same_index(tmp_path / "ray.qa", tmp_path / "local.qa", min_cosine=0.9999)


@pytest.mark.slow
def test_cli_ray_with_the_real_model_matches_the_local_seeds_index(ray_cluster, tmp_path):
    """The same command with and without --ray gives the same index: float32, or bfloat16 where the
    CPU has AMX (each text's vector its own then, so equal to the bit)."""
    from qa.ingest.indexing import index_paths

    local_dir = tmp_path / "seeds.qa"
    index_paths([SEEDS], local_dir)  # the real model, as configured: what `qa index` does here
    ray_dir = tmp_path / "seeds-ray.qa"
    result = CliRunner().invoke(app, ["index", str(SEEDS), "--index", str(ray_dir), "--ray", "auto"])
    assert result.exit_code == 0, result.output
    assert "added 5" in result.output
    kinds = {json.loads((d / "manifest.json").read_text())["model"]["passage_precision"] for d in (ray_dir, local_dir)}
    assert len(kinds) == 1
    assert_same_index(ray_dir, local_dir, min_cosine=0.9999)
    questions = QUESTIONS
    if SEED_QUESTIONS.exists():
        questions = [json.loads(line)["question"] for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]
    assert answers(ray_dir, questions) == answers(local_dir, questions)


def test_ray_without_ray_installed_says_what_to_install_in_one_line(fake_model, monkeypatch, tmp_path):
    for name in [name for name in sys.modules if name == "ray" or name.startswith("ray.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    result = CliRunner().invoke(app, ["index", str(SEEDS), "--index", str(tmp_path / "i.qa"), "--ray", "local"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: --ray needs Ray, which is not installed: pip install 'qa-passages[ray]' (or: pip install 'ray[data]')"
    ]
    assert not (tmp_path / "i.qa").exists()


def test_qa_never_imports_ray_unless_asked():
    probe = (
        "import sys, qa.cli, qa.ingest.indexing, qa.collection, api.app; "
        "sys.exit(any(m == 'ray' or m.startswith('ray.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT).returncode == 0


def get(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_serve_with_two_workers_answers_and_follows_a_new_generation(seeds_index, tmp_path, isolated_home):
    index_dir = tmp_path / "served.qa"
    shutil.copytree(seeds_index, index_dir, ignore=shutil.ignore_patterns("write.lock"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "qa", "serve", "--index", str(index_dir), "--port", str(port), "--workers", "2"],
        env={**os.environ, "QA_HOME": str(isolated_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for(f"{base}/health", server, timeout=180)
        generation = get(f"{base}/health")["index"]["generation"]
        request = urllib.request.Request(
            f"{base}/ask", data=json.dumps({"question": "Who is Moussa Koussa?"}).encode(), method="POST"
        )
        request.add_header("Content-Type", "application/json")
        for _ in range(8):  # new connections, spread over both workers
            with urllib.request.urlopen(request, timeout=30) as response:
                assert json.loads(response.read())["passages"]
        for _ in range(4):  # whichever worker answers the scrape, it counts both workers' questions
            with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
                metrics = response.read().decode()
            assert 'qa_http_requests_total{method="POST",route="/ask",status="200"} 8.0' in metrics
        removed = Snapshot.open(index_dir).documents()[0].doc_id
        remove_documents([removed], index_dir)  # a new generation, committed by another process
        seen = [get(f"{base}/health") for _ in range(16)]
        assert {health["index"]["generation"] for health in seen} == {generation + 1}
        assert all(removed not in {d["doc_id"] for d in get(f"{base}/documents")} for _ in range(8))
    finally:
        os.killpg(server.pid, signal.SIGINT)  # our own process group: the server and its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    workers = server.stderr.read().decode().count("Started server process")
    assert workers == 2
