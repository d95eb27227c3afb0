"""Answer feedback: POST /feedback keeps a vote with its passage and generation; `qa feedback
export` turns the votes into `qa eval` questions, which `qa eval` then runs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from qa.cli import app as cli
from qa.evaluation import load_eval_set
from qa.server.feedback import FeedbackStore
from tests.server_fixtures import Server, open_server

QUESTION = "Which ferry leaves for Gozo?"


@pytest.fixture
def server(tmp_path, fake_encoder) -> Iterator[Server]:
    opened = open_server(tmp_path, fake_encoder)
    yield opened
    opened.client.__exit__(None, None, None)


def vote(server: Server, passage: dict, up: bool, **extra):
    citation = passage["citation"]
    body = {"question": QUESTION, "doc_id": citation["doc_id"], "start": citation["start"], "end": citation["end"]}
    return server.client.post("/feedback", json={**body, "vote": "up" if up else "down", **extra})


def test_votes_are_kept_with_the_passage_text_and_generation(server: Server) -> None:
    passages = server.client.post("/ask", json={"question": QUESTION, "top_k": 2}).json()["passages"]
    generation = server.client.get("/health").json()["index"]["generation"]

    up = vote(server, passages[0], True, comment="exactly this")
    down = vote(server, passages[1], False)

    assert up.status_code == 201 and down.status_code == 201
    assert up.json()["generation"] == generation
    votes = FeedbackStore.for_index(server.index_dir).votes()
    assert [v.vote for v in votes] == ["up", "down"]
    assert votes[0].text == passages[0]["text"] and votes[0].comment == "exactly this"
    assert votes[0].source == passages[0]["citation"]["source"]


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"doc_id": "nope"}, 404, "No document with id 'nope'"),
        ({"start": 5, "end": 100_000}, 422, "are not a passage of"),
        ({"vote": "sideways"}, 422, "vote"),
        ({"question": "  "}, 422, "empty"),
    ],
)
def test_a_vote_on_no_passage_is_refused(server: Server, change, status, message) -> None:
    body = {"question": QUESTION, "doc_id": "ferry", "start": 0, "end": 10, "vote": "up", **change}
    response = server.client.post("/feedback", json=body)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert FeedbackStore.for_index(server.index_dir).votes() == []


def test_feedback_needs_a_read_key_when_reads_do(tmp_path, fake_encoder) -> None:
    server = open_server(tmp_path, fake_encoder, require_key=True)
    try:
        body = {"question": QUESTION, "doc_id": "ferry", "start": 0, "end": 10, "vote": "up"}
        assert server.client.post("/feedback", json=body).status_code == 401
        assert server.client.post("/feedback", json=body, headers=server.auth(server.read_key)).status_code == 201
    finally:
        server.client.__exit__(None, None, None)


def test_export_makes_a_set_qa_eval_runs(server: Server, tmp_path, fake_model) -> None:
    passages = server.client.post("/ask", json={"question": QUESTION, "top_k": 2}).json()["passages"]
    vote(server, passages[0], True)
    vote(server, passages[1], False)
    other = {"question": "Who paints boats?", "doc_id": "ferry", "start": 0, "end": 20, "vote": "down"}
    assert server.client.post("/feedback", json=other).status_code == 201
    out = tmp_path / "feedback.jsonl"
    runner = CliRunner()

    exported = runner.invoke(cli, ["feedback", "export", "--json", str(out), "--index", str(server.index_dir)])

    assert exported.exit_code == 0, exported.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    by_question = {record["question"]: record for record in records}
    assert by_question[QUESTION]["answers"] == [passages[0]["text"]]
    assert by_question[QUESTION]["docs"] == [passages[0]["citation"]["source"]]
    assert by_question[QUESTION]["rejected"] == [passages[1]["text"]]
    assert by_question["Who paints boats?"]["answers"] == []  # only rejected: should not be answered confidently
    eval_set = load_eval_set(out)
    assert [q.answerable for q in eval_set.questions] == [True, False]
    evaluated = runner.invoke(cli, ["eval", str(out), "--index", str(server.index_dir)])
    assert evaluated.exit_code == 0, evaluated.output
    assert "2" in evaluated.output


def test_export_with_no_votes_says_so(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["feedback", "export", "--json", str(tmp_path / "x.jsonl"), "-i", str(tmp_path)])
    assert result.exit_code == 1
    assert "No feedback" in result.stderr
