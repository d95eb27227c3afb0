"""Every citation one click from its source: `citation.url` of /ask opens the viewer at the quoted
spot; `/documents/{id}/file` serves the file as indexed; on a server that needs keys, the links
are signed for the key that asked."""

from __future__ import annotations

import gzip
import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.citations import link_to_viewer
from api.routes import PAGE_POLICY
from api.settings import Settings
from qa.answers import Answer, AnswerPassage, Citation, Context, Highlight
from qa.collection import Collection
from qa.ingest.indexing import index_paths
from qa.search.filters import Filters
from qa.server.keys import KeyStore
from tests.server_fixtures import LOCAL

SENTENCE = re.compile(r'<mark class="sentence" id="quote" tabindex="-1">(.*?)</mark>', re.S)
PASSAGE = re.compile(r'<mark class="passage">(.*?<mark class="sentence".*?</mark>.*?)</mark>', re.S)
NOTES = {
    "ferry.txt": "Boats and timetables.\n\nThe ferry to Gozo leaves Cirkewwa every forty-five minutes in "
    "summer. In winter it sails every hour. Tickets are bought on the Gozo side only.",
    "boats.txt": "Fishermen in Marsaxlokk paint their luzzu boats blue, yellow and red. The ferry is not a luzzu.",
}


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text)
    two_pages(folder / "guide.pdf")
    return folder


def two_pages(path: Path) -> Path:
    """A PDF whose second page holds the timetable sentence, after a long first page."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for line in range(45):
        pdf.drawString(72, 760 - line * 15, f"Line {line} of the guide tells of harbours, beaches and old towers.")
    pdf.showPage()
    pdf.drawString(72, 720, "The ferry timetable changes in October, when the winter sailings begin.")
    pdf.showPage()
    pdf.save()
    return path


def serve(tmp_path, corpus, encoder, **settings) -> TestClient:
    index_dir = tmp_path / "notes.qa"
    index_paths([corpus], index_dir, encoder=encoder)
    app = create_app(Settings(index=index_dir, **settings), Collection.open(index_dir, encoder=encoder))
    return TestClient(app, base_url=LOCAL)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_citation_url_opens_the_viewer_with_the_sentence_marked_inside_the_passage(tmp_path, corpus, fake_encoder):
    with serve(tmp_path, corpus, fake_encoder) as client:
        answer = client.post("/ask", json={"question": "How often does the ferry to Gozo leave?"}).json()
        assert len(answer["passages"]) >= 2 and answer["generation"] >= 1
        for at, passage in enumerate(answer["passages"]):
            url = passage["citation"]["url"]
            assert url.startswith(f"{LOCAL}/view/{passage['citation']['doc_id']}?")
            page = client.get(path_of(url))
            assert page.status_code == 200 and page.headers["content-security-policy"] == PAGE_POLICY
            sentence = passage["text"][passage["highlight"]["start"] : passage["highlight"]["end"]]
            assert unescape(SENTENCE.search(page.text).group(1)) == sentence
            marked = unescape(re.sub("<[^>]+>", "", PASSAGE.search(page.text).group(1)))
            assert marked == passage["text"]
            assert f"Passage {at + 1} of {len(answer['passages'])}" in page.text
            assert ('rel="prev"' in page.text) == (at > 0)
            assert ('rel="next"' in page.text) == (at + 1 < len(answer["passages"]))


def test_the_other_place_holding_a_passages_words_opens_at_its_own_spot(tmp_path, corpus, fake_encoder):
    """A copy of a page is cited under the passage (`also`), not quoted again, and its link opens the
    viewer on the copy with the same passage and sentence marked."""
    (corpus / "mirror").mkdir()
    (corpus / "mirror" / "ferry.txt").write_text(NOTES["ferry.txt"])
    with serve(tmp_path, corpus, fake_encoder) as client:
        answer = client.post("/ask", json={"question": "How often does the ferry to Gozo leave?"}).json()
        ferry = next(p for p in answer["passages"] if p["citation"]["source"].endswith("ferry.txt"))
        assert [p["text"] for p in answer["passages"]].count(ferry["text"]) == 1
        (also,) = ferry["also"]
        assert {ferry["citation"]["source"], also["source"]} == {"ferry.txt", "mirror/ferry.txt"}
        assert also["url"].startswith(f"{LOCAL}/view/{also['doc_id']}?")
        page = client.get(path_of(also["url"]))
        assert page.status_code == 200
        sentence = ferry["text"][ferry["highlight"]["start"] : ferry["highlight"]["end"]]
        assert unescape(SENTENCE.search(page.text).group(1)) == sentence
        assert unescape(re.sub("<[^>]+>", "", PASSAGE.search(page.text).group(1))) == ferry["text"]


def test_the_file_is_served_as_indexed_and_a_changed_file_is_a_409(tmp_path, corpus, fake_encoder):
    with serve(tmp_path, corpus, fake_encoder) as client:
        served = client.get("/documents/ferry/file")
        assert served.status_code == 200 and served.content == (corpus / "ferry.txt").read_bytes()
        assert served.headers["content-type"] == "text/plain; charset=utf-8"
        assert served.headers["content-disposition"].startswith("inline")
        assert "sandbox" in served.headers["content-security-policy"]
        (corpus / "ferry.txt").write_text(NOTES["ferry.txt"] + " Edited.")
        changed = client.get("/documents/ferry/file")
        assert changed.status_code == 409 and "changed since it was indexed" in changed.json()["detail"]
        (corpus / "boats.txt").unlink()
        assert client.get("/documents/boats/file").status_code == 404
        assert client.get("/documents/no-such/file").status_code == 404


def test_a_compressed_file_is_served_as_it_is_to_save_never_unpacked_by_the_browser(tmp_path, corpus, fake_encoder):
    packed = gzip.compress(b"The ferry timetable is pinned by the harbour office door.")
    (corpus / "harbour.txt.gz").write_bytes(packed)
    with serve(tmp_path, corpus, fake_encoder) as client:
        served = client.get("/documents/harbour/file")
    assert served.status_code == 200
    assert served.content == packed
    assert served.headers["content-type"] == "application/gzip"
    assert served.headers["content-disposition"].startswith("attachment")
    assert "content-encoding" not in served.headers


def test_a_pdf_citation_links_the_file_at_its_page(tmp_path, corpus, fake_encoder):
    with serve(tmp_path, corpus, fake_encoder) as client:
        answer = client.post(
            "/ask", json={"question": "When does the timetable change?", "filters": {"type": ["pdf"]}}
        ).json()
        passage = next(p for p in answer["passages"] if "timetable" in p["text"])
        cited = passage["citation"]["page"]
        assert cited >= 1
        page = client.get(path_of(passage["citation"]["url"])).text
        link = unescape(re.search(r'<a href="([^"]+)"[^>]*>Open the original file', page).group(1))
        assert link.endswith(f"#page={cited}") and f"page {cited}" in page
        served = client.get(link.split("#")[0])
        assert served.content == (corpus / "guide.pdf").read_bytes()
        assert served.headers["content-type"] == "application/pdf"


def test_the_viewer_refuses_spans_that_do_not_nest(tmp_path, corpus, fake_encoder):
    with serve(tmp_path, corpus, fake_encoder) as client:
        assert client.get("/view/ferry?start=10&end=5").status_code == 422
        assert client.get("/view/ferry?start=0&end=10&hs=5&he=20").status_code == 422
        assert client.get("/view/ferry?start=0&end=100000").status_code == 422
        assert client.get("/view/no-such?start=0&end=1").status_code == 404
        assert client.get("/view/ferry?start=0&end=10&of=garbage&at=0").status_code == 422
        whole = client.get("/view/ferry")  # no span: the whole text, marked
        assert whole.status_code == 200 and "Passage 1 of" not in whole.text


def test_on_a_keyed_server_links_are_signed_for_the_key_and_its_scope(tmp_path, corpus, fake_encoder):
    index_dir = tmp_path / "notes.qa"
    keys = KeyStore.for_index(index_dir)
    with serve(tmp_path, corpus, fake_encoder, require_key=True) as client:
        _, read = keys.create("read", "reader")
        scoped_record, scoped = keys.create("read", "boats only", Filters.parse(doc_id=["boats"]))
        asked = client.post(
            "/ask", json={"question": "ferry Gozo luzzu"}, headers={"Authorization": f"Bearer {scoped}"}
        ).json()
        url = asked["passages"][0]["citation"]["url"]
        assert asked["passages"][0]["citation"]["doc_id"] == "boats"
        query = parse_qs(urlsplit(url).query)
        assert query["key"] == [scoped_record.key_id] and query["sig"] and query["exp"]
        assert client.get(path_of(url)).status_code == 200  # no header: the link itself is the proof
        page = client.get(path_of(url)).text
        file_link = unescape(re.search(r'<a href="([^"]+)"[^>]*>Open the original file', page).group(1))
        assert client.get(file_link).content == (corpus / "boats.txt").read_bytes()

        assert client.get("/view/boats?start=0&end=5").status_code == 401  # no key, no signature
        other = path_of(url).replace("/view/boats?", "/view/ferry?")  # the signature is for boats only
        assert client.get(other).status_code == 401
        tampered = re.sub(r"sig=[0-9a-f]+", "sig=" + "0" * 64, path_of(url))
        assert "signature does not match" in client.get(tampered).json()["detail"]
        keys.revoke(scoped_record.key_id)
        assert "no longer active" in client.get(path_of(url)).json()["detail"]
        # a header key still works as for /documents, with its scope
        assert client.get("/documents/ferry/file", headers={"Authorization": f"Bearer {read}"}).status_code == 200


def test_a_url_already_set_is_kept():
    """A web document's citation already links to its page (with a text fragment): that stays."""
    web = "https://example.org/page#:~:text=ferry"
    passages = [
        AnswerPassage(
            rank=1,
            score=1.0,
            text="The ferry.",
            highlight=Highlight(start=0, end=10),
            context=Context(start=0, end=10),
            citation=Citation(doc_id=doc, source="s", title="t", start=5, end=15, url=url),
        )
        for doc, url in (("web", web), ("file", None))
    ]
    answer = link_to_viewer(Answer(question="q", answered=True, took_ms=1, passages=passages), "http://h/")
    assert answer.passages[0].citation.url == web
    assert answer.passages[1].citation.url.startswith("http://h/view/file?start=5&end=15&hs=5&he=15&at=1&of=web")
