"""int8 or bfloat16 passages against float32, in one run: is the faster encoder good enough to be
the default?

Issue 23's test: every quality figure within 0.002 of float32, and abstention within its targets.
`--kind int8` is the quantized model (passages and questions); `--kind bfloat16` embeds passages in
bfloat16 (embeddings.bf16; questions stay float32). Both encoders are loaded in this process; each
indexes the same corpora with the normal indexing code (SQuAD dev-a and SciFact are cached under
the evaluation cache, keyed by model and kind; the seeds go to a scratch folder), then:

- SciFact nDCG@10 and Recall@100, SQuAD dev-a gold@1 / gold@5, the seeds' hit@1 / hit@3 and
  their abstention, as `qa eval` measures them;
- the calibration set of docs/EVALUATION.md (benchmarks.calibrate's plan) scored by the shipped
  confidence model: answerable questions abstained on, unanswerable ones answered;
- question latency: the median of the seeds' questions through `Collection.ask`, and of a single
  question encoded alone.

Indexing throughput is `python -m benchmarks.bench_indexing --compare-kinds`.

    python -m benchmarks.compare_int8 [--kind int8|bfloat16] [--sample 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import exit_on_sigterm, load_average, median, print_table, write_results
from benchmarks.corpora import SEED_QUESTIONS, SHARED_EVAL

QUALITY_TOLERANCE = 0.002
KINDS = {"float32": (False, "float32"), "int8": (True, "float32"), "bfloat16": (False, "bfloat16")}


def measure(kind: str, scratch: Path, sample: int) -> tuple[dict, np.ndarray]:
    """The figures of one encoder, and its vectors of the seeds' questions."""
    import embeddings
    from benchmarks import calibrate
    from qa import config
    from qa.collection import Collection
    from qa.evaluation.datasets import load_beir, load_questions, load_squad
    from qa.evaluation.runner import corpus_index, run_eval
    from qa.ingest.indexing import ensure_index

    quantized, passages = KINDS[kind]
    options = config.current().encoder_options()
    encoder = embeddings.load_encoder(None, quantized=quantized, passages=passages, **options)
    squad = load_squad(SHARED_EVAL / "squad" / "dev-a.json")
    scifact = load_beir(SHARED_EVAL / "scifact")
    seeds = load_questions(SEED_QUESTIONS)

    indexes = {
        "squad": corpus_index(squad, encoder=encoder),
        "scifact": corpus_index(scifact, encoder=encoder),
        "seeds": ensure_index(scratch / f"seeds-{kind}", [config.seeds_dir()], "the seeds", encoder=encoder),
        "squad-even": corpus_index(calibrate.withheld_squad(squad)[0], encoder=encoder),  # the calibration's
    }
    figures: dict = {"load_before": load_average()}
    for name, eval_set in (("scifact", scifact), ("squad", squad), ("seeds", seeds)):  # not squad-even
        report = run_eval(eval_set, index_dir=indexes[name], encoder=encoder)
        figures[name] = report.metrics
        print(f"{kind} {name}: done", flush=True)

    collections = {name: Collection.open(path, encoder=encoder) for name, path in indexes.items()}
    rows = calibrate.collect(sample, collections=collections, sentence_dense=False)
    figures["calibration"] = calibrate.check(rows)

    question = "Which former foreign minister refused to become Libya's UN ambassador?"
    encoder.encode_queries([question])
    single = []
    for _ in range(50):
        began = time.perf_counter()
        encoder.encode_queries([question])
        single.append((time.perf_counter() - began) * 1000)
    figures["encode_question_ms"] = median(single)
    figures["load_after"] = load_average()
    return figures, encoder.encode_queries([q.question for q in seeds.questions])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["int8", "bfloat16"], default="int8", help="what to hold against float32")
    parser.add_argument(
        "--sample", type=int, default=1000, help="questions per cross-corpus source of the calibration set"
    )
    args = parser.parse_args()
    exit_on_sigterm()

    kind = args.kind
    results, vectors = {}, {}
    with tempfile.TemporaryDirectory(prefix="compare-kinds-") as scratch:
        for label in ("float32", kind):
            results[label], vectors[label] = measure(label, Path(scratch), args.sample)
    cosine = (vectors["float32"] * vectors[kind]).sum(1)

    checks = [
        ("SciFact nDCG@10", "scifact", "ndcg@10"),
        ("SciFact Recall@100", "scifact", "recall@100"),
        ("SQuAD dev-a gold@1", "squad", "gold@1"),
        ("SQuAD dev-a gold@5", "squad", "gold@5"),
        ("seeds hit@1", "seeds", "hit@1"),
        ("seeds hit@3", "seeds", "hit@3"),
        ("seeds answerable abstained", "seeds", "answerable_abstained"),
        ("seeds unanswerable answered", "seeds", "unanswerable_answered"),
    ]
    rows, verdicts = [], {}
    for label, part, key in checks:
        fp32, other = results["float32"][part].get(key), results[kind][part].get(key)
        if fp32 is None or other is None:
            continue
        delta = other - fp32
        verdicts[label] = {"float32": fp32, kind: other, "delta": delta}
        rows.append([label, f"{fp32:.4f}", f"{other:.4f}", f"{delta:+.4f}"])
    for half in ("fit", "report"):
        for key in ("answerable_abstained", "unanswerable_answered"):
            fp32 = results["float32"]["calibration"][half][key]
            other = results[kind]["calibration"][half][key]
            label = f"calibration {half} half: {key.replace('_', ' ')}"
            verdicts[label] = {"float32": fp32, kind: other, "delta": other - fp32}
            rows.append([label, f"{fp32:.4f}", f"{other:.4f}", f"{other - fp32:+.4f}"])
    rows.append(
        [
            "one question encoded (ms, median of 50)",
            f"{results['float32']['encode_question_ms']:.2f}",
            f"{results[kind]['encode_question_ms']:.2f}",
            f"×{results['float32']['encode_question_ms'] / results[kind]['encode_question_ms']:.2f}",
        ]
    )
    rows.append(
        [
            "seeds question through ask (ms, p50)",
            f"{results['float32']['seeds']['p50_ms']:.1f}",
            f"{results[kind]['seeds']['p50_ms']:.1f}",
            "",
        ]
    )
    print_table(f"{kind} against float32 (one run)", ["figure", "float32", kind, f"{kind} − float32"], rows)
    print(f"question vectors, {kind} against float32: min cosine {cosine.min():.4f}, median {median(list(cosine)):.4f}")
    path = write_results(
        "compare_int8" if kind == "int8" else f"compare_{kind}",
        {
            "command": "python -m benchmarks.compare_int8"
            + (f" --kind {kind}" if kind != "int8" else "")
            + (f" --sample {args.sample}" if args.sample != 1000 else ""),
            "tolerance": QUALITY_TOLERANCE,
            "figures": results,
            "deltas": verdicts,
            "question_cosine": {"min": float(cosine.min()), "median": float(median(list(cosine)))},
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
