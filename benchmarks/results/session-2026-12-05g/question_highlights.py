"""How often the first passage's highlight is a question (ends with "?"), per question set and
index (the paths as they were on this machine: edit SETS to run it elsewhere).

    python benchmarks/results/session-2026-12-05g/question_highlights.py
"""

import json

from qa.collection import Collection

SETS = {
    "sqlite": ("/work/main/benchmarks/sets/sqlite-docs/questions.jsonl", "/tmp/evh-after/sqlite-docs.qa"),
    "borg": ("/work/main/benchmarks/sets/borg-docs/questions.jsonl", "/tmp/evh-after/borg-docs.qa"),
    "git": ("/work/main/benchmarks/sets/git-docs/questions.jsonl", "/tmp/evh-after/git-docs.qa"),
    "book": ("/tmp/s7/book-q.txt", "/tmp/s7/book2.qa"),
    "cargo": ("/tmp/s7/cargo-q.txt", "/tmp/s7/cargo.qa"),
    "seeds": ("/work/shared/eval/seeds/questions.jsonl", "/work/main/benchmarks/results/.cache/seeds-index"),
}


def main() -> None:
    for name, (questions_file, index) in SETS.items():
        lines = [line for line in open(questions_file) if line.strip()]
        if questions_file.endswith(".jsonl"):
            questions = [json.loads(line)["question"] for line in lines]
        else:
            questions = [line.strip() for line in lines]
        collection = Collection.open(index)
        asked = 0
        for question in questions:
            answer = collection.ask(question, top_k=1)
            highlight = answer.passages[0].highlighted if answer.passages else ""
            if highlight.rstrip().rstrip('"”’)').endswith("?"):
                asked += 1
                print("   ", name, question[:60], "→", highlight[:100].replace("\n", " "))
        print(name, asked, "/", len(questions))


if __name__ == "__main__":
    main()
