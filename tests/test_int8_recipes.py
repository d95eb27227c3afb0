"""The int8 recipe benchmark keeps the layers it says in float32, even on an export whose nodes have
no names (embeddings/bert_graph.py writes them so): otherwise such a recipe silently quantized all."""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from benchmarks.int8_recipes import recipes


def unnamed_two_layer_graph(path) -> None:
    """Two layers as the export lays them out: an Attention node, then three MatMuls, none named."""
    nodes, last = [], "x"
    for layer in range(2):
        nodes.append(helper.make_node("Attention", [last], [f"a{layer}"], domain="com.microsoft"))
        last = f"a{layer}"
        for role in range(3):
            nodes.append(helper.make_node("MatMul", [last, "w"], [f"m{layer}{role}"]))
            last = f"m{layer}{role}"
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor("w", TensorProto.FLOAT, [4, 4], [0.0] * 16)],
    )
    onnx.save(helper.make_model(graph), str(path))


def test_a_recipe_keeping_a_layer_in_float32_names_that_layers_nodes(tmp_path):
    graph = tmp_path / "model.onnx"
    unnamed_two_layer_graph(graph)
    table = recipes(graph)
    assert table["no-embeddings, layer 0 float32"]["nodes_to_exclude"] == [
        "Attention_0",
        "/auto_model/encoder/layer.0/attention/output/dense/MatMul",
        "/auto_model/encoder/layer.0/intermediate/dense/MatMul",
        "/auto_model/encoder/layer.0/output/dense/MatMul",
    ]
    assert table["no-embeddings, last layer float32"]["nodes_to_exclude"] == []  # layer 5: not in two layers
    down = table["no-embeddings, FFN down-projection float32"]["nodes_to_exclude"]
    assert down == [f"/auto_model/encoder/layer.{n}/output/dense/MatMul" for n in (0, 1)]
    assert table["no-embeddings, attention float32"]["nodes_to_exclude"] == ["Attention_0", "Attention_1"]
