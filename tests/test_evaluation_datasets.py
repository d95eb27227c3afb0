"""Format detection and loaders for JSONL questions, SQuAD JSON and BEIR folders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qa.errors import QAError
from qa.evaluation.datasets import load_beir, load_eval_set, load_questions, load_squad

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
needs_shared = pytest.mark.skipif(not SHARED_EVAL.is_dir(), reason=f"public evaluation data not found at {SHARED_EVAL}")


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(QAError) as caught:
        load_eval_set(path)
    message = str(caught.value)
    assert "\n" not in message and message  # one line, shown to the user as is
    return message


QUESTIONS = [
    {"id": "p1", "question": "Who is Moussa Koussa?", "answers": ["foreign minister"],
     "docs": ["001.txt", "002.txt"]},
    {"id": "p2", "question": "What is the capital of Peru?", "answers": [], "docs": []},
    {"id": "p3", "question": "What did they offer?", "history": ["What did the rebels announce?"],
     "answers": ["cease-fire"], "docs": ["001.txt"]},
]  # fmt: skip


def squad_data() -> dict:
    return {
        "version": "1.1",
        "data": [
            {
                "title": "Super_Bowl_50",
                "paragraphs": [
                    {
                        "context": "The Denver Broncos won Super Bowl 50.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Who won Super Bowl 50?",
                                "answers": [
                                    {"answer_start": 4, "text": "Denver Broncos"},
                                    {"answer_start": 4, "text": "Denver Broncos"},
                                    {"answer_start": 11, "text": "Broncos"},
                                ],
                            }
                        ],
                    },
                    {"context": "The game was played in Santa Clara.", "qas": []},
                ],
            },
            {
                "title": "Warsaw",
                "paragraphs": [
                    {
                        "context": "Warsaw is the capital of Poland.",
                        "qas": [
                            {
                                "id": "q2",
                                "question": "What is Warsaw the capital of?",
                                "answers": [{"answer_start": 25, "text": "Poland"}],
                            },
                            {
                                "id": "q3",
                                "question": "Who founded Warsaw?",
                                "answers": [],
                                "is_impossible": True,
                            },
                        ],
                    }
                ],
            },
        ],
    }


def make_beir(folder: Path, qrels_text: str | None = None) -> Path:
    write_jsonl(
        folder / "corpus.jsonl",
        [
            {"_id": "10", "title": "Aspirin", "text": "Aspirin reduces fever.", "metadata": {}},
            {"_id": "11", "title": "", "text": "Untitled abstract."},
            {"_id": 12, "title": "Statins", "text": "Statins lower cholesterol."},
        ],
    )
    write_jsonl(
        folder / "queries.jsonl",
        [
            {"_id": "1", "text": "Aspirin lowers fever.", "metadata": {}},
            {"_id": "2", "text": "Unjudged query."},
            {"_id": "3", "text": "Statins raise cholesterol."},
        ],
    )
    (folder / "qrels").mkdir()
    if qrels_text is None:
        qrels_text = "query-id\tcorpus-id\tscore\n3\t12\t2\n1\t10\t1\n3\t11\t0\n"
    (folder / "qrels" / "test.tsv").write_text(qrels_text, encoding="utf-8")
    return folder


# JSONL questions


def test_jsonl_questions_are_detected_and_loaded(tmp_path):
    eval_set = load_eval_set(write_jsonl(tmp_path / "questions.jsonl", QUESTIONS))
    assert eval_set.kind == "questions"
    assert eval_set.name == "questions"
    assert eval_set.corpus is None  # runs against the current index
    first, unanswerable, follow_up = eval_set.questions
    assert first.id == "p1" and first.answers == ["foreign minister"]
    assert first.gold_sources == ["001.txt", "002.txt"] and first.gold_doc_ids == {}
    assert first.history == [] and first.answerable
    assert unanswerable.answers == [] and not unanswerable.answerable
    assert follow_up.history == ["What did the rebels announce?"]


def test_jsonl_detection_does_not_depend_on_the_suffix(tmp_path):
    many = write_jsonl(tmp_path / "questions.json", QUESTIONS)
    single = write_jsonl(tmp_path / "one.txt", QUESTIONS[:1])
    assert load_eval_set(many).kind == "questions"
    assert [q.id for q in load_eval_set(single).questions] == ["p1"]
    assert load_questions(many).questions == load_eval_set(many).questions


def test_judged_answers_count_with_the_written_ones(tmp_path):
    """An answer found by judging what was returned counts as an answer string, and its page as a
    page that answers, after the question's own (each once)."""
    record = {"id": "j", "question": "Q?", "answers": ["x"], "docs": ["a.html"]}
    judged = [{"doc": "b.html", "answer": "y"}, {"doc": "a.html", "answer": "x"}]
    question = load_eval_set(write_jsonl(tmp_path / "q.jsonl", [record | {"judged": judged}])).questions[0]
    assert question.answers == ["x", "y"] and question.gold_sources == ["a.html", "b.html"]


@pytest.mark.parametrize(
    ("judged", "expected"),
    [
        ([{"doc": "b.html"}], "'judged' must be a list of objects with 'doc' and 'answer' strings"),
        ("b.html", "'judged' must be a list of objects"),
    ],
)
def test_broken_judged_answers_name_the_line(tmp_path, judged, expected):
    path = write_jsonl(tmp_path / "q.jsonl", [{"id": "j", "question": "Q?", "answers": ["x"], "judged": judged}])
    assert f"{path}:1: {expected}" in load_error(path)


def test_an_unanswerable_question_cannot_have_judged_answers(tmp_path):
    record = {"id": "j", "question": "Q?", "answers": [], "judged": [{"doc": "b.html", "answer": "y"}]}
    path = write_jsonl(tmp_path / "q.jsonl", [record])
    assert "has 'judged' answers but empty 'answers' (unanswerable)" in load_error(path)


def test_numeric_ids_are_read_as_strings(tmp_path):
    path = write_jsonl(tmp_path / "q.jsonl", [{"id": 7, "question": "Why?", "answers": ["x"]}])
    assert load_eval_set(path).questions[0].id == "7"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id": "b", "answers": []}', r":2: 'question' must be a non-empty string"),
        ('{"id": "b", "question": "  ", "answers": []}', r":2: 'question' must be a non-empty"),
        ('{"id": "b", "question": "Q"}', r":2: 'answers' must be a list of strings"),
        ('{"id": "b", "question": "Q", "answers": "x"}', r":2: 'answers' must be a list"),
        ('{"id": "b", "question": "Q", "answers": [], "history": "x"}', r":2: 'history' must"),
        ('{"question": "Q", "answers": []}', r":2: 'id' must be a non-empty string"),
        ('{"id": "a", "question": "Q", "answers": []}', r":2: duplicate question id 'a'"),
        ('{"id": "b", "question": "Q", "answers": [}', r":2: not valid JSON"),
        ('["a list"]', r":2: expected a JSON object, found list"),
    ],
)
def test_broken_jsonl_names_the_line_and_the_problem(tmp_path, line, expected):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "Q", "answers": ["x"]}\n' + line + "\n")
    message = load_error(path)
    assert str(path) in message
    assert re.search(expected, message), message


def test_blank_lines_and_a_byte_order_mark_are_tolerated(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('\ufeff{"id": "a", "question": "Q", "answers": ["x"]}\n\n\n', encoding="utf-8")
    assert len(load_eval_set(path).questions) == 1


# SQuAD


def test_squad_paragraphs_become_the_corpus(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(squad_data()), encoding="utf-8")
    eval_set = load_eval_set(path)
    assert eval_set.kind == "squad" and eval_set.name == "dev"
    assert [doc.doc_id for doc in eval_set.corpus] == ["000-000", "000-001", "001-000"]
    first = eval_set.corpus[0]
    assert first.title == "Super Bowl 50"  # underscores become spaces
    assert first.text == "The Denver Broncos won Super Bowl 50."  # verbatim: offsets hold
    assert (first.title, first.text) == ("Super Bowl 50", "The Denver Broncos won Super Bowl 50.")

    won, capital, impossible = eval_set.questions
    assert won.answers == ["Denver Broncos", "Broncos"]  # duplicates dropped, order kept
    assert won.gold_doc_ids == {"000-000": 1} and won.answerable
    assert capital.gold_doc_ids == {"001-000": 1}
    assert impossible.answers == [] and impossible.gold_doc_ids == {}
    assert not impossible.answerable  # SQuAD v2 `is_impossible`
    assert load_squad(path).questions == eval_set.questions


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda d: d["data"][0].pop("title"), "data[0]: 'title' must be a string"),
        (lambda d: d["data"][1].pop("paragraphs"), "data[1]: 'paragraphs' must be a list"),
        (
            lambda d: d["data"][0]["paragraphs"][1].pop("context"),
            "data[0].paragraphs[1]: 'context' must be a string",
        ),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0].pop("question"),
            "data[1].paragraphs[0].qas[0]: 'question' must be a non-empty string",
        ),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0].update(answers=[]),
            "data[1].paragraphs[0].qas[0] has no answers",
        ),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0].update(answers=[{"answer_start": 25}]),
            "data[1].paragraphs[0].qas[0]: 'answers' must be a list of objects with a 'text' string",
        ),
        (lambda d: d["data"].__setitem__(1, "Warsaw"), "data[1] is not an object"),
        (
            lambda d: d["data"][1]["paragraphs"][0]["qas"][0].update(id="q1"),
            "duplicate question id 'q1'",
        ),
    ],
)
def test_broken_squad_names_the_place(tmp_path, breakage, expected):
    data = squad_data()
    breakage(data)
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    message = load_error(path)
    assert str(path) in message and expected in message, message


def test_squad_without_data_is_not_recognised(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"version": "1.1", "articles": []}), encoding="utf-8")
    assert "unknown evaluation format" in load_error(path)
    with pytest.raises(QAError, match="not SQuAD v1.1 JSON: 'data' must be a list"):
        load_squad(path)


def test_truncated_json_reports_line_and_column(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(squad_data(), indent=1)[:200], encoding="utf-8")
    message = load_error(path)
    assert message.startswith(f"{path} is not valid JSON (line ")


# BEIR


def test_beir_folder_loads_only_judged_queries(tmp_path):
    eval_set = load_eval_set(make_beir(tmp_path / "scifact"))
    assert eval_set.kind == "beir" and eval_set.name == "scifact"
    assert [doc.doc_id for doc in eval_set.corpus] == ["10", "11", "12"]
    assert eval_set.corpus[0].title == "Aspirin" and eval_set.corpus[0].text == "Aspirin reduces fever."
    assert (eval_set.corpus[1].title, eval_set.corpus[1].text) == ("", "Untitled abstract.")
    assert [q.id for q in eval_set.questions] == ["3", "1"]  # qrels order; "2" is not judged
    statins = eval_set.questions[0]
    assert statins.question == "Statins raise cholesterol."
    assert statins.gold_doc_ids == {"12": 2, "11": 0}  # graded, zeros kept as BEIR keeps them
    assert statins.answers == [] and statins.answerable


def test_beir_split_and_qrels_without_header(tmp_path):
    folder = make_beir(tmp_path / "set", qrels_text="1\t10\t1\n")
    (folder / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\n3\t12\t1\n")
    assert [q.id for q in load_beir(folder).questions] == ["1"]
    assert [q.id for q in load_eval_set(folder, beir_split="dev").questions] == ["3"]


def test_beir_folder_missing_files(tmp_path):
    folder = tmp_path / "notbeir"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text('{"_id": "1", "title": "", "text": "x"}\n')
    message = load_error(folder)
    assert message == f"{folder} is not a BEIR folder: missing queries.jsonl, qrels/test.tsv"


@pytest.mark.parametrize(
    ("qrels_text", "expected"),
    [
        ("query-id\tcorpus-id\tscore\n9\t10\t1\n", "query id '9' is not in queries.jsonl"),
        ("query-id\tcorpus-id\tscore\n1\t10\thigh\n", "test.tsv:2: score 'high' is not an integer"),
        ("query-id\tcorpus-id\tscore\n1\t10\n", "test.tsv:2: expected 3 columns"),
        ("query-id\tcorpus-id\tscore\n", "holds no relevance judgements"),
    ],
)
def test_broken_qrels(tmp_path, qrels_text, expected):
    message = load_error(make_beir(tmp_path / "set", qrels_text))
    assert expected in message, message


def test_broken_beir_corpus(tmp_path):
    folder = make_beir(tmp_path / "set")
    with (folder / "corpus.jsonl").open("a") as corpus:
        corpus.write('{"_id": "10", "title": "Again", "text": "Duplicate."}\n')
    assert "corpus.jsonl:4: duplicate document id '10'" in load_error(folder)
    (folder / "corpus.jsonl").write_text('{"_id": "1", "title": "T"}\n')
    assert "corpus.jsonl:1: 'text' must be a string" in load_error(folder)
    (folder / "corpus.jsonl").write_text('{"title": "T", "text": "x"}\n')
    assert "corpus.jsonl:1: '_id' must be a non-empty string" in load_error(folder)
    (folder / "corpus.jsonl").write_text('{"_id": true, "text": "x"}\n')
    assert "corpus.jsonl:1: '_id' must be a non-empty string" in load_error(folder)


# Detection, errors, hashing


def test_missing_empty_and_unknown_inputs(tmp_path):
    assert load_error(tmp_path / "nowhere.jsonl") == f"No evaluation set at {tmp_path / 'nowhere.jsonl'}"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("  \n")
    assert load_error(empty) == f"{empty} is empty"
    listing = tmp_path / "list.json"
    listing.write_text('["not", "a", "dataset"]')
    assert "unknown evaluation format" in load_error(listing)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert load_error(binary) == f"{binary} is not UTF-8 text"


def test_content_hash_follows_the_bytes(tmp_path):
    questions = write_jsonl(tmp_path / "q.jsonl", QUESTIONS)
    folder = make_beir(tmp_path / "beir")
    before = load_eval_set(questions).content_hash, load_eval_set(folder).content_hash
    assert before == (load_eval_set(questions).content_hash, load_eval_set(folder).content_hash)
    write_jsonl(questions, QUESTIONS[:2])
    with (folder / "qrels" / "test.tsv").open("a") as qrels:
        qrels.write("1\t11\t1\n")
    after = load_eval_set(questions).content_hash, load_eval_set(folder).content_hash
    assert before[0] != after[0] and before[1] != after[1]


# The real public sets


@needs_shared
def test_real_seed_questions():
    eval_set = load_eval_set(SHARED_EVAL / "seeds" / "questions.jsonl")
    assert eval_set.kind == "questions" and len(eval_set.questions) == 15
    assert sum(not q.answerable for q in eval_set.questions) == 2
    assert sum(bool(q.history) for q in eval_set.questions) == 1


@needs_shared
def test_real_squad_dev_a():
    eval_set = load_eval_set(SHARED_EVAL / "squad" / "dev-a.json")
    assert eval_set.kind == "squad"
    assert len(eval_set.questions) == 5696 and len(eval_set.corpus) == 1048
    corpus_ids = {doc.doc_id for doc in eval_set.corpus}
    assert all(set(q.gold_doc_ids) <= corpus_ids and q.answers for q in eval_set.questions)


@needs_shared
def test_squad_questions_asked_of_their_article_without_their_paragraph_cannot_be_answered_there():
    """The calibration set's unanswerable questions about a corpus's own subject
    (benchmarks/calibrate.py): every other paragraph of each article is withheld, and a question of
    a withheld paragraph counts only where no kept paragraph holds one of its answers."""
    from benchmarks.calibrate import withheld_squad
    from qa.evaluation.metrics import normalize_for_match

    squad = load_eval_set(SHARED_EVAL / "squad" / "dev-a.json")
    kept, questions = withheld_squad(squad)
    assert len(kept.corpus) == 531 and len(questions) == 1555 and kept.content_hash != squad.content_hash
    kept_ids = {doc.doc_id for doc in kept.corpus}
    assert all(int(doc_id.split("-")[1]) % 2 == 0 for doc_id in kept_ids)
    articles = {doc_id.split("-")[0] for doc_id in kept_ids}
    kept_texts = [normalize_for_match(doc.text) for doc in kept.corpus]
    for question in questions:
        (gold,) = question.gold_doc_ids
        assert gold not in kept_ids and gold.split("-")[0] in articles  # its article, less its paragraph
        answers = [normalize_for_match(answer) for answer in question.answers]
        assert not any(answer in text for answer in answers for text in kept_texts)


@needs_shared
def test_real_scifact():
    eval_set = load_eval_set(SHARED_EVAL / "scifact")
    assert eval_set.kind == "beir"
    assert len(eval_set.questions) == 300 and len(eval_set.corpus) == 5183
    assert sum(len(q.gold_doc_ids) for q in eval_set.questions) == 339


# The documentation sets (benchmarks/sets/sqlite-docs, borg-docs, git-docs: HTML; pdf-docs: PDF): real
# documents, checked against what qa reads

SETS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "sets"
DOCS_SETS = [SETS_DIR / "sqlite-docs", SETS_DIR / "borg-docs", SETS_DIR / "git-docs", SETS_DIR / "pdf-docs"]


@pytest.mark.parametrize("docs_set", DOCS_SETS, ids=lambda folder: folder.name)
def test_a_docs_set_loads_with_its_extra_keys_ignored(docs_set):
    eval_set = load_eval_set(docs_set / "questions.jsonl")
    assert eval_set.kind == "questions" and eval_set.corpus is None
    answerable = [q for q in eval_set.questions if q.answerable]
    unanswerable = [q for q in eval_set.questions if not q.answerable]
    assert len(eval_set.questions) >= 45 and len(unanswerable) >= 5
    assert all(q.answers and q.gold_sources for q in answerable)
    records = [json.loads(line) for line in (docs_set / "questions.jsonl").read_text().splitlines()]
    assert all("answer_sentence" in record for record in records if record["answers"])
    assert len({record["id"] for record in records}) == len(records)


@pytest.mark.parametrize("docs_set", DOCS_SETS, ids=lambda folder: folder.name)
def test_a_docs_sets_answers_are_in_their_pages_as_qa_reads_them(docs_set):
    """Every answer string is in its answer sentence and in each page named in `docs`; the
    sentence itself is in the first page (other pages may word it differently). A judged answer
    is in the page it was judged on."""
    from qa.evaluation.metrics import normalize_for_match
    from qa.ingest.documents import parse_file

    texts: dict[str, str] = {}

    def page(source: str) -> str:
        if source not in texts:
            texts[source] = normalize_for_match(parse_file(docs_set / "corpus" / source).text)
        return texts[source]

    for line in (docs_set / "questions.jsonl").read_text().splitlines():
        record = json.loads(line)
        if not record["answers"]:
            continue
        sentence = normalize_for_match(record["answer_sentence"])
        assert sentence in page(record["docs"][0]), record["id"]
        for answer in record["answers"]:
            assert normalize_for_match(answer) in sentence, record["id"]
            for source in record["docs"]:
                assert normalize_for_match(answer) in page(source), (record["id"], source)
        for judged in record.get("judged", []):
            assert normalize_for_match(judged["answer"]) in page(judged["doc"]), (record["id"], judged["doc"])
