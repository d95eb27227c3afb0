"""One snapshot opened for questions, and the one way a question goes through it:
search the snapshot → rank → judge → highlight.

The store knows segments, passages and vectors; the searcher adds what questions need of them:
BM25 with collection-wide statistics, the passages a filter allows (cached: a widget repeats the
same filter), and each question's passage rows, read from SQLite once.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qa.answers import AnswerPassage, Citation, Highlight
from qa.search import abstention
from qa.search.bm25 import BM25, LexicalPart
from qa.search.confidence import assess, needs_reading, reading_of, with_reading
from qa.search.highlight import best_sentence, context_span, is_statement, to_highlight, without_bullet
from qa.search.links import page_link
from qa.search.retrieval import Hit, HybridRetriever, Mode, Query, Ranking
from qa.search.sentence_scores import sentence_offsets
from qa.store.segment import StoredPassage
from qa.store.snapshot import PassageSubset, Snapshot
from qa.text.analysis import names_not_found, question_terms
from qa.text.spelling import closed_up, misspelling_distance, respell

if TYPE_CHECKING:
    from embeddings import TokenReader
    from qa.search.filters import DocumentFilter  # a filter's model (pydantic) is imported where one is made

# Passage subsets of the filters asked lately, per snapshot (a widget usually repeats the same one).
FILTER_CACHE = 32


class Searcher:
    """A snapshot as retrieval sees it: thread-safe, one per generation."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        # The index's own threshold when `qa eval --fit-abstention` fitted one, read per generation.
        self.abstention = abstention.read(snapshot.index_dir)
        self._subsets: OrderedDict[DocumentFilter, PassageSubset] = OrderedDict()
        self._subsets_lock = threading.Lock()

    @property
    def manifest(self):
        return self.snapshot.manifest

    @cached_property
    def bm25(self) -> BM25:
        snapshot = self.snapshot
        return BM25([LexicalPart(s.postings, s.ids, snapshot.live_rows(s)) for s in snapshot.segments])

    def lexical_scores(
        self,
        terms: Sequence[str],
        allowed: PassageSubset | None = None,
        best: int | None = None,
        also: np.ndarray | None = None,
    ):
        """(passage ids, BM25 scores), ids ascending, of the live passages matching some term,
        among `allowed` when given: all of them, or with `best` the `best` highest and those of
        the ids `also`. IDF stays collection-wide, so a filter does not change a passage's score."""
        masks = None if allowed is None else allowed.rows
        if best is None:
            return self.bm25.scores(terms, masks)
        return self.bm25.top(terms, best, masks, also)

    def search_vectors(self, query: np.ndarray, n: int, allowed: PassageSubset | None = None) -> np.ndarray:
        return self.snapshot.search_vectors(query, n, allowed)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self.snapshot.vectors(ids)

    def allowed(self, filters: DocumentFilter | None) -> PassageSubset | None:
        """The passages a filter (or several, qa.search.filters.all_of) lets through; None when
        nothing is filtered."""
        if filters is None or filters.is_empty:
            return None
        with self._subsets_lock:
            found = self._subsets.get(filters)
            if found is not None:
                self._subsets.move_to_end(filters)
                return found
        found = self.snapshot.passages_of_documents(filters.matches)
        with self._subsets_lock:
            self._subsets[filters] = found
            while len(self._subsets) > FILTER_CACHE:
                self._subsets.popitem(last=False)
        return found

    def rank(
        self,
        retriever: HybridRetriever,
        query: Query,
        k: int,
        mode: Mode | None = None,
        filters: DocumentFilter | None = None,
        rows: PassageRows | None = None,
        reader: TokenReader | None = None,
        judged: abstention.Abstention | None = None,
    ) -> Ranking:
        """The `k` best passages for a prepared question, judged: does the best one answer it
        (qa.search.confidence)? `rows` keeps the passage rows read on the way for the answer;
        `reader`, the encoder when it reads word pieces, reads the question against the first
        passage where the five signals leave the default verdict open. A threshold fitted to the
        index is fitted to the five signals, so under it nothing is read (docs/EVALUATION.md, "A
        question read word by word"). `judged` replaces the index's own threshold (a fit asks what
        the default would do)."""
        rows = rows or PassageRows(self.snapshot)
        allowed = self.allowed(filters)
        # What the question asks that the reachable documents hold: a word only in documents a
        # filter or a key's scope keeps out counts as unknown, so neither the spelling searched,
        # nor `known`, nor the words named missing tell anything of those documents.
        reachable = self._held_among(allowed)
        respelled = respell(query.terms, reachable) if retriever.settings.respell else {}
        if respelled:  # "licence" asked of pages that say "license" (qa.text.spelling)
            query = replace(query, terms=[respelled.get(term, term) for term in query.terms])
        joined = closed_up(query.text, query.terms, reachable) if retriever.settings.close_up else {}
        if joined:  # "e-mail" asked of pages that say "email"
            query = replace(query, terms=[*query.terms, *joined])
        ranking = retriever.rank(self, query, k, rows.rows, mode, allowed)
        held = frozenset(reachable(list(ranking.idf)))
        held |= {asked for asked, searched in respelled.items() if searched in held}  # found, spelled otherwise
        held |= {part for parts in joined.values() for part in parts}  # found closed up: not missing
        top = rows.rows([ranking.hits[0].passage_id]).get(ranking.hits[0].passage_id) if ranking.hits else None
        names = self._names_not_found(query.text, held, reachable)  # "Docker" asked of pages that never say it
        top_text = top.text if top is not None else None
        abstention = judged or self.abstention
        confidence = assess(
            query.terms, ranking.idf, self.bm25.passages, ranking.hits, top_text, held, len(names), abstention.judged_by
        )
        if reader is not None and top is not None and abstention.is_default and needs_reading(confidence):
            confidence = with_reading(
                confidence, reading_of(reader, query.text, top.text, top.section)
            )  # read word by word
        confidence = replace(
            confidence,
            threshold=confidence.threshold if abstention.is_default else abstention.threshold,
            min_known=abstention.min_known,
            abstain_on_names=abstention.abstain_on_names,
        )
        return replace(ranking, confidence=confidence, held=held)

    def _names_not_found(self, text: str, held: frozenset[str], reachable: Callable) -> list[str]:
        """The question's names that no passage within reach holds, nor a spelling a typo away."""
        return [
            name
            for name in names_not_found(text, held)
            if not all(
                reachable(self.bm25.spelled_near(term, misspelling_distance(term))) for term in question_terms(name)
            )
        ]

    def _held_among(self, allowed: PassageSubset | None):
        """`held(terms)`: the terms some live passage holds (within `allowed`, when a filter narrows)."""
        if allowed is None:
            return self.bm25.idf
        return lambda terms: self.bm25.held(list(self.bm25.idf(terms)), allowed.rows)

    def answer_passages(
        self, ranking: Ranking, rows: PassageRows, top_k: int, join_depth: int = 0
    ) -> list[AnswerPassage]:
        """The ranking's first `top_k` passages that say something new, highlighted and cited.

        A passage whose text another place repeats word for word (a page copied into another, a
        man page and its web page) is shown once, with the other places in `also`; it is cited
        first at the place in the shorter document, the page about it rather than a compilation
        that repeats it (a book's all-in-one print page). A passage of another document each of
        whose sentences a chosen one already says, cut at other places (the compilation's passage
        takes in its chapter's heading too), is left out when its document is no shorter; from a
        shorter document, it is quoted in the chosen one's place when it says all the chosen one
        says, and kept beside it otherwise, unless it would be shown lit at the very sentence a
        chosen one is (a manual's PDF and its HTML, cut into passages at other places): the reader
        would see one answer twice. (Only hits the ranking read sentence by sentence are compared:
        the others are far down, and finding their sentence would cost each question more.)
        A section cut into two passages that both lead (among the first `join_depth` hits) is
        quoted as one span, at the better one's rank: its heading and the sentence under it that
        answers are read together, and the next passage is something else.
        """
        found = rows.rows([hit.passage_id for hit in ranking.hits])
        chosen: list[_Quote] = []
        for position, hit in enumerate(ranking.hits):
            row = found.get(hit.passage_id)
            if row is None:
                continue
            partner = next((kept for kept in chosen if kept.continues_in(row)), None) if position < join_depth else None
            if partner is not None and self._join(partner, hit, row):
                self._fold_twin(chosen, partner)
                continue
            if any(kept.holds(row) for kept in chosen):
                continue
            twin = next((kept for kept in chosen if kept.text == row.text), None)
            if twin is not None:
                twin.fold(
                    _Quote([(hit, row)], row.text, row.start, row.end, joinable=False), self.snapshot.passage_count
                )
                continue
            if len(chosen) >= top_k:  # once full, the hits left are read only for copies and joins
                continue
            copied = next((kept for kept in chosen if kept.repeats(row)), None)
            if copied is not None and copied.absorb(hit, row, self.snapshot.passage_count):
                continue
            quote = _Quote([(hit, row)], row.text, row.start, row.end, joinable=position < join_depth)
            if hit.sentence is not None and quote.says_what_another_document_does(chosen, ranking):
                continue  # a manual's PDF and its HTML, lit at the same sentence
            chosen.append(quote)
        return [quote.answer_passage(rank, ranking) for rank, quote in enumerate(chosen, 1)]

    def _fold_twin(self, chosen: list[_Quote], joined: _Quote) -> None:
        """`joined` has just taken in the rest of its section: when another chosen quote now says
        the very same words (the section joined in its page and in a compilation that repeats it,
        each cut in two), the two are one quote, at the better rank (`_Quote.fold`)."""
        twin = next((kept for kept in chosen if kept is not joined and kept.text == joined.text), None)
        if twin is None:
            return
        at, later = sorted((chosen.index(twin), chosen.index(joined)))
        chosen[at].fold(chosen[later], self.snapshot.passage_count)
        del chosen[later]

    def _join(self, quote: _Quote, hit: Hit, row: StoredPassage) -> bool:
        """Quote `row` with the passage of its section beside it, when only blank space parts them.
        The quote's other places (`also`) are joined likewise, each to the same words beside it in
        its own document; where one has other words there, the two are not joined."""
        after = row.start > quote.start
        first_end, second_start = (quote.end, row.start) if after else (row.end, quote.start)
        gap = self.snapshot.text_span(row.doc_id, first_end, second_start)
        if gap is None or gap.strip():
            return False
        added = gap + row.text if after else row.text + gap
        places = [self._extended(place, added, after) for place in quote.also]
        if None in places:
            return False
        quote.also = places
        quote.parts.append((hit, row))
        quote.text = quote.text + added if after else added + quote.text
        quote.start, quote.end = min(quote.start, row.start), max(quote.end, row.end)
        return True

    def _extended(self, place: StoredPassage, added: str, after: bool) -> StoredPassage | None:
        """`place` with `added` after (or before) it, when its document says exactly that there."""
        start, end = (place.end, place.end + len(added)) if after else (place.start - len(added), place.start)
        if start < 0 or self.snapshot.text_span(place.doc_id, start, end) != added:
            return None
        if after:
            return replace(place, end=end, text=place.text + added)
        return replace(place, start=start, text=added + place.text)


@lru_cache(maxsize=4096)
def flat(text: str) -> str:
    """A text with every run of whitespace made one space: a copy may be wrapped otherwise."""
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def statements(text: str, section: tuple[str, ...]) -> tuple[str, ...]:
    """What a passage says: its sentences, flattened, less the headings it opens with (those of its
    section path, and short lines without a digit or a sentence's end: a site's title, a chapter's
    heading that a compilation repeats). Passages that differ in one sentence say different things,
    and so do templated pages that differ in a number or a name, even in a heading."""
    headings = {flat(heading) for heading in section}
    said = [flat(text[start:end]) for start, end in sentence_offsets(text)]
    opening = 0
    while opening < len(said) and (said[opening] in headings or _is_title(said[opening])):
        opening += 1
    return tuple(sentence for sentence in said[opening:] if sentence and sentence not in headings)


def _is_title(line: str) -> bool:
    return len(line.split()) <= TITLE_WORDS and not _TITLE_BREAKERS.search(line)


TITLE_WORDS = 8
_TITLE_BREAKERS = re.compile(r"[0-9.!?:;]")


# Passages of one section further apart than this are not beside each other (the cutter leaves
# the blank line between two blocks, or a line break, outside both passages).
JOIN_GAP = 4


@dataclass
class _Quote:
    """A passage chosen for an answer: one stored passage, or two of one section joined."""

    parts: list[tuple[Hit, StoredPassage]]  # in the order they ranked
    text: str
    start: int
    end: int
    joinable: bool
    also: list[StoredPassage] = field(default_factory=list)  # the same text at other places
    _lit: tuple[tuple[int, int, str], Highlight] | None = field(default=None, repr=False, compare=False)

    def continues_in(self, row: StoredPassage) -> bool:
        """Is `row` the passage just before or after this one, in the same section and page?"""
        first = self.parts[0][1]
        return (
            self.joinable
            and len(self.parts) == 1
            and bool(first.section)
            and row.doc_id == first.doc_id
            and row.section == first.section
            and row.page == first.page  # a PDF's page, a slide, a message of a mailbox: never across
            and (0 <= row.start - self.end <= JOIN_GAP or 0 <= self.start - row.end <= JOIN_GAP)
        )

    def fold(self, other: _Quote, passage_count: Callable[[str], int]) -> None:
        """`other`, ranked below, says this quote's very words elsewhere: one quote, at this rank,
        cited at the place in the shorter document (in passages: the page about it, not a
        compilation that repeats it), the other place under `also`. The ranking's verdict on each
        part (its score, its best sentence) holds for the same words anywhere."""
        if passage_count(other.parts[0][1].doc_id) >= passage_count(self.parts[0][1].doc_id):
            self.also += [other.place(), *other.also]
            return
        verdicts = {part.text: hit for hit, part in self.parts}
        score = self.parts[0][0].score
        self.also = [self.place(), *self.also, *other.also]
        self.parts = [(verdicts.get(row.text, hit), row) for hit, row in other.parts]
        self.parts[0] = (replace(self.parts[0][0], score=score), self.parts[0][1])
        self.text, self.start, self.end = other.text, other.start, other.end

    def repeats(self, row: StoredPassage) -> bool:
        """Does `row`, of another document, say nothing this quote does not: is each of its
        sentences, but those that repeat its headings, one of this quote's too?"""
        if row.doc_id == self.parts[0][1].doc_id:
            return False
        said = statements(row.text, row.section)
        return bool(said) and all(sentence in flat(self.text) for sentence in said)

    def absorb(self, hit: Hit, row: StoredPassage, passage_count: Callable[[str], int]) -> bool:
        """`row` repeats this quote: is it left out? Yes from a document no shorter than the quote's
        (a compilation repeating a chapter); from a shorter one (the page about it), `row` is
        quoted instead when it says all this quote says too, as for the very same words
        (`fold`), and else kept as a passage of its own."""
        first = self.parts[0][1]
        if passage_count(row.doc_id) >= passage_count(first.doc_id):
            return True
        if len(self.parts) > 1 or self.also:
            return False
        if not all(sentence in flat(row.text) for sentence in statements(self.text, first.section)):
            return False
        self._quote_instead(replace(hit, score=self.parts[0][0].score), row)  # its sentence, at the better rank
        return True

    def says_what_another_document_does(self, chosen: list[_Quote], ranking: Ranking) -> bool:
        """Is this quote shown lit at the very sentence a chosen quote of another document is?"""
        others = [kept for kept in chosen if kept.parts[0][1].doc_id != self.parts[0][1].doc_id]
        return bool(others) and self.lit_sentence(ranking) in {kept.lit_sentence(ranking) for kept in others}

    def lit_sentence(self, ranking: Ranking) -> str:
        """The sentence this quote is shown lit at (`highlight`), its spacing flattened."""
        highlight = self.highlight(ranking)
        return flat(self.text[highlight.start : highlight.end])

    def highlight(self, ranking: Ranking) -> Highlight:
        """The best sentence the ranking found in its parts when that reads as an answer, else the
        best prose sentence of the whole quote; kept until the quote changes (a join, a fold), as
        the passages below it compare their own with it."""
        place = (self.start, self.end, self.text)
        if self._lit is None or self._lit[0] != place:
            self._lit = (place, self._find_highlight(ranking))
        return self._lit[1]

    def _find_highlight(self, ranking: Ranking) -> Highlight:
        hit, row = max(self.parts, key=lambda part: part[0].sentence.score if part[0].sentence else 0.0)
        found = _ranked_sentence(hit, row.text)
        if found is None:
            return best_sentence(self.text, ranking.query.terms, ranking.idf)
        moved = row.start - self.start  # the part's place in the quote
        return Highlight(start=found.start + moved, end=found.end + moved)

    def place(self) -> StoredPassage:
        """Where the whole quote stands, as one passage of its document (its parts joined)."""
        first = min((part for _, part in self.parts), key=lambda part: part.start)
        return replace(first, start=self.start, end=self.end, text=self.text)

    def _quote_instead(self, hit: Hit, row: StoredPassage) -> None:
        """Quote `row` in this quote's place (the place cited first becomes `row`'s)."""
        self.parts = [(hit, row)]
        self.text, self.start, self.end = row.text, row.start, row.end

    def holds(self, row: StoredPassage) -> bool:
        """Does this quote already say what `row` says: overlapping or touching it (or one of its
        other places) in its document, or holding its text as one of its parts?"""
        first = self.parts[0][1]
        if row.doc_id == first.doc_id and row.start <= self.end and self.start <= row.end:
            return True
        if any(row.doc_id == other.doc_id and row.start <= other.end and other.start <= row.end for other in self.also):
            return True
        return len(self.parts) > 1 and any(row.text == part.text for _, part in self.parts)

    def answer_passage(self, rank: int, ranking: Ranking) -> AnswerPassage:
        """The quote as an answer: highlighted (`highlight`) and cited."""
        highlight = self.highlight(ranking)
        first = min((part for _, part in self.parts), key=lambda part: part.start)
        return AnswerPassage(
            rank=rank,
            score=round(self.parts[0][0].score, 4),
            text=self.text,
            highlight=highlight,
            context=context_span(self.text, highlight),
            citation=_citation(first, self.text, self.start, self.end, highlight),
            also=[_citation(r, r.text, r.start, r.end, highlight) for r in self.also],
        )


def _citation(row: StoredPassage, text: str, start: int, end: int, highlight: Highlight) -> Citation:
    """Where a quote stands, linking to the quoted sentence where its source is a web page."""
    return Citation(
        doc_id=row.doc_id,
        source=row.source,
        title=row.title,
        start=start,
        end=end,
        page=row.page,
        section=list(row.section),
        sha256=row.sha256 or None,
        ocr=row.ocr,
        url=page_link(row.source, text[highlight.start : highlight.end]),
    )


class PassageRows:
    """Passage rows of one snapshot for one question: each is read from SQLite once."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.cache: dict[int, StoredPassage] = {}

    def rows(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        missing = [i for i in ids if i not in self.cache]
        if missing:
            self.cache.update(self.snapshot.passages(missing))
        return {i: self.cache[i] for i in ids if i in self.cache}


def _ranked_sentence(hit: Hit, text: str) -> Highlight | None:
    """The sentence the ranking found best in a passage, when it reads as an answer: a whole prose
    sentence, and not a question (the answer after a FAQ's question is found by the highlighter);
    from its first word, as the highlighter lights one."""
    sentence = hit.sentence
    if sentence is not None and sentence.score > 0 and is_statement(text[sentence.start : sentence.end]):
        return without_bullet(text, to_highlight(sentence))
    return None
