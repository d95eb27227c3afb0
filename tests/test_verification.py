"""`qa verify`: answers saved before documents were edited, moved and deleted, checked after the
folder was indexed again: each passage verbatim, moved (with its new place) or changed."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qa.answers import encoded
from qa.cli import app
from qa.collection import Collection
from qa.ingest.indexing import index_paths

NOTES = {
    "ferry.txt": "The ferry to Gozo leaves Cirkewwa every forty-five minutes in summer.",
    "luzzu.txt": "Fishermen in Marsaxlokk paint their luzzu boats blue, yellow and red.",
    "temples.txt": "The Ggantija temples on Gozo are older than the pyramids of Giza.",
    "fort.txt": "Fort Saint Elmo guards the entrance to the Grand Harbour of Valletta.",
    "bread.txt": "Maltese bread, ħobż, is baked in wood-fired ovens before dawn.",
}
QUESTIONS = {
    "ferry.txt": "How often does the ferry to Gozo leave Cirkewwa?",
    "luzzu.txt": "What colours are luzzu boats painted?",
    "temples.txt": "Are the Ggantija temples older than the pyramids?",
    "fort.txt": "What guards the entrance to the Grand Harbour?",
    "bread.txt": "How is Maltese bread baked?",
}


def notes_with_a_copy(tmp_path):
    """The notes, with ferry.txt copied word for word into mirror/, indexed: (folder, index_dir)."""
    folder = tmp_path / "notes"
    (folder / "mirror").mkdir(parents=True)
    for name, text in NOTES.items():
        (folder / name).write_text(text)
    (folder / "mirror" / "ferry.txt").write_text(NOTES["ferry.txt"])
    index_dir = tmp_path / "notes.qa"
    index_paths([folder], index_dir)
    return folder, index_dir


@pytest.fixture
def saved(tmp_path, fake_model):
    """Answers saved (`qa ask --json`), then the folder changed and indexed again."""
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text)
    index_dir = tmp_path / "notes.qa"
    index_paths([folder], index_dir)
    collection = Collection.open(index_dir)
    answers = {}
    for name, question in QUESTIONS.items():
        answer = collection.ask(question, top_k=1)
        assert answer.passages[0].citation.source == name
        answers[name] = tmp_path / f"{name}.json"
        answers[name].write_text(encoded(answer).decode())
    # ferry: unchanged · luzzu: edited above the quote · temples: the quote edited ·
    # fort: the file moved to another name · bread: the file deleted
    (folder / "luzzu.txt").write_text("Boats of Malta.\n\n" + NOTES["luzzu.txt"])
    (folder / "temples.txt").write_text("The Ggantija temples on Gozo are very old.")
    (folder / "fort.txt").rename(folder / "forts-of-valletta.txt")
    (folder / "bread.txt").unlink()
    index_paths([folder], index_dir)
    return answers, index_dir


def verify(path, index_dir):
    return CliRunner().invoke(app, ["verify", str(path), "--index", str(index_dir), "--json"])


def test_each_passage_is_classified_verbatim_moved_or_changed(saved):
    answers, index_dir = saved
    results = {}
    for name, path in answers.items():
        done = verify(path, index_dir)
        results[name] = (done.exit_code, json.loads(done.stdout)["passages"][0])
    assert results["ferry.txt"][0] == 0 and results["ferry.txt"][1]["status"] == "verbatim"
    assert results["ferry.txt"][1]["same_file"] is True
    edited_above = results["luzzu.txt"][1]
    assert results["luzzu.txt"][0] == 0 and edited_above["status"] == "moved"
    assert edited_above["now_doc_id"] == edited_above["doc_id"] and edited_above["same_file"] is False
    assert edited_above["now_start"] == edited_above["start"] + len("Boats of Malta.\n\n")
    moved_file = results["fort.txt"][1]
    assert moved_file["status"] == "moved" and moved_file["now_source"] == "forts-of-valletta.txt"
    assert results["temples.txt"] == (1, results["temples.txt"][1]) and results["temples.txt"][1]["status"] == "changed"
    assert results["bread.txt"][0] == 1 and results["bread.txt"][1]["status"] == "changed"
    # the new places are real: the stored text there is the quote
    collection = Collection.open(index_dir)
    for name in ("luzzu.txt", "fort.txt"):
        check = results[name][1]
        document, _ = collection.stored_document(check["now_doc_id"])
        quote = json.loads(answers[name].read_text())["passages"][0]["text"]
        assert document.text[check["now_start"] : check["now_end"]] == quote


def test_a_table_without_json_and_one_line_errors(saved, tmp_path):
    answers, index_dir = saved
    shown = CliRunner().invoke(app, ["verify", str(answers["luzzu.txt"]), "--index", str(index_dir)])
    assert shown.exit_code == 0 and "moved" in shown.stdout and "luzzu.txt" in shown.stdout
    (tmp_path / "bad.json").write_text('{"question": 1}')
    for path in (tmp_path / "bad.json", tmp_path / "missing.json"):
        done = verify(path, index_dir)
        assert done.exit_code == 1 and done.stderr.startswith("Error: ") and "Traceback" not in done.output


def test_each_other_place_cited_for_a_passages_words_is_checked_too(tmp_path, fake_model):
    """An answer citing a copy of its passage (`also`) has that place checked like the citation: both
    verbatim while they hold the words; after the copy is edited, its place is no longer verbatim
    while the citation still is."""
    folder, index_dir = notes_with_a_copy(tmp_path)
    answer = Collection.open(index_dir).ask(QUESTIONS["ferry.txt"], top_k=1)
    assert len(answer.passages[0].also) == 1
    saved = tmp_path / "ferry.json"
    saved.write_text(encoded(answer).decode())

    checks = json.loads(verify(saved, index_dir).stdout)["passages"]
    assert [(check["also"], check["status"]) for check in checks] == [(False, "verbatim"), (True, "verbatim")]

    copy = answer.passages[0].also[0].source
    (folder / copy).write_text("The ferry to Gozo leaves Cirkewwa every hour in winter.")
    index_paths([folder], index_dir)
    done = verify(saved, index_dir)
    checks = {check["also"]: check for check in json.loads(done.stdout)["passages"]}
    assert checks[False]["status"] == "verbatim"
    assert checks[True]["status"] != "verbatim" and checks[True]["now_source"] != copy
    table = CliRunner().invoke(app, ["verify", str(saved), "--index", str(index_dir)]).stdout
    assert "1 (also)" in table
