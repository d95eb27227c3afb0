"""Checks questions.jsonl against corpus/ as qa's HTML reader reads the pages.

Run from the repository root: `python benchmarks/sets/git-docs/check.py`. Prints one line, OK
with the counts, or the problems found. Reads HTML only (qa's reader, BeautifulSoup): no model,
no index.

- Every record has the set's keys; ids are unique; `docs` name pages of corpus/.
- Answerable: every answer string is in its `answer_sentence`, the sentence is in the first page
  named, and every answer string is in every page named (exact, case-sensitive, in the reader's
  text).
- No answer string is found on a page outside `docs`, in the reader's text normalised as the
  evaluation matches it (NFKC, whitespace collapsed, lower case).
- Unanswerable: `answers` and `docs` are empty, and the key words below occur on no page (case
  ignored). Broader words that do occur are listed in the README, with what they turned up.
- corpus/ is flat, HTML only, and under 5 MB.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for qa's reader

from qa.ingest.readers.html import read_html  # noqa: E402

CORPUS = HERE / "corpus"
QUESTIONS = HERE / "questions.jsonl"
ANSWERABLE_KEYS = ["id", "question", "answers", "docs", "answer_sentence"]
UNANSWERABLE_KEYS = ["id", "question", "answers", "docs"]
MAX_CORPUS_BYTES = 5 * 1024 * 1024

# Words that would have to be on a page for it to answer the unanswerable question.
UNANSWERABLE_KEYWORDS = {
    "none-github-required-reviews": ["approv", "required review", "branch protection", "protected branch"],
    "none-gitlab-ci": ["gitlab", ".gitlab-ci", "yaml"],
    "none-github-desktop-button": ["github desktop", "desktop app"],
    "none-hosting-price": ["price", "pricing", "per month", "subscription", "charge"],
    "none-git-lfs": ["git lfs", "git-lfs", "large file storage", "photoshop", ".psd"],
    "none-jira-link": ["jira", "issue tracker"],
    "none-vscode": ["vs code", "vscode", "visual studio code"],
    "none-bitbucket-size-limit": ["bitbucket"],
}


def normalize_for_match(text: str) -> str:
    """As qa.evaluation.metrics.normalize_for_match: NFKC, whitespace collapsed, lower case."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).lower()


def main() -> int:
    problems: list[str] = []
    pages = sorted(CORPUS.iterdir())
    for page in pages:
        if not page.is_file() or page.suffix != ".html":
            problems.append(f"corpus/{page.name}: not an HTML file")
    size = sum(page.stat().st_size for page in pages if page.is_file())
    if size > MAX_CORPUS_BYTES:
        problems.append(f"corpus/ is {size:,} bytes, over {MAX_CORPUS_BYTES:,}")
    texts = {page.name: read_html(page).text for page in pages if page.suffix == ".html"}
    normalized = {name: normalize_for_match(text) for name, text in texts.items()}

    records = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [record.get("id") for record in records]
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{duplicate}: id used more than once")
    covered: set[str] = set()
    answerable = unanswerable = 0
    for record in records:
        rid = record.get("id")
        if record.get("answers"):
            answerable += 1
            if list(record) != ANSWERABLE_KEYS:
                problems.append(f"{rid}: keys {list(record)}, expected {ANSWERABLE_KEYS}")
                continue
            docs, answers, sentence = record["docs"], record["answers"], record["answer_sentence"]
            missing = [doc for doc in docs if doc not in texts]
            if not docs or missing:
                problems.append(f"{rid}: docs {docs} not all in corpus/")
                continue
            covered.update(docs)
            if sentence not in texts[docs[0]]:
                problems.append(f"{rid}: answer_sentence not in {docs[0]}")
            for answer in answers:
                if answer not in sentence:
                    problems.append(f"{rid}: answer {answer!r} not in its answer_sentence")
                for doc in docs:
                    if answer not in texts[doc]:
                        problems.append(f"{rid}: answer {answer!r} not in {doc}")
                needle = normalize_for_match(answer)
                elsewhere = [name for name, text in normalized.items() if needle in text and name not in docs]
                if elsewhere:
                    problems.append(f"{rid}: answer {answer!r} also on {elsewhere}, not in docs")
        else:
            unanswerable += 1
            if list(record) != UNANSWERABLE_KEYS or record["docs"]:
                problems.append(
                    f"{rid}: an unanswerable question has keys {list(record)} and docs {record.get('docs')}"
                )
            words = UNANSWERABLE_KEYWORDS.get(rid)
            if not words:
                problems.append(f"{rid}: no key words listed to search for")
                continue
            for word in words:
                found = [name for name, text in texts.items() if word.lower() in text.lower()]
                if found:
                    problems.append(f"{rid}: key word {word!r} found on {found}")

    if problems:
        print(f"{len(problems)} problem(s):")
        for problem in problems:
            print("  " + problem)
        return 1
    print(
        f"OK: {len(records)} questions ({answerable} answerable on {len(covered)} pages, {unanswerable} unanswerable), "
        f"{len(texts)} pages, {size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
