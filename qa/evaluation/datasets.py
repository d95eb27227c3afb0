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
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator
from pydantic.functional_validators import AfterValidator, BeforeValidator, WrapValidator
from pydantic_core import PydanticCustomError

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


def load_eval_set(path: str | Path, *, beir_split: str = "test") -> EvalSet:
    """Detect the format of `path` and load it: a folder is BEIR, a file is SQuAD JSON or JSONL."""
    path = Path(path)
    if path.is_dir():
        return load_beir(path, split=beir_split)
    if not path.exists():
        raise PathNotFound(f"No evaluation set at {path}")
    raw, text = _read(path)
    if not text.strip():
        raise InvalidEvalSet(f"{path} is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        # "Extra data" after a first complete value is what one-object-a-line looks like.
        if error.msg == "Extra data":
            return _questions_from_text(path, text, _sha256(raw))
        raise _not_json(path, error) from None
    if isinstance(data, dict) and "data" in data:
        return _squad_from_data(path, data, _sha256(raw))
    if isinstance(data, dict) and "question" in data:
        return _questions_from_text(path, text, _sha256(raw))
    raise InvalidEvalSet(
        f"{path}: unknown evaluation format; expected JSONL questions, SQuAD v1.1 JSON "
        "or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)"
    )


def load_questions(path: str | Path) -> EvalSet:
    """JSONL questions (`id`, `question`, optional `history`, `answers`, `docs`, `judged`) for the current index."""
    raw, text = _read(Path(path))
    return _questions_from_text(Path(path), text, _sha256(raw))


def load_squad(path: str | Path) -> EvalSet:
    """SQuAD v1.1 JSON: one document per paragraph; each question's paragraph is its gold document.

    SQuAD v2 questions marked `is_impossible` load as unanswerable.
    """
    path = Path(path)
    raw, text = _read(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise _not_json(path, error) from None
    return _squad_from_data(path, data, _sha256(raw))


def load_beir(folder: str | Path, *, split: str = "test") -> EvalSet:
    """A BEIR folder; only the queries judged in `qrels/<split>.tsv` are evaluated."""
    folder = Path(folder)
    parts = (folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv")
    corpus_path, queries_path, qrels_path = parts
    missing = [part.relative_to(folder).as_posix() for part in parts if not part.is_file()]
    if missing:
        raise InvalidEvalSet(f"{folder} is not a BEIR folder: missing {', '.join(missing)}")
    texts: dict[Path, str] = {}
    digest = hashlib.sha256()
    for part in parts:
        raw, texts[part] = _read(part)
        digest.update(f"{part.relative_to(folder).as_posix()}\0{len(raw)}\0".encode())
        digest.update(raw)

    corpus: list[CorpusDocument] = []
    seen: set[str] = set()
    for where, document in _jsonl(corpus_path, texts[corpus_path], _BeirDocument):
        _check_new(seen, document.doc_id, f"{where}: duplicate document")
        corpus.append(CorpusDocument(doc_id=document.doc_id, title=document.title, text=document.text))
    if not corpus:
        raise InvalidEvalSet(f"{corpus_path} holds no documents")
    query_texts = {query.query_id: query.text for _, query in _jsonl(queries_path, texts[queries_path], _BeirQuery)}

    qrels = _parse_qrels(qrels_path, texts[qrels_path])
    unknown = [query_id for query_id in qrels if query_id not in query_texts]
    if unknown:
        raise InvalidEvalSet(f"{qrels_path}: query id {unknown[0]!r} is not in queries.jsonl")
    questions = [
        EvalQuestion(id=query_id, question=query_texts[query_id], gold_doc_ids=relevance)
        for query_id, relevance in qrels.items()
    ]
    name = folder.resolve().name
    return EvalSet(name=name, kind="beir", questions=questions, corpus=corpus, content_hash=digest.hexdigest())


# The records as the files write them. Each type carries its own message ("must be a non-empty string"),
# so an error reads the same whatever pydantic found wrong.


def _must_be(what: str) -> WrapValidator:
    def validate(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("must_be", "must be {what}", {"what": what}) from None

    return WrapValidator(validate)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


Text = Annotated[StrictStr, _must_be("a string")]
NonEmptyText = Annotated[StrictStr, AfterValidator(_not_blank), _must_be("a non-empty string")]
OptionalText = Annotated[StrictStr, BeforeValidator(lambda value: "" if value is None else value), _must_be("a string")]
TextList = Annotated[list[StrictStr], _must_be("a list of strings")]
# Ids are compared as strings; BEIR and hand-written files sometimes write them as numbers.
RecordId = Annotated[
    StrictStr | StrictInt, AfterValidator(lambda value: _not_blank(str(value))), _must_be("a non-empty string")
]


class _Record(BaseModel):
    """Strict types; unknown keys are ignored; an absent key is read as null, so it gets its type's message."""

    model_config = ConfigDict(strict=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _absent_is_null(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {field.alias or name: None for name, field in cls.model_fields.items() if field.is_required()} | data


RecordT = TypeVar("RecordT", bound=_Record)


class _JudgedAnswer(_Record):
    """An answer found by judging what a system returned, not by reading the pages beforehand:
    the page it was read on and a string of it, counted like the question's own `answers` and
    `docs` (pooled judgement: a set written from some pages misses other pages that answer too)."""

    doc: NonEmptyText
    answer: NonEmptyText


class _QuestionLine(_Record):
    id: RecordId
    question: NonEmptyText
    history: TextList = []
    answers: TextList  # empty: the question cannot be answered from the documents
    docs: TextList = []
    judged: Annotated[list[_JudgedAnswer], _must_be("a list of objects with 'doc' and 'answer' strings")] = []

    @model_validator(mode="after")
    def _judged_only_when_answerable(self) -> _QuestionLine:
        if self.judged and not self.answers:
            raise PydanticCustomError("judged", "has 'judged' answers but empty 'answers' (unanswerable)")
        return self

    @property
    def all_answers(self) -> list[str]:
        return list(dict.fromkeys([*self.answers, *(judged.answer for judged in self.judged)]))

    @property
    def all_docs(self) -> list[str]:
        return list(dict.fromkeys([*self.docs, *(judged.doc for judged in self.judged)]))


class _BeirDocument(_Record):
    doc_id: RecordId = Field(alias="_id")
    title: OptionalText = ""
    text: Text


class _BeirQuery(_Record):
    query_id: RecordId = Field(alias="_id")
    text: NonEmptyText


class _SquadAnswer(_Record):
    text: StrictStr


class _SquadQuestion(_Record):
    id: RecordId
    question: NonEmptyText
    answers: Annotated[list[_SquadAnswer], _must_be("a list of objects with a 'text' string")] = []
    is_impossible: Annotated[bool, BeforeValidator(bool)] = False

    @model_validator(mode="after")
    def _answered(self) -> _SquadQuestion:
        if not self.answers and not self.is_impossible:
            raise PydanticCustomError("unanswered", "has no answers")
        return self


class _SquadParagraph(_Record):
    context: Text
    qas: list[_SquadQuestion]


class _SquadArticle(_Record):
    title: Text
    paragraphs: list[_SquadParagraph]


class _SquadFile(_Record):
    data: list[_SquadArticle]


# What pydantic says in its own words for the types above that carry no message of their own.
_PROBLEMS = {"list_type": "must be a list", "model_type": "is not an object"}


def _problem(error: ValidationError) -> str:
    """The first error as "<place>: '<key>' <problem>", the place written like `data[0].paragraphs[1]`."""
    detail = error.errors(include_url=False)[0]
    problem = _PROBLEMS.get(detail["type"], detail["msg"])
    loc = list(detail["loc"])
    key = loc.pop() if loc and isinstance(loc[-1], str) else None
    place = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    if key is None:
        return f"{place or 'the top level'} {problem}"
    return f"{place}: '{key}' {problem}" if place else f"'{key}' {problem}"


def _check_new(seen: set[str], record_id: str, duplicate: str) -> None:
    if record_id in seen:
        raise InvalidEvalSet(f"{duplicate} id {record_id!r}")
    seen.add(record_id)


def _questions_from_text(path: Path, text: str, content_hash: str) -> EvalSet:
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for where, line in _jsonl(path, text, _QuestionLine):
        _check_new(seen, line.id, f"{where}: duplicate question")
        questions.append(
            EvalQuestion(
                id=line.id,
                question=line.question,
                history=line.history,
                answers=line.all_answers,
                gold_sources=line.all_docs,
            )
        )
    if not questions:
        raise InvalidEvalSet(f"{path} holds no questions")
    return EvalSet(name=path.stem, kind="questions", questions=questions, corpus=None, content_hash=content_hash)


def _squad_from_data(path: Path, data: Any, content_hash: str) -> EvalSet:
    try:
        squad = _SquadFile.model_validate(data)
    except ValidationError as error:
        raise InvalidEvalSet(f"{path}: not SQuAD v1.1 JSON: {_problem(error)}") from None
    corpus: list[CorpusDocument] = []
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for article_index, article in enumerate(squad.data):
        title = article.title.replace("_", " ")
        for para_index, paragraph in enumerate(article.paragraphs):
            doc_id = f"{article_index:03d}-{para_index:03d}"
            corpus.append(CorpusDocument(doc_id=doc_id, title=title, text=paragraph.context))
            for qa_index, qa in enumerate(paragraph.qas):
                where = f"data[{article_index}].paragraphs[{para_index}].qas[{qa_index}]"
                _check_new(seen, qa.id, f"{path}: {where}: duplicate question")
                answers = [] if qa.is_impossible else list(dict.fromkeys(answer.text for answer in qa.answers))
                gold = {} if qa.is_impossible else {doc_id: 1}
                questions.append(EvalQuestion(id=qa.id, question=qa.question, answers=answers, gold_doc_ids=gold))
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


def _jsonl(path: Path, text: str, model: type[RecordT]) -> Iterator[tuple[str, RecordT]]:
    """Yield ("file:line", record) for each non-blank line, checked against `model`."""
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidEvalSet(f"{where}: not valid JSON ({error.msg})") from None
        if not isinstance(data, dict):
            raise InvalidEvalSet(f"{where}: expected a JSON object, found {type(data).__name__}")
        try:
            record = model.model_validate(data)
        except ValidationError as error:
            raise InvalidEvalSet(f"{where}: {_problem(error)}") from None
        yield where, record


def _read(path: Path) -> tuple[bytes, str]:
    """The file's bytes (to hash) and its text."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PathNotFound(f"No such file: {path}") from None
    except OSError as error:
        raise InvalidEvalSet(f"Cannot read {path}: {error.strerror}") from None
    try:
        return raw, raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidEvalSet(f"{path} is not UTF-8 text") from None


def _not_json(path: Path, error: json.JSONDecodeError) -> InvalidEvalSet:
    return InvalidEvalSet(f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})")


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
