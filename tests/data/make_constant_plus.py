"""Reference values for ConstantPlusLayer: y = x + Biases, Biases of any
shape that broadcasts to an example (NumPy rules, right-aligned) and shared by
every example of the batch; PyTorch's autograd gives the gradients of x and of
Biases (summed over the batch and the repeated dimensions)."""
from reference_util import case, grads, rand, write

# (name, per-example shape of x, shape of Biases)
SHAPES = [
    ("full", (2, 3, 2), (2, 3, 2)),
    ("per channel", (3, 2, 2), (3, 1, 1)),
    ("one number", (2, 3, 2), (1,)),
    ("last dimension", (2, 3, 4), (4,)),
    ("rows", (2, 3, 4), (3, 1)),
    ("vector", (5,), (5,)),
    ("volume", (2, 2, 2, 3), (2, 1, 2, 1)),
]

cases = []
for name, example, array in SHAPES:
    x = rand(3, *example)
    s = rand(*array, lo=-2.0, hi=2.0)
    outs, gouts, gins, garr = grads(lambda x, Biases: [x + Biases], [x], {"Biases": s})
    cases.append(case(name, [x], outs, arrays={"Biases": s}, output_grads=gouts,
                      input_grads=gins, array_grads=garr))
write("constant_plus.json", "ConstantPlusLayer", cases)
