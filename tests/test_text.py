from pathlib import Path

import pytest

from qa.text.analysis import names_not_found, question_terms, words_not_found
from qa.text.normalize import normalize_text
from qa.text.prose import is_introduction
from qa.text.questions import asks_for_code, asks_what_it_is, is_overview
from qa.text.sentences import sentence_spans

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def test_normalize_turns_nbsp_into_space_and_collapses_whitespace():
    assert normalize_text("the African\u00a0Union  met\t today") == "the African Union met today"


def test_normalize_keeps_paragraphs_but_only_one_blank_line():
    assert normalize_text("one\r\n\r\n\r\n\r\ntwo  \nthree") == "one\n\ntwo\nthree"


def test_normalize_applies_nfkc_and_drops_control_characters():
    assert normalize_text("ﬁne\x00 ①") == "fine 1"


def test_sentences_respect_abbreviations_initials_and_lines():
    text = 'Col. Bani spoke to Mr. Hague in the U.S. capital. "We left," he said! Then W. Bush.\nNew line'
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "Col. Bani spoke to Mr. Hague in the U.S. capital.",
        '"We left," he said!',
        "Then W. Bush.",
        "New line",
    ]


def test_sentences_are_not_cut_by_the_abbreviations_squad_answers_met():
    """The boundaries that cut SQuAD dev-a answers (benchmarks/sentence_splitters.py)."""
    text = (
        "It amounted to ca. 2 million. A third, Trinity-St. Paul's, replaced it. "
        "A book by J.I. Pontanus says so. He quoted (Ps. 31:5) twice."
    )
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "It amounted to ca. 2 million.",
        "A third, Trinity-St. Paul's, replaced it.",
        "A book by J.I. Pontanus says so.",
        "He quoted (Ps. 31:5) twice.",
    ]


def test_sentences_are_not_cut_after_eg_or_ie_written_without_their_first_period():
    """Valgrind's quick start: the highlight of "How much slower does my program run under
    Memcheck?" was "Your program will run much slower (eg." """
    text = (
        "Your program will run much slower (eg. 20 to 30 times) than normal, and use a lot more memory. Ie. be patient."
    )
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Your program will run much slower (eg. 20 to 30 times) than normal, and use a lot more memory.",
        "Ie. be patient.",
    ]


def test_sentence_spans_are_trimmed_offsets_into_the_text():
    text = "  First one.   Second one?  \n\n Third"
    for start, end in sentence_spans(text):
        assert text[start:end] == text[start:end].strip()
    assert [text[s:e] for s, e in sentence_spans(text)] == ["First one.", "Second one?", "Third"]


# A sentence that exercises every test of a candidate end: an abbreviation, initials, "a.m."
# before a lower-case word, and a real end.
LONG_LINE_SENTENCE = "Mr. Hague met J.I. Pontanus at 9 a.m. and left on the ferry."


def test_a_one_megabyte_line_is_split_into_its_sentences():
    """A whole document on one line (a minified export, an upload without line breaks): each
    sentence found, exactly as in a short text. Splitting used to be quadratic in line length
    (100k characters: 9.9 s; this line: 10-17 minutes)."""
    count = 1_000_000 // (len(LONG_LINE_SENTENCE) + 1)
    text = " ".join([LONG_LINE_SENTENCE] * count)
    assert len(text) > 990_000 and "\n" not in text
    spans = sentence_spans(text)
    assert len(spans) == count
    assert {text[start:end] for start, end in spans} == {LONG_LINE_SENTENCE}
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


def test_a_long_run_of_end_marks_is_one_candidate():
    """Half a million periods with no space after them end no sentence (and are not retried at
    each of their characters)."""
    text = "It began" + "." * 500_000 + "x. Then it ended."
    assert [text[s:e] for s, e in sentence_spans(text)] == [text[: -len(" Then it ended.")], "Then it ended."]


def test_words_not_found_are_the_questions_own_spelling_of_what_no_passage_holds():
    found = set(question_terms("Libyan officers defected to London"))
    question = "Which Libyan officers defected to Kubernetes, and did KUBERNETES or Londn see them?"
    # stop words are never named; a word is named once, as first written; a stem found is enough
    assert words_not_found(question, found) == ["Kubernetes", "Londn", "see"]
    assert words_not_found("Who defects from Libya?", set(question_terms("defected Libya"))) == []


def test_names_not_found_are_the_missing_words_the_question_writes_as_names():
    found = set(question_terms("SQLite runs on Linux and macOS"))
    question = 'Docker: can SQLite run in Docker on iOS with Amazon S3, or the "Helm" chart? Kubernetes too.'
    # a capital where no sentence starts, or inside a word; a word written once as a name is one;
    # lower-case words ("chart") and words at a sentence's start alone ("Kubernetes") are not
    assert names_not_found(question, found) == ["Docker", "iOS", "Amazon", "S3", "Helm"]
    assert words_not_found(question, found) == ["Docker", "iOS", "Amazon", "S3", "Helm", "chart", "Kubernetes"]
    assert names_not_found("Does SQLite run on macOS?", found) == []  # names the pages hold
    assert names_not_found("Did Moussa Koussa fly from Tripoli to Norway?", found) == [
        "Moussa",
        "Koussa",
        "Tripoli",
        "Norway",
    ]
    # in title case or capitals, capitals tell nothing
    assert names_not_found("How Do I Run SQLite In Docker On iOS", found) == []
    assert names_not_found("HOW DO I RUN SQLITE IN DOCKER", found) == []


def test_a_word_is_searched_in_its_other_spelling_only_where_the_documents_lack_its_own():
    from qa.text.spelling import respell

    def holding(*words):
        held = {term for word in words for term in question_terms(word)}
        return lambda terms: {term for term in terms if term in held}

    licence, colour = question_terms("licence")[0], question_terms("colour")[0]
    license_, color = question_terms("license")[0], question_terms("color")[0]
    # British asked of American pages, and American of British
    assert respell([licence, colour], holding("license", "color")) == {licence: license_, colour: color}
    assert respell([color], holding("colour")) == {color: colour}
    # pages that hold the question's own spelling are searched as asked, even if they hold both
    assert respell([licence], holding("licence", "license")) == {}
    # no pair, or neither spelling held: nothing to change
    assert respell(question_terms("four hours"), holding("for")) == {}
    assert respell([licence], holding("copyright")) == {}


def test_a_hyphenated_word_is_also_searched_closed_up_where_the_documents_write_it_so():
    from qa.text.spelling import closed_up

    def holding(*words):
        held = {term for word in words for term in question_terms(word)}
        return lambda terms: {term for term in terms if term in held}

    question = "How do I set my e-mail address for an auto-incrementing key?"
    terms = question_terms(question)
    assert "email" not in terms  # the analyser splits the word: "e" is dropped, "mail" kept
    joined = closed_up(question, terms, holding("email", "AUTOINCREMENT"))
    assert joined == {"email": ["mail"], "autoincr": ["auto", "increment"]}  # each with its parts' terms
    # documents that write it hyphenated (or not at all): the parts are searched, nothing more
    assert closed_up(question, terms, holding("mail", "auto", "increment")) == {}
    # numbers joined by a hyphen are a score or a range, not a word
    assert closed_up("Who won 13-0?", question_terms("Who won 13-0?"), holding("130")) == {}
    # a word the question already holds closed up is not added twice
    both = "Is email the same as e-mail?"
    assert closed_up(both, question_terms(both), holding("email")) == {}


def test_a_page_that_writes_a_hyphenated_word_closed_up_is_found_by_its_words(tmp_path, fake_encoder):
    """Asked "e-mail", the analyser searches "mail"; the page that says "email" matches too."""
    from qa.collection import Collection
    from qa.ingest.indexing import index_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "config.md").write_text("# Identity\n\nSet user.email to the address your commits carry.\n")
    (docs / "post.md").write_text("# Post\n\nThe mail room sorts the letters of each floor.\n")
    index_paths([docs], tmp_path / "docs.qa", encoder=fake_encoder)
    collection = Collection.open(tmp_path / "docs.qa", encoder=fake_encoder)
    ranking = collection.rank("Where do I put my e-mail?", 2)
    passages = collection.searcher().snapshot.passages([hit.passage_id for hit in ranking.hits])
    lexical = {passages[hit.passage_id].doc_id: hit.lexical for hit in ranking.hits}
    assert lexical["config"] > 0 and lexical["post"] > 0
    assert collection.ask("Where do I put my e-mail?").missing_words == ["put"]
    # where only "email" is written, "e-mail" is not named missing either
    (docs / "post.md").unlink()
    index_paths([docs], tmp_path / "docs.qa", encoder=fake_encoder)
    assert collection.ask("Where do I put my e-mail?").missing_words == ["put"]


WRAPPED = """Travel expenses

Every trip that costs more than five hundred euros must be approved by the
head of the department before the tickets are booked. Receipts are kept
for seven years.
"""


def test_a_hard_wrapped_paragraph_is_unwrapped_into_whole_sentences():
    from qa.text.normalize import unwrap_paragraphs

    text = normalize_text(unwrap_paragraphs(WRAPPED))
    assert text == (
        "Travel expenses\n\nEvery trip that costs more than five hundred euros must be approved by the head of the "
        "department before the tickets are booked. Receipts are kept for seven years."
    )
    assert [text[s:e] for s, e in sentence_spans(text)][1:] == [
        "Every trip that costs more than five hundred euros must be approved by the head of the department before "
        "the tickets are booked.",
        "Receipts are kept for seven years.",
    ]


@pytest.mark.parametrize(
    "kept",
    [
        "- apples, pears and plums from the orchard by the river\n- bread and butter from the bakery in town\n",
        "1. Open the settings page of the application you use\n2. Choose the account you want to remove\n",
        "A heading that is long enough to look like a wrapped line\n==========================================\n",
        "    for row in rows:\n        total = total + row.amount * row.rate  # in euros\n",
        "> Every trip that costs more than five hundred euros must\n> be approved by the head of the department.\n",
        "Roses are red and violets are blue, my dear\nsugar is sweet\nand so are you.\n",
        "Alice Smith 34 London United Kingdom engineer\nRobert Jones 45 Paris France Europe architect\n",
        "select a+100, b+c from t1 where the total is above ten;\nselect b from t1 union select b from t1;\n",
        "Open the backup object used to accomplish the transfer now\n"
        "pBackup = sqlite3_backup_init(pFile, main, pDb, main)\n",
        "borg prune --verbose --list -d 30 --glob-archives 'main-*' repo\n"
        "borg prune --verbose --list -d 7 --glob-archives logs\n",
        "pip install pyinstaller into the build environment # or git\n"
        "checkout master and run the build script from there\n",
        "pick deadbee The oneline of this commit that was made\npick fa1afe1 The oneline of the next commit\n...\n",
    ],
    ids=[
        "bullets",
        "numbered",
        "underlined heading",
        "code",
        "quoted mail",
        "ragged verse",
        "table rows",
        "sql",
        "c call",
        "commands",
        "shell comment",
        "rebase todo",
    ],
)
def test_lists_code_headings_quotes_and_short_lines_keep_their_line_breaks(kept):
    from qa.text.normalize import unwrap_paragraphs

    assert unwrap_paragraphs(kept) == kept


def test_one_wrapped_list_item_is_unwrapped_but_a_list_is_not():
    from qa.text.normalize import unwrap_paragraphs

    item = "a) The work must carry prominent notices stating that you modified\nit, and giving a relevant date.\n"
    assert unwrap_paragraphs(item) == item.replace("modified\nit", "modified it")


def test_the_seed_articles_are_read_as_they_were():
    from qa.ingest.readers.text import read_text

    for path in sorted(SEEDS.glob("*.txt")):
        assert read_text(path).text == normalize_text(path.read_text())


def test_unwrapping_changes_only_line_breaks_into_spaces():
    """Nothing is lost or moved: the same characters, in the same order, whitespace aside."""
    import random

    from qa.text.normalize import unwrap_paragraphs

    licences = Path(__file__).resolve().parents[1] / "benchmarks" / "sets" / "licenses" / "corpus"
    texts = [path.read_text() for path in sorted(licences.glob("*.txt"))]
    words = "the of and a to in is you that it for on are as with rule file - ; ( ) # $ SELECT x+1 foo(bar)".split()
    rng = random.Random(7)
    for _ in range(200):
        lines = [" " * rng.choice((0, 0, 2, 4)) + " ".join(rng.choices(words, k=rng.randint(0, 14))) for _ in range(12)]
        texts.append("\n".join(lines))
    for text in texts:
        unwrapped = unwrap_paragraphs(text)
        assert "".join(unwrapped.split()) == "".join(text.split())
        assert unwrapped.count("\n\n") == text.replace("\r\n", "\n").count("\n\n")


@pytest.mark.parametrize(
    "listing",
    [
        "stash@{0}: WIP on submit: 6ebd0e2... Update git-stash documentation\n"
        "stash@{1}: On master: 9cc0589... Add git-stash\n",
        "in-place edit  :100644 100644 bcd1234 0123456 M file0 and more\n"
        "copy-edit      :100644 100644 abcd123 1234567 C68 file1\n",
        "torvalds@ppc970:~/merge-test> git merge-index cat AA MM and the rest\ncat: : No such file or directory\n",
        "git show-ref --quiet --verify -- refs/heads/main || echo main is not a\n"
        "valid branch name in this repository\n",
        "git bundle create cve-xxx.bundle ^origin/master vA.B.C vD.E.F and tags\n"
        "tar cJvf cve-xxx.bundle.tar.xz cve-xxx.bundle\n",
    ],
    ids=["log entries", "aligned columns", "prompt", "shell operator", "no punctuation"],
)
def test_lines_kept_as_typed_stay_code_unless_plainly_prose(listing):
    """In a `pre`, lines are code by default: output and listings that would pass for wrapped prose
    in a text file keep their lines (git's manual has each of these)."""
    from qa.text.normalize import wrapped_paragraphs

    assert list(wrapped_paragraphs(listing)) == [(listing.rstrip("\n"), False)]


def test_prose_kept_as_typed_is_one_paragraph_on_one_line():
    from qa.text.normalize import wrapped_paragraphs

    text = (
        "Calendar view\n-------------\n\n"
        "The --keep-monthly 6 rule keeps Nov, Oct, Sep, Aug, Jul and Jun.  December is\n"
        "not considered for this rule, because that backup was already kept.\n"
    )
    assert list(wrapped_paragraphs(text)) == [
        ("Calendar view\n-------------", False),
        (
            "The --keep-monthly 6 rule keeps Nov, Oct, Sep, Aug, Jul and Jun.  December is not considered for "
            "this rule, because that backup was already kept.",
            True,
        ),
    ]


@pytest.mark.parametrize(
    "question, what_it_is",
    [
        ("What does the VACUUM command do?", True),
        ("What is a WITHOUT ROWID table?", True),
        ("What is the R-Tree module for?", True),
        ("Who is Moussa Koussa?", True),
        ("What is the maximum number of columns in a table?", False),  # a fact about a longer subject
        ("How do I turn on write-ahead logging?", False),
    ],
)
def test_a_question_that_asks_what_a_thing_is_is_told_from_one_that_asks_a_fact(question, what_it_is):
    assert asks_what_it_is(question) is what_it_is


def test_overview_headings_and_questions_that_name_code():
    assert [is_overview(h) for h in ("2. Description", "1. Overview", "DESCRIPTION", "About the project")] == [True] * 4
    assert [is_overview(h) for h in ("2.1. Description of the format", "How VACUUM works", "Options")] == [False] * 3
    assert asks_for_code("What does --cache-only do?") and asks_for_code("Show an example of borg delete")
    assert not asks_for_code("How do I throw away only the local cache?")


def test_a_one_line_paragraph_that_introduces_code_is_words_but_a_prompt_in_code_is_not():
    assert is_introduction("Install it with pip:")
    assert not is_introduction("# delete the whole repository and the related local cache:")
    assert not is_introduction("$ borg delete repo\nYou requested to completely DELETE the repository:")
    assert not is_introduction("Options:")  # fewer than four words
