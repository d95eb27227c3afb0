"""Which of pip's questions have an answer in the top three passages: a pattern for each answer,
written from what pip's manual says, applied to the JSON lines of `qa ask QUESTION -k 3 --json`.

    python benchmarks/results/session-2026-12-05i/pip_judge.py BEFORE.jsonl AFTER.jsonl
"""

import json
import re
import sys

ANSWERS = {
    "How do I install packages from a requirements file?": r"install -r requirements\.txt",
    "How do I upgrade pip itself?": r"install --upgrade pip",
    "How do I clear pip's cache?": r"pip cache purge",
    "How do I install a package in editable mode?": r"install (-e|--editable)",
    "What does pip freeze do?": r"output suitable for a requirements file",
    "How do I use a different package index?": r"--index-url|--extra-index-url|\s-i\s",
    "How do I install packages without internet access?": r"--no-index",
    "Can I set pip options with environment variables?": r"PIP_<UPPER_LONG_NAME>",
    "Where is pip's configuration file on Linux?": r"\.config/pip/pip\.conf",
    "How do I make pip check hashes of the packages it installs?": r"--require-hashes",
    "What is a constraints file?": r"Constraints files are requirements files that only control",
    "What happens when two packages need different versions of the same dependency?": (
        r"conflicting dependencies|ResolutionImpossible"
    ),
    "How do I uninstall a package without being asked to confirm?": r"(\s-y|--yes)\b",
    "How do I install a package straight from a Git repository?": r"git\+https?://",
    "How do I see which installed packages are outdated?": r"--outdated",
    "How do I give pip the password for a private index?": r"username:password|\.netrc|keyring",
    "What does the --user option do?": r"user scheme|user install directory",
}


def judged(path: str) -> dict[str, int | None]:
    """Question → the rank of the first passage holding its answer (None: not in the top three)."""
    ranks = {}
    for line in open(path):
        answer = json.loads(line)
        pattern = ANSWERS.get(answer["question"])
        if pattern is None:
            continue
        hits = [p["rank"] for p in answer["passages"][:3] if re.search(pattern, p["text"])]
        ranks[answer["question"]] = hits[0] if hits else None
    return ranks


before, after = judged(sys.argv[1]), judged(sys.argv[2])
for question in ANSWERS:
    print(f"{before[question] or '-'} → {after[question] or '-'}  {question}")
for name, ranks in (("before", before), ("after", after)):
    at1 = sum(rank == 1 for rank in ranks.values())
    at3 = sum(rank is not None for rank in ranks.values())
    print(f"{name}: answer at rank 1 {at1}/{len(ranks)}, in the top three {at3}/{len(ranks)}")
