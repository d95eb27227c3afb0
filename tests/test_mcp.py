"""The MCP face, through the `mcp` SDK's own client: `qa mcp` over stdio (a real process) and `/mcp`
of a real `qa serve` over streamable HTTP, behind the same keys and scopes as /ask."""

from __future__ import annotations

import json
import sys

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from api.mcp_server import MAX_READ_CHARS, build_mcp, local_reach
from qa.collection import Collection
from qa.search.filters import Filters
from qa.server.keys import KeyStore
from tests.conftest import SEED_QUESTIONS, SEEDS, require_shared
from tests.server_fixtures import real_server
from tests.test_store import KILL_AT, fake_env

QUESTION = "Who is Moussa Koussa?"


def stdio_server(index_dir, script: str = KILL_AT) -> StdioServerParameters:
    """`qa mcp --index DIR` as an agent launches it (the fake encoder unless `script` says otherwise)."""
    return StdioServerParameters(
        command=sys.executable, args=["-c", script, "mcp", "--index", str(index_dir)], env=fake_env()
    )


def http_server(base: str, key: str | None = None):
    import httpx2

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return streamable_http_client(base + "/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=60))


def call(server, *calls: tuple[str, dict]) -> list:
    """Open one client session on `server` and make each tool call in turn."""

    async def run():
        async with Client(server) as client:
            return [await client.call_tool(name, arguments) for name, arguments in calls]

    return anyio.run(run)


def verbatim(collection: Collection, evidence: dict) -> None:
    """Every passage is the stored text at its offsets, with its document's sha256 and the generation."""
    for passage in evidence["passages"]:
        citation = passage["citation"]
        document, generation = collection.stored_document(citation["doc_id"])
        assert document.text[citation["start"] : citation["end"]] == passage["text"]
        assert passage["sha256"] == citation["sha256"] == document.sha256
        assert passage["generation"] == evidence["generation"] == generation
        assert citation["url"]


@pytest.fixture
def fake_collection(fake_seeds_index, fake_encoder):
    return Collection.open(fake_seeds_index, encoder=fake_encoder)


def test_the_tools_say_what_the_evidence_guarantees(fake_collection):
    async def run():
        async with Client(build_mcp(local_reach(fake_collection))) as client:
            return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in anyio.run(run)}
    assert set(tools) == {"ask", "read_document", "list_documents"}
    ask = tools["ask"]
    assert "verbatim" in ask.description and "answered: false" in ask.description and "sha256" in ask.description
    assert set(ask.input_schema["properties"]) == {"question", "top_k", "filters", "history"}
    assert ask.input_schema["properties"]["filters"]["additionalProperties"] is False
    passage = ask.output_schema["$defs"]["EvidencePassage"]["properties"]
    assert {"text", "highlight", "context", "citation", "sha256", "generation"} <= set(passage)
    assert str(MAX_READ_CHARS) in tools["read_document"].description
    assert all(tool.annotations.read_only_hint for tool in tools.values())


def test_qa_mcp_over_stdio_answers_as_qa_ask_does_verbatim(fake_seeds_index, fake_collection):
    asked, listed = call(stdio_server(fake_seeds_index), ("ask", {"question": QUESTION}), ("list_documents", {}))
    assert not asked.is_error
    evidence = asked.structured_content
    expected = fake_collection.ask(QUESTION)
    assert evidence["answered"] == expected.answered
    assert [(p["citation"]["doc_id"], p["citation"]["start"]) for p in evidence["passages"]] == [
        (p.citation.doc_id, p.citation.start) for p in expected.passages
    ]
    verbatim(fake_collection, evidence)
    first = evidence["passages"][0]
    assert first["citation"]["url"] == (SEEDS / first["citation"]["source"]).resolve().as_uri()
    # the text rendering, for clients that read only text, quotes the highlighted sentence with its source
    sentence = first["text"][first["highlight"]["start"] : first["highlight"]["end"]]
    assert sentence in asked.content[0].text and first["citation"]["source"] in asked.content[0].text
    assert listed.structured_content["total"] == len(fake_collection.documents())


def test_words_no_document_holds_are_named_to_the_agent(fake_collection):
    (asked,) = call(build_mcp(local_reach(fake_collection)), ("ask", {"question": "Did Koussa flee to Kubernetes?"}))
    assert asked.structured_content["missing_words"] == ["Kubernetes"]
    assert asked.content[0].text.startswith("Not in any document: Kubernetes.\n")
    (known,) = call(build_mcp(local_reach(fake_collection)), ("ask", {"question": QUESTION}))
    assert known.structured_content["missing_words"] == [] and "Not in any" not in known.content[0].text


def test_a_passage_found_at_two_places_is_quoted_once_and_both_are_cited(tmp_path, fake_encoder):
    """The seed articles and a copy of each: the agent gets each passage once, with the copy in
    `also` (linked to its file) and named in the text."""
    from qa.ingest.indexing import index_paths

    corpus = tmp_path / "corpus"
    (corpus / "mirror").mkdir(parents=True)
    for path in SEEDS.glob("*.txt"):
        (corpus / path.name).write_bytes(path.read_bytes())
        (corpus / "mirror" / path.name).write_bytes(path.read_bytes())
    index_paths([corpus], tmp_path / "corpus.qa", encoder=fake_encoder)
    collection = Collection.open(tmp_path / "corpus.qa", encoder=fake_encoder)

    (asked,) = call(build_mcp(local_reach(collection)), ("ask", {"question": QUESTION, "top_k": 5}))
    passages = asked.structured_content["passages"]
    assert len(passages) == 5 and len({p["text"] for p in passages}) == 5
    for passage in passages:
        (also,) = passage["also"]
        name = passage["citation"]["source"].removeprefix("mirror/")
        assert {passage["citation"]["source"], also["source"]} == {name, f"mirror/{name}"}
        assert also["url"] == (corpus / also["source"]).resolve().as_uri()
        assert f"Also in: {also['source']}, chars {also['start']}–{also['end']}" in asked.content[0].text


def test_read_document_returns_the_stored_span_and_pages_through_documents(fake_collection):
    document = fake_collection.documents()[0]
    read, whole, first, second = call(
        build_mcp(local_reach(fake_collection)),
        ("read_document", {"doc_id": document.doc_id, "start": 10, "end": 70}),
        ("read_document", {"doc_id": document.doc_id}),
        ("list_documents", {"limit": 2}),
        ("list_documents", {"offset": 2, "limit": 2}),
    )
    stored, generation = fake_collection.stored_document(document.doc_id)
    assert read.structured_content["text"] == stored.text[10:70]
    assert read.structured_content["length"] == len(stored.text)
    assert read.structured_content["sha256"] == stored.sha256 and read.structured_content["generation"] == generation
    assert whole.structured_content["text"] == stored.text  # under the limit: the whole text
    page = first.structured_content
    assert page["next_offset"] == 2 and page["total"] == len(fake_collection.documents())
    listed = [d["doc_id"] for d in page["documents"] + second.structured_content["documents"]]
    assert listed == [d.doc_id for d in fake_collection.documents()[:4]]
    assert {"doc_id", "title", "source", "type", "chars", "sha256"} <= set(page["documents"][0])


@pytest.mark.parametrize(
    ("tool", "arguments", "says"),
    [
        ("ask", {"question": "   "}, "The question is empty"),
        ("ask", {"question": "x" * 2001}, "the limit is 2000"),
        ("ask", {"question": QUESTION, "top_k": 0}, "top_k must be between 1 and 50"),
        ("ask", {"question": QUESTION, "filters": {"colour": ["red"]}}, "Unknown filter 'colour'"),
        ("ask", {"question": QUESTION, "history": ["y" * 2001]}, "the limit is 2000"),
        ("read_document", {"doc_id": "no-such-doc"}, "No document with id 'no-such-doc'"),
        ("read_document", {"doc_id": "DOC", "start": 5, "end": 10**7}, "is not inside the document"),
        ("read_document", {"doc_id": "DOC", "start": 50, "end": 10}, "is not inside the document"),
        ("list_documents", {"offset": -1}, "offset must be 0 or more"),
        ("list_documents", {"limit": 10**6}, "limit must be between 1 and 500"),
    ],
)
def test_bad_tool_input_is_a_tool_error_that_says_what_to_change(fake_collection, tool, arguments, says):
    doc_id = fake_collection.documents()[0].doc_id
    arguments = {name: doc_id if value == "DOC" else value for name, value in arguments.items()}
    (result,) = call(build_mcp(local_reach(fake_collection)), (tool, arguments))
    assert result.is_error
    assert says in result.content[0].text
    assert "Traceback" not in result.content[0].text


def test_a_span_over_the_read_limit_is_refused(tmp_path, fake_encoder):
    from qa.ingest.indexing import index_paths

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "long.txt").write_text("A sentence about ferries. " * 1000)
    index_paths([tmp_path / "docs"], tmp_path / "long.qa", encoder=fake_encoder)
    collection = Collection.open(tmp_path / "long.qa", encoder=fake_encoder)
    doc_id = collection.documents()[0].doc_id
    over, default = call(
        build_mcp(local_reach(collection)),
        ("read_document", {"doc_id": doc_id, "start": 0, "end": MAX_READ_CHARS + 1}),
        ("read_document", {"doc_id": doc_id, "start": 100}),
    )
    assert over.is_error and f"read at most {MAX_READ_CHARS} at once" in over.content[0].text
    assert default.structured_content["end"] == 100 + MAX_READ_CHARS  # no `end`: up to the limit


def unsigned(url: str) -> str:
    """A signed viewer URL without its expiry and signature, which must be there; the key stays."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    assert {"key", "exp", "sig"} <= {name for name, _ in query}, url
    kept = urlencode([(name, value) for name, value in query if name not in {"exp", "sig"}])
    return parts._replace(query=kept).geturl()


@pytest.fixture
def keyed_server(tmp_path, fake_seeds_index):
    """A real `qa serve --require-key` on the fake seeds index, with a read key and a key scoped
    to one document."""
    import shutil

    index_dir = tmp_path / "seeds.qa"
    shutil.copytree(fake_seeds_index, index_dir)
    keys = KeyStore.for_index(index_dir)
    scoped_doc = "002_16a2268da3ab4520"
    _, read = keys.create("read", "reader")
    _, scoped = keys.create("read", "one-doc", Filters.parse(doc_id=[scoped_doc]))
    with real_server(index_dir, tmp_path / "serve.log", "--require-key") as (base, _):
        yield base, read, scoped, scoped_doc, index_dir


def test_mcp_over_http_needs_a_key_and_answers_only_from_its_scope(keyed_server, fake_encoder):
    base, read, scoped, scoped_doc, index_dir = keyed_server
    refused = httpx.post(base + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=30)
    assert refused.status_code == 401 and "read API key" in refused.json()["detail"]
    with pytest.raises(Exception):  # noqa: B017 (the SDK's client fails on the 401, as it should)
        call(http_server(base), ("list_documents", {}))

    (asked,) = call(http_server(base, read), ("ask", {"question": QUESTION}))
    over_http = httpx.post(base + "/ask", json={"question": QUESTION}, headers={"Authorization": f"Bearer {read}"})
    expected = over_http.json()
    evidence = asked.structured_content
    assert evidence["answered"] == expected["answered"]
    assert [p["text"] for p in evidence["passages"]] == [p["text"] for p in expected["passages"]]
    # The same viewer spots, signed for the same key; each signature carries its own expiry, to the
    # second, so two requests a second apart sign differently (this compared them whole, and failed so).
    assert [unsigned(p["citation"]["url"]) for p in evidence["passages"]] == [
        unsigned(p["citation"]["url"]) for p in expected["passages"]
    ]
    assert evidence["passages"][0]["citation"]["url"].startswith(base + "/view/")
    verbatim(Collection.open(index_dir, encoder=fake_encoder), evidence)

    other = next(p["citation"]["doc_id"] for p in evidence["passages"] if p["citation"]["doc_id"] != scoped_doc)
    scoped_ask, listed, hidden = call(
        http_server(base, scoped),
        ("ask", {"question": QUESTION}),
        ("list_documents", {}),
        ("read_document", {"doc_id": other}),
    )
    assert {p["citation"]["doc_id"] for p in scoped_ask.structured_content["passages"]} == {scoped_doc}
    assert [d["doc_id"] for d in listed.structured_content["documents"]] == [scoped_doc]
    assert hidden.is_error and f"No document with id {other!r}" in hidden.content[0].text


REAL_QA = "import sys\nfrom qa.cli import main\nsys.argv = ['qa', *sys.argv[1:]]\nmain()\n"


@pytest.mark.slow
def test_seed_questions_over_both_transports_hit_as_qa_ask_does(seeds_index, seeds_collection, tmp_path):
    """The real model: over stdio and over HTTP, the public seed questions get the passages `qa ask`
    gives (so the same hit@3), every passage verbatim, `answered` as /ask's."""
    from qa.evaluation.metrics import contains_answer

    questions = [json.loads(line) for line in require_shared(SEED_QUESTIONS).read_text().splitlines() if line.strip()]
    calls = [("ask", {"question": q["question"], "top_k": 3, "history": q.get("history", [])}) for q in questions]
    over_stdio = call(stdio_server(seeds_index, REAL_QA), *calls)
    with real_server(seeds_index, tmp_path / "serve.log", script=REAL_QA) as (base, _):
        over_http = call(http_server(base), *calls)
        answered_over_ask = [
            httpx.post(base + "/ask", json=arguments, timeout=60).json()["answered"] for _, arguments in calls
        ]

    def hits(results) -> int:
        return sum(
            any(contains_answer(p["text"], q["answers"]) for p in result.structured_content["passages"])
            for q, result in zip(questions, results)
            if q["answers"]
        )

    expected = sum(
        any(
            contains_answer(p.text, q["answers"])
            for p in seeds_collection.ask(q["question"], 3, q.get("history", [])).passages
        )
        for q in questions
        if q["answers"]
    )
    assert hits(over_stdio) == hits(over_http) == expected
    assert [r.structured_content["answered"] for r in over_http] == answered_over_ask
    for result in over_stdio + over_http:
        verbatim(seeds_collection, result.structured_content)


def test_mcp_over_http_has_the_rate_and_body_limits_of_ask(tmp_path, fake_encoder):
    from tests.server_fixtures import start

    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
    (tmp_path / "rate").mkdir()
    (tmp_path / "body").mkdir()
    client, _ = start(tmp_path / "rate", fake_encoder, rate_limit="3/minute")
    with client:
        statuses = [client.post("/mcp", json=listing, headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    client, _ = start(tmp_path / "body", fake_encoder, max_body_bytes=4096)
    with client:
        big = {**listing, "params": {"padding": "x" * 10_000}}
        assert client.post("/mcp", json=big, headers=headers).status_code == 413
        assert client.post("/mcp", json=listing, headers=headers).status_code == 200
