"""Reference values for AggregationLayer, from PyTorch's amax, amin, mean and
sum over every dimension after the channels. Random inputs have no ties, so
amax's even split of the gradient among ties never arises here (the layer
gives it to the first extreme; the tests check ties on their own)."""
import torch

from reference_util import case, grads, rand, write

cases = []
for name, shape, function in [("1d_max", (2, 3, 5), "Max"), ("2d_min", (2, 4, 3, 3), "Min"),
                              ("3d_mean", (1, 2, 3, 2, 2), "Mean"),
                              ("2d_total", (2, 3, 2, 4), "Total"),
                              ("3d_max", (2, 2, 2, 3, 2), "Max"),
                              ("long_max", (1, 1, 300), "Max"),
                              ("long_min", (1, 1, 13, 11), "Min"),
                              ("long_mean", (1, 1, 1030), "Mean"),
                              ("one_position", (3, 4, 1), "Total")]:
    x = rand(*shape)
    dims = tuple(range(2, len(shape)))

    def fn(x):
        f = {"Max": torch.amax, "Min": torch.amin, "Mean": torch.mean, "Total": torch.sum}[function]
        y = f(x, dim=dims)
        if function == "Max":
            assert torch.equal(y, torch.nn.functional.adaptive_max_pool1d(x.flatten(2), 1)[..., 0])
        return [y]

    outs, gouts, gins, _ = grads(fn, [x], {})
    if name == "long_mean":  # more than one block of the sum; forward only, to stay small
        cases.append(case(name, [x], outs, options={"Function": function}))
        continue
    cases.append(case(name, [x], outs, options={"Function": function}, output_grads=gouts,
                      input_grads=gins))
write("aggregation.json", "AggregationLayer", cases)
