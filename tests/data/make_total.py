"""Reference values for TotalLayer: the sum of its inputs, with PyTorch's
autograd for the gradients (each input receives the output gradient)."""
from reference_util import case, grads, rand, write

cases = []
for name, shapes in [("two", [(2, 3, 4)] * 2), ("three", [(2, 5)] * 3), ("one", [(3, 2, 2)]),
                     ("images", [(1, 2, 3, 2)] * 4)]:
    xs = [rand(*s) for s in shapes]
    outs, gouts, gins, _ = grads(lambda *xs: [sum(xs[1:], xs[0])], xs, {})
    cases.append(case(name, xs, outs, output_grads=gouts, input_grads=gins))
write("total.json", "TotalLayer", cases)
