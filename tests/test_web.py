"""Web sites as a source, against a real HTTP server on 127.0.0.1 (tests/web_site.py): a crawl
gives the documents and passages `qa index` gives of the same files; re-runs are conditional and
incremental; bad input is skipped with a reason and never replaces a good document."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from qa.collection import Collection
from qa.errors import NoDocuments
from qa.ingest.indexing import IndexOptions, index_paths
from qa.ingest.web.crawler import CrawlSettings
from qa.ingest.web.urls import fold, in_scope, scope_of
from qa.search.filters import Filters
from qa.search.links import page_link, text_fragment
from qa.store import Snapshot
from tests.conftest import PROJECT_ROOT
from tests.fakes import FakeEncoder
from tests.test_store import fake_env, fake_qa
from tests.web_site import Site, content, redirect, reset, slow, status

SQLITE_DOCS = PROJECT_ROOT / "benchmarks" / "sets" / "sqlite-docs" / "corpus"
FAST = CrawlSettings(delay=0, timeout=5)


def passages_by_source(index_dir: Path, prefix: str = "") -> dict[str, tuple[str, list[str]]]:
    """Each document's (title, passage texts), by its source with `prefix` taken off (a site's
    base URL, so a page and its file compare under one name)."""
    snapshot = Snapshot.open(index_dir, {})
    documents = {d.doc_id: d for d in snapshot.documents()}
    found: dict[str, tuple[str, list[str]]] = {d.source.removeprefix(prefix): (d.title, []) for d in documents.values()}
    for _, doc_id, text in snapshot.passage_texts():
        found[documents[doc_id].source.removeprefix(prefix)][1].append(text)
    return {source: (title, sorted(texts)) for source, (title, texts) in found.items()}


def page(title: str, body: str, links: list[str] = ()) -> str:
    anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p><ul>{anchors}</ul></body></html>"
    )


def small_site(folder: Path, count: int = 10) -> list[str]:
    """index.html linking to page0.html … pageN.html, each a paragraph of its own."""
    folder.mkdir()
    names = [f"page{number}.html" for number in range(count)]
    for number, name in enumerate(names):
        (folder / name).write_text(page(f"Page {number}", f"Harbour note {number}: the ferry number {number} sails."))
    (folder / "index.html").write_text(page("Home", "The harbour guide.", names))
    return names


@pytest.fixture(scope="module")
def sqlite_docs_index(tmp_path_factory) -> Path:
    """`qa index` of the SQLite documentation files: what the crawls are compared with."""
    index_dir = tmp_path_factory.mktemp("sqlite") / "files.qa"
    index_paths([SQLITE_DOCS], index_dir, encoder=FakeEncoder())
    return index_dir


@pytest.mark.slow  # a real corpus of 466 pages, crawled and indexed: ~1 min
def test_crawling_the_sqlite_docs_gives_what_qa_index_gives_and_a_rerun_downloads_nothing(
    tmp_path, sqlite_docs_index
) -> None:
    files = passages_by_source(sqlite_docs_index)
    index_dir = tmp_path / "web.qa"
    with Site(SQLITE_DOCS) as site:
        encoder = FakeEncoder()
        started = time.perf_counter()
        report, crawl = Collection(index_dir, encoder=encoder).add_site(site.url("index.html"), IndexOptions(), FAST)
        seconds = time.perf_counter() - started
        pages = passages_by_source(index_dir, site.base + "/")
        assert len(pages) >= 300 and report.added == len(pages) and not report.skipped
        for source, (title, texts) in pages.items():
            assert files[source] == (title, texts), source
        sent = site.pages_sent
        rerun_encoder = FakeEncoder()
        started = time.perf_counter()
        again, recrawl = Collection(index_dir, encoder=rerun_encoder).add_site(site.url("index.html"), settings=FAST)
        rerun_seconds = time.perf_counter() - started
        assert site.pages_sent == sent  # 0 page bodies downloaded: every page answered 304
        assert recrawl.downloaded == 0 and recrawl.not_modified == len(pages)
        assert rerun_encoder.encoded == 0 and again.unchanged == len(pages) and again.removed == 0
    print(
        f"\ncrawl of {len(pages)} SQLite documentation pages (links from index.html): {seconds:.1f} s with indexing, "
        f"{len(pages) / crawl.seconds:.0f} pages/s fetched ({crawl.seconds:.1f} s); "
        f"re-run with nothing changed: {rerun_seconds:.1f} s, {recrawl.downloaded} bodies, {rerun_encoder.encoded} "
        "texts embedded"
    )


@pytest.mark.slow
def test_a_sitemap_crawl_gives_the_same_documents_passages_and_answers_as_qa_index(tmp_path, sqlite_docs_index) -> None:
    site_folder = tmp_path / "site"
    site_folder.symlink_to(SQLITE_DOCS)
    files = sorted(p.relative_to(SQLITE_DOCS).as_posix() for p in SQLITE_DOCS.rglob("*.html"))
    index_dir = tmp_path / "web.qa"
    with Site(site_folder) as site:
        locations = "".join(f"<url><loc>{site.url(name)}</loc></url>" for name in files)
        urlset = (
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locations}</urlset>'
        )
        site.behaviours["/pages.xml"] = content(urlset.encode(), "application/xml")
        index = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{site.url('pages.xml')}</loc></sitemap></sitemapindex>"
        )
        site.behaviours["/sitemap.xml"] = content(index.encode(), "application/xml")
        report, crawl = Collection(index_dir, encoder=FakeEncoder()).add_site(site.url("sitemap.xml"), settings=FAST)
        pages = passages_by_source(index_dir, site.base + "/")
        assert pages == passages_by_source(sqlite_docs_index)
        assert crawl.complete and report.added == len(files) == 466
        web = Collection.open(index_dir, encoder=FakeEncoder())
        local = Collection.open(sqlite_docs_index, encoder=FakeEncoder())
        for question in ["How do I create an index?", "What is WAL mode?", "How are BLOBs bound to parameters?"]:
            from_web = [(p.citation.source.removeprefix(site.base + "/"), p.text) for p in web.ask(question).passages]
            from_files = [(p.citation.source, p.text) for p in local.ask(question).passages]
            assert from_web == from_files, question


def test_a_rerun_updates_the_3_changed_removes_the_2_gone_and_keeps_the_1_failing(tmp_path) -> None:
    folder = tmp_path / "site"
    names = small_site(folder)
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        first, _ = Collection(index_dir, encoder=FakeEncoder()).add_site(site.url("index.html"), settings=FAST)
        assert first.added == 11
        for name in names[:3]:
            (folder / name).write_text(page(name, f"Changed words about {name}: the pier is closed."))
        for name in names[3:5]:
            (folder / name).unlink()
        site.behaviours["/page5.html"] = status(503)
        encoder = FakeEncoder()
        report, crawl = Collection(index_dir, encoder=encoder).add_site(site.url("index.html"), settings=FAST)
    assert (report.updated, report.removed, len(report.kept), report.added) == (3, 2, 1, 0)
    assert sorted(report.removed_sources) == [site.url("page3.html"), site.url("page4.html")]
    assert report.kept[0].path == site.url("page5.html") and "503" in report.kept[0].reason
    assert crawl.not_modified == 5 and crawl.downloaded == 3  # index.html and the 4 untouched pages; the 3 changed
    texts = passages_by_source(index_dir, site.base + "/")
    assert "page5.html" in texts and "Harbour note 5" in " ".join(texts["page5.html"][1])
    assert "pier is closed" in " ".join(texts["page0.html"][1])


def test_bad_input_is_skipped_with_a_reason_and_never_replaces_a_good_document(tmp_path) -> None:
    folder = tmp_path / "site"
    names = small_site(folder)
    index_dir = tmp_path / "web.qa"
    settings = CrawlSettings(delay=0, timeout=1, max_page_bytes=4000)
    with Site(folder) as site:
        Collection(index_dir, encoder=FakeEncoder()).add_site(site.url("index.html"), settings=settings)
        before = passages_by_source(index_dir, site.base + "/")
        bad = {
            "page0.html": redirect("/page0.html"),  # a redirect loop
            "page1.html": redirect("http://localhost:9/elsewhere.html"),  # to another host
            "page2.html": content(b"<p>" + b"big " * 2000 + b"</p>", "text/html"),  # over the size limit
            "page3.html": content(b"\x89PNG\r\n", "image/png"),  # no reader takes it
            "page4.html": slow(3),  # times out
            "page5.html": reset,  # connection reset
            "page6.html": content(b"<html><body><script>x()</script></body></html>", "text/html"),  # no text
            "page7.html": status(500),
        }
        for name, behaviour in bad.items():
            site.behaviours[f"/{name}"] = behaviour
        (folder / "robots.txt").write_text("User-agent: *\nDisallow: /page8.html\n")
        encoder = FakeEncoder()
        report, crawl = Collection(index_dir, encoder=encoder).add_site(site.url("index.html"), settings=settings)
    after = passages_by_source(index_dir, site.base + "/")
    assert after == before  # every good document is still there, as it was
    assert report.removed == 0 and report.added == 0
    reasons = {Path(item.path).name: item.reason for item in [*report.kept, *report.skipped]}
    expected = {
        "page0.html": "redirect loop",
        "page1.html": "another host",
        "page2.html": "over the limit",
        "page3.html": "image/png",
        "page4.html": "timed out",
        "page5.html": "connection reset",
        "page6.html": "no text",
        "page7.html": "HTTP 500",
        "page8.html": "robots.txt",
    }
    for name, words in expected.items():
        assert words in reasons.get(name, ""), (name, reasons.get(name))
    assert names[9] not in reasons


def test_a_first_crawl_skips_bad_pages_with_reasons_and_indexes_the_rest(tmp_path) -> None:
    folder = tmp_path / "site"
    small_site(folder, 4)
    (folder / "robots.txt").write_text("User-agent: *\nDisallow: /page3.html\n")
    with Site(folder) as site:
        site.behaviours["/page0.html"] = status(404)
        site.behaviours["/page1.html"] = content(b"%PDF-not really", "application/zip")
        report, _ = Collection(tmp_path / "web.qa", encoder=FakeEncoder()).add_site(site.url(""), settings=FAST)
        assert sorted(passages_by_source(tmp_path / "web.qa", site.base + "/")) == [
            "",
            "page2.html",
        ]  # "": the root page
    reasons = {Path(item.path).name: item.reason for item in report.skipped}
    assert "application/zip" in reasons["page1.html"] and "robots.txt" in reasons["page3.html"]


def test_malformed_and_huge_sitemaps_are_skipped_and_nothing_is_removed(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "site"
    small_site(folder, 3)
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        Collection(index_dir, encoder=FakeEncoder()).add_site(site.url("index.html"), settings=FAST)
        site.behaviours["/sitemap.xml"] = content(b'<?xml version="1.0"?><urlset><url><loc>oops', "application/xml")
        report, crawl = Collection(index_dir, encoder=FakeEncoder()).add_site(site.url("sitemap.xml"), settings=FAST)
        assert report.removed == 0 and "malformed XML" in report.skipped[0].reason
        import qa.ingest.web.sitemaps as sitemaps

        monkeypatch.setattr(sitemaps, "MAX_SITEMAP_BYTES", 100)
        listed = "".join(f"<url><loc>{site.url(f'page{n}.html')}</loc></url>" for n in range(3))
        site.behaviours["/sitemap.xml"] = content(f"<urlset>{listed}</urlset>".encode(), "application/xml")
        report, crawl = Collection(index_dir, encoder=FakeEncoder()).add_site(site.url("sitemap.xml"), settings=FAST)
        assert report.removed == 0 and "over 100 bytes" in report.skipped[0].reason
    assert len(passages_by_source(index_dir)) == 4


def test_duplicate_urls_and_canonical_links_fold_into_one_document(tmp_path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "guide").mkdir()
    (folder / "guide" / "index.html").write_text(page("Guide", "The guide to the harbour.", ["../a.html"]))
    (folder / "a.html").write_text(page("A", "Alpha page about ropes."))
    (folder / "print.html").write_text(
        page("A", "Alpha page about ropes.").replace("<head>", '<head><link rel="canonical" href="/a.html">')
    )
    links = ["a.html", "a.html#part", "a.html?utm_source=x", "./a.html", "guide/", "guide", "print.html", "A.HTML"]
    (folder / "index.html").write_text(page("Home", "Start here.", links))
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        report, crawl = Collection(index_dir, encoder=FakeEncoder()).add_site(site.url(""), settings=FAST)
        sources = sorted(passages_by_source(index_dir, site.base + "/"))
    assert sources == ["", "a.html", "guide"], sources  # "" is the site's root page
    assert site.bodies["/a.html"] == 1 and site.requests["/A.HTML"] == 1  # another spelling is another path


def test_url_folding_and_scope() -> None:
    assert fold("HTTP://Example.COM:80/a/./b/../c/?utm_source=x&b=2&a=1#top") == "http://example.com/a/c?a=1&b=2"
    assert fold("/x/", "https://h.org/docs/page.html") == "https://h.org/x"
    assert fold("mailto:someone@example.com") is None and fold("javascript:void(0)") is None
    assert scope_of("https://h.org/docs/guide.html") == "https://h.org/docs/"
    assert scope_of("https://h.org/docs/guide") == "https://h.org/docs/guide/"
    assert in_scope("https://h.org/docs/a", "https://h.org/docs/") and not in_scope(
        "https://h.org/doc", "https://h.org/docs/"
    )


def test_a_text_fragment_quotes_the_sentence_with_its_directive_characters_encoded() -> None:
    assert text_fragment("Ferries sail at dawn.") == ":~:text=Ferries%20sail%20at%20dawn."
    assert (
        text_fragment("A well-known, safe pier & harbour")
        == ":~:text=A%20well%2Dknown%2C%20safe%20pier%20%26%20harbour"
    )
    long = "The ferry to Gozo leaves the harbour at dawn and comes back again after dusk every single day."
    assert text_fragment(long) == ":~:text=The%20ferry%20to%20Gozo,dusk%20every%20single%20day."
    assert page_link("https://h.org/a#old", "Ferries sail.") == "https://h.org/a#:~:text=Ferries%20sail."
    assert page_link("notes/a.txt", "Ferries sail.") is None


def test_web_citations_carry_the_page_url_and_filters_take_urls(tmp_path) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "guide").mkdir()
    (folder / "guide" / "ferry.html").write_text(page("Ferry", "The ferry to Gozo leaves at dawn from the pier."))
    (folder / "news.html").write_text(page("News", "The ferry company hired new crew for the summer."))
    (folder / "index.html").write_text(page("Home", "Island travel.", ["guide/ferry.html", "news.html"]))
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        Collection(index_dir, encoder=FakeEncoder()).add_site(site.url(""), settings=FAST)
    collection = Collection.open(index_dir, encoder=FakeEncoder())
    answer = collection.ask("When does the ferry to Gozo leave?")
    citation = answer.passages[0].citation
    assert citation.source == site.url("guide/ferry.html")
    highlighted = answer.passages[0].text[answer.passages[0].highlight.start : answer.passages[0].highlight.end]
    assert citation.url == page_link(citation.source, highlighted) and "#:~:text=" in citation.url
    only_guide = Filters.parse(source=[site.url("guide/")])
    assert {p.citation.source for p in collection.ask("ferry crew", filters=only_guide).passages} == {
        site.url("guide/ferry.html")
    }
    assert [d.source for d in collection.documents(only_guide)] == [site.url("guide/ferry.html")]


def test_qa_index_url_crawls_and_reports_and_a_dead_host_is_a_clear_error(tmp_path) -> None:
    folder = tmp_path / "site"
    small_site(folder, 3)
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        done = subprocess.run(
            [*fake_qa(), "index", site.url(""), "--index", str(index_dir), "--delay", "0", "--max-pages", "3"],
            env={**fake_env(), "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert "added 3," in done.stdout and "3 pages reached" in done.stdout
    dead = subprocess.run(
        [*fake_qa(), "index", "http://127.0.0.1:9/", "--index", str(tmp_path / "dead.qa")],
        env=fake_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dead.returncode == 1 and "Nothing could be indexed" in dead.stderr and "Traceback" not in dead.stderr


def test_the_index_remembers_its_sources_and_qa_index_with_no_paths_refreshes_them(tmp_path) -> None:
    folder = tmp_path / "site"
    small_site(folder, 3)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("The lighthouse keeper logs the tides.")
    index_dir = tmp_path / "both.qa"
    env = {**fake_env(), "COLUMNS": "250"}

    def qa(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*fake_qa(), *args], env=env, capture_output=True, text=True, timeout=120)

    with Site(folder) as site:
        assert qa("index", str(notes), "--index", str(index_dir)).returncode == 0
        done = qa("index", site.url(""), "--index", str(index_dir), "--delay", "0", "--depth", "1")
        assert done.returncode == 0, done.stderr
        (notes / "b.txt").write_text("Gulls nest on the pier in spring.")
        (folder / "page0.html").write_text(page("Page 0", "The timetable changed for winter."))
        (folder / "page2.html").unlink()
        refresh = qa("index", "--index", str(index_dir))
        info = qa("info", "--index", str(index_dir))
    assert refresh.returncode == 0, refresh.stderr
    assert f"folder {notes.resolve()}" in refresh.stdout and f"web {site.url('')}" in refresh.stdout
    assert "added 1, updated 0, removed 0" in refresh.stdout  # b.txt
    assert "added 0, updated 1, removed 1" in refresh.stdout and "removed: " + site.url("page2.html") in refresh.stdout
    assert info.returncode == 0, info.stderr
    assert f"folder {notes.resolve()} · last sync" in info.stdout and f"web {site.url('')} · last sync" in info.stdout
    record = [s for s in Collection(index_dir).sources() if s.kind == "web"][0]
    assert record.settings["depth"] == 1 and record.settings["delay"] == 0


def test_qa_serve_refresh_every_re_syncs_the_web_sources_it_remembers(tmp_path) -> None:
    import httpx

    from tests.server_fixtures import real_server

    folder = tmp_path / "site"
    small_site(folder, 3)
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        Collection(index_dir, encoder=FakeEncoder()).add_site(site.url(""), settings=FAST)
        generation = Snapshot.open(index_dir, {}).manifest.generation
        with real_server(index_dir, tmp_path / "server.log", "--refresh-every", "1s") as (base, _):
            (folder / "page1.html").unlink()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                sources = {d["source"] for d in httpx.get(base + "/documents", timeout=10).json()}
                if site.url("page1.html") not in sources:
                    break
                time.sleep(0.2)
            assert site.url("page1.html") not in sources and site.url("page2.html") in sources
    assert Snapshot.open(index_dir, {}).manifest.generation > generation
    assert "refreshed " + site.url("") in (tmp_path / "server.log").read_text()


def test_durations_for_refresh_every() -> None:
    from api.settings import parse_every
    from qa.errors import InvalidSettings

    assert [parse_every(t) for t in ("90", "90s", "15m", "1h", "1d", "off")] == [90, 90, 900, 3600, 86400, None]
    with pytest.raises(InvalidSettings):
        parse_every("soon")


def test_a_site_whose_certificate_does_not_verify_is_skipped_with_a_tls_reason(tmp_path) -> None:
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    folder = tmp_path / "site"
    small_site(folder, 2)
    with Site(folder, (cert, key)) as site:
        with pytest.raises(NoDocuments) as refused:
            Collection(tmp_path / "web.qa", encoder=FakeEncoder()).add_site(site.url(""), settings=FAST)
    assert "TLS error" in str(refused.value) or "CERTIFICATE" in str(refused.value).upper()
    assert not (tmp_path / "web.qa").exists()


def test_a_page_that_asks_not_to_be_indexed_is_skipped_and_its_links_followed_unless_nofollow(tmp_path) -> None:
    """A robots meta tag or an X-Robots-Tag header saying noindex keeps a page out, with the reason,
    and removes it on a later crawl once it says so; nofollow stops its links; a directive for
    another crawler by name is not ours."""
    from tests.web_site import send

    folder = tmp_path / "site"
    folder.mkdir()
    meta = '<meta name="robots" content="{}">'
    (folder / "a.html").write_text(page("A", "Alpha page about ropes."))
    (folder / "print.html").write_text(
        page("All", "Every page on one.", ["c.html"]).replace("<head>", "<head>" + meta.format("noindex"))
    )
    (folder / "stub.html").write_text(
        page("Stub", "Moved.", ["e.html"]).replace("<head>", "<head>" + meta.format("NoIndex, NoFollow"))
    )
    (folder / "g.html").write_text(
        page("G", "Gamma page about sails.").replace("<head>", '<head><meta name="googlebot" content="noindex">')
    )
    (folder / "c.html").write_text(page("C", "Charlie page about knots."))
    (folder / "e.html").write_text(page("E", "Echo page about anchors."))
    (folder / "index.html").write_text(
        page("Home", "Start here.", ["a.html", "print.html", "stub.html", "g.html", "h.html"])
    )
    index_dir = tmp_path / "web.qa"
    with Site(folder) as site:
        site.behaviours["/h.html"] = lambda handler: send(
            handler, 200, page("H", "Hotel page.").encode(), {"Content-Type": "text/html", "X-Robots-Tag": "noindex"}
        )
        report, _ = Collection(index_dir, encoder=FakeEncoder()).add_site(site.url(""), settings=FAST)
        assert sorted(passages_by_source(index_dir, site.base + "/")) == ["", "a.html", "c.html", "g.html"]
        reasons = {item.path.removeprefix(site.base + "/"): item.reason for item in report.skipped}
        assert set(reasons) == {"print.html", "stub.html", "h.html"}
        assert all("asks not to be indexed" in reason for reason in reasons.values())
        assert site.requests["/e.html"] == 0  # behind a nofollow

        (folder / "a.html").write_text(
            page("A", "Alpha page about ropes.").replace("<head>", "<head>" + meta.format("none"))
        )
        again, _ = Collection(index_dir, encoder=FakeEncoder()).add_site(site.url(""), settings=FAST)
        assert again.removed == 1
        assert sorted(passages_by_source(index_dir, site.base + "/")) == ["", "c.html", "g.html"]
