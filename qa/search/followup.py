"""Follow-up questions without generation: a question that does not stand on its own is
searched together with the earlier turn it leans on.

"Where did he fly to?" after "Who is Moussa Koussa?" has nothing to search for but "fly";
joined with the turn before it, both the dense and the lexical side know who "he" is. A
question is never rewritten, only joined with earlier questions, word for word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Words that point back into the conversation: third-person pronouns and determiners.
# ("that", "this" and "there" are left out: they mostly join clauses, point inside the
# question or say that something exists.)
ANAPHORS = frozenset(
    "he him his himself she her hers herself it its itself they them their theirs themselves these those".split()
)
# Openings that continue the previous turn ("And the date?", "What about Benghazi?").
CONTINUATIONS = ("and", "also", "what about", "how about", "then", "so")
# How many earlier turns one query may gather, the question included.
MAX_TURNS = 3

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


def needs_context(question: str) -> bool:
    """True when the question leans on an earlier turn: it points back ("he", "they"), goes on
    from it ("And the date?"), or has nothing of its own to search for ("Why?")."""
    from qa.text.analysis import question_terms

    words = [word.lower() for word in _WORD.findall(question)]
    if any(word in ANAPHORS for word in words):
        return True
    opening = " ".join(words[:2])
    if any(opening == marker or opening.startswith(marker + " ") for marker in CONTINUATIONS):
        return True
    return not question_terms(question)


def followup_query(question: str, history: Sequence[str] = ()) -> str:
    """What to search for: the question, preceded by the earlier turns it depends on.

    Walks back from the newest turn while each turn still needs its predecessor, so a chain
    of follow-ups keeps its subject, up to `MAX_TURNS` questions in all.
    """
    turns = [question]
    earlier = [turn.strip() for turn in history if turn and turn.strip()]
    while earlier and len(turns) < MAX_TURNS and needs_context(turns[0]):
        turns.insert(0, earlier.pop())
    return " ".join(turns)
