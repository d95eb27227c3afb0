"""Answer feedback: POST /feedback keeps a vote with its passage and generation; `qa feedback
export` turns the votes into `qa eval` questions, which `qa eval` then runs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from qa.cli import app as cli
from qa.evaluation import load_eval_set
from qa.server.feedback import MAX_EXCERPT_CHARS, FeedbackStore, excerpt
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
        # A span not in the text is not found, as a document that is not there (schema-valid offsets
        # cannot promise a passage: positive_data_acceptance in benchmarks/check_openapi.py).
        ({"start": 5, "end": 100_000}, 404, "are not a passage of"),
        ({"start": 9, "end": 3}, 404, "are not a passage of"),
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


def test_a_vote_keeps_at_most_an_excerpt_of_a_long_span(server: Server) -> None:
    """A vote on a whole 200,000-character document used to copy the document into the store."""
    words = " ".join(f"harbour{number}" for number in range(20_000))
    files = [("files", ("long.txt", words.encode(), "text/plain"))]
    added = server.client.post("/documents", files=files, headers=server.writer)
    assert added.status_code == 201, added.text
    doc_id = added.json()["files"][0]["doc_id"]
    text = server.client.get(f"/documents/{doc_id}").json()["text"]
    assert len(text) > 100 * MAX_EXCERPT_CHARS

    body = {"question": QUESTION, "doc_id": doc_id, "start": 0, "end": len(text), "vote": "up"}
    assert server.client.post("/feedback", json=body).status_code == 201

    (kept,) = FeedbackStore.for_index(server.index_dir).votes()
    assert MAX_EXCERPT_CHARS // 2 < len(kept.text) <= MAX_EXCERPT_CHARS
    assert text.startswith(kept.text)  # still contained in the passage, as `qa eval` needs of an answer
    assert (kept.start, kept.end) == (0, len(text))
    assert (server.index_dir.parent / f"{server.index_dir.name}-server" / "feedback.sqlite").stat().st_size < 100_000


def test_excerpt_cuts_after_a_whole_word() -> None:
    assert excerpt("short") == "short"
    assert excerpt("alpha beta gamma", limit=12) == "alpha beta"
    assert excerpt("x" * 30, limit=12) == "x" * 12  # no space to cut at


def test_votes_are_rate_limited_like_questions(tmp_path, fake_encoder) -> None:
    server = open_server(tmp_path, fake_encoder, rate_limit="2/minute")
    try:
        body = {"question": QUESTION, "doc_id": "ferry", "start": 0, "end": 10, "vote": "up"}
        votes = [server.client.post("/feedback", json=body) for _ in range(3)]
        assert [response.status_code for response in votes] == [201, 201, 429]
        assert 1 <= int(votes[-1].headers["Retry-After"]) <= 60
        assert "Too many requests" in votes[-1].json()["detail"]
        assert len(FeedbackStore.for_index(server.index_dir).votes()) == 2
        assert server.client.post("/ask", json={"question": "ferry"}).status_code == 200  # a bucket of its own
    finally:
        server.client.__exit__(None, None, None)


def test_feedback_can_be_turned_off(tmp_path, fake_encoder) -> None:
    server = open_server(tmp_path, fake_encoder, feedback=False)
    try:
        body = {"question": QUESTION, "doc_id": "ferry", "start": 0, "end": 10, "vote": "up"}
        for sent in (body, {"vote": "sideways"}):  # said before the body is looked at
            response = server.client.post("/feedback", json=sent)
            assert response.status_code == 404
            assert response.json()["detail"] == (
                "Feedback is turned off on this server (QA_FEEDBACK=false); no vote is kept."
            )
        assert not FeedbackStore.for_index(server.index_dir).path.exists()
        # The widget still loads and answers; a vote shows the detail above as its error.
        assert server.client.get("/widget.js").status_code == 200
        assert server.client.post("/ask", json={"question": QUESTION}).status_code == 200
    finally:
        server.client.__exit__(None, None, None)


def test_qa_serve_no_feedback_sets_the_setting(monkeypatch, tmp_path, fake_encoder) -> None:
    """`qa serve --no-feedback` (or QA_FEEDBACK=false) reaches the server's settings; the server
    itself is not started here."""
    import api.server
    from tests.server_fixtures import small_index

    started = {}
    monkeypatch.setattr(api.server, "serve", lambda settings, collection: started.update(settings=settings))
    index = str(small_index(tmp_path, fake_encoder))

    def feedback_setting(*flags: str) -> bool:
        result = CliRunner().invoke(cli, ["serve", "--index", index, *flags])
        assert result.exit_code == 0, result.output
        return started.pop("settings").feedback

    assert feedback_setting() is True
    assert feedback_setting("--no-feedback") is False
    monkeypatch.setenv("QA_FEEDBACK", "false")
    assert feedback_setting() is False
