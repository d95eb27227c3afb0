"""int8's SQuAD dev-a figures under different batchings of the same passages.

Dynamic int8 quantizes each encoder call's activations with one range for the whole call, so a
passage's vector depends on the passages embedded with it; `qa` therefore encodes one text a call
with int8 (the last row), and this shows what batching would do instead. It indexes SQuAD
dev-a's corpus with the int8 encoder once per batching (a fresh evaluation cache each time) and asks its questions,
to see how far the batching alone moves gold@1 and gold@5 against the 0.002 that issue 23 allows.
float32 vectors do not depend on their batch (padding is masked; benchmarks.bench_padding).

    python -m benchmarks.int8_batching
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from benchmarks.common import load_average, print_table, write_results
from benchmarks.corpora import SHARED_EVAL

# name: (PADDING_SLACK, token budget, most texts a call)
BATCHINGS = {
    "groups of like length, 2,048 tokens a call (as float32)": (1.3, 2048, 64),
    "one call padded to its longest, 2,048 tokens": (float("inf"), 2048, 64),
    "groups of like length, 1,024 tokens a call": (1.3, 1024, 64),
    "groups of like length, at most 32 texts a call": (1.3, 2048, 32),
    "one text a call (shipped)": (1.3, 2048, 1),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(BATCHINGS), help="these batchings only")
    args = parser.parse_args()
    import embeddings
    import embeddings.onnx_encoder as onnx_encoder
    from qa import config
    from qa.evaluation.datasets import load_squad
    from qa.evaluation.runner import corpus_index, run_eval

    squad = load_squad(SHARED_EVAL / "squad" / "dev-a.json")
    encode = onnx_encoder.OnnxEncoder.encode
    load_before = load_average()
    rows, results = [], []
    try:
        for name, (slack, budget, most) in BATCHINGS.items():
            if args.only and name not in args.only:
                continue
            onnx_encoder.PADDING_SLACK = slack

            def batched(self, texts, budget=budget, most=most):
                self.texts_per_call = most  # int8 encodes one text a call unless told otherwise
                return encode(self, texts, budget, most)

            onnx_encoder.OnnxEncoder.encode = batched
            with tempfile.TemporaryDirectory(prefix="int8-batching-") as home:
                os.environ["QA_HOME"] = home  # a fresh evaluation cache: the corpus is embedded again
                encoder = embeddings.load_encoder(None, quantized=True, **config.current().encoder_options())
                began = time.perf_counter()
                metrics = run_eval(squad, index_dir=corpus_index(squad, encoder=encoder), encoder=encoder).metrics
            rows.append([name, f"{metrics['gold@1']:.4f}", f"{metrics['gold@5']:.4f}"])
            results.append({"batching": name, "gold@1": metrics["gold@1"], "gold@5": metrics["gold@5"]})
            print(f"{name}: {time.perf_counter() - began:.0f} s", flush=True)
    finally:
        onnx_encoder.OnnxEncoder.encode = encode
    print_table("int8, SQuAD dev-a (float32: the same under every batching)", ["batching", "gold@1", "gold@5"], rows)
    path = write_results("int8_batching", {"load": [load_before, load_average()], "batchings": results})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
