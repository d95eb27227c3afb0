"""Judging whether the best passage answers: the calibrated signals of qa.search.confidence."""

from __future__ import annotations

import pytest

from qa.search.confidence import NONE, OPEN, READING, WITHOUT_READING, assess, needs_reading, read, with_reading
from qa.search.retrieval import Hit
from tests.fakes import FakeEncoder

IDF = {"koussa": 5.0, "defect": 3.0, "london": 2.0}
PASSAGE = "Moussa Koussa defected to London. The weather was mild."


def hits(dense: float, second: float = 0.2) -> list[Hit]:
    return [Hit(1, 0.9, dense=dense, lexical=8.0), Hit(2, second, dense=second, lexical=1.0)]


def test_nothing_found_is_not_confident():
    assert assess(["koussa"], IDF, 1000, [], None) == NONE
    assert not NONE.confident


def test_one_sentence_holding_the_question_counts_as_coverage():
    judged = assess(["koussa", "defect", "london"], IDF, 1000, hits(0.5), PASSAGE)
    assert judged.coverage == 1.0 and judged.known == 1.0
    partly = assess(["koussa", "weather"], {**IDF, "weather": 5.0}, 1000, hits(0.5), PASSAGE)
    assert partly.coverage == 0.5  # each sentence holds one of two equally rare words


def test_words_the_index_lacks_lower_the_confidence():
    """A question about something the documents never mention is less likely answered here."""
    covered = assess(["koussa", "defect"], IDF, 1000, hits(0.45), PASSAGE)
    foreign = assess(["koussa", "quarterback", "superbowl"], IDF, 1000, hits(0.45), PASSAGE)
    assert foreign.known < 1.0
    assert foreign.probability < covered.probability


def test_a_closer_passage_and_a_clearer_lead_raise_the_confidence():
    terms = ["koussa", "defect"]
    assert (
        assess(terms, IDF, 1000, hits(0.6), PASSAGE).probability
        > assess(terms, IDF, 1000, hits(0.3), PASSAGE).probability
    )
    lead = assess(terms, IDF, 1000, hits(0.5, second=0.1), PASSAGE)
    tie = assess(terms, IDF, 1000, [Hit(1, 0.9, 0.5, 8.0), Hit(2, 0.89, 0.5, 8.0)], PASSAGE)
    assert lead.margin > tie.margin and lead.probability > tie.probability


def test_a_close_passage_that_holds_the_question_is_answered_and_a_far_one_is_not():
    assert assess(["koussa", "defect", "london"], IDF, 1000, hits(0.6), PASSAGE).confident
    assert not assess(["quarterback", "superbowl"], IDF, 1000, hits(0.1), PASSAGE).confident


def test_a_passage_that_speaks_to_each_word_of_the_question_reads_closer():
    """`reading` takes each of the question's words to its closest piece of the passage: a passage
    holding them reads closer than one holding only the question's stop words."""
    encoder = FakeEncoder()
    question, answers, elsewhere = encoder.read_tokens(
        [
            "How many columns can a table have?",
            "Limits › Columns\nA table can have as many as 2000 columns.",
            "Schema\nHow is the index of a row stored?",
        ]
    )
    assert read(question, answers) == pytest.approx(1.0)  # "many", "columns", "table": each found
    assert read(question, elsewhere) < read(question, answers)
    (only_stop_words,) = encoder.read_tokens(["How can it be?"])
    assert read(only_stop_words, answers) == 0.0


def test_the_five_signals_judge_alone_and_reading_judges_where_they_leave_the_verdict_open():
    # A question of two rare words, one in the passage: the five signals cannot tell.
    close_run = [Hit(1, 0.5, dense=0.2, lexical=8.0), Hit(2, 0.2, dense=0.2, lexical=1.0)]  # a lead of 0.3
    five = assess(["koussa", "weather"], {**IDF, "weather": 5.0}, 1000, close_run, PASSAGE)
    assert five.reading is None and five.model is WITHOUT_READING and needs_reading(five)
    assert five.threshold == WITHOUT_READING.threshold and len(five.vector()) == len(WITHOUT_READING.signals)
    read_well, read_badly = with_reading(five, 0.85), with_reading(five, 0.2)
    assert read_well.model is READING and read_well.threshold == READING.threshold and len(read_well.vector()) == 6
    assert read_well.confident and not read_badly.confident  # the same five signals, told apart by reading
    assert not needs_reading(read_well)  # read once
    clear = assess(["koussa", "defect", "london"], IDF, 1000, hits(0.9, second=0.1), PASSAGE)
    hopeless = assess(["quarterback", "superbowl"], IDF, 1000, hits(0.1), PASSAGE)
    assert clear.probability > OPEN[1] and not needs_reading(clear)
    assert hopeless.probability < OPEN[0] and not needs_reading(hopeless)
