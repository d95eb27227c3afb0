"""Fusion, sentence re-ranking, abstention and follow-ups: unit tests over small fakes, then the
behaviour through `Collection.ask` over the real seeds index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from qa.search.followup import followup_query, needs_context
from qa.search.retrieval import Hit, HybridRetriever, Query, RetrievalSettings
from qa.search.sentence_scores import best, score_sentences
from qa.text.analysis import question_terms


class FakeSource:
    """Hand-made unit vectors searched exactly, and BM25 scores fixed per passage whatever the
    question (IDF 1 for every term): what ranking reads of an index generation."""

    def __init__(self, ids: list[int], vectors: np.ndarray, lexical: list[float]) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self.matrix = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        self.lexical = np.asarray(lexical, dtype=np.float32)
        self.bm25 = self

    def search_vectors(self, query: np.ndarray, n: int, allowed=None) -> np.ndarray:
        return self.ids[np.argsort(-(self.matrix @ query), kind="stable")[:n]]

    def vectors(self, ids) -> np.ndarray:
        position = {passage_id: i for i, passage_id in enumerate(self.ids)}
        return self.matrix[[position[int(i)] for i in ids]].reshape(len(ids), -1)

    def idf(self, terms):
        return dict.fromkeys(terms, 1.0)

    def scores(self, terms):
        matched = self.lexical > 0
        return self.ids[matched], self.lexical[matched]

    def lexical_scores(self, terms, allowed=None, best=None, also=None):
        return self.scores(terms)  # every match: ranking keeps the best itself


@dataclass(frozen=True)
class Row:
    """A candidate's row as ranking reads it: its text, page and section path."""

    text: str
    doc_id: str = ""
    section: tuple[str, ...] = ()


class Ranker:
    """`search(query_vector, text, k, mode)` over a fake source, as the collection calls ranking."""

    def __init__(self, source: FakeSource, settings: RetrievalSettings, rows: dict[int, Row]) -> None:
        self.source, self.retriever, self.rows = source, HybridRetriever(settings), rows

    def search(self, vector, text: str, k: int, mode: str | None = None) -> list[Hit]:
        query = Query(text=text, terms=question_terms(text), vector=vector)
        found = lambda wanted: {i: self.rows[i] for i in wanted if i in self.rows}  # noqa: E731
        return self.retriever.rank(self.source, query, k, found, mode).hits


def retriever(
    dense: list[float], lexical: list[float], texts: dict[int, str | Row] | None = None, **settings
) -> Ranker:
    """Passages 10, 11, … whose cosine to the query vector [1, 0] is `dense[i]`; `texts` gives
    some of them a text (or a whole row, with page and section path)."""
    ids = list(range(10, 10 + len(dense)))
    vectors = np.array([[c, np.sqrt(max(0.0, 1 - c * c))] for c in dense], dtype=np.float32).reshape(-1, 2)
    rows = {i: row if isinstance(row, Row) else Row(row) for i, row in (texts or {}).items()}
    return Ranker(FakeSource(ids, vectors, lexical), RetrievalSettings(**settings), rows)


QUERY = np.array([1.0, 0.0], dtype=np.float32)


def ranked_ids(hits: list[Hit]) -> list[int]:
    return [hit.passage_id for hit in hits]


def ranked(rows: dict[int, Row], dense: list[float], lexical: list[float], question: str, k: int, **settings):
    """The ids of the `k` best of passages 10, 11, … (`rows` in that order) for `question`."""
    return ranked_ids(retriever(dense, lexical, rows, **settings).search(QUERY, question, k))


def test_each_mode_ranks_by_its_own_signal():
    search = retriever(dense=[0.9, 0.5, 0.1], lexical=[0.0, 2.0, 8.0], sentence_weight=0).search
    assert ranked_ids(search(QUERY, "q", 3, "dense")) == [10, 11, 12]
    assert ranked_ids(search(QUERY, "q", 3, "bm25")) == [12, 11]  # a passage without the words is no BM25 hit


def test_hybrid_prefers_a_passage_strong_on_both_signals():
    # 11 is second on each signal alone, but first once they are combined.
    search = retriever(dense=[0.80, 0.75, 0.10], lexical=[1.0, 9.0, 10.0], dense_weight=0.6, sentence_weight=0).search
    hits = search(QUERY, "q", 3)
    assert ranked_ids(hits) == [11, 10, 12]
    assert hits[0].score == pytest.approx(0.6 * 0.75 + 0.4 * 0.9, abs=1e-5)


def test_dense_weight_moves_the_balance():
    dense, lexical = [0.9, 0.3], [1.0, 10.0]
    assert ranked_ids(retriever(dense, lexical, dense_weight=0.9, sentence_weight=0).search(QUERY, "q", 2)) == [10, 11]
    assert ranked_ids(retriever(dense, lexical, dense_weight=0.1, sentence_weight=0).search(QUERY, "q", 2)) == [11, 10]


def test_k_limits_the_hits_and_an_empty_index_gives_none():
    assert len(retriever([0.9, 0.8, 0.7], [1, 1, 1], sentence_weight=0).search(QUERY, "q", 2)) == 2
    assert retriever([], []).search(QUERY, "q", 5) == []


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        retriever([0.5], [1.0]).search(QUERY, "q", 1, "sparse")


def test_a_passage_whose_one_sentence_holds_the_question_moves_up():
    texts = {
        10: "The harbour opened in spring. Cranes arrived later. The ships were painted red.",
        11: "The harbour cranes were painted red in spring.",
    }
    # Equal on dense and on passage BM25: the best sentence decides.
    search = retriever([0.5, 0.5], [3.0, 3.0], texts, sentence_weight=1.0).search
    hits = search(QUERY, "harbour cranes painted red", 2)
    assert ranked_ids(hits) == [11, 10]
    assert hits[0].sentence is not None and hits[0].sentence.start == 0


def test_a_section_of_the_page_about_the_topic_beats_a_page_that_mentions_it_once():
    # 10 and 11 tie on both signals; 11's page (wal.html) has another strong section, 12, well
    # above the weakest leading candidate, 13.
    rows = {
        10: Row("Quirks: WAL mode must be enabled.", "quirks.html", ("Quirks", "WAL")),
        11: Row("WAL mode is enabled by a pragma.", "wal.html", ("Write-Ahead Logging", "Activating")),
        12: Row("WAL mode keeps a separate log file.", "wal.html", ("Write-Ahead Logging", "How WAL works")),
        13: Row("Journal modes are listed here.", "pragma.html", ("PRAGMA", "journal_mode")),
    }
    scores = [0.8, 0.8, 0.7, 0.3], [2.0, 2.0, 1.0, 0.5]
    assert ranked(rows, *scores, "journal", 3)[0] == 11
    # Without it, the first-pass order stands (10 first on a tie).
    assert ranked(rows, *scores, "journal", 3, page_support=0)[0] == 10


def test_a_long_page_with_a_second_weak_match_does_not_outrank_the_best_match():
    # 10 matches best; a change log (11, 12) places two passages among the leading candidates, the
    # second barely (as low as the weakest, 13). Support counts from the weakest up, so the change
    # log gains nothing; counted from zero, as before, it took the first place.
    rows = {
        10: Row("The RETURNING clause was added in version 3.35.0.", "returning.html", ("RETURNING", "History")),
        11: Row("Add the RETURNING clause to DELETE.", "changes.html", ("Release History", "Fixes and changes")),
        12: Row("Fix a crash.", "changes.html", ("Release History", "Old fixes")),
        13: Row("Triggers fire on DELETE.", "triggers.html", ("Triggers", "Details")),
    }
    scores = [0.75, 0.72, 0.5, 0.5], [3.0, 2.8, 1.0, 1.0]
    assert ranked(rows, *scores, "returning", 2) == [10, 11]
    assert ranked(rows, *scores, "returning", 2, support_above_head=False, page_support=0.3) == [11, 10]


def test_a_release_note_ranks_below_reference_text_unless_the_question_names_a_version():
    rows = {
        10: Row("Add support for the RETURNING clause.", "news.html", ("News", "2021-03-12 - Release 3.35.0")),
        11: Row("The RETURNING clause returns the rows a statement changed.", "returning.html", ("RETURNING",)),
    }
    scores = [0.7, 0.7], [3.0, 3.0]
    assert ranked(rows, *scores, "Does SQLite support RETURNING?", 2) == [11, 10]
    assert ranked(rows, *scores, "What did release 3.35 add?", 2) == [10, 11]
    assert ranked(rows, *scores, "Does SQLite support RETURNING?", 2, dated_penalty=0) == [10, 11]
    # A date with the month's name is a date too; a heading that only names a month or a year is not.
    spelled = {10: Row(rows[10].text, "news.html", ("Changes", "Version 3.35 (March 12, 2021)")), 11: rows[11]}
    assert ranked(spelled, *scores, "Does SQLite support RETURNING?", 2) == [11, 10]
    undated = {10: Row(rows[10].text, "plan.html", ("Roadmap", "May 2021 plans")), 11: rows[11]}
    assert ranked(undated, *scores, "Does SQLite support RETURNING?", 2) == [10, 11]
    # A change log's entries are dated too: GNU's, dated as `date` prints it, and Debian's.
    for entry in (
        "Fri Jul 24 10:16:24 CEST 2009 Daniel Veillard <veillard@redhat.com>",
        "sqlite3 (3.35.0-1) unstable; urgency=medium",
    ):
        logged = {10: Row(rows[10].text, "changelog.gz", (entry,)), 11: rows[11]}
        assert ranked(logged, *scores, "Does SQLite support RETURNING?", 2) == [11, 10]


def test_a_question_in_words_prefers_prose_to_a_passage_without_a_sentence():
    # A shell session whose comment holds the question's words, and the Description that answers
    # in a sentence, tied on both signals (the furniture penalty off, to see this one alone).
    session = "# delete the whole repository and the related local cache:\n$ borg delete /path/to/repo"
    prose = "Alternatively, you can delete just the local cache with the --cache-only option."
    rows = {
        10: Row(session, "delete.html", ("borg delete", "Examples")),
        11: Row(prose, "delete.html", ("borg delete", "Description")),
    }
    scores = [0.7, 0.7], [3.0, 3.0]
    question = "How do I throw away only the local cache of a repository?"
    assert ranked(rows, *scores, question, 2, furniture_penalty=0) == [11, 10]
    assert ranked(rows, *scores, question, 2, furniture_penalty=0, no_prose_penalty=0) == [10, 11]
    # A question that names code (an option, a call, an example) keeps the first-pass order.
    assert ranked(rows, *scores, "Show an example of borg delete", 2, furniture_penalty=0) == [10, 11]
    assert ranked(rows, *scores, "How do I use --keep-security-info?", 2, furniture_penalty=0) == [10, 11]
    # A term with its description and no sentence is such a passage too; plain text never is.
    term = {10: Row("iterations\n\nnumber of iterations used (currently 100000)", "ds.html", ("Key files",))}
    assert ranked({**term, 11: rows[11]}, *scores, question, 2, furniture_penalty=0) == [11, 10]
    plain = {10: Row(session, "a.txt"), 11: Row(prose, "b.txt")}
    assert ranked(plain, *scores, question, 2, furniture_penalty=0) == [10, 11]
    # A README's install section says it in words before its code: it is not such a passage.
    install = "## Installation\n\nInstall it with pip:\n\n```\npip install frobnicate\n```"
    trouble = "If the installation of frobnicate fails, make sure that a C compiler is present."
    readme = {10: Row(install, "README.md", ("frobnicate", "Installation")), 11: Row(trouble, "README.md", ("Help",))}
    assert ranked(readme, *scores, "How do I install frobnicate?", 2, furniture_penalty=0) == [10, 11]


def test_a_question_that_asks_what_a_thing_is_prefers_the_section_that_introduces_it():
    rows = {
        # The same words, so that only the heading tells them apart.
        10: Row("The VACUUM command copies the database file.", "vacuum.html", ("VACUUM", "3. How VACUUM works")),
        11: Row("The VACUUM command rebuilds the database file.", "vacuum.html", ("VACUUM", "2. Description")),
    }
    scores = [0.7, 0.7], [3.0, 3.0]
    assert ranked(rows, *scores, "What does the VACUUM command do?", 2) == [11, 10]
    assert ranked(rows, *scores, "What is VACUUM for?", 2) == [11, 10]
    assert ranked(rows, *scores, "What does the VACUUM command do?", 2, overview_bonus=0) == [10, 11]
    # Another kind of question, or a fact asked about a longer subject, keeps the first-pass order.
    assert ranked(rows, *scores, "How can I schedule it?", 2) == [10, 11]
    assert ranked(rows, *scores, "What is the longest time it can take on my disk?", 2) == [10, 11]
    # A subsection under Description is not the overview itself.
    under = {10: rows[10], 11: Row(rows[11].text, "vacuum.html", ("VACUUM", "Description", "INTO"))}
    assert ranked(under, *scores, "What does the VACUUM command do?", 2) == [10, 11]


def test_plain_documents_get_no_support_from_their_other_passages():
    # The same tie as above, but plain text (no section path): SciFact abstracts and SQuAD
    # paragraphs rank as they did.
    rows = {10: Row("A.", "a.txt"), 11: Row("B.", "b.txt"), 12: Row("C.", "b.txt")}
    hits = retriever([0.8, 0.8, 0.7], [2.0, 2.0, 1.0], rows).search(QUERY, "journal", 3)
    assert ranked_ids(hits) == [10, 11, 12]


def test_a_list_of_links_ranks_below_prose_that_scores_the_same():
    rows = {
        10: Row("Keyword Index\nVACUUM\nVACUUM INTO\nvacuum_limit\nvacuum.html", "keyword_index.html"),
        11: Row("The VACUUM command rebuilds the database file, repacking it into less disk space.", "vacuum.html"),
    }
    hits = retriever([0.7, 0.7], [3.0, 3.0], rows).search(QUERY, "journal", 2)
    assert ranked_ids(hits) == [11, 10]
    hits = retriever([0.7, 0.7], [3.0, 3.0], rows, furniture_penalty=0).search(QUERY, "journal", 2)
    assert ranked_ids(hits) == [10, 11]


def test_a_question_that_asks_for_a_number_prefers_the_sentence_that_holds_one():
    texts = {10: "A table may have many columns.", 11: "A table may have 2000 columns."}
    assert ranked_ids(
        retriever([0.5, 0.5], [3.0, 3.0], texts).search(QUERY, "How many columns can a table have?", 2)
    ) == [
        11,
        10,
    ]
    # Not for a question that does not ask for one, nor with the boost off: the tie stands.
    assert ranked_ids(retriever([0.5, 0.5], [3.0, 3.0], texts).search(QUERY, "Which table has columns?", 2)) == [10, 11]
    off = retriever([0.5, 0.5], [3.0, 3.0], texts, number_boost=0)
    assert ranked_ids(off.search(QUERY, "How many columns can a table have?", 2)) == [10, 11]


def test_best_sentence_weighs_rare_terms_more():
    passage = "Koussa flew to London. The minister met officials in London and London again."
    sentences = score_sentences([passage], ["koussa", "london"], {"koussa": 3.0, "london": 0.2})[0]
    chosen = best(sentences)
    assert passage[chosen.start : chosen.end] == "Koussa flew to London."


def test_every_sentence_gets_the_textbook_bm25_score_to_the_bit():
    # Scoring touches only the sentences that hold a question term; every sentence must still get
    # the BM25 sum a plain loop over sentences and terms gives, in the same order of additions.
    from qa.search.sentence_scores import SENTENCE_B, SENTENCE_K1, sentence_terms

    seeds = sorted((Path(__file__).parents[1] / "seeds").glob("*.txt"))
    passages = [path.read_text()[:1500] for path in seeds] + ["", "No question word here at all."]
    terms = ["koussa", "libya", "minister", "the", "libya", "unknownterm", "london"]
    idf = {"koussa": 3.1, "libya": 0.7, "minister": 1.9, "the": 0.01, "london": 2.2}
    split = [sentence_terms(text) for text in passages]
    lengths = [length for sentences in split for _, _, length, _ in sentences]
    average = max(1.0, sum(lengths) / len(lengths))
    expected = []
    for sentences in split:
        row = []
        for start, end, length, counts in sentences:
            norm = SENTENCE_K1 * (1 - SENTENCE_B + SENTENCE_B * length / average)
            score = 0.0
            for term in terms:
                if term in idf and counts.get(term):
                    score += idf[term] * (SENTENCE_K1 + 1) * counts[term] / (counts[term] + norm)
            row.append((start, end, score))
        expected.append(row)
    scored = score_sentences(passages, terms, idf)
    assert [[tuple(s) for s in row] for row in scored] == expected
    assert sum(s.score > 0 for row in scored for s in row) > 5  # the seeds hold the terms


@pytest.mark.parametrize(
    ("question", "leans_back"),
    [
        ("Where did he fly to?", True),
        ("What did they offer?", True),
        ("And the date?", True),
        ("Why?", True),
        ("Who is Moussa Koussa?", False),
        ("Which newspaper reported that the peace talks failed?", False),
        ("Is there a cease-fire?", False),
    ],
)
def test_needs_context(question, leans_back):
    assert needs_context(question) is leans_back


def test_followup_query_joins_the_turns_it_leans_on():
    assert followup_query("Where did he fly to?", ["Who is Moussa Koussa?"]) == (
        "Who is Moussa Koussa? Where did he fly to?"
    )
    assert followup_query("Who is Moussa Koussa?", ["What is the weather?"]) == "Who is Moussa Koussa?"
    assert followup_query("Where did he fly to?", []) == "Where did he fly to?"
    # A chain of follow-ups keeps its subject, within three turns in all.
    chain = ["Tell me about Tripoli.", "Who is Moussa Koussa?", "Where did he fly to?"]
    assert followup_query("And then?", chain) == "Who is Moussa Koussa? Where did he fly to? And then?"


@pytest.mark.slow
class TestThroughTheCollection:
    """Abstention and follow-ups as a user meets them, on the real seeds index."""

    def test_an_answerable_question_is_answered(self, seeds_collection):
        answer = seeds_collection.ask("Who is Moussa Koussa?", top_k=3)
        assert answer.answered is True

    @pytest.mark.parametrize(
        "question",
        [
            "What is the tallest mountain in Africa?",
            "Which programming language is best for beginners?",
            # From the calibration set's other corpora: a SQuAD dev question and a SciFact claim.
            "Which NFL team represented the AFC at Super Bowl 50?",
            "0-dimensional biomaterials lack inductive properties.",
        ],
    )
    def test_an_unanswerable_question_abstains_but_still_shows_the_closest_passages(self, seeds_collection, question):
        answer = seeds_collection.ask(question, top_k=3)
        assert answer.answered is False
        assert len(answer.passages) == 3

    def test_a_question_naming_what_no_seed_mentions_abstains_and_says_so(self, seeds_collection):
        """Asked why a defector defected, the seeds answer; asked why he defected to Canada, which
        no seed names, the closest passages are still about him, but none answers for Canada."""
        assert seeds_collection.ask("Why did Moussa Koussa defect?", top_k=3).answered is True
        answer = seeds_collection.ask("Why did Moussa Koussa defect to Canada?", top_k=3)
        assert answer.answered is False
        assert answer.missing_words == ["Canada"]
        assert len(answer.passages) == 3 and "Koussa" in answer.passages[0].text

    def test_a_followup_finds_its_subject_through_the_history(self, seeds_collection):
        alone = seeds_collection.ask("Where did he fly to?", top_k=3)
        followed = seeds_collection.ask("Where did he fly to?", top_k=3, history=["Who is Moussa Koussa?"])
        assert followed.question == "Where did he fly to?"  # the question is never rewritten
        assert followed.answered is True
        assert all("Koussa" in passage.text for passage in followed.passages)
        assert "Koussa" not in alone.passages[0].text

    def test_the_public_followup_is_answered_in_the_top_three(self, seeds_collection):
        from qa.evaluation.metrics import contains_answer

        followed = seeds_collection.ask(
            "What did they offer?", top_k=3, history=["What did the Libyan rebels announce on April 1?"]
        )
        assert followed.answered is True
        assert any(contains_answer(passage.text, ["cease-fire"]) for passage in followed.passages)

    def test_the_highlight_is_the_answering_sentence(self, seeds_collection):
        answer = seeds_collection.ask("What did the Tripoli government say about the defections?", top_k=1)
        passage = answer.passages[0]
        assert "laughed off" in passage.text[passage.highlight.start : passage.highlight.end]
