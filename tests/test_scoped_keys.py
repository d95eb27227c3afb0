"""Keys limited to part of the corpus: a read key made with filters (`qa keys create --in …`) never
sees a passage, a document or a listing entry outside them, whatever filters the request sends, in
/ask, /documents, /documents/{id} and /feedback; through the app and through a real `qa serve`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from qa.collection import Collection
from qa.ingest.indexing import index_paths
from qa.search.filters import Filters
from qa.server.feedback import FeedbackStore
from qa.server.keys import KeyStore

# Every private document says "secret", and each shares words with a public one.
CORPUS = {
    "public/ferry.txt": "The ferry to Gozo leaves Cirkewwa every forty-five minutes in summer.",
    "public/harbour.md": "---\ntags: [harbour]\n---\nThe harbour of Valletta shelters the ferry fleet in winter. "
    "Its colors are blue.",
    "private/budget.txt": "The ferry budget for Gozo is secret: forty-five million euros in summer. New colours too.",
    "private/crew.md": "---\ntags: [harbour]\n---\nThe ferry crew of the harbour earn a secret bonus in winter.",
    "private/minutes.txt": "Minutes: the ferry to Gozo will stop leaving Cirkewwa in winter; keep this secret.",
    # a private copy of a public page: an answer cites it under the public passage (`also`) only
    # for a key that may read it
    "private/ferry-copy.txt": "The ferry to Gozo leaves Cirkewwa every forty-five minutes in summer.",
}
QUESTIONS = [
    "When does the ferry leave for Gozo?",
    "What is secret?",
    "Who earns a bonus in winter?",
    "How much is the ferry budget?",
    "harbour ferry winter summer Gozo Cirkewwa",
]
# What a request may send to reach past its key's scope.
REQUEST_FILTERS = [
    None,
    {"source": ["private/"]},
    {"source": ["*"]},
    {"source": ["/"]},
    {"source": ["private/*", "public/*", "*secret*"]},
    {"doc_id": ["private__budget", "private__crew", "private__minutes", "public__ferry"]},
    {"type": ["txt", "md"]},
    {"tag": ["harbour"]},
]
SCOPES = {
    "folder": (Filters(source=["public/"]), {"public/ferry.txt", "public/harbour.md"}),
    "tag": (Filters(tag=["harbour"]), {"public/harbour.md", "private/crew.md"}),
    "glob and type": (
        Filters(source=["*/*.txt"], type=["txt"]),
        {"public/ferry.txt", "private/budget.txt", "private/minutes.txt", "private/ferry-copy.txt"},
    ),
}


def build_index(folder: Path, encoder) -> Path:
    corpus = folder / "corpus"
    for source, text in CORPUS.items():
        (corpus / source).parent.mkdir(parents=True, exist_ok=True)
        (corpus / source).write_text(text)
    index_dir = folder / "scoped.qa"
    index_paths([corpus], index_dir, encoder=encoder)
    return index_dir


class Scoped:
    """An app over the corpus, a key for each scope, and an unscoped read key."""

    def __init__(self, folder: Path, encoder, require_key: bool) -> None:
        self.index_dir = build_index(folder, encoder)
        store = KeyStore.for_index(self.index_dir)
        self.keys = {name: store.create("read", name, filters)[1] for name, (filters, _) in SCOPES.items()}
        self.whole = store.create("read", "whole")[1]
        app = create_app(
            Settings(index=self.index_dir, require_key=require_key), Collection.open(self.index_dir, encoder=encoder)
        )
        self.client = TestClient(app, base_url="http://localhost")

    def get(self, path: str, key: str | None):
        return self.client.get(path, headers={"Authorization": f"Bearer {key}"} if key else {})

    def post(self, path: str, key: str | None, body: dict):
        return self.client.post(path, json=body, headers={"Authorization": f"Bearer {key}"} if key else {})


@pytest.fixture(params=[True, False], ids=["require-key", "open"])
def scoped(request, tmp_path, fake_encoder) -> Iterator[Scoped]:
    server = Scoped(tmp_path, fake_encoder, require_key=request.param)
    with server.client:
        yield server


def sources_of(answer: dict) -> set[str]:
    """Every place an answer cites: each passage's, and the other places holding its words."""
    return {place["source"] for passage in answer["passages"] for place in (passage["citation"], *passage["also"])}


@pytest.mark.parametrize("scope", list(SCOPES))
def test_a_scoped_key_never_gets_a_passage_outside_its_scope(scoped: Scoped, scope: str) -> None:
    allowed = SCOPES[scope][1]
    seen, seen_whole = set(), set()
    for question in QUESTIONS:
        for filters in REQUEST_FILTERS:
            body = {"question": question, "top_k": 50, **({"filters": filters} if filters else {})}
            answer = scoped.post("/ask", scoped.keys[scope], body)
            assert answer.status_code == 200, answer.text
            assert sources_of(answer.json()) <= allowed, (question, filters)
            if scope == "folder":
                assert "secret" not in str(answer.json()["passages"])
            seen |= sources_of(answer.json())
            seen_whole |= sources_of(scoped.post("/ask", scoped.whole, body).json())
    assert seen == allowed  # the scope lets its own documents through
    assert seen_whole == set(CORPUS)  # the same questions reach every document without a scope


def test_the_words_a_scoped_key_is_told_are_missing_are_those_of_its_own_documents(
    scoped: Scoped, fake_encoder
) -> None:
    """ "Not in any document" must not become an oracle for what the documents outside a scope say:
    "secret", "bonus" and "budget" are only in private documents."""
    body = {"question": "Is the ferry budget secret, or a bonus?"}
    public = scoped.post("/ask", scoped.keys["folder"], body).json()
    assert public["missing_words"] == ["budget", "secret", "bonus"]
    assert scoped.post("/ask", scoped.whole, body).json()["missing_words"] == []
    # a request's own filters narrow it the same way
    narrowed = scoped.post("/ask", scoped.whole, {**body, "filters": {"source": ["private/crew.md"]}}).json()
    assert narrowed["missing_words"] == ["budget"]
    # and the confidence reads the same words as unknown: `answered` tells no more than the list
    collection = Collection.open(scoped.index_dir, encoder=fake_encoder)
    assert collection.rank(body["question"], 5).confidence.known == 1.0
    assert collection.rank(body["question"], 5, filters=SCOPES["folder"][0]).confidence.known < 0.5
    # nor does a name, written as one, nor its typo: "Budgett" is an edit from the private "budget"
    folder = SCOPES["folder"][0]
    for asked in ("Is the Gozo ferry on the Budgett?", "Is the Gozo ferry on the Budget?"):
        assert collection.rank(asked, 5).confidence.names == 0
        assert collection.rank(asked, 5, filters=folder).confidence.names == 1
    assert collection.rank("Is the Gozo ferry on the Zanzibar?", 5, filters=folder).confidence.names == 1


def test_a_word_is_looked_for_in_its_other_spelling_only_in_the_scopes_documents(scoped: Scoped) -> None:
    """A public page says "colors", a private one "colours". Asked "colour", the whole index holds
    the word as asked; a key scoped to the public pages does not, and gets the public page's
    spelling searched, as if the private page did not exist, and learns nothing of it."""
    body = {"question": "What colour are the ferries?"}
    whole = scoped.post("/ask", scoped.whole, body).json()
    assert whole["missing_words"] == [] and whole["passages"][0]["citation"]["source"] == "private/budget.txt"
    public = scoped.post("/ask", scoped.keys["folder"], body).json()
    assert public["missing_words"] == [] and public["passages"][0]["citation"]["source"] == "public/harbour.md"


def test_a_copy_outside_the_scope_is_not_cited_as_another_place(scoped: Scoped) -> None:
    """The public ferry page and its private copy: one passage citing both for a key that reads
    everything, and the public page alone, with no `also`, for a key limited to public/."""
    body = {"question": "When does the ferry leave for Gozo?"}
    copies = {"public/ferry.txt", "private/ferry-copy.txt"}
    whole = scoped.post("/ask", scoped.whole, body).json()
    (ferry,) = [p for p in whole["passages"] if p["citation"]["source"] in copies]
    assert {ferry["citation"]["source"], *(place["source"] for place in ferry["also"])} == copies
    public = scoped.post("/ask", scoped.keys["folder"], body).json()
    (ferry,) = [p for p in public["passages"] if p["citation"]["source"] in copies]
    assert ferry["citation"]["source"] == "public/ferry.txt" and ferry["also"] == []


@pytest.mark.parametrize("scope", list(SCOPES))
def test_a_scoped_key_lists_only_its_documents(scoped: Scoped, scope: str) -> None:
    listed = scoped.get("/documents", scoped.keys[scope])
    assert listed.status_code == 200
    assert {document["source"] for document in listed.json()} == SCOPES[scope][1]
    assert {document["source"] for document in scoped.get("/documents", scoped.whole).json()} == set(CORPUS)


@pytest.mark.parametrize("scope", list(SCOPES))
def test_a_document_outside_the_scope_is_not_found_as_a_missing_one_is(scoped: Scoped, scope: str) -> None:
    documents = scoped.get("/documents", scoped.whole).json()
    missing = scoped.get("/documents/no-such-document", scoped.keys[scope])
    assert missing.status_code == 404
    for document in documents:
        response = scoped.get(f"/documents/{document['doc_id']}", scoped.keys[scope])
        if document["source"] in SCOPES[scope][1]:
            assert response.status_code == 200 and response.json()["text"]
        else:
            assert response.status_code == 404
            assert response.json() == {
                "detail": missing.json()["detail"].replace("'no-such-document'", repr(document["doc_id"]))
            }  # nothing tells "outside your scope" from "not there"
            assert "secret" not in response.text


@pytest.mark.parametrize("scope", list(SCOPES))
def test_a_vote_outside_the_scope_is_not_found_and_not_kept(scoped: Scoped, scope: str) -> None:
    for document in scoped.get("/documents", scoped.whole).json():
        body = {"question": "Which ferry?", "doc_id": document["doc_id"], "start": 0, "end": 5, "vote": "up"}
        response = scoped.post("/feedback", scoped.keys[scope], body)
        inside = document["source"] in SCOPES[scope][1]
        assert response.status_code == (201 if inside else 404), (document, response.text)
    votes = FeedbackStore.for_index(scoped.index_dir).votes()
    assert {vote.source for vote in votes} == SCOPES[scope][1]


def test_reads_without_a_key_are_unscoped_on_an_open_server(tmp_path, fake_encoder) -> None:
    server = Scoped(tmp_path, fake_encoder, require_key=False)
    with server.client:
        assert {document["source"] for document in server.get("/documents", None).json()} == set(CORPUS)
        answer = server.post("/ask", None, {"question": "What is secret?", "top_k": 50}).json()
        assert any(source.startswith("private/") for source in sources_of(answer))
        # A key that fails the check is ignored there, as before: the read is as open as without one.
        assert server.get("/documents", "qa_nope_nope").status_code == 200


def test_a_scoped_key_against_a_real_server(tmp_path, fake_encoder) -> None:
    """`qa keys create --in public/` and `qa serve --require-key`, each a real process: the key
    gets no passage, document or listing entry of private/, whatever filters it sends."""
    from tests.server_fixtures import free_port, wait_for
    from tests.test_store import PIPES, fake_env, fake_qa, run_fake_qa

    index_dir = build_index(tmp_path, fake_encoder)
    created = run_fake_qa("keys", "create", "--scope", "read", "--in", "public/", "--index", str(index_dir))
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    listed = run_fake_qa("keys", "list", "--index", str(index_dir))
    assert "only --in public/" in listed.stdout
    auth = {"Authorization": f"Bearer {key}"}
    port = free_port()
    server = subprocess.Popen(
        [*fake_qa(), "serve", "--index", str(index_dir), "--port", str(port), "--require-key"], env=fake_env(), **PIPES
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", server)
        assert httpx.post(base + "/ask", json={"question": "What is secret?"}).status_code == 401
        seen = set()
        for question in QUESTIONS:
            for filters in REQUEST_FILTERS:
                body = {"question": question, "top_k": 50, **({"filters": filters} if filters else {})}
                answer = httpx.post(base + "/ask", json=body, headers=auth, timeout=30)
                assert answer.status_code == 200, answer.text
                assert "secret" not in str(answer.json()["passages"])
                seen |= sources_of(answer.json())
        assert seen == {"public/ferry.txt", "public/harbour.md"}
        listing = httpx.get(base + "/documents", headers=auth, timeout=30)
        assert {document["source"] for document in listing.json()} == seen
        for doc_id in ("private__budget", "private__crew", "private__minutes"):
            assert httpx.get(f"{base}/documents/{doc_id}", headers=auth, timeout=30).status_code == 404
            vote = {"question": "Which?", "doc_id": doc_id, "start": 0, "end": 5, "vote": "down"}
            assert httpx.post(base + "/feedback", json=vote, headers=auth, timeout=30).status_code == 404
        assert httpx.get(f"{base}/documents/public__ferry", headers=auth, timeout=30).status_code == 200
    finally:
        server.terminate()
        server.communicate(timeout=30)
