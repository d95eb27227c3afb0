"""Load evaluation sets (JSONL questions, SQuAD v1.1 JSON, BEIR folders) into one record shape.

Every loader turns a bad input into an `InvalidEvalSet` with a one-line message naming the file and the
place, so `qa eval` can print it as is instead of a traceback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qa.errors import InvalidEvalSet, PathNotFound

EvalKind = Literal["questions", "squad", "beir"]


@dataclass(frozen=True)
class CorpusDocument:
    """One document of an evaluation corpus; `title` is kept apart so the indexer decides its use."""

    doc_id: str
    title: str
    text: str


@dataclass(frozen=True)
class EvalQuestion:
    """One question with what counts as a right answer.

    `answers` are strings a returned passage should contain; `gold_doc_ids` maps ids of the set's
    own corpus to graded relevance (SQuAD: the question's paragraph; BEIR: its qrels);
    `gold_sources` names the files that hold an answer (JSONL questions, run against the current
    index). A question with none of these cannot be answered from the corpus.
    """

    id: str
    question: str
    history: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    gold_doc_ids: dict[str, int] = field(default_factory=dict)
    gold_sources: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return bool(self.answers or self.gold_sources) or any(relevance > 0 for relevance in self.gold_doc_ids.values())


@dataclass(frozen=True)
class EvalSet:
    """Questions plus, for SQuAD and BEIR, the corpus to index; `None` means: use the current index.

    `content_hash` is the sha256 of the bytes the set was read from, to key cached indexes.
    """

    name: str
    kind: EvalKind
    questions: list[EvalQuestion]
    corpus: list[CorpusDocument] | None
    content_hash: str


BEIR_FILES = ("corpus.jsonl", "queries.jsonl")


def load_eval_set(path: str | Path, *, beir_split: str = "test") -> EvalSet:
    """Detect the format of `path` and load it: a folder is BEIR, a file is SQuAD JSON or JSONL."""
    path = Path(path)
    if path.is_dir():
        return load_beir(path, split=beir_split)
    if not path.exists():
        raise PathNotFound(f"No evaluation set at {path}")
    raw = _read_bytes(path)
    text = _decode(path, raw)
    if not text.strip():
        raise InvalidEvalSet(f"{path} is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        # "Extra data" after a first complete value is what one-object-a-line looks like.
        if error.msg == "Extra data":
            return _questions_from_text(path, text, _sha256(raw))
        raise InvalidEvalSet(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    if isinstance(data, dict) and "data" in data:
        return _squad_from_data(path, data, _sha256(raw))
    if isinstance(data, dict) and "question" in data:
        return _questions_from_text(path, text, _sha256(raw))
    raise InvalidEvalSet(
        f"{path}: unknown evaluation format; expected JSONL questions, SQuAD v1.1 JSON "
        "or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)"
    )


def load_questions(path: str | Path) -> EvalSet:
    """JSONL questions (`id`, `question`, optional `history`, `answers`, `docs`) for the current index."""
    path = Path(path)
    raw = _read_bytes(path)
    return _questions_from_text(path, _decode(path, raw), _sha256(raw))


def load_squad(path: str | Path) -> EvalSet:
    """SQuAD v1.1 JSON: one document per paragraph; each question's paragraph is its gold document.

    SQuAD v2 questions marked `is_impossible` load as unanswerable.
    """
    path = Path(path)
    raw = _read_bytes(path)
    try:
        data = json.loads(_decode(path, raw))
    except json.JSONDecodeError as error:
        raise InvalidEvalSet(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    return _squad_from_data(path, data, _sha256(raw))


def load_beir(folder: str | Path, *, split: str = "test") -> EvalSet:
    """A BEIR folder; only the queries judged in `qrels/<split>.tsv` are evaluated."""
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    missing = [name for name in BEIR_FILES if not (folder / name).is_file()]
    if not qrels_path.is_file():
        missing.append(f"qrels/{split}.tsv")
    if missing:
        raise InvalidEvalSet(f"{folder} is not a BEIR folder: missing {', '.join(missing)}")

    parts = (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path)
    texts: dict[Path, str] = {}
    digest = hashlib.sha256()
    for part in parts:
        raw = _read_bytes(part)
        digest.update(f"{part.relative_to(folder).as_posix()}\0{len(raw)}\0".encode())
        digest.update(raw)
        texts[part] = _decode(part, raw)
    corpus_path, queries_path, _ = parts

    corpus: list[CorpusDocument] = []
    for where, record, doc_id in _unique_records(corpus_path, texts[corpus_path], "_id", "document"):
        corpus.append(
            CorpusDocument(
                doc_id=doc_id,
                title=_optional_str(record, "title", where),
                text=_required_str(record, "text", where, allow_empty=True),
            )
        )
    if not corpus:
        raise InvalidEvalSet(f"{corpus_path} holds no documents")

    query_texts: dict[str, str] = {}
    for where, record in _jsonl_records(queries_path, texts[queries_path]):
        query_texts[_required_id(record, "_id", where)] = _required_str(record, "text", where)

    qrels = _parse_qrels(qrels_path, texts[qrels_path])
    unknown = [query_id for query_id in qrels if query_id not in query_texts]
    if unknown:
        raise InvalidEvalSet(f"{qrels_path}: query id {unknown[0]!r} is not in queries.jsonl")
    questions = [
        EvalQuestion(id=query_id, question=query_texts[query_id], gold_doc_ids=relevance)
        for query_id, relevance in qrels.items()
    ]
    return EvalSet(
        name=folder.resolve().name,
        kind="beir",
        questions=questions,
        corpus=corpus,
        content_hash=digest.hexdigest(),
    )


def _unique_records(path: Path, text: str, id_key: str, what: str) -> Iterator[tuple[str, dict, str]]:
    """(where, record, id) of each JSONL record; a repeated id is an error naming its line."""
    seen: set[str] = set()
    for where, record in _jsonl_records(path, text):
        record_id = _required_id(record, id_key, where)
        if record_id in seen:
            raise InvalidEvalSet(f"{where}: duplicate {what} id {record_id!r}")
        seen.add(record_id)
        yield where, record, record_id


def _questions_from_text(path: Path, text: str, content_hash: str) -> EvalSet:
    questions: list[EvalQuestion] = []
    for where, record, question_id in _unique_records(path, text, "id", "question"):
        questions.append(
            EvalQuestion(
                id=question_id,
                question=_required_str(record, "question", where),
                history=_str_list(record, "history", where, required=False),
                answers=_str_list(record, "answers", where, required=True),
                gold_sources=_str_list(record, "docs", where, required=False),
            )
        )
    if not questions:
        raise InvalidEvalSet(f"{path} holds no questions")
    return EvalSet(
        name=path.stem,
        kind="questions",
        questions=questions,
        corpus=None,
        content_hash=content_hash,
    )


def _squad_from_data(path: Path, data: Any, content_hash: str) -> EvalSet:
    def fail(where: str, problem: str) -> InvalidEvalSet:
        return InvalidEvalSet(f"{path}: not SQuAD v1.1 JSON: {where} {problem}")

    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise fail("the top level", "needs a 'data' list")
    corpus: list[CorpusDocument] = []
    questions: list[EvalQuestion] = []
    seen_ids: set[str] = set()
    for article_index, article in enumerate(articles):
        where = f"data[{article_index}]"
        if not isinstance(article, dict) or not isinstance(article.get("title"), str):
            raise fail(where, "needs a 'title' string")
        if not isinstance(article.get("paragraphs"), list):
            raise fail(where, "needs a 'paragraphs' list")
        title = article["title"].replace("_", " ")
        for para_index, paragraph in enumerate(article["paragraphs"]):
            where = f"data[{article_index}].paragraphs[{para_index}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
                raise fail(where, "needs a 'context' string")
            if not isinstance(paragraph.get("qas"), list):
                raise fail(where, "needs a 'qas' list")
            doc_id = f"{article_index:03d}-{para_index:03d}"
            corpus.append(CorpusDocument(doc_id=doc_id, title=title, text=paragraph["context"]))
            for qa_index, qa in enumerate(paragraph["qas"]):
                where = f"data[{article_index}].paragraphs[{para_index}].qas[{qa_index}]"
                if not isinstance(qa, dict):
                    raise fail(where, "is not an object")
                question_id = _required_id(qa, "id", f"{path}: {where}")
                question = _required_str(qa, "question", f"{path}: {where}")
                if question_id in seen_ids:
                    raise InvalidEvalSet(f"{path}: {where}: duplicate question id {question_id!r}")
                seen_ids.add(question_id)
                raw_answers = qa.get("answers", [])
                if not isinstance(raw_answers, list) or not all(
                    isinstance(answer, dict) and isinstance(answer.get("text"), str) for answer in raw_answers
                ):
                    raise fail(where, "needs 'answers' as a list of objects with a 'text' string")
                impossible = bool(qa.get("is_impossible", False))
                answers = [] if impossible else list(dict.fromkeys(a["text"] for a in raw_answers))
                if not answers and not impossible:
                    raise fail(where, "has no answers")
                questions.append(
                    EvalQuestion(
                        id=question_id,
                        question=question,
                        answers=answers,
                        gold_doc_ids={} if impossible else {doc_id: 1},
                    )
                )
    if not questions:
        raise InvalidEvalSet(f"{path} holds no questions")
    return EvalSet(name=path.stem, kind="squad", questions=questions, corpus=corpus, content_hash=content_hash)


def _parse_qrels(path: Path, text: str) -> dict[str, dict[str, int]]:
    """query id -> {document id: relevance}; a first row whose score is not a number is a header."""
    qrels: dict[str, dict[str, int]] = {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) != 3:
            raise InvalidEvalSet(
                f"{path}:{line_number}: expected 3 columns (query-id, corpus-id, score), found {len(fields)}"
            )
        query_id, doc_id, score = (value.strip() for value in fields)
        try:
            relevance = int(score)
        except ValueError:
            if line_number == 1:
                continue
            raise InvalidEvalSet(f"{path}:{line_number}: score {score!r} is not an integer") from None
        qrels.setdefault(query_id, {})[doc_id] = relevance
    if not qrels:
        raise InvalidEvalSet(f"{path} holds no relevance judgements")
    return qrels


def _jsonl_records(path: Path, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ("file:line", object) for each non-blank line."""
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidEvalSet(f"{where}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise InvalidEvalSet(f"{where}: expected a JSON object, found {type(record).__name__}")
        yield where, record


def _required_id(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    # Ids are compared as strings; BEIR and hand-written files sometimes write them as numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvalSet(f"{where}: '{key}' must be a non-empty string")
    return value


def _required_str(record: dict[str, Any], key: str, where: str, *, allow_empty: bool = False) -> str:
    value = record.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        kind = "a string" if allow_empty else "a non-empty string"
        raise InvalidEvalSet(f"{where}: '{key}' must be {kind}")
    return value


def _optional_str(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidEvalSet(f"{where}: '{key}' must be a string")
    return value


def _str_list(record: dict[str, Any], key: str, where: str, *, required: bool) -> list[str]:
    if key not in record and not required:
        return []
    value = record.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidEvalSet(f"{where}: '{key}' must be a list of strings")
    return list(value)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PathNotFound(f"No such file: {path}") from None
    except OSError as error:
        raise InvalidEvalSet(f"Cannot read {path}: {error.strerror}") from None


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidEvalSet(f"{path} is not UTF-8 text") from None


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
