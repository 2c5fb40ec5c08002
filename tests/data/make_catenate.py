"""Reference values for CatenateLayer, from torch.cat along dim 1 of the batch
(the channels of each example), gradients from PyTorch's autograd."""
import torch

from reference_util import case, grads, rand, write

cases = []
for name, shapes in [("vectors", [(2, 3), (2, 4)]),
                     ("three_images", [(2, 1, 2, 3), (2, 3, 2, 3), (2, 2, 2, 3)]),
                     ("sequences", [(3, 2, 4), (3, 2, 4)]),
                     ("one", [(2, 3, 2)]),
                     ("volumes", [(1, 2, 2, 1, 2), (1, 1, 2, 1, 2)])]:
    xs = [rand(*s) for s in shapes]
    outs, gouts, gins, _ = grads(lambda *xs: [torch.cat(xs, dim=1)], xs, {})
    cases.append(case(name, xs, outs, output_grads=gouts, input_grads=gins))
write("catenate.json", "CatenateLayer", cases)
