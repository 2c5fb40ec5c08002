"""Helpers shared by the scripts that write reference values for the tests.

Each make_*.py script computes reference outputs (and gradients) with PyTorch
or NumPy, independently of strata, and writes them as JSON beside itself.
Run with Debian's python3 (python3-torch, python3-numpy):
    /usr/bin/python3 tests/data/make_instance_normalization.py
"""
import json
import os

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # references in double, compared in float32


def tensor(t):
    """A tensor as {"shape", "data"} with float32-representable values."""
    t = t.detach().to(torch.float32).to(torch.float64)
    return {"shape": list(t.shape), "data": [float(v) for v in t.flatten().tolist()]}


def rand(*shape, lo=-1.0, hi=1.0):
    """Uniform values rounded to float32, so both sides see the same input."""
    return (lo + (hi - lo) * torch.rand(*shape)).to(torch.float32).to(torch.float64)


def case(name, inputs, outputs, options=None, arrays=None, output_grads=None,
         input_grads=None, array_grads=None, **extra):
    c = {"name": name, "inputs": [tensor(t) for t in inputs],
         "outputs": [tensor(t) for t in outputs]}
    if options:
        c["options"] = options
    if arrays:
        c["arrays"] = {k: tensor(v) for k, v in arrays.items()}
    if output_grads is not None:
        c["output_grads"] = [tensor(t) for t in output_grads]
    if input_grads is not None:
        c["input_grads"] = [tensor(t) for t in input_grads]
    if array_grads:
        c["array_grads"] = {k: tensor(v) for k, v in array_grads.items()}
    c.update(extra)
    return c


def write(filename, layer_type, cases):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)
    with open(path, "w") as f:
        json.dump({"type": layer_type, "generated_by": os.path.basename(__import__("sys").argv[0]),
                   "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({len(cases)} cases)")


def grads(fn, inputs, arrays):
    """Runs fn(*inputs, **arrays) -> list of outputs; returns outputs, random
    output gradients, and the gradients of the inputs and arrays."""
    inputs = [x.clone().requires_grad_(True) for x in inputs]
    arrays = {k: v.clone().requires_grad_(True) for k, v in arrays.items()}
    outputs = fn(*inputs, **arrays)
    gouts = [rand(*o.shape) for o in outputs]
    torch.autograd.backward(outputs, gouts)
    return (outputs, gouts, [x.grad for x in inputs],
            {k: v.grad for k, v in arrays.items() if v.grad is not None})
