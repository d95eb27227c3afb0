"""The HTTP API through FastAPI's test client, over an index of seeds/ built with the fake encoder;
one class repeats the user-facing answer checks with the real model."""

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from typer.testing import CliRunner

from api.app import create_app, open_collection
from api.settings import InvalidSettings, Settings, load_settings
from qa.answers import Answer, DocumentInfo, DocumentText
from qa.cli import app as cli
from qa.collection import Collection
from qa.errors import IndexNotFound, QAError
from tests.server_fixtures import LOCAL

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ROME_QUESTION = "How many Libyan army officers appeared in Rome?"
ROME_DOC = "000_5ff8cc3110b41a82"


@pytest.fixture(scope="module")
def client(fake_seeds_index: Path) -> Iterator[TestClient]:
    """The app as `qa serve` runs it: the index is opened at start-up (with the fake encoder, by its name)."""
    with TestClient(create_app(Settings(index=fake_seeds_index)), base_url=LOCAL) as client:
        yield client


@pytest.fixture(scope="module")
def real_client(seeds_index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(index=seeds_index)), base_url=LOCAL) as client:
        yield client


@pytest.fixture(scope="module")
def collection(client: TestClient) -> Collection:
    """The collection the app opened, reused by apps built with other settings."""
    return client.app.state.collection


def without_timing(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "took_ms"}


def test_ask_returns_the_answer_model(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "Who defected?", "top_k": 3})

    assert response.status_code == 200
    answer = TypeAdapter(Answer).validate_python(response.json())
    assert 1 <= len(answer.passages) <= 3
    assert [passage.rank for passage in answer.passages] == list(range(1, len(answer.passages) + 1))
    for passage in answer.passages:
        assert 0 <= passage.highlight.start < passage.highlight.end <= len(passage.text)
        assert passage.citation.start < passage.citation.end


@pytest.mark.slow
def test_ask_cites_the_passage_that_answers_a_seed_question(real_client: TestClient) -> None:
    answer = real_client.post("/ask", json={"question": ROME_QUESTION}).json()

    best = answer["passages"][0]
    assert answer["answered"] is True
    assert best["citation"]["doc_id"] == ROME_DOC
    assert "Eight Libyan army officers" in best["text"]
    highlighted = best["text"][best["highlight"]["start"] : best["highlight"]["end"]]
    assert "Eight Libyan army officers" in highlighted


def test_citation_offsets_point_into_the_document_text(client: TestClient) -> None:
    best = client.post("/ask", json={"question": ROME_QUESTION}).json()["passages"][0]
    citation = best["citation"]

    document = TypeAdapter(DocumentText).validate_python(client.get(f"/documents/{citation['doc_id']}").json())

    assert document.text[citation["start"] : citation["end"]] == best["text"]


def test_ask_accepts_history(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "Where did they appear?", "history": [ROME_QUESTION]})

    assert response.status_code == 200
    assert response.json()["question"] == "Where did they appear?"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": " \n\t "}, "question"),
        ({"question": "x" * 2001}, "question"),
        ({"question": "Who?", "top_k": 0}, "top_k"),
        ({"question": "Who?", "top_k": 51}, "top_k"),
        ({"question": "Who?", "top_k": "five"}, "top_k"),
        ({"question": "Who?", "top_k": 2.5}, "top_k"),
        ({"question": 42}, "question"),
        ({"question": None}, "question"),
        ({"question": "Who?", "history": "Who else?"}, "history"),
        ({"question": "Who?", "history": [1, 2]}, "history"),
        ({"top_k": 3}, "question"),
    ],
)
def test_bad_fields_get_422_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/ask", json=body)

    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{field}")
    assert response.json()["errors"][0]["loc"][:2] == ["body", field]


def test_ask_filters_narrow_the_documents(client: TestClient) -> None:
    body = {"question": "Who is Moussa Koussa?", "top_k": 10}
    response = client.post("/ask", json=body | {"filters": {"doc_id": [ROME_DOC]}})
    assert response.status_code == 200
    assert {p["citation"]["doc_id"] for p in response.json()["passages"]} == {ROME_DOC}

    both = {"source": ["001_*", f"{ROME_DOC}.txt"], "type": ["txt"], "since": "2000-01-01"}
    response = client.post("/ask", json=body | {"filters": both})
    assert {p["citation"]["doc_id"][:3] for p in response.json()["passages"]} == {"000", "001"}

    nothing = client.post("/ask", json=body | {"filters": {"tag": ["budget"]}})
    assert nothing.status_code == 200 and nothing.json()["passages"] == []
    assert nothing.json()["missing_words"] == []  # nothing was searched: no word is "not in any document"


def test_passages_carry_their_short_form(client: TestClient) -> None:
    passage = client.post("/ask", json={"question": ROME_QUESTION}).json()["passages"][0]
    context, highlight = passage["context"], passage["highlight"]
    assert 0 <= context["start"] <= highlight["start"] < highlight["end"] <= context["end"] <= len(passage["text"])


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (
            {"colour": ["blue"]},
            "filters: Unknown filter 'colour'; the filters are source, doc_id, type, since, until, tag.",
        ),
        ({"since": "2011-02-30"}, "filters.since: '2011-02-30' is not a date like 2011-03-01 (YYYY-MM-DD)."),
        ({"since": "2011-12-01", "until": "2011-03-01"}, "filters: since (2011-12-01) is after until (2011-03-01)"),
        ({"type": [""]}, "filters.type: An entry is empty."),
        ({"doc_id": [3]}, "filters.doc_id: Entries must be strings."),
        (["reports/"], "filters: Input should be a valid dictionary"),
        # Bounds, since any read key (a widget's public one too) may send a filter.
        (
            {"source": ["*a" * 30000]},
            "filters.source: An entry is at most 512 characters, not 60000.",
        ),  # under the body limit
        ({"source": [f"r{n}/" for n in range(33)]}, "filters.source: At most 32 entries per filter key, not 33."),
        ({"source": ["*?" * 5]}, "filters.source: A glob has at most 8 wildcards (* ? [), not 10: '*?*?*?*?*?'."),
    ],
)
def test_invalid_filters_get_422_saying_what_is_wrong(client: TestClient, filters, message: str) -> None:
    response = client.post("/ask", json={"question": "Who?", "filters": filters})

    assert response.status_code == 422
    assert response.json()["detail"].startswith(message)
    assert response.json()["errors"][0]["loc"][:2] == ["body", "filters"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"question": ', "application/json"),
        (b'["Who?"]', "application/json"),
        (b'"Who?"', "application/json"),
        (b"", "application/json"),
        (b"question=Who%3F", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_that_is_no_json_object_gets_422(client: TestClient, content: bytes, content_type: str) -> None:
    response = client.post("/ask", content=content, headers={"Content-Type": content_type})

    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]


def test_a_body_over_the_limit_is_refused_by_its_length(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "x" * 70_000})

    assert response.status_code == 413
    assert "65536 bytes" in response.json()["detail"]


def test_a_streamed_body_over_the_limit_is_refused_while_read(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(20):
            yield b"x" * 4096

    response = client.post("/ask", content=chunks(), headers={"Content-Type": "application/json"})

    assert "content-length" not in response.request.headers
    assert response.status_code == 413


def test_health_reports_the_index(client: TestClient) -> None:
    health = client.get("/health").json()

    assert health["status"] == "ok"
    assert health["index"]["documents"] == 5
    assert health["index"]["passages"] > 5


def test_documents_lists_the_seeds(client: TestClient) -> None:
    documents = TypeAdapter(list[DocumentInfo]).validate_python(client.get("/documents").json())

    assert sorted(document.doc_id for document in documents) == sorted(path.stem for path in SEEDS.glob("*.txt"))


def test_document_returns_its_text(client: TestClient) -> None:
    document = client.get(f"/documents/{ROME_DOC}").json()

    assert document["doc_id"] == ROME_DOC
    assert "Eight Libyan army officers" in document["text"]


def test_unknown_document_is_404(client: TestClient) -> None:
    response = client.get("/documents/no-such-document")

    assert response.status_code == 404
    assert "no-such-document" in response.json()["detail"]


def test_concurrent_questions_get_identical_answers(client: TestClient) -> None:
    def ask(_: int) -> tuple[int, dict]:
        response = client.post("/ask", json={"question": ROME_QUESTION})
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(ask, range(16)))

    assert {status for status, _ in results} == {200}
    first = without_timing(results[0][1])
    assert all(without_timing(answer) == first for _, answer in results)


def test_page_and_widget_are_served(client: TestClient) -> None:
    page = client.get("/")
    widget = client.get("/widget.js")

    assert page.status_code == 200
    assert '<script src="/widget.js" defer></script>' in page.text
    assert "<qa-chat" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert widget.headers["content-type"].startswith("text/javascript")
    assert 'customElements.define("qa-chat"' in widget.text


def test_widget_never_parses_html() -> None:
    """Corpus text must reach the page as text; a quick guard against the usual sinks."""
    source = (Path(__file__).resolve().parent.parent / "api" / "static" / "widget.js").read_text()

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source


def test_openapi_types_every_json_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ask = schema["paths"]["/ask"]["post"]

    assert ask["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AskRequest")
    assert ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Answer")
    request = schema["components"]["schemas"]["AskRequest"]["properties"]
    assert request["top_k"]["maximum"] == 50
    assert request["question"]["maxLength"] == 2000
    filters = schema["components"]["schemas"]["Filters"]["properties"]  # what a developer reads in /docs
    assert "glob" in filters["source"]["description"] and "UTC" in filters["since"]["description"]
    assert {"source", "type", "since", "until", "tag"} <= {key for key in filters if filters[key].get("description")}
    for path in ("/health", "/documents", "/documents/{doc_id}"):
        assert "schema" in schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    assert client.get("/docs").status_code == 200


def test_cors_allows_only_configured_origins(collection: Collection) -> None:
    app = create_app(Settings(cors_origins="http://embedder.test"), collection=collection)
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}

    with TestClient(app, base_url=LOCAL) as client:
        allowed = client.options("/ask", headers={"Origin": "http://embedder.test", **preflight})
        refused = client.options("/ask", headers={"Origin": "http://elsewhere.test", **preflight})
        too_large = client.post("/ask", json={"question": "x" * 70_000}, headers={"Origin": "http://embedder.test"})

    assert allowed.headers["access-control-allow-origin"] == "http://embedder.test"
    assert "access-control-allow-origin" not in refused.headers
    assert too_large.status_code == 413
    assert too_large.headers["access-control-allow-origin"] == "http://embedder.test"


def test_no_cross_origin_calls_unless_configured(collection: Collection) -> None:
    with TestClient(create_app(Settings(), collection=collection), base_url=LOCAL) as client:
        response = client.get("/health", headers={"Origin": "http://elsewhere.test"})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_configured_limits_apply(collection: Collection) -> None:
    settings = Settings(max_question_chars=10, max_top_k=3, max_body_bytes=200)

    with TestClient(create_app(settings, collection=collection), base_url=LOCAL) as client:
        assert client.post("/ask", json={"question": "x" * 11}).status_code == 422
        assert client.post("/ask", json={"question": "Who?", "top_k": 4}).status_code == 422
        assert client.post("/ask", json={"question": "Who?", "history": ["x" * 9] * 30}).status_code == 413


def test_settings_read_qa_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QA_INDEX", str(tmp_path))
    monkeypatch.setenv("QA_PORT", "9001")
    monkeypatch.setenv("QA_CORS_ORIGINS", "http://a.test, http://b.test/")

    settings = Settings()

    assert (settings.index, settings.port) == (tmp_path, 9001)
    assert settings.cors_origins == ["http://a.test", "http://b.test"]
    assert Settings(cors_origins=["http://c.test"]).cors_origins == ["http://c.test"]
    assert load_settings(port=9002, host=None).port == 9002


def test_bad_settings_get_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_PORT", "eighty")

    with pytest.raises(InvalidSettings, match="port"):
        load_settings(index=None)


def test_server_refuses_to_start_without_an_index(tmp_path: Path) -> None:
    missing = tmp_path / "missing.qa"
    with pytest.raises(QAError) as from_core:
        Collection.open(missing)

    with pytest.raises(IndexNotFound) as from_server:
        open_collection(Settings(index=missing, port=0))
    with pytest.raises(IndexNotFound), TestClient(create_app(Settings(index=missing))):
        pass

    assert str(from_server.value) == str(from_core.value)


def test_qa_serve_refuses_a_missing_index_as_qa_ask_does(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.qa")
    runner = CliRunner()

    served = runner.invoke(cli, ["serve", "--index", missing])
    asked = runner.invoke(cli, ["ask", "Who?", "--index", missing])

    assert served.exit_code == asked.exit_code == 1
    assert "No index at" in served.output
    assert served.output == asked.output


def test_the_server_logs_one_json_object_per_line() -> None:
    import io
    import json
    import logging

    from api.logs import JsonLinesFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("tests.server-log")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info("Chat at %s/", "http://127.0.0.1:8000")
        try:
            raise RuntimeError("two\nlines")
        except RuntimeError:
            logger.exception("GET /ask failed")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert records[0]["level"] == "INFO" and records[0]["logger"] == "tests.server-log"
    assert records[0]["message"] == "Chat at http://127.0.0.1:8000/"
    assert records[1]["level"] == "ERROR" and "RuntimeError: two" in records[1]["error"]


@pytest.mark.parametrize(
    ("cores", "workers", "preset", "expected"),
    [(2, 2, None, "1"), (8, 2, None, "4"), (2, 4, None, "1"), (2, 2, "2", "2")],
)
def test_workers_share_the_cores_between_their_encoders(monkeypatch, cores, workers, preset, expected) -> None:
    """`qa serve --workers N`: each worker's encoder takes its share of the cores, so N workers do
    not each spin threads on all of them; a value the user set is kept."""
    import api.server

    started = {}
    monkeypatch.setattr(api.server.os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(api.server.uvicorn, "run", lambda *args, **options: started.update(options))
    monkeypatch.setattr(api.server, "prepare_multiprocess_metrics", lambda: None)
    # serve_workers exports to its workers through the environment: a copy, dropped afterwards
    environment = {name: value for name, value in os.environ.items() if name != "OMP_NUM_THREADS"}
    monkeypatch.setattr(api.server.os, "environ", environment | ({"OMP_NUM_THREADS": preset} if preset else {}))
    api.server.serve_workers(Settings(index=Path("x.qa")), workers)
    assert started["workers"] == workers
    assert api.server.os.environ["OMP_NUM_THREADS"] == expected
