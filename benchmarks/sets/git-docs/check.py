"""What the shared checks of every documentation set do not check of this one
(`tests/test_evaluation_datasets.py` checks its keys, ids, and each answer string in its sentence
and in every page named), as qa's HTML reader reads the pages:

- each answer string is in each page named exactly, case and spacing as the reader gives them
  (the shared check normalises both, as the evaluation does);
- no answer string is found on a page outside `docs` (normalised as the evaluation matches);
- the key words of each unanswerable question occur on no page (case ignored; broader words that
  do occur are listed in the README, with what they turned up);
- corpus/ is flat, HTML only, and under 5 MB.

Run from the repository root: `python benchmarks/sets/git-docs/check.py`. Prints one line, OK
with the counts, or the problems found. Reads HTML only: no model, no index.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for qa's reader

from qa.evaluation.metrics import normalize_for_match  # noqa: E402
from qa.ingest.readers.html import read_html  # noqa: E402

CORPUS = HERE / "corpus"
QUESTIONS = HERE / "questions.jsonl"
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


def main() -> int:
    problems: list[str] = []
    pages = sorted(CORPUS.iterdir())
    problems += [
        f"corpus/{page.name}: not an HTML file" for page in pages if not page.is_file() or page.suffix != ".html"
    ]
    size = sum(page.stat().st_size for page in pages if page.is_file())
    if size > MAX_CORPUS_BYTES:
        problems.append(f"corpus/ is {size:,} bytes, over {MAX_CORPUS_BYTES:,}")
    raw = {page.name: read_html(page).text for page in pages if page.suffix == ".html"}
    texts = {name: normalize_for_match(text) for name, text in raw.items()}
    records = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    for record in records:
        if record["answers"]:
            for answer in record["answers"]:
                problems += [
                    f"{record['id']}: answer {answer!r} not in {doc} as written"
                    for doc in record["docs"]
                    if answer not in raw.get(doc, "")
                ]
                needle = normalize_for_match(answer)
                elsewhere = [name for name, text in texts.items() if needle in text and name not in record["docs"]]
                if elsewhere:
                    problems.append(f"{record['id']}: answer {answer!r} also on {elsewhere}, not in docs")
            continue
        words = UNANSWERABLE_KEYWORDS.get(record["id"])
        if not words:
            problems.append(f"{record['id']}: no key words listed to search for")
        for word in words or []:
            found = [name for name, text in texts.items() if word.lower() in text]
            if found:
                problems.append(f"{record['id']}: key word {word!r} found on {found}")
    if problems:
        print(f"{len(problems)} problem(s):")
        for problem in problems:
            print("  " + problem)
        return 1
    answerable = sum(bool(record["answers"]) for record in records)
    print(
        f"OK: {len(records)} questions ({answerable} answerable, {len(records) - answerable} unanswerable), "
        f"{len(texts)} pages, {size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
