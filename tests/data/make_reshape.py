"""Reference values for ReshapeLayer, from torch.reshape (row-major element
order; the gradient is the output gradient reshaped back)."""
import torch

from reference_util import case, grads, rand, write

cases = []
for name, shape, dims in [("matrix_to_vector", (2, 3, 4), [12]),
                          ("vector_to_image", (2, 12), [3, 2, 2]),
                          ("inferred_dimension", (2, 2, 3, 2), [-1, 4]),
                          ("inferred_middle", (1, 6), [2, -1, 1]),
                          ("same_shape", (3, 2, 2), [2, 2])]:
    x = rand(*shape)
    target = [x.shape[0]] + dims
    outs, gouts, gins, _ = grads(lambda x: [torch.reshape(x, target)], [x], {})
    cases.append(case(name, [x], outs, options={"Dimensions": dims}, output_grads=gouts,
                      input_grads=gins))
write("reshape.json", "ReshapeLayer", cases)
