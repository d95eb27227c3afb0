"""How often the top answer's highlight reads as an answer: a whole prose sentence of four words
or more (issue 18), on a question set asked of an existing index.

The check is deliberately simpler than the rule the highlighter follows, so that it does not grade
the rule by itself: the highlight is one line, of four words or more, starting like a sentence
(a capital, a digit, a quote or a bracket, or a name that manuals write in lower case, such as
`asn1Parser`, `generic-icon` or `git_config`: a digit, a capital, a hyphen or an underscore after
its first letter; or an ellipsis, as a reporter opens a sentence that goes on from a quotation cut
short, "…increasingly, according to those familiar with …") and ending like one (`.`, `!` or `?`,
closing quotes or brackets allowed). A code line, a heading, a fragment cut at a line break
("directory is added …") or a whole block of several lines fails it.

Every top passage is counted, and apart from them the answers given: where the index abstains
(`answered: false`, "No passage answers this confidently"), the closest passage is shown, but not
as an answer.

    python -m benchmarks.highlight_prose QUESTIONS.jsonl --index INDEX [--show]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

_STARTS = re.compile(r"^(?:…|\.\.\.)|^[\"'“‘(\[]?(?:[A-Z0-9]|[a-z][a-z]*[A-Z0-9_-]\S*\s)")
_ENDS = re.compile(r"[.!?][\"'”’)\]]*$")


def is_prose_sentence(text: str) -> bool:
    text = text.strip()
    return "\n" not in text and len(text.split()) >= 4 and bool(_STARTS.match(text)) and bool(_ENDS.search(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--show", action="store_true", help="print each failing highlight")
    args = parser.parse_args()

    from qa.collection import Collection

    collection = Collection.open(args.index)
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    good = asked = good_answers = answers = 0
    for question in questions:
        answer = collection.ask(question["question"], top_k=1, history=question.get("history", []))
        if not answer.passages:
            continue
        passage = answer.passages[0]
        # sliced, not `passage.highlighted`: benchmarks/every_set.sh runs this against older checkouts too
        highlight = passage.text[passage.highlight.start : passage.highlight.end]
        prose = is_prose_sentence(highlight)
        asked += 1
        good += prose
        answers += answer.answered
        good_answers += prose and answer.answered
        if not prose and args.show:
            print(f"{question['id']}{'' if answer.answered else ' (abstained)'}: {highlight[:120]!r}")
    print(f"top-1 highlights that are a whole prose sentence of >= 4 words: {good}/{asked} = {share(good, asked)}")
    print(f"  of the answers given (not abstained): {good_answers}/{answers} = {share(good_answers, answers)}")


def share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "-"


if __name__ == "__main__":
    main()
