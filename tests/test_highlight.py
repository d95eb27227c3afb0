"""The short form of a passage: the highlighted sentence with one sentence of context either side."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.answers import Highlight
from qa.search.highlight import best_sentence, context_span
from qa.text.analysis import question_terms

PASSAGE = (
    "The harbour opened in 1901. Ferries left for Gozo each morning at seven. "
    "The timetable changed in 2011 when a second ferry arrived. Fares rose the next year. "
    "Tourists now outnumber residents on summer crossings."
)


def shown(text: str, highlight: Highlight, **rule) -> str:
    context = context_span(text, highlight, **rule)
    return text[context.start : context.end]


def test_one_sentence_either_side_of_the_highlight() -> None:
    highlight = best_sentence(PASSAGE, ["timetabl", "2011"])
    assert PASSAGE[highlight.start : highlight.end] == "The timetable changed in 2011 when a second ferry arrived."
    assert shown(PASSAGE, highlight) == (
        "Ferries left for Gozo each morning at seven. "
        "The timetable changed in 2011 when a second ferry arrived. Fares rose the next year."
    )


def test_at_the_edges_there_is_nothing_more_to_show() -> None:
    first = Highlight(start=0, end=len("The harbour opened in 1901."))
    assert shown(PASSAGE, first) == "The harbour opened in 1901. Ferries left for Gozo each morning at seven."
    assert shown("One sentence only.", Highlight(start=0, end=18)) == "One sentence only."


def test_a_short_neighbour_such_as_a_heading_does_not_count_as_context() -> None:
    text = "Earlier history fills this whole opening sentence of the page.\nTimetable\nFerries leave at seven each day."
    highlight = Highlight(start=text.index("Ferries"), end=len(text))
    assert shown(text, highlight) == text  # the heading comes along with the sentence before it
    assert shown(text, highlight, min_neighbour_words=0) == "Timetable\nFerries leave at seven each day."


def test_a_highlight_of_several_sentences_keeps_them_all() -> None:
    start = PASSAGE.index("Ferries")
    end = PASSAGE.index("Fares") - 1
    assert shown(PASSAGE, Highlight(start=start, end=end), around=0) == PASSAGE[start:end]
    assert shown(PASSAGE, Highlight(start=start, end=end)).startswith("The harbour opened")


def test_a_prose_sentence_wins_over_a_heading_or_code_that_matches_more() -> None:
    passage = (
        "Maximum Number Of Columns\n\nsqlite> SELECT max columns FROM limits;\n\n"
        "The default setting for the maximum number of columns is 2000."
    )
    highlight = best_sentence(passage, ["maximum", "number", "columns"])
    assert passage[highlight.start : highlight.end] == "The default setting for the maximum number of columns is 2000."


def test_without_a_prose_sentence_the_block_is_highlighted() -> None:
    passage = "Build steps\n\nssh build.example\nmake release\n\nDone"
    highlight = best_sentence(passage, ["make", "release"])
    assert passage[highlight.start : highlight.end] == "ssh build.example\nmake release"


def test_a_definitions_term_alone_is_highlighted_with_what_it_means() -> None:
    """A manual's definition list, where no prose sentence matches: the term matches the question,
    but the highlight must reach the description that answers it (borg's key file fields)."""
    passage = (
        "salt\n\nrandom 256 bits salt used to process the passphrase\n\n"
        "iterations\n\nnumber of iterations used to process the passphrase (currently 100000)\n\nhash"
    )
    highlight = best_sentence(passage, question_terms("How many iterations?"))
    assert passage[highlight.start : highlight.end] == (
        "iterations\n\nnumber of iterations used to process the passphrase (currently 100000)"
    )


def test_a_name_matched_only_in_its_signature_is_answered_by_the_sentence_that_describes_it() -> None:
    """An API page names the function only in its signature: the highlight is the sentence after
    it, which says what it does, not the code line."""
    passage = (
        "Set A Busy Timeout\n\nint sqlite3_busy_timeout(sqlite3*, int ms);\n\n"
        "This routine sets a busy handler that sleeps for a specified amount of time when a table is locked. "
        "The handler will sleep multiple times."
    )
    highlight = best_sentence(passage, ["sqlite3_busy_timeout"])
    assert passage[highlight.start : highlight.end] == (
        "This routine sets a busy handler that sleeps for a specified amount of time when a table is locked."
    )


def test_a_match_in_a_fragment_of_prose_stays_where_it_is() -> None:
    """A quotation taken up mid-sentence is no name that the next paragraph explains: its block is
    highlighted, as before."""
    passage = (
        "...increasingly, his sons have become aware of the problem, despite the bellicose language.\n\n"
        "The envoy's visit is all the more significant given the defection."
    )
    highlight = best_sentence(passage, ["languag"])
    assert passage[highlight.start : highlight.end].startswith("...increasingly")


def test_what_counts_as_a_prose_sentence() -> None:
    from qa.text.prose import is_prose_sentence

    assert is_prose_sentence("The default value of this macro is 1 billion.")
    assert is_prose_sentence("sqlite3_open() opens a database file.")
    assert not is_prose_sentence("The global interpreter lock need not")  # a fragment cut at a line break
    assert not is_prose_sentence("generators:")
    assert not is_prose_sentence("Writing results to a file")  # a heading
    assert not is_prose_sentence("sqlite> .import --csv data.csv tab1")
    assert not is_prose_sentence("is that it is a declarative language.")  # starts mid-sentence
    assert not is_prose_sentence("...increasingly, his sons have become aware of it.")  # a quotation taken up mid-way
    assert is_prose_sentence("...And then the talks failed for good.")
    assert not is_prose_sentence("INSERT INTO t3(docid, b, c) SELECT id, b, c FROM t2;")
    assert not is_prose_sentence("# and provides a versioned view on files.")  # a comment in a shell example
    assert not is_prose_sentence("-- Keep the old rows until the migration is done.")  # and in SQL
    assert not is_prose_sentence("2.2 Naming of the nodes . . . . . . . . . . . 3 2.3 Simple parsing.")  # contents


def test_the_benchmarks_simpler_check_takes_a_sentence_that_starts_with_a_name_in_lower_case() -> None:
    """benchmarks/highlight_prose.py grades highlights by its own rule, not the highlighter's: a
    manual's sentence may start with a command or element name set in lower case, and a fragment
    cut at a line break starts with a plain word."""
    from benchmarks.highlight_prose import is_prose_sentence

    assert is_prose_sentence("asn1Parser reads a single file with ASN.1 definitions.")
    assert is_prose_sentence("generic-icon elements specify the icon to use for this type.")
    assert is_prose_sentence("git_config_get_string() reads one value.")
    assert not is_prose_sentence("directory is added to the list of places searched.")
    assert not is_prose_sentence("e.g. when the file is missing.")
    assert not is_prose_sentence("asn1Parser reads a file\nwith ASN.1 definitions.")
    # a news report's sentence that goes on from a quotation cut short opens with an ellipsis
    assert is_prose_sentence("…increasingly, according to those familiar with it, they have a problem.")
    assert is_prose_sentence("...increasingly, according to those familiar with it, they have a problem.")
    assert not is_prose_sentence("…increasingly, according to")


def test_a_pdfs_table_of_contents_is_page_furniture_however_many_its_dots() -> None:
    """A table of contents or a book's index with dot leaders, joined as a PDF paragraph: its dots
    counted as words made it prose, so it was not ranked down as the link lists of a web page are."""
    from qa.search.retrieval import furniture_share

    contents = "2.1 ASN.1 syntax. . . . . . . . . . . . . . . . . 2 2.2 Naming . . . . . . . . . . . . . . . . 3"
    assert furniture_share(contents) == 1.0
    assert furniture_share("Wait for it... then the next one starts, and so on, until the end of the day.") == 0.0


def indexed_then_asked(tmp_path: Path, name: str, text: str, question: str):
    """`text` saved as `name`, indexed by `qa index` (the fake model) and asked: the first passage."""
    from typer.testing import CliRunner

    from qa.cli import app
    from qa.collection import Collection

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / name).write_text(text)
    result = CliRunner().invoke(app, ["index", str(docs), "--index", str(tmp_path / "docs.qa")])
    assert result.exit_code == 0, result.output
    return Collection.open(tmp_path / "docs.qa").ask(question, top_k=1).passages[0]


def test_a_hard_wrapped_text_file_is_answered_with_a_whole_sentence(tmp_path, fake_model) -> None:
    """A plain text file written at 72 columns: the highlight is the sentence, not the half of it
    on one line, nor the whole paragraph."""
    policy = (
        "Travel policy\n\n"
        "Every trip that costs more than five hundred euros must be approved by the\n"
        "head of the department before the tickets are booked. Receipts are kept\n"
        "for seven years, in the folder of the year the trip was made.\n"
    )
    passage = indexed_then_asked(tmp_path, "policy.txt", policy, "Who must approve an expensive trip?")
    assert passage.text[passage.highlight.start : passage.highlight.end] == (
        "Every trip that costs more than five hundred euros must be approved by the head of the department "
        "before the tickets are booked."
    )


def test_a_text_file_shown_in_a_web_page_is_answered_with_a_whole_sentence(tmp_path, fake_model) -> None:
    """A manual that shows a text file as it is, in `<pre>` (borg's prune example): its notes are
    hard-wrapped prose and are answered with whole sentences, while the calendar and the shell
    commands in the same `<pre>` keep their lines."""
    page = (
        "<html><head><title>borg prune</title></head><body><h1>borg prune</h1>"
        "<p>There is also a visualized prune example:</p><pre>"
        "List view\n---------\n\n 1. 2015-12-31\n 2. 2015-12-30\n\n"
        "$ borg prune --keep-daily 14 /path/to/repo\n$ borg compact /path/to/repo\n\n"
        "2015-12-17 is kept to satisfy the --keep-daily 14 rule - because no backup was\n"
        "made on 2015-12-19. If a backup had been made on that day, it would not keep\n"
        "the one from 2015-12-17.\n</pre></body></html>"
    )
    passage = indexed_then_asked(tmp_path, "prune.html", page, "Why is the backup of 2015-12-17 kept?")
    assert passage.text[passage.highlight.start : passage.highlight.end] == (
        "2015-12-17 is kept to satisfy the --keep-daily 14 rule - because no backup was made on 2015-12-19."
    )
    assert "$ borg prune --keep-daily 14 /path/to/repo\n$ borg compact /path/to/repo" in passage.text
    assert "1. 2015-12-31\n2. 2015-12-30" in passage.text


@pytest.mark.slow
def test_the_real_model_answers_a_hard_wrapped_licence_with_its_whole_sentence(tmp_path) -> None:
    """The licence texts Debian ships are written at 72 columns (benchmarks/sets/licenses/)."""
    from qa.collection import Collection
    from qa.ingest.indexing import index_paths
    from tests.conftest import real_encoder

    corpus = Path(__file__).resolve().parents[1] / "benchmarks" / "sets" / "licenses" / "corpus"
    index_paths([corpus], tmp_path / "licences.qa", encoder=real_encoder())
    answer = Collection.open(tmp_path / "licences.qa").ask(
        "Does the Apache License allow me to use the licensor's trademarks?", top_k=1
    )
    passage = answer.passages[0]
    assert passage.citation.source == "Apache-2.0.txt"
    assert passage.text[passage.highlight.start : passage.highlight.end] == (
        "This License does not grant permission to use the trade names, trademarks, service marks, or product "
        "names of the Licensor, except as required for reasonable and customary use in describing the origin of "
        "the Work and reproducing the content of the NOTICE file."
    )


@pytest.mark.slow
def test_the_real_model_answers_from_a_text_file_shown_in_a_manual_page_with_a_whole_sentence(tmp_path) -> None:
    """BorgBackup's prune page shows its example as a text file in `<pre>` (benchmarks/sets/borg-docs/)."""
    import shutil

    from qa.collection import Collection
    from qa.ingest.indexing import index_paths
    from tests.conftest import real_encoder

    page = Path(__file__).resolve().parents[1] / "benchmarks" / "sets" / "borg-docs" / "corpus" / "usage" / "prune.html"
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(page, docs / "prune.html")
    index_paths([docs], tmp_path / "borg.qa", encoder=real_encoder())
    answer = Collection.open(tmp_path / "borg.qa").ask("Why was the backup of 2015-12-17 kept by prune?", top_k=1)
    passage = answer.passages[0]
    assert passage.text[passage.highlight.start : passage.highlight.end] == (
        "2015-12-17 is kept to satisfy the --keep-daily 14 rule - because no backup was made on 2015-12-19."
    )


FAQ = (
    "My backup disk is full, what can I do?\n\n"
    "Borg cannot work if you really have zero free space on the backup disk, so the first thing "
    "you must do is delete some files. Then prune old archives to free more space."
)


def test_a_faqs_question_is_not_the_highlight_the_answer_below_it_is() -> None:
    """A FAQ's question matches the user's best of all its sentences, but answers nothing: the first
    whole sentence below it does."""
    highlight = best_sentence(FAQ, question_terms("What can I do when my backup disk is full?"))
    assert FAQ[highlight.start : highlight.end].startswith("Borg cannot work if you really have zero free space")


def test_a_question_with_nothing_after_it_that_answers_stays_the_highlight() -> None:
    text = "Is my backup disk full, and what can I do?\n\nborg compact /path/to/repo"
    highlight = best_sentence(text, question_terms("What can I do when my backup disk is full?"))
    assert text[highlight.start : highlight.end] == "Is my backup disk full, and what can I do?"


# Node.js's child_process.html, as `qa ask "How do I run a shell command and get its output?"`
# quoted it: the cross-reference matched "shell" twice and was the highlight of four passages.
SHELL_OPTION = (
    "shell <boolean> | <string> If true, runs command inside of a shell. Uses '/bin/sh' on Unix, "
    "and process.env.ComSpec on Windows. A different shell can be specified as a string. "
    "See Shell requirements and Default Windows shell."
)


def test_a_pointer_elsewhere_is_not_the_highlight_when_a_sentence_says_something() -> None:
    highlight = best_sentence(SHELL_OPTION, question_terms("How do I run a shell command and get its output?"))
    assert SHELL_OPTION[highlight.start : highlight.end] in (
        "If true, runs command inside of a shell.",
        "A different shell can be specified as a string.",
    )


@pytest.mark.parametrize(
    ("sentence", "pointer"),
    [
        ("See Shell requirements and Default Windows shell.", True),
        ("For more information, see the section on checkpoints.", True),
        ("Please refer to the FAQ for the details of locking.", True),
        ("Seeding the generator twice gives the same numbers.", False),  # "see" as a word's start
        ("See how the ferry leaves at seven: the next one waits for the bus.", False),  # an example to read
        ("See " + "the section on checkpoints and the WAL file, " * 3 + "in the manual.", False),  # too long for one
        ("The checkpoint runs when the WAL file reaches 1000 pages; see the section on checkpoints for more.", False),
    ],
)
def test_pointers_are_sentences_that_open_by_sending_the_reader_elsewhere(sentence: str, pointer: bool) -> None:
    from qa.text.prose import is_pointer

    assert is_pointer(sentence) is pointer


def test_a_pointer_alone_stays_the_highlight() -> None:
    text = "Checkpoints\n\nSee the section on checkpoints in the WAL documentation."
    highlight = best_sentence(text, question_terms("How do checkpoints work?"))
    assert text[highlight.start : highlight.end] == "See the section on checkpoints in the WAL documentation."


def test_a_list_items_bullet_is_not_highlighted(tmp_path, fake_model) -> None:
    """A PDF or a text file keeps a list item's bullet in its text: the highlight starts at the
    sentence's first word, not at "• " (before, 2 of the PDF set's highlights began with one)."""
    text = (
        "Subclassing\n\n"
        "• All text/* types are subclasses of text/plain.\n"
        "• All streamable types are subclasses of application/octet-stream.\n"
    )
    passage = indexed_then_asked(tmp_path, "spec.txt", text, "Are all text types subclasses of text/plain?")
    assert passage.highlighted == "All text/* types are subclasses of text/plain."
