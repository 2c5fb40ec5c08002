"""Reference values for ElementwiseLayer, from PyTorch's activation functions
(relu, tanh, sigmoid, elu, selu, gelu with approximate='none', softplus,
leaky_relu), including extreme inputs where naive formulas overflow."""
import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write

functions = {
    "Ramp": F.relu,
    "Tanh": torch.tanh,
    "LogisticSigmoid": torch.sigmoid,
    "ELU": lambda x: F.elu(x, alpha=1.0),
    "SELU": F.selu,
    "GELU": lambda x: F.gelu(x, approximate="none"),
    # PyTorch returns x above its threshold (20); 50 keeps the reference
    # exact in double (log1p(exp(50)) - 50 < 1e-21) without exp overflowing.
    "Softplus": lambda x: F.softplus(x, threshold=50),
}

extremes = torch.tensor([[-1000.0, -100.0, -30.0, -10.0, -1.0, -1e-3, 0.0],
                         [1e-3, 1.0, 10.0, 30.0, 100.0, 1000.0, 0.5]])

cases = []
for name, fn in functions.items():
    for label, x in [("moderate", 3 * rand(2, 3, 4)), ("extremes", extremes)]:
        outs, gouts, gins, _ = grads(lambda x: [fn(x)], [x], {})
        cases.append(case(f"{name}_{label}", [x], outs, options={"Function": name},
                          output_grads=gouts, input_grads=gins))

# Tails: relative precision where the values are tiny but representable.
tails = torch.tensor([-80.0, -30.0, -10.0, -5.0, 5.0, 10.0, 30.0, 80.0])
# Where PyTorch itself loses the tails, in double, the same function written
# another way does not: gelu computes x (1 + erf(x/sqrt 2))/2, which cancels to
# 0 below about -8; sigmoid's backward uses y (1 - y), which cancels for large x.
tail_functions = dict(functions)
tail_functions["GELU"] = lambda x: x * 0.5 * torch.special.erfc(-x / 2 ** 0.5)
tail_functions["LogisticSigmoid"] = lambda x: torch.where(
    x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x)))
x = 3 * rand(50)
for name in ["GELU", "LogisticSigmoid"]:
    assert torch.allclose(tail_functions[name](x), functions[name](x), rtol=1e-12, atol=1e-14)
for name in ["LogisticSigmoid", "Softplus", "GELU", "ELU", "SELU"]:
    outs, gouts, gins, _ = grads(lambda x: [tail_functions[name](x)], [tails.view(1, -1)], {})
    cases.append(case(f"{name}_tails", [tails.view(1, -1)], outs, options={"Function": name},
                      output_grads=gouts, input_grads=gins, rtol=1e-4, atol=1e-37))

for options, slope in [({"Function": "LeakyRamp"}, 0.01),
                       ({"Function": "LeakyRamp", "Alpha": 0.2}, 0.2),
                       ({"Function": "LeakyRamp", "Alpha": -0.5}, -0.5)]:
    for label, x in [("moderate", 3 * rand(2, 5)), ("extremes", extremes)]:
        outs, gouts, gins, _ = grads(lambda x: [F.leaky_relu(x, slope)], [x], {})
        cases.append(case(f"LeakyRamp_{slope}_{label}", [x], outs, options=options,
                          output_grads=gouts, input_grads=gins))

for c in cases:
    for t in c["outputs"] + c["input_grads"]:
        assert all(abs(v) < float("inf") for v in t["data"]), c["name"]
write("elementwise.json", "ElementwiseLayer", cases)

# ---- The functions added later (issue 12). Appended, so that the cases above
# keep their random inputs.
new_functions = {
    "Abs": torch.abs,
    "Square": torch.square,
    "Sin": torch.sin,
    "Cos": torch.cos,
    "Erf": torch.erf,
    "Softsign": F.softsign,
    "Swish": F.silu,
    "Mish": F.mish,
    "HardTanh": F.hardtanh,
    "HardSigmoid": F.hardsigmoid,
}
new_cases = []


def add(name, fn, x, options, **tolerances):
    outs, gouts, gins, _ = grads(lambda x: [fn(x)], [x], {})
    new_cases.append(case(name, [x], outs, options=options, output_grads=gouts,
                          input_grads=gins, **tolerances))


for name, fn in new_functions.items():
    # 5 · rand reaches past HardSigmoid's kinks at ±3.
    add(f"{name}_moderate", fn, 5 * rand(2, 3, 4), {"Function": name})
    add(f"{name}_extremes", fn, extremes, {"Function": name})
add("Exp_moderate", torch.exp, 3 * rand(2, 3, 4), {"Function": "Exp"})
# Log and Sqrt on positive numbers only; 0 and negatives are edge cases below.
for name, fn in [("Log", torch.log), ("Sqrt", torch.sqrt)]:
    add(f"{name}_moderate", fn, rand(2, 3, 4, lo=0.05, hi=5.0), {"Function": name})
    add(f"{name}_wide", fn, torch.tensor([[1e-30, 1e-6, 0.01, 1.0, 1e6, 1e30]]),
        {"Function": name})
for name, fn in [("Sin", torch.sin), ("Cos", torch.cos)]:
    add(f"{name}_large", fn, torch.tensor([[-100.0, -31.5, 20.25, 100.0]]), {"Function": name},
        atol=1e-4)
# Relative precision where the values are tiny but representable.
for name, fn in [("Exp", torch.exp), ("Swish", F.silu), ("Mish", F.mish), ("Erf", torch.erf),
                 ("Softsign", F.softsign)]:
    add(f"{name}_tails", fn, tails.view(1, -1), {"Function": name}, rtol=1e-4, atol=1e-37)
for low, high in [(-1.0, 2.0), (0.25, 0.25), (-3.5, -0.5)]:
    add(f"Clip_{low}_{high}", lambda x: torch.clamp(x, low, high), 3 * rand(2, 3, 4),
        {"Function": "Clip", "Range": [low, high]})
for p in [2.5, -1.5, 0.5, 1.0 / 3.0]:  # positive bases: a fractional power of a negative is NaN
    add(f"Power_{p:.4g}_positive", lambda x: torch.pow(x, p), rand(2, 3, 4, lo=0.1, hi=3.0),
        {"Function": "Power", "Exponent": p})
for p in [0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 7.0]:  # integers: any sign
    x = 2 * rand(2, 3, 4)
    x = torch.where(x.abs() < 0.1, x + torch.sign(x) * 0.1, x)  # away from 0 for negative p
    add(f"Power_{p:g}", lambda x: torch.pow(x, p), x, {"Function": "Power", "Exponent": p})

for c in new_cases:
    for t in c["outputs"] + c["input_grads"]:
        assert all(abs(v) < float("inf") for v in t["data"]), c["name"]
write("elementwise_functions.json", "ElementwiseLayer", new_cases)

# ---- Edge cases: NaN, ±inf, ±0 and the kinks, with an output gradient of 1.
# Non-finite numbers are written as the strings "nan", "inf", "-inf".
edge_x = torch.tensor([float("nan"), -float("inf"), -3.0, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0,
                       2.0, 3.0, float("inf")])
edge_functions = dict(functions)
edge_functions["Softplus"] = F.softplus
edge_functions.update(new_functions)
edge_functions.update({"Exp": torch.exp, "Log": torch.log, "Sqrt": torch.sqrt,
                       "LeakyRamp": F.leaky_relu})
edge_options = {name: {"Function": name} for name in edge_functions}
for low, high in [(-1.0, 2.0), (0.5, 0.5)]:
    name = f"Clip_{low}_{high}"
    edge_functions[name] = lambda x, low=low, high=high: torch.clamp(x, low, high)
    edge_options[name] = {"Function": "Clip", "Range": [low, high]}
for p in [0.0, 1.0, 2.0, 0.5, 3.0, -1.0, 2.5, -1.5]:
    name = f"Power_{p:g}"
    edge_functions[name] = lambda x, p=p: torch.pow(x, p)
    edge_options[name] = {"Function": "Power", "Exponent": p}
# Where strata deliberately differs from PyTorch at NaN or ±inf (see
# kernels/elementwise_functions.hpp): {name: {index into edge_x: (y, dx)}}.
# Existing functions keep their own derivative at NaN: ELU', SELU' and GELU'
# follow the x ≤ 0 branch's formula (NaN), PyTorch returns the x > 0 slope.
overrides = {
    "Softsign": {1: (None, 0.0), 12: (None, 0.0)},  # d/dx x/(1+|x|) → 0, not ∞/∞
    "ELU": {0: (None, float("nan"))},
    "SELU": {0: (None, float("nan"))},
}


def encode(v):
    if v != v:
        return "nan"
    if v in (float("inf"), -float("inf")):
        return "inf" if v > 0 else "-inf"
    return v


edge_cases = []
for name, fn in edge_functions.items():
    x = edge_x.clone().requires_grad_(True)
    y = fn(x)
    y.backward(torch.ones_like(y))
    ys, dxs = y.detach().tolist(), x.grad.tolist()
    for i, (oy, odx) in overrides.get(name, {}).items():
        ys[i] = ys[i] if oy is None else oy
        dxs[i] = dxs[i] if odx is None else odx
    edge_cases.append({"name": name, "options": edge_options[name],
                       "x": [encode(v) for v in edge_x.tolist()],
                       "y": [encode(v) for v in ys], "dx": [encode(v) for v in dxs]})
write("elementwise_edges.json", "ElementwiseLayer", edge_cases)
