"""When an index abstains, fitted to its own questions (`qa eval --fit-abstention`, issue 18): the
fit, its leave-one-out estimate, the file beside the index, and every later answer following it."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.search import abstention
from qa.search.confidence import WITHOUT_READING, Confidence
from tests.conftest import SEEDS

ANSWERABLE = [0.90 + 0.005 * i for i in range(20)]


def test_the_threshold_abstains_on_what_it_can_without_abstaining_on_answerable_questions():
    probabilities = ANSWERABLE + [0.5, 0.6, 0.97]
    answerable = [True] * 20 + [False] * 3
    threshold = abstention.fit_rule(probabilities, answerable).threshold
    # 0.97 sits among the answerable ones: abstaining on it would abstain on 14 of 20 of them.
    assert threshold == pytest.approx(0.75)  # halfway between 0.6 and the lowest answerable, 0.90
    # One answerable question in 20 may abstain when that catches more unanswerable ones.
    probabilities = ANSWERABLE + [0.5, 0.902]
    threshold = abstention.fit_rule(probabilities, [True] * 20 + [False] * 2).threshold
    assert sum(p < threshold for p in ANSWERABLE) == 1
    assert sum(p < threshold for p in probabilities[20:]) == 2


def test_the_fit_reports_its_own_counts_and_a_leave_one_out_estimate():
    report = abstention.fit(ANSWERABLE + [0.5, 0.6, 0.97], [True] * 20 + [False] * 3, "q.jsonl", "now")
    assert report.abstention.threshold == pytest.approx(0.75)
    assert (report.answerable_abstained, report.unanswerable_abstained) == ((0, 20), (2, 3))
    # Left out, 0.5 is still below a threshold fitted on 0.6, but 0.6, fitted without, is not
    # below one fitted on 0.5 alone (0.7): the estimate is the honest figure.
    assert report.estimated_unanswerable_abstained == (2, 3)
    assert report.estimated_answerable_abstained == (0, 20)
    with pytest.raises(ValueError, match="cannot answer"):
        abstention.fit(ANSWERABLE, [True] * 20, "q.jsonl", "now")


def test_the_default_is_kept_where_no_fitted_threshold_does_better_on_the_questions():
    """The default reads a question against its first passage where the five signals leave it
    open, which a fitted threshold never does: on some indexes it abstains on what no threshold on
    the five can catch. The fit keeps it there, and the estimate makes the choice again without
    each question."""
    probabilities = ANSWERABLE + [0.5, 0.97, 0.98]  # 0.97 and 0.98 sit among the answerable ones
    answerable = [True] * 20 + [False] * 3
    default_catches_all = [False] * 20 + [True] * 3
    kept = abstention.fit(probabilities, answerable, "q.jsonl", "now", by_default=default_catches_all)
    assert kept.keeps_default and kept.abstention.is_default
    assert (kept.answerable_abstained, kept.unanswerable_abstained) == ((0, 20), (3, 3))
    assert kept.estimated_unanswerable_abstained == (3, 3) and kept.estimated_answerable_abstained == (0, 20)

    default_catches_none = [False] * 23
    fitted = abstention.fit(probabilities, answerable, "q.jsonl", "now", by_default=default_catches_none)
    assert not fitted.keeps_default and not fitted.abstention.is_default
    assert fitted.unanswerable_abstained == (1, 3)  # 0.5: the threshold does better than the default
    # A default that catches as many but abstains on more answerable questions than allowed is no choice.
    over_budget = [True] * 2 + [False] * 18 + [True] * 3
    assert not abstention.fit(probabilities, answerable, "q.jsonl", "now", by_default=over_budget).keeps_default


def test_a_fit_that_keeps_the_default_removes_an_earlier_fitted_threshold(tmp_path, fake_model, monkeypatch):
    from qa.ingest.indexing import index_paths
    from tests.fakes import FakeEncoder

    index_dir = tmp_path / "seeds.qa"
    index_paths([SEEDS], index_dir, encoder=FakeEncoder())
    abstention.write(index_dir, replace(abstention.DEFAULT, threshold=0.9, answerable=5, unanswerable=2))
    monkeypatch.setattr(abstention, "_keeps_default", lambda answerable, by_rule, by_default: True)
    questions = questions_file(tmp_path / "mine.jsonl")
    args = ["eval", str(questions), "--index", str(index_dir), "--fit-abstention"]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Keeps the default threshold" in result.output and "expected on new questions" in result.output
    assert not (index_dir / abstention.FILE).exists() and abstention.read(index_dir) == abstention.DEFAULT
    info = CliRunner().invoke(app, ["info", "--index", str(index_dir)])
    assert "fitted on" not in info.output


def test_a_floor_on_known_words_is_fitted_only_where_it_catches_more():
    """On a corpus about one subject, questions about what no page mentions score as high as the
    answerable ones (0.95, 0.99) but hold words the index lacks: a floor on `known` catches them."""
    probabilities = ANSWERABLE + [0.95, 0.99, 0.5]
    answerable = [True] * 20 + [False] * 3
    known = [1.0] * 19 + [0.6] + [0.3, 0.5, 1.0]  # one answerable question with a rare word of its own
    threshold, floor, on_names = abstention.fit_rule(probabilities, answerable, known)
    assert floor == pytest.approx(0.55)  # the lowest floor under 0.6 that catches both: at most 1 in 20 allowed
    assert threshold == pytest.approx(0.7)  # and the threshold still catches 0.5
    report = abstention.fit(probabilities, answerable, "q.jsonl", "now", known)
    assert report.abstention.min_known == pytest.approx(0.55)
    assert (report.answerable_abstained, report.unanswerable_abstained) == ((0, 20), (3, 3))
    # Where the words tell nothing, no floor: the threshold alone, as without them.
    same = ANSWERABLE + [0.5, 0.6, 0.97]
    assert abstention.fit_rule(same, answerable, [1.0] * 23) == (pytest.approx(0.75), 0.0, False)


def test_the_fit_abstains_on_questions_naming_what_no_page_holds_only_where_that_catches_more():
    """A question about a thing no page names (0.99 here) can score above every answerable one; the
    fit may abstain on all such questions, and an answerable one among them spends the budget."""
    probabilities = ANSWERABLE + [0.5, 0.902, 0.99]
    answerable = [True] * 20 + [False] * 3
    named = [False] * 20 + [False, False, True]
    report = abstention.fit(probabilities, answerable, "q.jsonl", "now", None, named)
    assert report.abstention.abstain_on_names
    assert (report.answerable_abstained, report.unanswerable_abstained) == ((1, 20), (3, 3))
    # Left out, 0.99 and 0.902 are each the only question of their kind, and the rest's fit misses
    # them: the estimate says so.
    assert report.estimated_unanswerable_abstained == (1, 3)
    # One answerable question also names what the pages spell otherwise: abstaining on names
    # would spend the one in 20 that the threshold spends as well to catch 0.902, so it is not kept.
    named = [False] * 19 + [True] + [False, False, True]
    report = abstention.fit(probabilities, answerable, "q.jsonl", "now", None, named)
    assert not report.abstention.abstain_on_names
    assert (report.answerable_abstained, report.unanswerable_abstained) == ((1, 20), (2, 3))
    # More such answerable questions than the budget: never.
    named = [True] * 3 + [False] * 17 + [False, False, True]
    assert not abstention.fit(probabilities, answerable, "q.jsonl", "now", None, named).abstention.abstain_on_names


def test_an_answer_abstains_on_a_name_no_page_holds_only_where_the_fit_chose_to():
    judged = Confidence(dense=0.7, coverage=0.9, known=1.0, margin=0.1, probability=0.99, names=1)
    assert judged.confident
    assert not replace(judged, abstain_on_names=True).confident
    assert replace(judged, abstain_on_names=True, names=0).confident


def test_an_answer_abstains_below_the_floor_whatever_its_probability():
    judged = Confidence(dense=0.7, coverage=0.9, known=0.5, margin=0.1, probability=0.99)
    assert judged.confident
    assert not replace(judged, min_known=0.55).confident
    assert replace(judged, min_known=0.5).confident


def test_the_file_is_read_back_and_a_broken_one_falls_back_to_the_default(tmp_path, caplog):
    assert abstention.read(tmp_path) == abstention.DEFAULT
    fitted = abstention.Abstention(0.8, 20, 3, "q.jsonl", "2026-12-03T06:00:00+00:00", min_known=0.65)
    abstention.write(tmp_path, fitted)
    assert abstention.read(tmp_path) == fitted
    # a file fitted to an earlier confidence model (written before `model` was kept, or to other
    # constants) means another probability: the default judges until the index is fitted again
    for model in ({}, {"model": "0123456789ab"}):
        (tmp_path / abstention.FILE).write_text(json.dumps({"threshold": 0.8, "answerable": 20, **model}))
        with caplog.at_level(logging.WARNING):
            assert abstention.read(tmp_path) == abstention.DEFAULT
        assert "fitted to an earlier confidence model" in caplog.text and "--fit-abstention" in caplog.text
        caplog.clear()
    (tmp_path / abstention.FILE).write_text("{not json")
    with caplog.at_level(logging.WARNING):
        assert abstention.read(tmp_path).threshold == WITHOUT_READING.threshold
    assert "unreadable" in caplog.text


def questions_file(path: Path) -> Path:
    records = [
        ("q1", "How many Libyan army officers appeared in Rome?", ["Eight"]),
        ("q2", "Who is Moussa Koussa?", ["Koussa"]),
        ("q3", "Which officials defected from the Libyan regime?", ["defect"]),
        ("q4", "What did the military officials say about the killing of civilians?", ["civilians"]),
        ("q5", "Where was the foreign minister going?", ["Koussa"]),
        ("q6", "What is the tallest mountain in Africa?", []),
        ("q7", "How do I bake sourdough bread at home?", []),
    ]
    path.write_text("".join(json.dumps({"id": i, "question": q, "answers": a}) + "\n" for i, q, a in records))
    return path


def test_qa_eval_fits_the_index_and_every_later_answer_follows_it(tmp_path, fake_model):
    from qa.collection import Collection
    from qa.ingest.indexing import index_paths
    from tests.fakes import FakeEncoder

    index_dir = tmp_path / "seeds.qa"
    index_paths([SEEDS], index_dir, encoder=FakeEncoder())
    questions = questions_file(tmp_path / "mine.jsonl")
    result = CliRunner().invoke(app, ["eval", str(questions), "--index", str(index_dir), "--fit-abstention"])
    assert result.exit_code == 0, result.output
    assert "Abstains below a confidence of" in result.output and "each left out of the fit" in result.output
    fitted = abstention.read(index_dir)
    assert (fitted.fitted_on, fitted.answerable, fitted.unanswerable) == ("mine.jsonl", 5, 2)

    collection = Collection.open(index_dir)
    records = [json.loads(line) for line in questions.read_text().splitlines()]
    confidences = {r["id"]: collection.rank(r["question"], 20).confidence for r in records}
    probabilities = {key: confidence.probability for key, confidence in confidences.items()}
    for record in records:  # the CLI, the API and MCP all answer through ask
        answer = collection.ask(record["question"])
        judged = confidences[record["id"]]
        assert answer.answered == (
            judged.probability >= fitted.threshold
            and judged.known >= fitted.min_known
            and not (fitted.abstain_on_names and judged.names)
        )
    lowest_answerable = min(probabilities[r["id"]] for r in records if r["answers"])
    assert all(probabilities[r["id"]] >= fitted.threshold for r in records if r["answers"])  # none of 5 abstains
    caught = [r["id"] for r in records if not r["answers"] and probabilities[r["id"]] < lowest_answerable]
    assert [r["id"] for r in records if not r["answers"] and probabilities[r["id"]] < fitted.threshold] == caught
    assert collection.stats().abstention_fitted_on == "mine.jsonl"
    info = CliRunner().invoke(app, ["info", "--index", str(index_dir)])
    assert "fitted on mine.jsonl" in info.output
    abstention.write(index_dir, replace(fitted, min_known=0.65))  # a floor, as the fit may choose
    info = CliRunner().invoke(app, ["info", "--index", str(index_dir)], env={"COLUMNS": "200"})
    assert "or when under 65% of a question" in info.output


def test_fitting_needs_both_kinds_of_questions(tmp_path, fake_seeds_index, fake_model):
    questions = tmp_path / "answerable.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": "Who is Moussa Koussa?", "answers": ["Koussa"]}) + "\n")
    result = CliRunner().invoke(app, ["eval", str(questions), "--index", str(fake_seeds_index), "--fit-abstention"])
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "cannot answer" in result.output
    assert not (fake_seeds_index / abstention.FILE).exists()


def test_a_name_no_passage_holds_counts_and_a_typo_of_one_that_it_holds_does_not(fake_seeds_index, fake_encoder):
    """ "Kubernetes" is in no seed; "Kousa" and "Londn" are typos of names the seeds hold, one edit
    away, and a user who mistypes a name should not be told the documents never mention it."""
    from qa.collection import Collection

    collection = Collection.open(fake_seeds_index, encoder=fake_encoder)

    def names(question: str) -> int:
        return collection.rank(question, 5).confidence.names

    assert names("Did Moussa Koussa defect to Kubernetes?") == 1
    assert names("Did Moussa Kousa defect to Londn?") == 0
    assert names("Did Moussa Koussa defect to London?") == 0
    assert names("did moussa koussa defect to kubernetes?") == 0  # written in lower case, no name is told apart
    # Two names, each in no seed, counted apart; a word in lower case is no name.
    assert names("Did Moussa Koussa defect to Kubernetes on Mastodon or zeppelins?") == 2


def test_the_question_is_read_against_its_first_passage_where_the_five_signals_leave_it_open(
    fake_seeds_index, fake_encoder, tmp_path
):
    """With an encoder that reads word pieces, the first passage's `reading` joins the confidence
    where the five signals leave the default verdict open, and nowhere else; with one that cannot,
    or under a threshold fitted to the index (fitted to the five), the five judge, at their own
    threshold, and answering goes on."""
    import shutil

    from benchmarks.bench_reading import FiveSignalsOnly
    from qa.collection import Collection
    from qa.search.confidence import OPEN, READING, WITHOUT_READING, needs_reading

    collection = Collection.open(fake_seeds_index, encoder=fake_encoder)
    words_only = Collection.open(fake_seeds_index, encoder=FiveSignalsOnly(fake_encoder))
    assert collection.reader is fake_encoder and words_only.reader is None
    # Football is in no seed, yet the rest of the question comes close; the others are clear either
    # way. A question naming what no seed holds ("Norway") can leave the verdict as open; it is left
    # to the five signals, which know the name is missing.
    open_question = "Did the ambassador like football?"
    questions = [
        "Did Moussa Koussa defect to London?",
        "Who is Moussa Koussa?",
        open_question,
        "Who won the Super Bowl?",
        "Did the foreign minister of Libya defect to Norway?",
    ]
    read_where_open = {
        q: (collection.rank(q, 5).confidence.reading is not None, needs_reading(words_only.rank(q, 5).confidence))
        for q in questions
    }
    assert all(read == open_ for read, open_ in read_where_open.values())
    named = words_only.rank("Did the foreign minister of Libya defect to Norway?", 5).confidence
    assert named.names == 1 and OPEN[0] <= named.probability <= OPEN[1] and not needs_reading(named)
    assert read_where_open[open_question] == (True, True)
    assert {read for read, _ in read_where_open.values()} == {True, False}

    read = collection.rank(open_question, 5).confidence
    assert read.model is READING and 0 < read.reading <= 1 and read.threshold == READING.threshold
    for five in (
        collection.rank(open_question, 5, read=False).confidence,
        words_only.rank(open_question, 5).confidence,
    ):
        assert five.reading is None and five.model is WITHOUT_READING and five.threshold == WITHOUT_READING.threshold
    assert words_only.ask(open_question).passages

    fitted_dir = tmp_path / "fitted.qa"
    shutil.copytree(fake_seeds_index, fitted_dir)
    abstention.write(fitted_dir, replace(abstention.DEFAULT, threshold=0.5, answerable=20, unanswerable=5))
    fitted = Collection.open(fitted_dir, encoder=fake_encoder).rank(open_question, 5).confidence
    assert fitted.reading is None and fitted.threshold == 0.5


def test_a_threshold_fitted_to_the_earlier_model_is_judged_by_it_until_fitted_again(tmp_path, fake_model):
    """The five signals' model was refitted on 2026-12-06 (questions about the corpus's own subject
    joined the calibration set). A threshold fitted before belongs to the earlier model's
    probability: the index keeps answering by that model and that threshold, with no warning, and
    a new fit moves it to today's."""
    from qa.collection import Collection
    from qa.ingest.indexing import index_paths
    from qa.search.confidence import FITTED_TO, MODEL
    from tests.fakes import FakeEncoder

    index_dir = tmp_path / "seeds.qa"
    index_paths([SEEDS], index_dir, encoder=FakeEncoder())
    question = "Who is Moussa Koussa?"
    today = Collection.open(index_dir).rank(question, 20).confidence
    earlier_fit = {"threshold": 0.8, "answerable": 61, "unanswerable": 6, "min_known": 0.6, "model": "52f430b2e4ff"}
    (index_dir / abstention.FILE).write_text(json.dumps(earlier_fit))
    kept = abstention.read(index_dir)
    earlier = FITTED_TO["52f430b2e4ff"]
    assert kept.threshold == 0.8 and kept.judged_by is earlier and earlier != WITHOUT_READING
    judged = Collection.open(index_dir).rank(question, 20).confidence
    assert judged.threshold == 0.8 and judged.probability == pytest.approx(earlier.probability(today.vector()))
    assert judged.probability != pytest.approx(today.probability)

    result = CliRunner().invoke(
        app, ["eval", str(questions_file(tmp_path / "mine.jsonl")), "--index", str(index_dir), "--fit-abstention"]
    )
    assert result.exit_code == 0, result.output
    refitted = abstention.read(index_dir)
    assert refitted.model == MODEL and refitted.judged_by is WITHOUT_READING
    assert Collection.open(index_dir).rank(question, 20).confidence.probability == pytest.approx(today.probability)
