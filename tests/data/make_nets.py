"""Reference outputs and gradients of whole nets (NetGraph and NetChain),
computed by PyTorch from the same arrays: a residual block, a catenate branch,
and chains in 1, 2 and 3 spatial dimensions. Each case carries the net as a
strata net file, so the test also goes through the loader."""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(3)
torch.set_default_dtype(torch.float64)


def r(*shape, lo=-1.0, hi=1.0):
    return (lo + (hi - lo) * torch.rand(*shape)).to(torch.float32).to(torch.float64)


def tensor(t):
    t = t.detach().to(torch.float32)
    return {"shape": list(t.shape), "data": [float(v) for v in t.flatten().tolist()]}


def inorm(x, g, b, eps=1e-3):
    return F.instance_norm(x, weight=g, bias=b, eps=eps)


cases = []


def add(name, net, x, arrays, fn):
    """fn(x, arrays) -> output; arrays maps strata paths to tensors."""
    x = x.clone().requires_grad_(True)
    params = {k: v.clone().requires_grad_(True) for k, v in arrays.items()}
    y = fn(x, params)
    gy = r(*y.shape)
    y.backward(gy)
    cases.append({"name": name, "net": net, "input": tensor(x), "output": tensor(y),
                  "output_grad": tensor(gy), "input_grad": tensor(x.grad),
                  "arrays": {k: tensor(v) for k, v in arrays.items()},
                  "array_grads": {k: tensor(v.grad) for k, v in params.items()}})


# Residual block: conv -> norm -> ramp -> add with the input.
net = {"format": "strata-net", "version": 1, "type": "NetGraph", "Input": [4, 5, 5],
       "layers": [{"name": "conv", "type": "ConvolutionLayer", "OutputChannels": 4, "KernelSize": 3,
                   "PaddingSize": 1},
                  {"name": "norm", "type": "InstanceNormalizationLayer"},
                  {"name": "ramp", "type": "ElementwiseLayer", "Function": "Ramp"},
                  {"name": "add", "type": "TotalLayer"}],
       "connections": [["#Input", "conv"], ["conv", "norm"], ["norm", "ramp"], ["ramp", "add"],
                       ["#Input", "add"], ["add", "#Output"]]}
add("residual", net, r(2, 4, 5, 5),
    {"conv/Weights": r(4, 4, 3, 3, lo=-0.3, hi=0.3), "conv/Biases": r(4),
     "norm/Gamma": r(4, lo=0.5, hi=1.5), "norm/Beta": r(4)},
    lambda x, p: F.relu(inorm(F.conv2d(x, p["conv/Weights"], p["conv/Biases"], padding=1),
                              p["norm/Gamma"], p["norm/Beta"])) + x)

# A catenate branch: a 1x1 and a 3x3 convolution side by side, joined, normalized.
net = {"format": "strata-net", "version": 1, "type": "NetGraph", "Input": [3, 4, 4],
       "layers": [{"name": "a", "type": "ConvolutionLayer", "OutputChannels": 2, "KernelSize": 1},
                  {"name": "b", "type": "ConvolutionLayer", "OutputChannels": 3, "KernelSize": 3,
                   "PaddingSize": 1, "Biases": False},
                  {"name": "cat", "type": "CatenateLayer"},
                  {"name": "norm", "type": "InstanceNormalizationLayer", "Epsilon": 1e-5}],
       "connections": [["#Input", "a"], ["#Input", "b"], ["a", "cat"], ["b", "cat"],
                       ["cat", "norm"], ["norm", "#Output"]]}
add("catenate", net, r(2, 3, 4, 4),
    {"a/Weights": r(2, 3, 1, 1), "a/Biases": r(2), "b/Weights": r(3, 3, 3, 3, lo=-0.4, hi=0.4),
     "norm/Gamma": r(5, lo=0.5, hi=1.5), "norm/Beta": r(5)},
    lambda x, p: inorm(torch.cat([F.conv2d(x, p["a/Weights"], p["a/Biases"]),
                                  F.conv2d(x, p["b/Weights"], padding=1)], 1),
                       p["norm/Gamma"], p["norm/Beta"], 1e-5))

# Chains in 1, 2 and 3 spatial dimensions, ending in a classifier.
for dims, conv, pool, shape in [(1, F.conv1d, F.max_pool1d, [2, 8]),
                                (2, F.conv2d, F.max_pool2d, [2, 6, 6]),
                                (3, F.conv3d, F.max_pool3d, [2, 4, 4, 4])]:
    spatial = [s // 2 for s in shape[1:]]
    features = 3
    for s in spatial:
        features *= s
    net = {"format": "strata-net", "version": 1, "type": "NetChain", "Input": shape,
           "layers": [{"type": "ConvolutionLayer", "OutputChannels": 3, "KernelSize": 3,
                       "PaddingSize": 1},
                      {"type": "InstanceNormalizationLayer"},
                      {"type": "ElementwiseLayer", "Function": "Ramp"},
                      {"type": "PoolingLayer", "KernelSize": 2, "Stride": 2},
                      {"type": "FlattenLayer"},
                      {"type": "LinearLayer", "Size": 4},
                      {"type": "SoftmaxLayer"}]}
    k = [3] * dims
    add(f"chain_{dims}d", net, r(3, *shape),
        {"1/Weights": r(3, 2, *k, lo=-0.5, hi=0.5), "1/Biases": r(3),
         "2/Gamma": r(3, lo=0.5, hi=1.5), "2/Beta": r(3),
         "6/Weights": r(4, features), "6/Biases": r(4)},
        lambda x, p, conv=conv, pool=pool: F.softmax(F.linear(torch.flatten(pool(F.relu(inorm(
            conv(x, p["1/Weights"], p["1/Biases"], padding=1), p["2/Gamma"], p["2/Beta"])), 2, 2),
            1), p["6/Weights"], p["6/Biases"]), dim=1))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nets.json")
with open(path, "w") as f:
    json.dump({"generated_by": "make_nets.py", "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print("wrote", path, len(cases), "cases")
