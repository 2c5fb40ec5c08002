"""A small fast-style-transfer network (Johnson et al. 2016, with the instance
normalization of Ulyanov et al.), as in PyTorch's examples/fast_neural_style
TransformerNet but narrower: reflection padding, a 9x9 convolution, a stride-2
3x3 downsampling, two residual blocks, nearest upsampling by 2 and a final 9x9
convolution; 3 -> 8 -> 16 channels on 16x16 images, batch 2.

Writes
  nets/style_transfer.json  the net file, arrays included (a strata user's file)
  style_transfer.json       an input, PyTorch's output, a random output
                            gradient, and the input and every array gradient

PyTorch computes in float64 from float32-representable arrays; the arrays are
multiples of 2^-7 and the references are rounded to 6 significant digits, so
the files stay small. Run with /usr/bin/python3 (Debian python3-torch)."""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(12)
torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))


def q(t, step=2.0 ** -7):
    """Values on a grid of step: exact in float32, and short in JSON."""
    return torch.round(t / step) * step + 0.0  # (no -0.0)


def uniform(*shape, lo=-1.0, hi=1.0):
    return q(lo + (hi - lo) * torch.rand(*shape))


def exact(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().flatten().tolist()]}


def rounded(t):
    """A reference value, rounded to 6 significant digits (well inside the
    test's 1e-4 relative tolerance)."""
    return {"shape": list(t.shape),
            "data": [float(f"{v:.6g}") for v in t.detach().flatten().tolist()]}


def conv_arrays(name, cin, cout, k):
    bound = 1.0 / (cin * k * k) ** 0.5  # PyTorch's default initialization range
    return {f"{name}/Weights": uniform(cout, cin, k, k, lo=-bound, hi=bound),
            f"{name}/Biases": uniform(cout, lo=-bound, hi=bound)}


def norm_arrays(name, c):
    return {f"{name}/Gamma": uniform(c, lo=0.5, hi=1.5), f"{name}/Beta": uniform(c, lo=-0.5, hi=0.5)}


layers, connections, arrays = [], [], {}


def chain(source, *specs):
    """Appends layers one after another from source; returns the last name."""
    for spec in specs:
        layers.append(spec)
        connections.append([source, spec["name"]])
        source = spec["name"]
    return source


def pad(name, p):
    return {"name": name, "type": "PaddingLayer", "PaddingSize": [[0, 0], [p, p], [p, p]],
            "Padding": "Reflected"}


def conv(name, cin, cout, k, stride=1):
    arrays.update(conv_arrays(name, cin, cout, k))
    spec = {"name": name, "type": "ConvolutionLayer", "OutputChannels": cout, "KernelSize": k}
    if stride != 1:
        spec["Stride"] = stride
    return spec


def norm(name, c):
    arrays.update(norm_arrays(name, c))
    return {"name": name, "type": "InstanceNormalizationLayer"}


def relu(name):
    return {"name": name, "type": "ElementwiseLayer", "Function": "Ramp"}


# The strata net: layer names say the block ("res1_conv2").
x = chain("#Input", pad("pad1", 4), conv("conv1", 3, 8, 9), norm("norm1", 8), relu("relu1"),
          pad("pad2", 1), conv("conv2", 8, 16, 3, stride=2), norm("norm2", 16), relu("relu2"))
for b in ("res1", "res2"):
    y = chain(x, pad(f"{b}_pad1", 1), conv(f"{b}_conv1", 16, 16, 3), norm(f"{b}_norm1", 16),
              relu(f"{b}_relu"), pad(f"{b}_pad2", 1), conv(f"{b}_conv2", 16, 16, 3),
              norm(f"{b}_norm2", 16), {"name": f"{b}_add", "type": "TotalLayer"})
    connections.append([x, y])  # the skip connection, the second input of the sum
    x = y
x = chain(x, {"name": "up", "type": "ResizeLayer", "Scale": 2, "Resampling": "Nearest"},
          pad("up_pad", 1), conv("up_conv", 16, 8, 3), norm("up_norm", 8), relu("up_relu"),
          pad("out_pad", 4), conv("out_conv", 8, 3, 9))
connections.append([x, "#Output"])

net = {"format": "strata-net", "version": 1, "type": "NetGraph", "Input": [3, 16, 16],
       "layers": layers, "connections": connections}
for spec in layers:  # the arrays go into the net file, in their layers
    for key, value in arrays.items():
        layer, array = key.split("/")
        if layer == spec["name"]:
            spec[array] = exact(value)


# The same network in PyTorch, from the same arrays.
def forward(x, p):
    def block(x, name, k, stride=1, p_size=None):
        x = F.pad(x, [p_size] * 4, mode="reflect")
        return F.conv2d(x, p[f"{name}/Weights"], p[f"{name}/Biases"], stride=stride)

    def inorm(x, name):
        return F.instance_norm(x, weight=p[f"{name}/Gamma"], bias=p[f"{name}/Beta"], eps=1e-3)

    x = F.relu(inorm(block(x, "conv1", 9, p_size=4), "norm1"))
    x = F.relu(inorm(block(x, "conv2", 3, stride=2, p_size=1), "norm2"))
    for b in ("res1", "res2"):
        y = F.relu(inorm(block(x, f"{b}_conv1", 3, p_size=1), f"{b}_norm1"))
        x = inorm(block(y, f"{b}_conv2", 3, p_size=1), f"{b}_norm2") + x
    x = F.interpolate(x, scale_factor=2, mode="nearest")
    x = F.relu(inorm(block(x, "up_conv", 3, p_size=1), "up_norm"))
    return block(x, "out_conv", 9, p_size=4)


image = uniform(2, 3, 16, 16, lo=0.0, hi=1.0)
xg = image.clone().requires_grad_(True)
params = {k: v.clone().requires_grad_(True) for k, v in arrays.items()}
out = forward(xg, params)
out_grad = uniform(*out.shape)
out.backward(out_grad)

reference = {"generated_by": "make_style_net.py", "net": "nets/style_transfer.json",
             "input": exact(image), "output": rounded(out), "output_grad": exact(out_grad),
             "input_grad": rounded(xg.grad),
             "array_grads": {k: rounded(v.grad) for k, v in params.items()}}
for name, doc in [("nets/style_transfer.json", net), ("style_transfer.json", reference)]:
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes")
print(sum(v.numel() for v in arrays.values()), "array values")
