"""Sentence splitters compared: ours (qa/text/sentences.py::sentence_spans) against blingfire and pysbd.

On SQuAD dev-a's 1,048 paragraphs and the seed documents. With no gold sentence boundaries, two
consequences a user would notice are counted instead:

- **answers cut**: SQuAD answer spans that a sentence boundary cuts in two (an answer is a short
  phrase inside one sentence, so nearly every cut is a wrong boundary: "Dr. | Smith", "U.S. | Army");
- **highlight holds the answer**: for each SQuAD question, its paragraph's best sentence by the
  sentence BM25 (IDF from the SQuAD index, as the highlight does) contains an answer string;

plus the time per paragraph and the number of sentences. Needs `pip install blingfire pysbd`
(not dependencies of qa: this is a measurement).

    python -m benchmarks.sentence_splitters
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from benchmarks.common import REPO, load_average, print_table, write_results
from qa.text.sentences import sentence_spans

SHARED_EVAL = REPO.parent / "shared" / "eval"


def splitters() -> dict:
    import blingfire
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)

    def with_blingfire(text: str) -> list[tuple[int, int]]:
        return [tuple(span) for span in blingfire.text_to_sentences_and_offsets(text)[1]]

    def with_pysbd(text: str) -> list[tuple[int, int]]:
        spans = []
        for piece in segmenter.segment(text):
            stripped = piece.sent.strip()
            start = piece.start + (len(piece.sent) - len(piece.sent.lstrip()))
            spans.append((start, start + len(stripped)))
        return spans

    return {"ours (qa.text.sentences)": sentence_spans, "blingfire": with_blingfire, "pysbd": with_pysbd}


def best_sentence(text: str, spans, terms, idf) -> tuple[int, int]:
    """The span scoring best by the sentence BM25 of qa.search.sentence_scores, for any splitter's spans."""
    from qa.search.sentence_scores import SENTENCE_B, SENTENCE_K1
    from qa.text.analysis import analyze

    analysed = [(start, end, Counter(analyze(text[start:end]))) for start, end in spans]
    lengths = [sum(counts.values()) for _, _, counts in analysed]
    average = max(1.0, sum(lengths) / len(lengths)) if lengths else 1.0
    best, best_score = (0, len(text)), -1.0
    for (start, end, counts), length in zip(analysed, lengths):
        norm = SENTENCE_K1 * (1 - SENTENCE_B + SENTENCE_B * length / average)
        score = sum(
            idf[t] * counts[t] * (SENTENCE_K1 + 1) / (counts[t] + norm) for t in terms if t in idf and t in counts
        )
        if score > best_score:
            best, best_score = (start, end), score
    return best


def main() -> None:
    import json

    from qa.evaluation.datasets import load_squad
    from qa.evaluation.metrics import contains_answer
    from qa.evaluation.runner import corpus_index
    from qa.search.searcher import Searcher
    from qa.store import Snapshot
    from qa.text.analysis import question_terms

    load = load_average()
    raw = json.loads((SHARED_EVAL / "squad" / "dev-a.json").read_text("utf-8"))
    paragraphs = []  # (context, [(question, [(answer_start, answer_text)])])
    for article in raw["data"]:
        for paragraph in article["paragraphs"]:
            qas = [(qa["question"], [(a["answer_start"], a["text"]) for a in qa["answers"]]) for qa in paragraph["qas"]]
            paragraphs.append((paragraph["context"], qas))
    seeds = [path.read_text("utf-8") for path in sorted((REPO / "seeds").glob("*")) if path.is_file()]
    bm25 = Searcher(Snapshot.open(Path(corpus_index(load_squad(SHARED_EVAL / "squad" / "dev-a.json"))))).bm25

    results, rows = {}, []
    for name, split in splitters().items():
        for text in [p for p, _ in paragraphs[:20]]:  # warm-up
            split(text)
        started = time.perf_counter()
        spans_of = [split(context) for context, _ in paragraphs]
        squad_us = (time.perf_counter() - started) / len(paragraphs) * 1e6
        started = time.perf_counter()
        seed_sentences = sum(len(split(text)) for text in seeds)
        seeds_us = (time.perf_counter() - started) / max(1, len(seeds)) * 1e6
        answers = cut = questions = held = 0
        for (context, qas), spans in zip(paragraphs, spans_of):
            ends = sorted({end for _, end in spans})
            for question, found in qas:
                for answer_start, answer_text in found:
                    answers += 1
                    answer_end = answer_start + len(answer_text)
                    cut += any(answer_start < end < answer_end for end in ends)
                terms = question_terms(question)
                start, end = best_sentence(context, spans, terms, bm25.idf(terms))
                questions += 1
                held += contains_answer(context[start:end], [text for _, text in found])
        results[name] = {
            "squad_sentences": sum(map(len, spans_of)),
            "seeds_sentences": seed_sentences,
            "answers_cut": cut,
            "answers": answers,
            "highlight_holds_answer": held / questions,
            "us_per_squad_paragraph": squad_us,
            "us_per_seed_document": seeds_us,
        }
        r = results[name]
        rows.append(
            [
                name,
                r["squad_sentences"],
                f"{cut} / {answers}",
                f"{r['highlight_holds_answer']:.4f}",
                f"{squad_us:.0f}",
                r["seeds_sentences"],
                f"{seeds_us:.0f}",
            ]
        )
    print_table(
        "Sentence splitters on SQuAD dev-a and the seeds",
        [
            "splitter",
            "SQuAD sentences",
            "answers cut",
            "highlight holds answer",
            "µs / paragraph",
            "seeds sentences",
            "µs / seed doc",
        ],
        rows,
    )
    write_results("sentence_splitters", {"load": [load, load_average()], "splitters": results})


if __name__ == "__main__":
    main()
