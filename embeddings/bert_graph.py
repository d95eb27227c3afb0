"""A BERT encoder's ONNX graph, written straight from its safetensors weights: no torch.

Tracing the model through torch needs torch (750 MB) in every install just to make this graph once.
For the BERT family (all-MiniLM-L6-v2 among them) the graph is small and fixed, so it is written
here with ONNX Runtime's fused transformer operators, the same ones its optimizer makes of a traced
export: EmbedLayerNormalization, then per layer Attention, SkipLayerNormalization and BiasGelu
around three MatMuls. Other architectures still go through torch (`onnx_encoder._trace`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MICROSOFT = "com.microsoft"  # ONNX Runtime's contrib operators
INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]


def can_build(model_dir: Path) -> bool:
    """Whether `model_dir` is a sentence-transformers folder around a BERT encoder (absolute
    positions, GELU) with safetensors weights."""
    model_dir = Path(model_dir)
    config = hf_config(model_dir)
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and (model_dir / "model.safetensors").is_file()
        and (model_dir / "modules.json").is_file()
    )


def build(model_dir: Path, onnx_file: Path, opset: int) -> list[str]:
    """Write the transformer of `model_dir` (token ids in, token embeddings out) to `onnx_file`;
    returns the graph's input names."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    config = hf_config(model_dir)
    weights = load_file(str(Path(model_dir) / "model.safetensors"))
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

    def weight(name: str) -> np.ndarray:
        return weights[prefix + name].astype(np.float32, copy=False)

    initializers: list = []
    nodes: list = []

    def constant(name: str, array: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    epsilon = float(config.get("layer_norm_eps", 1e-12))
    for name in INPUT_NAMES:
        nodes.append(helper.make_node("Cast", [name], [f"{name}_int32"], to=TensorProto.INT32))
    embeddings = [
        constant(f"embeddings.{part}", weight(f"embeddings.{part}"))
        for part in (
            "word_embeddings.weight",
            "position_embeddings.weight",
            "token_type_embeddings.weight",
            "LayerNorm.weight",
            "LayerNorm.bias",
        )
    ]
    nodes.append(
        helper.make_node(
            "EmbedLayerNormalization",
            ["input_ids_int32", "token_type_ids_int32", *embeddings, "attention_mask_int32"],
            ["hidden_0", "mask_index"],
            domain=MICROSOFT,
            epsilon=epsilon,
        )
    )

    layers = int(config["num_hidden_layers"])
    hidden = "hidden_0"
    for index in range(layers):
        at = f"encoder.layer.{index}"

        def matmul(x: str, dense: str, out: str, at: str = at) -> object:
            # torch's Linear holds (out, in); MatMul wants (in, out)
            return helper.make_node("MatMul", [x, constant(f"{at}.{dense}.T", weight(f"{at}.{dense}.weight").T)], [out])

        def skip_layer_norm(x: str, residual: str, block: str, out: str, at: str = at) -> object:
            """LayerNorm(x + the block's dense bias + residual): BERT's `output` after attention and MLP."""
            names = [f"{at}.{block}.LayerNorm.weight", f"{at}.{block}.LayerNorm.bias", f"{at}.{block}.dense.bias"]
            parameters = [constant(name, weight(name)) for name in names]
            return helper.make_node(
                "SkipLayerNormalization", [x, residual, *parameters], [out], domain=MICROSOFT, epsilon=epsilon
            )

        # Attention takes Q, K and V as one (in, 3 × out) product.
        qkv = [f"{at}.attention.self.{part}" for part in ("query", "key", "value")]
        qkv_weight = constant(f"{at}.qkv.weight", np.concatenate([weight(f"{w}.weight").T for w in qkv], axis=1))
        qkv_bias = constant(f"{at}.qkv.bias", np.concatenate([weight(f"{w}.bias") for w in qkv]))
        heads = int(config["num_attention_heads"])
        output = "token_embeddings" if index == layers - 1 else f"hidden_{index + 1}"
        intermediate_bias = constant(f"{at}.intermediate.dense.bias", weight(f"{at}.intermediate.dense.bias"))
        nodes += [
            helper.make_node(
                "Attention",
                [hidden, qkv_weight, qkv_bias, "mask_index"],
                [f"{at}.context"],
                domain=MICROSOFT,
                num_heads=heads,
            ),
            matmul(f"{at}.context", "attention.output.dense", f"{at}.attention_projected"),
            skip_layer_norm(f"{at}.attention_projected", hidden, "attention.output", f"{at}.attended"),
            matmul(f"{at}.attended", "intermediate.dense", f"{at}.intermediate"),
            helper.make_node(
                "BiasGelu", [f"{at}.intermediate", intermediate_bias], [f"{at}.activated"], domain=MICROSOFT
            ),
            matmul(f"{at}.activated", "output.dense", f"{at}.projected"),
            skip_layer_norm(f"{at}.projected", f"{at}.attended", "output", output),
        ]
        hidden = output

    dynamic = ["batch", "sequence"]
    graph = helper.make_graph(
        nodes,
        "token_embeddings",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dynamic) for name in INPUT_NAMES],
        [helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT, [*dynamic, int(config["hidden_size"])])],
        initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(MICROSOFT, 1)],
        producer_name="qa-passages",
    )
    onnx.save(model, str(onnx_file))
    return list(INPUT_NAMES)


def hf_config(model_dir: Path) -> dict:
    path = Path(model_dir) / "config.json"
    return json.loads(path.read_text()) if path.is_file() else {}
