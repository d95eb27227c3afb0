"""Narrowing a question to some documents: the filter record, its checks, and filtering inside
retrieval (a rare match still comes back first), over indexes built with the fake encoder."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qa.answers import encoded
from qa.collection import Collection
from qa.errors import InvalidFilter
from qa.ingest.documents import Document
from qa.ingest.indexing import IndexOptions, compact_index, index_documents, remove_documents
from qa.search.filters import MAX_ENTRIES, MAX_ENTRY_CHARS, MAX_WILDCARDS, AllFilters, Filters, all_of
from qa.store.segment import DocumentFacts
from tests.fakes import FakeEncoder

QUESTION = "When does the ferry sail from the harbour?"
COMMON = "The ferry sails from the harbour at dawn; the harbour ferry timetable lists every sailing."
RARE = "The council approved the budget for a new harbour wall."


def timestamp(day: str, hour: int = 12) -> float:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC).timestamp()


def facts(source="reports/2011/a.pdf", kind="pdf", modified=None, tags=(), doc_id="a") -> DocumentFacts:
    return DocumentFacts(doc_id, f"/data/{source}", source, kind, modified, tuple(tags))


def document(doc_id: str, source: str, text: str, modified: float | None = None, tags=()) -> Document:
    return Document(
        doc_id=doc_id, source=source, title="", text=text, sha256=doc_id, root="/data", modified=modified, tags=tags
    )


# The filter record


@pytest.mark.parametrize(
    ("entry", "source", "expected"),
    [
        ("reports/2011/", "reports/2011/a.pdf", True),
        ("reports/2011", "reports/2011/a.pdf", True),
        ("reports/2011", "reports/2011-old/a.pdf", False),  # a prefix by whole names
        ("reports/2011/a.pdf", "reports/2011/a.pdf", True),
        ("./reports", "reports/2011/a.pdf", True),
        ("reports/*.pdf", "reports/2011/a.pdf", True),  # `*` crosses folders
        ("*.md", "reports/2011/a.pdf", False),
        ("reports/201[01]/*", "reports/2011/a.pdf", True),
        ("/data/reports", "reports/2011/a.pdf", True),  # an absolute entry: the file's full path
        ("/elsewhere/reports", "reports/2011/a.pdf", False),
    ],
)
def test_a_source_entry_is_a_path_prefix_or_a_glob(entry: str, source: str, expected: bool) -> None:
    assert Filters(source=[entry]).matches(facts(source=source)) is expected


def test_entries_of_one_key_are_ored_and_keys_anded() -> None:
    both = Filters(source=["minutes/", "reports/"], type=["md", "PDF"])
    assert both.matches(facts(source="reports/a.pdf", kind="pdf"))
    assert both.matches(facts(source="minutes/b.md", kind="md"))
    assert not both.matches(facts(source="minutes/b.txt", kind="txt"))
    assert not both.matches(facts(source="other/c.pdf", kind="pdf"))


def test_dates_compare_as_days_inclusive() -> None:
    late_on_the_day = facts(modified=timestamp("2011-03-01", hour=23))
    assert Filters(since="2011-03-01", until="2011-03-01").matches(late_on_the_day)
    assert not Filters(since="2011-03-02").matches(late_on_the_day)
    # As text, "2011-10-05" < "2011-9-30"; as days October comes after September.
    assert Filters(since=datetime(2011, 9, 30).date()).matches(facts(modified=timestamp("2011-10-05")))
    assert not Filters(until="2011-02-28").matches(late_on_the_day)
    assert not Filters(since="2000-01-01").matches(facts(modified=None))  # no date recorded: no match


def test_tags_match_without_regard_to_case() -> None:
    tagged = facts(tags=["Budget", "harbour"])
    assert Filters(tag=["budget"]).matches(tagged)
    assert Filters(tag=["ferry", "HARBOUR"]).matches(tagged)
    assert not Filters(tag=["ferry"]).matches(tagged)
    assert not Filters(tag=["budget"]).matches(facts())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"since": "2011-13-01"}, "since: '2011-13-01' is not a date like 2011-03-01 (YYYY-MM-DD)."),
        ({"until": "03/01/2011"}, "until: '03/01/2011' is not a date like"),
        ({"since": "2011-12-01", "until": "2011-03-01"}, "since (2011-12-01) is after until (2011-03-01)"),
        ({"source": ["reports/", " "]}, "source: An entry is empty."),
    ],
)
def test_invalid_filters_are_one_line_errors(values: dict, message: str) -> None:
    with pytest.raises(InvalidFilter) as raised:
        Filters.parse(**values)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_unknown_keys_are_named() -> None:
    with pytest.raises(ValueError, match="Unknown filter 'colour'; the filters are source, doc_id, type"):
        Filters.model_validate({"colour": ["blue"]})


# Bounds: any read key may send a filter


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"source": ["*a" * 32768]}, f"source: An entry is at most {MAX_ENTRY_CHARS} characters, not 65536."),
        ({"doc_id": [f"d{n}" for n in range(MAX_ENTRIES + 1)]}, f"doc_id: At most {MAX_ENTRIES} entries per filter"),
        ({"tag": ["x" * (MAX_ENTRY_CHARS + 1)]}, f"tag: An entry is at most {MAX_ENTRY_CHARS} characters"),
        ({"source": ["*/" * (MAX_WILDCARDS + 1)]}, f"source: A glob has at most {MAX_WILDCARDS} wildcards (* ? [)"),
        ({"source": ["?" * 5 + "[ab]" * 4]}, f"at most {MAX_WILDCARDS} wildcards (* ? [), not 9"),
    ],
    ids=["long glob", "many entries", "long tag", "many stars", "mixed wildcards"],
)
def test_a_filter_past_its_bounds_is_refused_with_the_bound(values: dict, message: str) -> None:
    with pytest.raises(InvalidFilter) as raised:
        Filters.parse(**values)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_filter_at_its_bounds_is_accepted() -> None:
    glob = ("*" * MAX_WILDCARDS + "x" * MAX_ENTRY_CHARS)[:MAX_ENTRY_CHARS]
    filters = Filters(source=[glob] * MAX_ENTRIES, doc_id=["a" * MAX_ENTRY_CHARS] * MAX_ENTRIES)
    assert len(filters.source) == MAX_ENTRIES
    assert Filters(doc_id=["*" * (MAX_WILDCARDS + 1)]).doc_id  # only source entries are globs


def test_globs_are_compiled_once_outside_fnmatchs_unbounded_cache() -> None:
    """fnmatch keeps up to 32,768 compiled patterns: each request's distinct glob stayed in memory."""
    import fnmatch

    from qa.search import filters as module

    fnmatch._compile_pattern.cache_clear()
    for number in range(module.GLOB_CACHE + 50):
        assert Filters(source=[f"reports/*{number}*.pdf"]).matches(facts(source=f"reports/{number}/x.pdf"))
    assert fnmatch._compile_pattern.cache_info().currsize == 0
    assert module._source_test.cache_info().currsize == module.GLOB_CACHE


# Several filters at once: a scoped key's AND a request's


def test_all_of_ands_whole_filters_where_one_filters_cannot() -> None:
    """Two folders OR-ed in a key, and a glob in the request: no single Filters says both."""
    scope = Filters(source=["public/", "shared/"])
    request = Filters(source=["*.pdf"])
    both = all_of(scope, request)

    assert isinstance(both, AllFilters)
    assert both.matches(facts(source="public/a.pdf"))
    assert both.matches(facts(source="shared/b.pdf"))
    assert not both.matches(facts(source="public/a.md"))  # the request's filter holds
    assert not both.matches(facts(source="private/c.pdf"))  # the scope holds
    assert not all_of(scope, Filters(source=["private/"])).matches(facts(source="private/c.pdf"))


def test_all_of_drops_what_filters_nothing_and_keeps_one_alone() -> None:
    scope = Filters(type=["pdf"])
    assert all_of(None, None) is None
    assert all_of(Filters(), None) is None
    assert all_of(scope, None) is scope and all_of(None, scope) is scope
    assert all_of(scope, Filters()) is scope
    assert all_of(scope, scope) is scope
    nested = all_of(all_of(scope, Filters(tag=["a"])), Filters(tag=["b"]))
    assert isinstance(nested, AllFilters) and len(nested.parts) == 3
    assert hash(nested) == hash(all_of(all_of(scope, Filters(tag=["a"])), Filters(tag=["b"])))  # cacheable
    assert all_of(Filters(), Filters()) is None


# Filtering inside retrieval


@pytest.fixture(scope="module")
def rare_index(tmp_path_factory) -> Path:
    """10,000 one-passage documents: 9,999 about the ferry timetable, 2,500 of them under busy/,
    and one about the harbour budget, the only one under reports/2011/, tagged and dated."""
    documents = [
        document(
            f"d{number:05d}",
            f"{'busy' if number < 2500 else 'notes'}/{number:05d}.txt",
            f"{COMMON} Note {number}.",
            modified=timestamp("2010-06-01"),
        )
        for number in range(9999)
    ]
    documents.append(
        document("rare", "reports/2011/budget.md", RARE, modified=timestamp("2011-03-15"), tags=("budget",))
    )
    index_dir = tmp_path_factory.mktemp("rare") / "rare.qa"
    index_documents(documents, index_dir, encoder=FakeEncoder())
    return index_dir


@pytest.fixture(scope="module")
def rare(rare_index: Path) -> Collection:
    return Collection.open(rare_index, encoder=FakeEncoder())


@pytest.mark.parametrize(
    "filters",
    [
        Filters(source=["reports/2011/"]),
        Filters(doc_id=["rare"]),
        Filters(type=["md"]),
        Filters(tag=["budget"]),
        Filters(since="2011-03-01", until="2011-03-31"),
        Filters(source=["*.md"], since="2011-01-01"),
    ],
    ids=["source", "doc_id", "type", "tag", "dates", "glob+since"],
)
def test_one_matching_passage_in_ten_thousand_comes_back_first(rare: Collection, filters: Filters) -> None:
    unfiltered = rare.ask(QUESTION, top_k=50)
    assert "rare" not in [
        passage.citation.doc_id for passage in unfiltered.passages
    ]  # after-the-fact filtering would find nothing

    answer = rare.ask(QUESTION, top_k=5, filters=filters)
    assert [passage.citation.doc_id for passage in answer.passages] == ["rare"]
    assert answer.passages[0].rank == 1
    assert answer.passages[0].text == RARE


def test_a_filter_matching_many_fills_top_k_from_matching_passages_only(rare: Collection) -> None:
    answer = rare.ask(QUESTION, top_k=20, filters=Filters(source=["busy/"]))
    assert len(answer.passages) == 20
    assert all(passage.citation.source.startswith("busy/") for passage in answer.passages)


def test_each_retrieval_mode_filters(rare: Collection) -> None:
    for mode in ("dense", "bm25", "hybrid"):
        ranking = rare.rank(QUESTION, 10, mode=mode, filters=Filters(source=["busy/"]))
        assert len(ranking.hits) == 10
        rows = rare.snapshot().passages([hit.passage_id for hit in ranking.hits])
        assert all(row.source.startswith("busy/") for row in rows.values())


def test_a_filter_matching_nothing_returns_no_passages(rare: Collection) -> None:
    answer = rare.ask(QUESTION, filters=Filters(source=["nowhere/"]))
    assert answer.passages == [] and not answer.answered


def test_a_scope_and_a_request_filter_both_hold_inside_retrieval(rare: Collection) -> None:
    """The request asks for the rare document; a scope of busy/ keeps it out, and the other way round."""
    scope = Filters(source=["busy/"])
    assert rare.ask(QUESTION, filters=all_of(scope, Filters(doc_id=["rare"]))).passages == []
    assert rare.ask(QUESTION, filters=all_of(scope, Filters(source=["reports/"]))).passages == []
    some = rare.ask(QUESTION, top_k=10, filters=all_of(scope, Filters(source=["busy/00*"])))
    assert len(some.passages) == 10
    assert all(passage.citation.source.startswith("busy/00") for passage in some.passages)
    assert [p.citation.doc_id for p in rare.ask(QUESTION, filters=all_of(Filters(tag=["budget"]))).passages] == ["rare"]


def test_removed_documents_stay_out_of_filtered_answers(tmp_path: Path) -> None:
    index_dir = tmp_path / "small.qa"
    index_documents(
        [document("keep", "a/keep.txt", COMMON), document("gone", "a/gone.txt", COMMON + " Gone.")],
        index_dir,
        encoder=FakeEncoder(),
    )
    remove_documents(["gone"], index_dir)
    collection = Collection.open(index_dir, encoder=FakeEncoder())
    answer = collection.ask(QUESTION, filters=Filters(source=["a/"]))
    assert [passage.citation.doc_id for passage in answer.passages] == ["keep"]
    assert collection.ask(QUESTION, filters=Filters(doc_id=["gone"])).passages == []


def test_segments_written_before_tags_still_open_and_filter(tmp_path: Path) -> None:
    """An index written before the tags column: no document has tags, every other filter works,
    and merging its segments keeps working."""
    index_dir = tmp_path / "old.qa"
    index_documents(
        [document("a", "x/a.md", COMMON, tags=("ferry",)), document("b", "y/b.md", COMMON + " Bee.")],
        index_dir,
        encoder=FakeEncoder(),
    )
    for database in index_dir.glob("segments/*/passages.sqlite"):
        with sqlite3.connect(database) as db:
            db.execute("ALTER TABLE documents DROP COLUMN tags")
    collection = Collection.open(index_dir, encoder=FakeEncoder())
    assert collection.ask(QUESTION, filters=Filters(tag=["ferry"])).passages == []
    assert [p.citation.doc_id for p in collection.ask(QUESTION, filters=Filters(source=["y/"])).passages] == ["b"]
    compact_index(index_dir)
    again = Collection.open(index_dir, encoder=FakeEncoder())
    assert [p.citation.doc_id for p in again.ask(QUESTION, filters=Filters(source=["x/"])).passages] == ["a"]


def test_tags_survive_a_merge(tmp_path: Path) -> None:
    index_dir = tmp_path / "merged.qa"
    index_documents([document("a", "a.md", COMMON, tags=("ferry",))], index_dir, encoder=FakeEncoder())
    index_documents([document("b", "b.md", COMMON + " Bee.")], index_dir, IndexOptions(), encoder=FakeEncoder())
    compact_index(index_dir)
    collection = Collection.open(index_dir, encoder=FakeEncoder())
    assert [p.citation.doc_id for p in collection.ask(QUESTION, filters=Filters(tag=["ferry"])).passages] == ["a"]


def test_front_matter_tags_are_indexed_from_markdown_files(tmp_path: Path) -> None:
    from qa.ingest.indexing import index_paths

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "budget.md").write_text(f"---\ntitle: Harbour budget\ntags: [budget, harbour]\n---\n{RARE}\n")
    (folder / "ferry.md").write_text(f"---\ntags: timetable\n---\n# Ferries\n\n{COMMON}\n")
    index_paths([folder], tmp_path / "notes.qa", encoder=FakeEncoder())
    collection = Collection.open(tmp_path / "notes.qa", encoder=FakeEncoder())
    listed = {document.source: document for document in collection.documents()}
    assert listed["budget.md"].tags == ["budget", "harbour"] and listed["budget.md"].type == "md"
    assert listed["budget.md"].modified is not None  # what the filters match, for clients to offer
    answer = collection.ask(QUESTION, filters=Filters(tag=["Budget"]))
    assert [p.citation.source for p in answer.passages] == ["budget.md"]
    assert answer.passages[0].citation.title == "Harbour budget"
    assert "tags:" not in answer.passages[0].text  # the front matter is neither searched nor quoted
    assert json.loads(encoded(answer))["passages"][0]["text"] == RARE
