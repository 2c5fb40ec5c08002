"""Reference values for FlattenLayer, from torch.flatten(x, start_dim=1)
(row-major element order; the gradient is reshaped back)."""
import torch

from reference_util import case, grads, rand, write

cases = []
for name, shape in [("vector", (3, 4)), ("matrix", (2, 3, 4)), ("image", (2, 2, 3, 2)),
                    ("volume", (1, 2, 2, 2, 3))]:
    x = rand(*shape)
    outs, gouts, gins, _ = grads(lambda x: [torch.flatten(x, start_dim=1)], [x], {})
    cases.append(case(name, [x], outs, output_grads=gouts, input_grads=gins))
write("flatten.json", "FlattenLayer", cases)
