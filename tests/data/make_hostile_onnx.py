"""Writes the catalogue of hostile ONNX files in tests/data/hostile_onnx/:
models strata must refuse with one line naming the file and the problem, in
bounded time and memory (tests/onnx/hostile_onnx_test.cpp holds the expected
message of each), and tests/data/onnx_external/, a small model whose weights
are external data beside it (it must load). Built with onnx.helper, as a
hostile tool would write them. Run with Debian's python3:
    /usr/bin/python3 tests/data/make_hostile_onnx.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DATA = os.path.dirname(os.path.abspath(__file__))
HERE = os.path.join(DATA, "hostile_onnx")
os.makedirs(HERE, exist_ok=True)


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def model(nodes, inputs=None, outputs=None, initializers=(), opset=13):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])]
    outputs = outputs or [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def weight(name, dims, raw=None, float_data=None, external=None):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    if float_data is not None:
        t.float_data.extend(float_data)
    if external is not None:
        t.data_location = TensorProto.EXTERNAL
        for k, v in external.items():
            e = t.external_data.add()
            e.key, e.value = k, v
    return t


relu = helper.make_node("Relu", ["x"], ["y"], name="relu")
ok = model([relu])


def matmul(w):
    return model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], initializers=[w])


# ---- The protobuf itself
write("empty.onnx", b"")
write("truncated.onnx", matmul(weight("w", [4, 4], raw=np.ones(16, np.float32).tobytes()))[:-40])
write("garbage.onnx", bytes(range(256)) * 8)
# ---- Sizes
write("huge_dims.onnx", matmul(weight("w", [1 << 40, 1 << 40])))
write("dims_overflow.onnx", matmul(weight("w", [1 << 31, 1 << 31, 1 << 31])))
write("negative_dim.onnx", matmul(weight("w", [-4, 4], raw=b"")))
write("raw_size_mismatch.onnx", matmul(weight("w", [4, 4], raw=b"\0" * 12)))
write("float_data_mismatch.onnx", matmul(weight("w", [4, 4], float_data=[1.0, 2.0, 3.0])))
write("huge_input_dims.onnx", model(
    [relu], inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1 << 40, 1 << 40])],
    outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]))
# ---- The graph
write("cycle.onnx", model([helper.make_node("Relu", ["b"], ["a"], name="first"),
                           helper.make_node("Relu", ["a"], ["b"], name="second"),
                           helper.make_node("Add", ["x", "b"], ["y"], name="add")]))
write("missing_input.onnx", model([helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")]))
write("unknown_op.onnx", model([helper.make_node("FooBar", ["x"], ["y"], name="foo")]))
write("missing_output.onnx", model([helper.make_node("Relu", ["x"], ["z"], name="relu")]))
# The same at opset 9, which onnx's version converter would see (it crashes on
# a missing output): the importer's checks come first.
write("missing_output_opset9.onnx",
      model([helper.make_node("Relu", ["x"], ["z"], name="relu")], opset=9))
write("missing_input_opset9.onnx",
      model([helper.make_node("Add", ["x", "nowhere"], ["y"], name="add")], opset=9))
write("cycle_opset9.onnx", model([helper.make_node("Relu", ["b"], ["a"], name="first"),
                                  helper.make_node("Relu", ["a"], ["b"], name="second"),
                                  helper.make_node("Add", ["x", "b"], ["y"], name="add")],
                                 opset=9))
write("unknown_op_opset9.onnx", model([helper.make_node("FooBar", ["x"], ["y"], name="foo")],
                                      opset=9))
# ---- Options whose size arithmetic would overflow or loop for long
x4 = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])]
any_out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


write("resize_huge_sizes.onnx", model(
    [helper.make_node("Resize", ["x", "", "", "s"], ["y"], name="resize", mode="nearest")],
    inputs=x4, outputs=any_out, initializers=[ints("s", [1, 1, 4, 1 << 50])]))
write("resize_huge_scales.onnx", model(
    [helper.make_node("Resize", ["x", "", "s"], ["y"], name="resize", mode="nearest")],
    inputs=x4, outputs=any_out,
    initializers=[numpy_helper.from_array(np.array([1, 1, 1, 1e30], np.float32), "s")]))
write("pad_huge.onnx", model(
    [helper.make_node("Pad", ["x", "p"], ["y"], name="pad")], inputs=x4, outputs=any_out,
    initializers=[ints("p", [0, 0, 0, 1 << 62, 0, 0, 0, 1 << 62])]))
write("convtranspose_huge_stride.onnx", model(
    [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="deconv", strides=[1 << 62, 1])],
    inputs=x4, outputs=any_out,
    initializers=[numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")]))
# AveragePool that leaves padding out of its windows (count_include_pad 0)
# on a declared (not given) row of 400 million values: its per-position scale
# is bounded before anything is allocated for it (found by fuzz_onnx).
write("avgpool_exclude_pad_huge.onnx", model(
    [helper.make_node("AveragePool", ["x"], ["y"], name="pool", kernel_shape=[1, 2],
                      pads=[0, 1, 0, 1], count_include_pad=0)],
    inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 1, 400000000])],
    outputs=any_out))
# ---- External data
write("external_escapes.onnx",
      matmul(weight("w", [4, 4], external={"location": "../onnx/mlp_opset11.onnx"})))
write("external_absolute.onnx", matmul(weight("w", [4, 4], external={"location": "/etc/passwd"})))
write("external_missing.onnx", matmul(weight("w", [4, 4], external={"location": "nothing.bin"})))
write("external_beyond_file.onnx", matmul(weight(
    "w", [4, 4], external={"location": "cycle.onnx", "offset": "100000", "length": "64"})))
write("external_length_disagrees.onnx", matmul(weight(
    "w", [4, 4], external={"location": "cycle.onnx", "offset": "0", "length": "8"})))
write("external_offset_overflows.onnx", matmul(weight(
    "w", [4, 4], external={"location": "cycle.onnx", "offset": str((1 << 64) - 8), "length": "64"})))

# ---- A model with external data that loads: y = x · W + b, W and b in weights.bin.
ext = os.path.join(DATA, "onnx_external")
os.makedirs(ext, exist_ok=True)
rng = np.random.default_rng(0)
W = rng.standard_normal((4, 3)).astype(np.float32)
b = rng.standard_normal(3).astype(np.float32)
with open(os.path.join(ext, "weights.bin"), "wb") as f:
    f.write(b"pad!" + W.tobytes() + b.tobytes())
m = model([helper.make_node("MatMul", ["x", "w"], ["xw"], name="mm"),
           helper.make_node("Add", ["xw", "b"], ["y"], name="add")],
          outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
          initializers=[
              weight("w", [4, 3], external={"location": "weights.bin", "offset": "4",
                                            "length": str(W.nbytes)}),
              weight("b", [3], external={"location": "weights.bin", "offset": str(4 + W.nbytes),
                                         "length": str(b.nbytes)})])
with open(os.path.join(ext, "model.onnx"), "wb") as f:
    f.write(m)
x = rng.standard_normal((2, 4)).astype(np.float32)
np.save(os.path.join(ext, "input.npy"), x)
np.save(os.path.join(ext, "output.npy"), x @ W + b)
