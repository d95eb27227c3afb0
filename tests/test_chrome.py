"""Site chrome a page does not mark (a menu in plain `div`s, a "last modified" footer) is found by
its repetition across the folder's pages and left out of passages, never out of the stored text."""

from __future__ import annotations

from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockText
from qa.ingest.chrome import MIN_PAGES, learn_chrome
from qa.ingest.documents import Document
from qa.ingest.indexing import IndexOptions, index_paths
from qa.ingest.limits import ReadLimits
from qa.store.manifest import ChromeRecord, read_manifest
from qa.store.snapshot import Snapshot
from tests.cli_runs import index_then_info
from tests.fakes import FakeEncoder

TOPICS = [
    "vacuum", "indexes", "triggers", "views", "pragmas", "joins", "locking", "journals",
    "backups", "collation", "blobs", "windows",
]  # fmt: skip

NOTICE = "All of the code and documentation on this site has been dedicated to the public domain."


def page(topic: str, day: int, heading: str = "SQL Reference") -> str:
    """A page of a site whose header and footer are plain markup, as sqlite.org's are."""
    return (
        "<html><head><title>" + topic + "</title></head><body>"
        '<div class="menu"><p>Small. Fast. Reliable.</p><p>Choose any three.</p>'
        "<ul><li>Home</li><li>About</li><li>Documentation</li><li>Download</li></ul></div>"
        f"<h1>{heading}</h1><h2>{topic.title()}</h2>"
        f"<p>The {topic} feature of the engine is described on this page in full detail for readers.</p>"
        f"<p>Use {topic} when the application needs it, and read the limits of {topic} first.</p>"
        f"<p>{NOTICE}</p><p>This page last modified on 2022-01-{day:02d} 21:38:08 UTC</p>"
        "</body></html>"
    )


def site(folder: Path, topics: list[str]) -> Path:
    folder.mkdir(exist_ok=True)
    for day, topic in enumerate(topics, start=1):
        (folder / f"{topic}.html").write_text(page(topic, day))
    return folder


def passages(index_dir: Path) -> list[tuple[str, str]]:
    snapshot = Snapshot.open(index_dir)
    return [(doc_id, text) for _, doc_id, text in snapshot.passage_texts()]


def test_a_menu_and_footer_repeated_on_every_page_are_in_no_passage(tmp_path: Path) -> None:
    folder = site(tmp_path / "site", TOPICS)
    index_dir = tmp_path / "site.qa"
    index_paths([folder], index_dir, IndexOptions(), encoder=FakeEncoder())
    found = passages(index_dir)
    assert {doc for doc, _ in found} == set(TOPICS)  # every page still answers
    assert not [text for _, text in found if "Choose any three" in text or "Documentation" in text]
    assert not [text for _, text in found if NOTICE in text]
    assert not [text for _, text in found if "last modified" in text]  # the same line but for its date
    vacuum = [text for doc, text in found if doc == "vacuum"]
    assert vacuum == [
        "SQL Reference\n\nVacuum\n\nThe vacuum feature of the engine is described on this page in full detail for "
        "readers.\n\nUse vacuum when the application needs it, and read the limits of vacuum first."
    ]  # the heading on every page is kept: it names the section below it
    stored = Snapshot.open(index_dir).document("vacuum").text
    assert stored.startswith("Small. Fast. Reliable.") and "last modified on 2022-01-01" in stored  # quotes stay exact


def test_updating_one_page_does_not_bring_its_chrome_back(tmp_path: Path) -> None:
    """The chrome is learnt from the folder, not from the files a run happens to read: a page
    changed later, read alone, is cut as it would be in a first run."""
    folder = site(tmp_path / "site", TOPICS)
    index_dir = tmp_path / "site.qa"
    index_paths([folder], index_dir, IndexOptions(), encoder=FakeEncoder())
    (folder / "joins.html").write_text(page("joins", 30).replace("in full detail", "with examples"))
    report = index_paths([folder], index_dir, IndexOptions(), encoder=FakeEncoder())
    assert (report.updated, report.unchanged) == (1, len(TOPICS) - 1)
    joins = [text for doc, text in passages(index_dir) if doc == "joins"]
    assert len(joins) == 1 and "with examples" in joins[0] and NOTICE not in joins[0]


def test_a_few_documents_sharing_a_paragraph_keep_it(tmp_path: Path) -> None:
    """Below MIN_PAGES pages, a shared paragraph may be content (the terms every letter repeats),
    so nothing is left out."""
    folder = site(tmp_path / "few", TOPICS[: MIN_PAGES - 1])
    index_dir = tmp_path / "few.qa"
    index_paths([folder], index_dir, IndexOptions(), encoder=FakeEncoder())
    assert len([text for _, text in passages(index_dir) if NOTICE in text]) == MIN_PAGES - 1


def test_a_page_that_is_only_chrome_is_still_searchable(tmp_path: Path) -> None:
    folder = site(tmp_path / "site", TOPICS)
    (folder / "search.html").write_text(
        "<body><div><p>Small. Fast. Reliable.</p><p>Choose any three.</p>"
        "<ul><li>Home</li><li>About</li><li>Documentation</li><li>Download</li></ul></div></body>"
    )
    index_dir = tmp_path / "site.qa"
    index_paths([folder], index_dir, IndexOptions(), encoder=FakeEncoder())
    assert [text for doc, text in passages(index_dir) if doc == "search"]


class NotDownloaded:
    """A page a crawl listed but did not fetch again (unchanged since the last crawl)."""

    def __init__(self, url: str) -> None:
        self.identity = url
        self.name = url.rsplit("/", 1)[-1]

    def version(self) -> str:
        return "etag-1"

    def place(self):
        return "https://sqlite.example", self.identity, None

    def read(self, doc_id, version, limits):
        raise UnreadableFile("not downloaded this time")


def test_a_crawl_that_fetched_too_few_pages_uses_the_chrome_it_learnt_before(tmp_path: Path) -> None:
    """A second crawl downloads only the pages that changed: too few to tell chrome apart, so the
    chrome the index learnt from the first crawl (kept in its manifest) is used."""
    items = [NotDownloaded(f"https://sqlite.example/{topic}.html") for topic in TOPICS]
    before = ChromeRecord(sample="the first crawl's", keys=["Choose any three."])
    kept = {"https://sqlite.example": before}
    chrome = learn_chrome(items, ["https://sqlite.example"], ReadLimits(), kept)
    assert chrome == {"https://sqlite.example": frozenset({"Choose any three."})}
    assert kept == {"https://sqlite.example": before}


def test_what_was_learnt_is_kept_in_the_manifest(tmp_path: Path) -> None:
    folder = site(tmp_path / "site", TOPICS)
    index_dir = tmp_path / "site.qa"
    index_paths([folder], index_dir, IndexOptions(), encoder=FakeEncoder())
    kept = read_manifest(index_dir).chrome[str(folder.resolve())].keys
    assert NOTICE in kept and "This page last modified on #-#-# #:#:# UTC" in kept


class CountedPage:
    """A page that counts how often it is read."""

    reads = 0

    def __init__(self, topic: str, version: str = "1", menu: str = "Choose any three.") -> None:
        self.identity, self._version, self.menu = f"/site/{topic}.html", version, menu
        self.name = f"{topic}.html"

    def version(self) -> str:
        return self._version

    def place(self):
        return "/site", self.identity, None

    def read(self, doc_id, version, limits):
        CountedPage.reads += 1
        built = BlockText()
        built.add("paragraph", self.menu)
        built.add("paragraph", f"The page about {self.identity} says what it is for.")
        return Document(doc_id, self.identity, self.identity, built.text, version, blocks=tuple(built.blocks))


def test_the_sample_is_read_again_only_when_one_of_its_pages_changed() -> None:
    """A watcher indexing one changed page at a time does not read fifty others each time."""
    kept: dict[str, ChromeRecord] = {}
    pages = [CountedPage(topic) for topic in TOPICS]
    assert learn_chrome(pages, ["/site"], ReadLimits(), kept) == {"/site": frozenset({"Choose any three."})}
    assert CountedPage.reads == len(TOPICS)
    learn_chrome(pages, ["/site"], ReadLimits(), kept)
    assert CountedPage.reads == len(TOPICS)
    pages[3] = CountedPage(TOPICS[3], version="2")
    assert learn_chrome(pages, ["/site"], ReadLimits(), kept) == {"/site": frozenset({"Choose any three."})}
    assert CountedPage.reads == 2 * len(TOPICS)


def test_qa_info_says_what_was_left_out_as_chrome(tmp_path: Path, fake_model) -> None:
    """A person who cannot find a footer's words in any answer can see why."""
    folder = site(tmp_path / "site", TOPICS)
    unwrapped = index_then_info(folder, tmp_path / "site.qa")
    assert f"chrome{folder.resolve()}:8repeatedblocksinnopassage:" in unwrapped  # menu 6, notice, date line
    assert "“Allofthecodeanddocumentationon…”" in unwrapped  # a long one shortened, at a word


def test_a_ray_actor_leaves_out_the_chrome_it_is_sent_with_each_file(tmp_path: Path) -> None:
    """The Ray build learns the chrome on the driver, as a local run does; each file goes to its
    actor with its folder's chrome, so both builds cut the same passages (the actor's step, run
    here without a cluster; tests/test_distributed.py runs the whole build on one)."""
    import pickle
    from dataclasses import asdict

    import numpy as np

    from qa.ingest.chunking import ChunkingSettings
    from qa.ingest.distributed import EmbedFiles
    from qa.ingest.planning import FileToRead
    from qa.ingest.sources import FileItem

    folder = site(tmp_path / "site", TOPICS)
    chrome = frozenset({NOTICE, "This page last modified on #-#-# #:#:# UTC"})
    file = FileToRead(FileItem(folder, folder / "vacuum.html"), "v1", "vacuum", replaces=False, chrome=chrome)
    actor = EmbedFiles(FakeEncoder, asdict(ChunkingSettings()), ReadLimits())
    out = actor({"doc_id": np.array(["vacuum"], dtype=object), "file": np.array([pickle.dumps(file)], dtype=object)})
    _, passages = pickle.loads(out["payload"][0])
    assert passages and not [p for p in passages if NOTICE in p.text or "last modified" in p.text]


def test_a_watchers_batch_of_changed_pages_keeps_the_chrome_learnt_from_the_whole_folder() -> None:
    """A watcher lists only the files that changed: a batch of them, however many, is not the
    folder, so fewer than half the pages the chrome was learnt from do not replace it."""
    kept: dict[str, ChromeRecord] = {}
    folder = [CountedPage(f"{topic}-{n}") for n in (1, 2) for topic in TOPICS]  # 24 pages
    learn_chrome(folder, ["/site"], ReadLimits(), kept)
    reads = CountedPage.reads
    changed = [CountedPage(topic, version="2", menu="A new menu.") for topic in TOPICS[:11]]
    assert learn_chrome(changed, ["/site"], ReadLimits(), kept) == {"/site": frozenset({"Choose any three."})}
    assert CountedPage.reads == reads  # not even read
    most = [CountedPage(f"{topic}-{n}", version="2", menu="A new menu.") for n in (1, 2) for topic in TOPICS[:6]]
    assert learn_chrome(most, ["/site"], ReadLimits(), kept) == {"/site": frozenset({"A new menu."})}


def test_each_page_is_read_once_though_the_sample_was_read_first(tmp_path: Path, monkeypatch) -> None:
    from collections import Counter

    import qa.ingest.documents as documents

    reads: Counter = Counter()
    parse = documents.parse_file

    def counted(path, limits=documents.DEFAULT_READ_LIMITS):
        reads[path.name] += 1
        return parse(path, limits)

    monkeypatch.setattr(documents, "parse_file", counted)
    folder = site(tmp_path / "site", TOPICS)
    index_paths([folder], tmp_path / "site.qa", IndexOptions(), encoder=FakeEncoder())
    assert reads == Counter({f"{topic}.html": 1 for topic in TOPICS})
    assert not [text for _, text in passages(tmp_path / "site.qa") if NOTICE in text]


SETS = Path(__file__).resolve().parent.parent / "benchmarks" / "sets"


def test_the_chrome_of_two_real_documentation_sites_and_nothing_they_explain() -> None:
    """sqlite.org marks none of its chrome; the BorgBackup manual's Sphinx theme leaves its sidebar
    unmarked. What is found on each is chrome, and no heading or explanation is."""
    from qa.ingest.sources import FolderSource

    found = {}
    for name in ("sqlite-docs", "borg-docs"):
        scan = FolderSource([SETS / name / "corpus"]).scan()
        root = scan.items[0].place()[0]
        found[name] = learn_chrome(scan.items, [root], ReadLimits(), {})[root]
    assert {"Choose any three.", "Small. Fast. Reliable.", "Documentation", "Download"} <= found["sqlite-docs"]
    assert "See also lists of Objects, Constants, and Functions." in found["sqlite-docs"]
    assert "This page last modified on #-#-# #:#:# UTC" in found["sqlite-docs"]
    assert "SQLite C Interface" not in found["sqlite-docs"]  # a heading on half the pages: never chrome
    assert {"Installation", "Quick Start", "Frequently asked questions", "borg prune"} <= found["borg-docs"]
    assert any(key.startswith("© Copyright #-# Jonas Borgström") for key in found["borg-docs"])
    assert all(len(key) < 200 for keys in found.values() for key in keys)  # menus and footers, not prose


def test_reading_the_sample_is_shown_as_progress(tmp_path: Path) -> None:
    """Fifty scanned PDFs take a while to read: the sample is counted like the files after it."""
    from qa.ingest.chrome import SAMPLING

    events = []
    folder = site(tmp_path / "site", TOPICS)
    index_paths([folder], tmp_path / "site.qa", IndexOptions(), encoder=FakeEncoder(), on_progress=events.append)
    sampling = [(event.done, event.total) for event in events if event.task == SAMPLING]
    assert sampling[0] == (0, len(TOPICS)) and sampling[-1] == (len(TOPICS), len(TOPICS))
    assert events.index(next(e for e in events if e.task == SAMPLING)) < events.index(
        next(e for e in events if e.task == "Reading files")
    )
