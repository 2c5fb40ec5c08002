"""Reference values for ThreadingLayer: every Function over inputs whose
per-example shapes broadcast (NumPy rules, right-aligned; the batch is the
leading dimension and is not broadcast), with PyTorch's autograd for the
gradients of every input (summed over the dimensions it was repeated along).

The values avoid the points where strata and PyTorch differ on purpose or
where the answer is not finite: no ties for Max and Min (PyTorch splits a tie
0.5/0.5, strata gives it to the first input), denominators away from 0, and
positive bases for Power (the exponent's gradient y·log(x) is NaN for x < 0).
Those cases are checked in tests/layers/threading_test.cpp."""
import torch

from reference_util import case, grads, rand, write

BATCH = 2


def aligned(xs):
    """The inputs as PyTorch must see them: each example's dimensions
    right-aligned, with 1s inserted after the batch dimension."""
    rank = max(x.dim() for x in xs)
    return [x.reshape(x.shape[0], *([1] * (rank - x.dim())), *x.shape[1:]) for x in xs]


def fold(op):
    def f(*xs):
        xs = aligned(xs)
        y = xs[0]
        for x in xs[1:]:
            y = op(y, x)
        return [y]
    return f


FUNCTIONS = {
    "Plus": torch.add,
    "Subtract": torch.sub,
    "Times": torch.mul,
    "Divide": torch.div,
    "Max": torch.maximum,
    "Min": torch.minimum,
    "Power": torch.pow,
}

# Per-example shapes of the inputs.
TWO = [
    ("same", [(3, 2, 2), (3, 2, 2)]),
    ("channel", [(2, 3, 2), (2, 1, 1)]),
    ("channel first", [(2, 1, 1), (2, 3, 2)]),
    ("one number", [(2, 3), (1,)]),
    ("one number first", [(1,), (2, 3)]),
    ("rank", [(2, 3, 2), (2,)]),
    ("both repeat", [(3, 1), (1, 2)]),
]
MANY = [
    ("three", [(2, 1, 1), (3, 2), (2, 3, 2)]),
    ("four", [(3, 2), (1, 2), (3, 1), (1,)]),
]


def inputs_for(function, shapes):
    xs = []
    for k, s in enumerate(shapes):
        if function == "Divide" and k == 1:
            x = rand(BATCH, *s, lo=0.5, hi=1.5) * torch.sign(rand(BATCH, *s))
        elif function == "Power" and k == 0:
            x = rand(BATCH, *s, lo=0.3, hi=2.0)
        elif function == "Power" and k == 1:
            x = rand(BATCH, *s, lo=-2.0, hi=2.0)
        else:
            x = rand(BATCH, *s)
        xs.append(x.to(torch.float32).to(torch.float64))
    return xs


cases = []
for function, op in FUNCTIONS.items():
    symmetric = function in ("Plus", "Times", "Max", "Min")
    # The order of the inputs matters to the others' values; to these, only
    # through the gradients, which the cases with 3 and 4 inputs cover.
    shape_cases = [(n, s) for n, s in TWO if not (symmetric and n.endswith("first"))]
    shape_cases += MANY if symmetric else []
    for name, shapes in shape_cases:
        xs = inputs_for(function, shapes)
        outs, gouts, gins, _ = grads(fold(op), xs, {})
        cases.append(case(f"{function} {name}", xs, outs, options={"Function": function},
                          output_grads=gouts, input_grads=gins))
write("threading.json", "ThreadingLayer", cases)
