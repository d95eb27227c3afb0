"""How much of a passage the short form should show: where the answer lies relative to the
highlighted sentence, on real answers (the seed questions and SQuAD), with the real model.

For every returned passage that contains a gold answer string, it finds the sentence holding the
answer and counts how many sentences it lies from the highlighted one; then, for each candidate
rule (the highlight alone, one sentence either side, two), the share of answers the short form
shows and how long the short form is against the whole passage.

    python -m benchmarks.context_rule [--squad-questions 400] [--top-k 5]
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from pathlib import Path

from benchmarks.common import print_table, write_results
from benchmarks.corpora import SEED_QUESTIONS, SEEDS, SHARED_EVAL

SQUAD = SHARED_EVAL / "squad" / "dev-a.json"


def sentence_of(spans: list[tuple[int, int]], offset: int) -> int:
    """Index of the sentence holding `offset` (the nearest one before it, between sentences)."""
    found = 0
    for i, (start, _end) in enumerate(spans):
        if start <= offset:
            found = i
    return found


def examine(answers_per_question, rules) -> dict:
    from qa.text.sentences import sentence_spans

    distances: Counter = Counter()
    shown = Counter()
    lengths: dict[str, list[float]] = {name: [] for name in rules}
    passage_chars, counted = [], 0
    for answer, gold in answers_per_question:
        for passage in answer.passages:
            lowered = passage.text.lower()
            positions = [lowered.find(g.lower()) for g in gold if g.lower() in lowered]
            if not positions:
                continue
            counted += 1
            spans = sentence_spans(passage.text) or [(0, len(passage.text))]
            best = sentence_of(spans, passage.highlight.start)
            answer_at = min(positions)
            distances[min(abs(sentence_of(spans, answer_at) - best), 3)] += 1
            passage_chars.append(len(passage.text))
            for name, rule in rules.items():
                span = rule(passage.text, passage.highlight)
                start, end = span.start, span.end
                lengths[name].append(end - start)
                if start <= answer_at < end:
                    shown[name] += 1
    return {
        "passages_with_answer": counted,
        "distance": {str(k): distances[k] for k in sorted(distances)},
        "median_passage_chars": statistics.median(passage_chars) if passage_chars else None,
        "rules": {
            name: {
                "answer_shown": round(shown[name] / counted, 3) if counted else None,
                "median_chars": statistics.median(lengths[name]) if lengths[name] else None,
            }
            for name in rules
        },
    }


def seed_answers(top_k: int):
    import json
    import tempfile

    from qa.collection import Collection
    from qa.ingest.indexing import index_paths

    questions = [json.loads(line) for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as folder:
        index_paths([SEEDS], Path(folder) / "seeds.qa")
        collection = Collection.open(Path(folder) / "seeds.qa")
        return [
            (collection.ask(q["question"], top_k=top_k, history=q.get("history", [])), q["answers"])
            for q in questions
            if q.get("answers")
        ]


def squad_answers(limit: int, top_k: int):
    from qa.collection import Collection
    from qa.evaluation.datasets import load_squad
    from qa.evaluation.runner import corpus_index

    eval_set = load_squad(SQUAD)
    index_dir = corpus_index(eval_set)
    collection = Collection.open(index_dir)
    step = max(1, len(eval_set.questions) // limit)  # spread over the articles, not the first few
    questions = eval_set.questions[::step][:limit]
    return [(collection.ask(q.question, top_k=top_k), q.answers) for q in questions if q.answers]


def main() -> None:
    from qa.search.highlight import context_span

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad-questions", type=int, default=400)
    parser.add_argument("--top-k", type=int, default=5)
    args = parser.parse_args()
    rules = {
        "highlight only": lambda text, h: context_span(text, h, around=0, min_neighbour_words=0),
        "±1 sentence": lambda text, h: context_span(text, h, around=1, min_neighbour_words=0),
        "±1, short neighbours skipped": lambda text, h: context_span(text, h, around=1),
        "±2 sentences": lambda text, h: context_span(text, h, around=2, min_neighbour_words=0),
    }
    results = {"seeds": examine(seed_answers(args.top_k), rules)}
    if SQUAD.exists():
        results["squad"] = examine(squad_answers(args.squad_questions, args.top_k), rules)
    rows = []
    for corpus, found in results.items():
        for name, rule in found["rules"].items():
            rows.append(
                [corpus, name, rule["answer_shown"], rule["median_chars"], found["median_passage_chars"],
                 found["passages_with_answer"]]
            )  # fmt: skip
    print_table(
        "Short form: answers shown, by rule",
        ["corpus", "rule", "answer shown", "median chars", "passage chars", "passages"],
        rows,
    )
    for corpus, found in results.items():
        print(f"{corpus}: answer's distance from the highlight, in sentences (3 = 3 or more): {found['distance']}")
    write_results("context_rule", {"top_k": args.top_k, "results": results})


if __name__ == "__main__":
    main()
