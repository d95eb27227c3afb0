"""The watcher and the crawler killed (SIGKILL) at 20 random moments each, while their sources
change: every time the index opens and answers, and the next run brings it in line with the
source (it equals a fresh index of the source)."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

from qa.collection import Collection
from qa.ingest.indexing import index_paths
from qa.ingest.web.crawler import CrawlSettings
from tests.fakes import FakeEncoder
from tests.test_store import fake_env, fake_qa, run_fake_qa
from tests.test_watching import contents, note
from tests.test_web import passages_by_source, small_site
from tests.web_site import Site

pytestmark = pytest.mark.slow  # 40 real processes started and killed: about two minutes
ROUNDS = 20


def opens_and_answers(index_dir: Path) -> None:
    from embeddings import DEFAULT_MODEL

    collection = Collection.open(index_dir, encoder=FakeEncoder(name=DEFAULT_MODEL))
    for document in collection.documents()[:3]:
        text = collection.document(document.doc_id).text
        assert collection.ask(text[:60], top_k=1).passages


def mutate_folder(folder: Path, rng: random.Random, round_number: int) -> None:
    files = sorted(folder.rglob("*.txt"))
    for path in rng.sample(files, min(3, len(files))):
        path.write_text(note(rng.randrange(1000), f" Round {round_number}."))
    if len(files) > 5:
        rng.choice(files).unlink()
    sub = folder / f"sub{rng.randrange(3)}"
    sub.mkdir(exist_ok=True)
    for number in range(rng.randrange(1, 4)):
        (sub / f"r{round_number}-{number}.txt").write_text(note(round_number * 10 + number))
    files = sorted(folder.rglob("*.txt"))
    moving = rng.choice(files)
    moving.rename(moving.with_name(f"moved-{round_number}.txt"))


def test_qa_watch_killed_at_random_moments_leaves_an_index_that_opens_and_converges(tmp_path) -> None:
    rng = random.Random(21)
    folder = tmp_path / "docs"
    folder.mkdir()
    for number in range(20):
        (folder / f"n{number}.txt").write_text(note(number))
    index_dir = tmp_path / "docs.qa"
    assert run_fake_qa("index", str(folder), "--index", str(index_dir)).returncode == 0
    for round_number in range(ROUNDS):
        command = [*fake_qa(), "watch", str(folder), "--index", str(index_dir)]
        process = subprocess.Popen(command, env=fake_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(rng.uniform(0.5, 3.0))  # during start-up, the first sync, or following
            mutate_folder(folder, rng, round_number)
            time.sleep(rng.uniform(0.0, 1.5))  # before, during or after the commit of those changes
        finally:
            process.kill()
            process.wait(timeout=30)
        opens_and_answers(index_dir)
    assert run_fake_qa("index", str(folder), "--index", str(index_dir)).returncode == 0
    fresh = tmp_path / "fresh.qa"
    index_paths([folder], fresh, encoder=FakeEncoder())
    assert contents(index_dir) == contents(fresh)


def test_qa_index_url_killed_at_random_moments_leaves_an_index_that_opens_and_converges(tmp_path) -> None:
    rng = random.Random(2121)
    folder = tmp_path / "site"
    names = small_site(folder, 20)
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        url = site.url("")
        command = [*fake_qa(), "index", url, "--index", str(index_dir), "--delay", "0.01"]
        assert subprocess.run(command, env=fake_env(), capture_output=True, timeout=120).returncode == 0
        for round_number in range(ROUNDS):
            for name in rng.sample(names, 3):
                (folder / name).write_text(
                    f"<title>{name}</title><p>Round {round_number}: {note(rng.randrange(99))}</p>"
                )
            process = subprocess.Popen(command, env=fake_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(rng.uniform(0.3, 3.0))
            finally:
                process.kill()
                process.wait(timeout=30)
            opens_and_answers(index_dir)
        assert subprocess.run(command, env=fake_env(), capture_output=True, timeout=120).returncode == 0
        fresh = tmp_path / "fresh.qa"
        Collection(fresh, encoder=FakeEncoder()).add_site(url, settings=CrawlSettings(delay=0))
        assert passages_by_source(index_dir) == passages_by_source(fresh)
