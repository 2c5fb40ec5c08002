"""Writes nan_propagation.json: for every registered layer type (and every
function of those that have several), an input holding NaN and where
PyTorch's output is NaN. tests/layers/nan_propagation_test.cpp feeds the same
input to strata's layer and checks that its output is NaN at exactly those
positions: a NaN never vanishes (relu, max pooling, clamp keep it) and never
spreads further than PyTorch's.

A case: {"type", "name", "options", "arrays", "mode", "inputs": [T..],
"nan": [[input, flat index]..], "nan_out": [[flat index..] per output]},
the inputs finite (JSON has no NaN) with NaN put at "nan" by the test.
Run with Debian's python3:
    /usr/bin/python3 tests/data/make_nan_propagation.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from reference_util import rand, tensor

cases = []


def add(layer_type, name, inputs, nan, fn, options=None, arrays=None, mode=None):
    """fn(inputs with NaN) -> outputs (a tensor or a list)."""
    with_nan = [t.clone() for t in inputs]
    for k, i in nan:
        with_nan[k].view(-1)[i] = math.nan
    out = fn(*with_nan)
    outs = out if isinstance(out, (list, tuple)) else [out]
    c = {"type": layer_type, "name": name, "inputs": [tensor(t) for t in inputs],
         "nan": [list(p) for p in nan],
         "nan_out": [[int(i) for i in torch.nonzero(torch.isnan(o.reshape(-1))).flatten()]
                     for o in outs]}
    if options:
        c["options"] = options
    if arrays:
        c["arrays"] = {k: tensor(v) for k, v in arrays.items()}
    if mode:
        c["mode"] = mode
    cases.append(c)


# ---- ElementwiseLayer: every function, NaN among values of both signs
x = rand(2, 3, 4, lo=-2, hi=2)
nan = [(0, 0), (0, 13)]
functions = {
    "Ramp": F.relu, "Tanh": torch.tanh, "LogisticSigmoid": torch.sigmoid, "ELU": F.elu,
    "SELU": F.selu, "GELU": F.gelu, "Softplus": F.softplus, "Abs": torch.abs, "Exp": torch.exp,
    "Log": torch.log, "Sqrt": torch.sqrt, "Square": torch.square, "Sin": torch.sin,
    "Cos": torch.cos, "Erf": torch.erf, "Softsign": F.softsign, "Swish": F.silu, "Mish": F.mish,
    "HardTanh": F.hardtanh, "HardSigmoid": F.hardsigmoid,
}
for name, f in functions.items():
    add("ElementwiseLayer", name, [x], nan, f, {"Function": name})
add("ElementwiseLayer", "LeakyRamp", [x], nan, lambda v: F.leaky_relu(v, 0.1),
    {"Function": "LeakyRamp", "Alpha": 0.1})
add("ElementwiseLayer", "Clip", [x], nan, lambda v: torch.clamp(v, -0.5, 0.5),
    {"Function": "Clip", "Range": [-0.5, 0.5]})
for p in [1, 2, 0.5, 3, 0]:
    add("ElementwiseLayer", f"Power {p}", [x], nan, lambda v, p=p: torch.pow(v, p),
        {"Function": "Power", "Exponent": p})

# ---- Layers with arrays
x = rand(3, 5)
w, b = rand(4, 5), rand(4)
add("LinearLayer", "vector", [x], [(0, 7)], lambda v: F.linear(v, w, b), {"Size": 4},
    {"Weights": w, "Biases": b})

for name, shape, opts, kw in [
    ("2d", (1, 2, 6, 6), {"OutputChannels": 3, "KernelSize": 3, "PaddingSize": 1},
     {"padding": 1}),
    ("2d stride", (1, 2, 7, 7), {"OutputChannels": 3, "KernelSize": 3, "Stride": 2},
     {"stride": 2}),
    ("2d large", (2, 8, 12, 12), {"OutputChannels": 16, "KernelSize": 3, "PaddingSize": 1},
     {"padding": 1}),
    ("1x1", (1, 4, 5, 5), {"OutputChannels": 6, "KernelSize": 1}, {}),
]:
    x = rand(*shape)
    k = opts["KernelSize"]
    w, b = rand(opts["OutputChannels"], shape[1], k, k), rand(opts["OutputChannels"])
    add("ConvolutionLayer", name, [x], [(0, 0), (0, x.numel() // 2 + 3)],
        lambda v, w=w, b=b, kw=kw: F.conv2d(v, w, b, **kw), opts, {"Weights": w, "Biases": b})

x = rand(1, 2, 4, 4)
w, b = rand(2, 3, 3, 3), rand(3)
add("DeconvolutionLayer", "2d upsample", [x], [(0, 5)],
    lambda v: F.conv_transpose2d(v, w, b, stride=2, padding=1, output_padding=1),
    {"OutputChannels": 3, "KernelSize": 3, "Stride": 2, "PaddingSize": 1, "OutputPadding": 1},
    {"Weights": w, "Biases": b})

x = rand(3, 4, 5)
slope = rand(4, lo=0.1, hi=0.5)
add("ParametricRampLayer", "1d", [x], [(0, 0), (0, 22)],
    lambda v: torch.where(v > 0, v, slope.view(4, 1) * v), arrays={"Slope": slope})

x = rand(3, 2, 3, 2)
c = rand(2, 3, 2)
add("ConstantPlusLayer", "full", [x], [(0, 4)], lambda v: v + c, arrays={"Biases": c})
add("ConstantTimesLayer", "full", [x], [(0, 4)], lambda v: v * c, arrays={"Scaling": c})

# ---- Normalization
x = rand(4, 3, 2, 2)
gamma, beta = rand(3), rand(3)
mean, var = rand(3), rand(3, lo=0.5, hi=2)
bn_arrays = {"Gamma": gamma, "Beta": beta, "MovingMean": mean, "MovingVariance": var}
add("BatchNormalizationLayer", "inference", [x], [(0, 5)],
    lambda v: F.batch_norm(v, mean, var, gamma, beta, False, 0.1, 1e-5), {"Epsilon": 1e-5},
    bn_arrays)
add("BatchNormalizationLayer", "training", [x], [(0, 5)],
    lambda v: F.batch_norm(v, mean.clone(), var.clone(), gamma, beta, True, 0.1, 1e-5),
    {"Epsilon": 1e-5}, bn_arrays, "Training")
add("InstanceNormalizationLayer", "2d", [x], [(0, 5)],
    lambda v: F.instance_norm(v, weight=gamma, bias=beta, eps=1e-5), {"Epsilon": 1e-5},
    {"Gamma": gamma, "Beta": beta})
x = rand(2, 6, 5)
add("LocalResponseNormalizationLayer", "1d", [x], [(0, 7)],
    lambda v: F.local_response_norm(v, 5, alpha=1e-4, beta=0.75, k=2.0),
    {"ChannelWindowSize": 2, "Alpha": 1e-4, "Beta": 0.75, "Bias": 2.0})
x = rand(3, 5)
add("SoftmaxLayer", "vector", [x], [(0, 6)], lambda v: F.softmax(v, dim=1))
x = rand(2, 4, 3)
add("SoftmaxLayer", "1d", [x], [(0, 4)], lambda v: F.softmax(v, dim=1))

# ---- Pooling and aggregation
for name, shape, opts, kw in [
    ("max 2x2", (1, 2, 4, 4), {"KernelSize": 2, "Stride": 2, "Function": "Max"}, {"kernel_size": 2}),
    ("max 2x2 wide", (1, 2, 4, 40), {"KernelSize": 2, "Stride": 2, "Function": "Max"}, {"kernel_size": 2}),
    ("max 3x3 padded", (2, 2, 7, 7), {"KernelSize": 3, "Stride": 2, "PaddingSize": 1,
                                      "Function": "Max"},
     {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("max 3x3 stride 1", (1, 2, 6, 6), {"KernelSize": 3, "Stride": 1, "Function": "Max"},
     {"kernel_size": 3, "stride": 1}),
]:
    x = rand(*shape)
    add("PoolingLayer", name, [x], [(0, 0), (0, 9), (0, x.numel() - 1)],
        lambda v, kw=kw: F.max_pool2d(v, **kw), opts)
x = rand(1, 2, 6, 6)
add("PoolingLayer", "mean 2x2", [x], [(0, 9)], lambda v: F.avg_pool2d(v, 2),
    {"KernelSize": 2, "Stride": 2, "Function": "Mean"})
add("PoolingLayer", "mean 3x3 stride 1", [x], [(0, 14)], lambda v: F.avg_pool2d(v, 3, 1),
    {"KernelSize": 3, "Stride": 1, "Function": "Mean"})
add("PoolingLayer", "total 3x3 stride 1", [x], [(0, 14)], lambda v: 9 * F.avg_pool2d(v, 3, 1),
    {"KernelSize": 3, "Stride": 1, "Function": "Total"})
x = rand(2, 3, 3, 3)
for f, g in [("Max", lambda v: torch.amax(v, (2, 3))), ("Min", lambda v: torch.amin(v, (2, 3))),
             ("Mean", lambda v: torch.mean(v, (2, 3))), ("Total", lambda v: torch.sum(v, (2, 3)))]:
    add("AggregationLayer", f, [x], [(0, 0), (0, 31)], g, {"Function": f})

# ---- Several inputs
a, b = rand(2, 3, 2, 2), rand(2, 3, 2, 2)
for f, g in [("Plus", torch.add), ("Subtract", torch.sub), ("Times", torch.mul),
             ("Divide", torch.div), ("Max", torch.maximum), ("Min", torch.minimum),
             ("Power", lambda p, q: torch.pow(p.abs(), q))]:
    lo = 0.1 if f == "Power" else -1
    a, b = rand(2, 3, 2, 2, lo=lo), rand(2, 3, 2, 2)
    add("ThreadingLayer", f, [a, b], [(0, 1), (1, 14)], g, {"Function": f})
c = rand(2, 3, 1, 1)
add("ThreadingLayer", "Max channel", [a, c], [(1, 4)], torch.maximum, {"Function": "Max"})
add("TotalLayer", "two", [a, b], [(0, 1), (1, 14)], torch.add)
add("CatenateLayer", "vectors", [rand(2, 3), rand(2, 4)], [(0, 1), (1, 6)],
    lambda p, q: torch.cat([p, q], 1))

# ---- Layers that move values
x = rand(2, 3, 4)
add("FlattenLayer", "matrix", [x], [(0, 5)], lambda v: v.reshape(2, -1))
add("ReshapeLayer", "to vector", [x], [(0, 5)], lambda v: v.reshape(2, 12),
    {"Dimensions": [12]})
add("PaddingLayer", "constant", [x], [(0, 5)],
    lambda v: F.pad(v, (1, 2, 0, 1), value=0.5),
    {"PaddingSize": [[0, 1], [1, 2]], "Padding": 0.5})
add("DropoutLayer", "inference", [x], [(0, 5)], lambda v: v, {"DropoutProbability": 0.5})
# PyTorch multiplies by the mask: a dropped NaN is NaN · 0 = NaN.
add("DropoutLayer", "training", [x], [(0, 5), (0, 17)], lambda v: v, {"DropoutProbability": 0.5},
    mode="Training")
x = rand(1, 2, 3, 3)
add("ResizeLayer", "Linear scale 2", [x], [(0, 4)],
    lambda v: F.interpolate(v, scale_factor=2, mode="bilinear", align_corners=False),
    {"Resampling": "Linear", "Scale": 2})
add("ResizeLayer", "Nearest scale 2", [x], [(0, 4)],
    lambda v: F.interpolate(v, scale_factor=2, mode="nearest"),
    {"Resampling": "Nearest", "Scale": 2})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nan_propagation.json")
with open(path, "w") as f:
    json.dump({"cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {path}")
