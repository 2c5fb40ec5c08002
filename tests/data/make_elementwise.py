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
