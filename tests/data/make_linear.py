"""Reference values for LinearLayer, from torch.nn.functional.linear
(y = x W^T + b for a batch of rows; an input of higher rank flattened first)."""
import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write

cases = []
for name, shape, size in [("vector", (4, 5), 3), ("matrix_input", (2, 3, 4), 5),
                          ("image_input", (2, 2, 3, 2), 4), ("size_one", (3, 6), 1),
                          ("batch_of_one", (1, 7), 2), ("wide", (3, 16), 12)]:
    x = rand(*shape)
    n = x[0].numel()
    weights, biases = rand(size, n), rand(size)

    def fn(x, Weights, Biases):
        y = F.linear(x.flatten(1), Weights, Biases)
        assert torch.allclose(y, x.reshape(x.shape[0], -1) @ Weights.T + Biases)
        return [y]

    outs, gouts, gins, garrs = grads(fn, [x], {"Weights": weights, "Biases": biases})
    cases.append(case(name, [x], outs, options={"Size": size},
                      arrays={"Weights": weights, "Biases": biases}, output_grads=gouts,
                      input_grads=gins, array_grads=garrs))
write("linear.json", "LinearLayer", cases)
