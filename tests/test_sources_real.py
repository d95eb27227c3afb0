"""Sources end to end with the real model, in real `qa` processes: a crawled site answers with the
page URL and a text-fragment link; `qa watch` indexes a new file that `qa ask` then answers from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.test_web import page
from tests.web_site import Site

pytestmark = pytest.mark.slow


def qa_env(home: Path) -> dict[str, str]:
    return {**os.environ, "QA_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1"}


def ask_json(question: str, index_dir: Path, env) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "qa", "ask", question, "--json", "-k", "1", "--index", str(index_dir)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_crawled_site_answers_with_the_page_url_and_a_text_fragment_link(tmp_path, isolated_home) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "ferry.html").write_text(page("Ferry", "The ferry to Gozo leaves Cirkewwa every forty-five minutes."))
    (folder / "boats.html").write_text(page("Boats", "Fishermen in Marsaxlokk paint their luzzu boats blue and red."))
    (folder / "index.html").write_text(page("Malta", "Island travel notes.", ["ferry.html", "boats.html"]))
    env = qa_env(isolated_home)
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        done = subprocess.run(
            [sys.executable, "-m", "qa", "index", site.url(""), "--index", str(index_dir), "--delay", "0"],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        answer = ask_json("How often does the ferry to Gozo leave?", index_dir, env)
    citation = answer["passages"][0]["citation"]
    assert citation["source"] == site.url("ferry.html")
    assert citation["url"].startswith(site.url("ferry.html") + "#:~:text=") and "Gozo" in citation["url"]


def test_qa_watch_with_the_real_model_indexes_a_new_file_that_qa_ask_answers_from(tmp_path, isolated_home) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "boats.txt").write_text("Fishermen in Marsaxlokk paint their luzzu boats blue and red.")
    env = qa_env(isolated_home)
    index_dir = tmp_path / "notes.qa"
    watch = subprocess.Popen(
        [sys.executable, "-m", "qa", "watch", str(folder), "--index", str(index_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        for line in watch.stdout:
            if "watching" in line:
                break
        (folder / "ferry.txt").write_text("The ferry to Gozo leaves Cirkewwa every forty-five minutes.")
        for line in watch.stdout:
            if "generation" in line:
                assert "added 1," in line, line
                break
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=60) == 0, watch.stderr.read()
    finally:
        if watch.poll() is None:
            watch.kill()
    answer = ask_json("How often does the ferry to Gozo leave?", index_dir, env)
    assert answer["passages"][0]["citation"]["source"] == "ferry.txt"
