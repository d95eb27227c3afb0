"""Answer feedback from a shared server: a vote on one passage of one answer, kept with the
index generation it was answered from, and exported as `qa eval` questions (a regression set).

Layout (every file name and SQL statement for feedback is here):

    INDEX-server/feedback.sqlite    table `votes`: question, doc_id, source, start, end, the passage
                                    text (its first MAX_EXCERPT_CHARS at most), vote, comment,
                                    generation, created
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Literal

from qa.errors import NothingToExport, PassageNotFound
from qa.search.filters import DocumentFilter
from qa.server.store import ServerStore
from qa.store.manifest import utc_now

FEEDBACK_FILE = "feedback.sqlite"
# What a vote keeps of its passage: a passage is rarely longer, and a vote on a whole document
# must not copy the document. A beginning of the passage is still contained in it, which is all
# that `qa eval` asks of an answer.
MAX_EXCERPT_CHARS = 2000
Vote = Literal["up", "down"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    source TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    comment TEXT NOT NULL,
    generation INTEGER NOT NULL,
    created TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class PassageVote:
    """One vote: `text` is the passage (at most its first MAX_EXCERPT_CHARS) as it read when the
    vote came in."""

    question: str
    doc_id: str
    source: str
    start: int
    end: int
    text: str
    vote: Vote
    comment: str
    generation: int
    created: str = ""


def make_vote(
    collection,
    question: str,
    doc_id: str,
    start: int,
    end: int,
    vote: Vote,
    comment: str = "",
    generation: int | None = None,
    filters: DocumentFilter | None = None,
) -> PassageVote:
    """A vote on `collection`'s passage doc_id[start:end]; DocumentNotFound or PassageNotFound
    when there is no such passage, DocumentNotFound too for a document outside `filters` (a scoped
    key's). `generation` is the one the answer came from (default: now)."""
    document = collection.document(doc_id, filters)
    if not 0 <= start < end <= len(document.text):
        raise PassageNotFound(
            f"start and end ({start}, {end}) are not a passage of {doc_id!r}, whose text is "
            f"{len(document.text)} characters long."
        )
    current = collection.stats().generation
    return PassageVote(
        question=question.strip(),
        doc_id=doc_id,
        source=document.source,
        start=start,
        end=end,
        text=excerpt(document.text[start:end]),
        vote=vote,
        comment=comment.strip(),
        generation=current if generation is None else generation,
        created=utc_now().isoformat(),
    )


def excerpt(text: str, limit: int = MAX_EXCERPT_CHARS) -> str:
    """The beginning of `text`, at most `limit` characters, cut after a whole word when one ends
    in the second half."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip()


class FeedbackStore(ServerStore):
    """The votes of one server, in `folder` (the index's `INDEX-server/`)."""

    FILE = FEEDBACK_FILE
    SCHEMA = SCHEMA

    def add(self, vote: PassageVote) -> int:
        """Keep a vote; returns its id."""
        columns = [f'"{field.name}"' for field in fields(PassageVote)]
        with self._connect(create=True) as db:
            cursor = db.execute(
                f"INSERT INTO votes ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", astuple(vote)
            )
            return int(cursor.lastrowid)

    def votes(self) -> list[PassageVote]:
        if not self.path.exists():
            return []
        columns = ", ".join(f'"{field.name}"' for field in fields(PassageVote))
        with self._connect(create=True) as db:
            return [PassageVote(*row) for row in db.execute(f"SELECT {columns} FROM votes ORDER BY id")]


def eval_records(votes: list[PassageVote]) -> list[dict]:
    """One `qa eval` JSONL record per question: `answers` are the passages voted up (more up than
    down), `docs` their files. A question with only rejected passages has no answers, so
    `qa eval` counts it as one the tool should not answer confidently; `rejected` keeps those
    passages for a person to read (qa eval ignores the key)."""
    by_question: dict[str, dict[tuple[str, int, int], list[PassageVote]]] = {}
    for vote in votes:
        by_question.setdefault(vote.question, {}).setdefault((vote.doc_id, vote.start, vote.end), []).append(vote)
    records = []
    for question, passages in by_question.items():
        good, bad = [], []
        for same in passages.values():
            ups = sum(vote.vote == "up" for vote in same)
            (good if ups > len(same) - ups else bad).append(same[-1])
        records.append(
            {
                "id": "feedback-" + hashlib.sha256(question.encode()).hexdigest()[:12],
                "question": question,
                "answers": list(dict.fromkeys(vote.text for vote in good)),
                "docs": list(dict.fromkeys(vote.source for vote in good)),
                "rejected": list(dict.fromkeys(vote.text for vote in bad)),
            }
        )
    return records


def export_jsonl(store: FeedbackStore, path: Path) -> int:
    """Write the votes as `qa eval` JSONL; returns the number of questions written."""
    records = eval_records(store.votes())
    if not records:
        raise NothingToExport(f"No feedback in {store.path} yet; nothing was written.")
    with Path(path).open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(records)
