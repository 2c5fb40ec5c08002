"""Reference values for SoftmaxLayer, from torch.softmax over dim 1 of the
batch: the only dimension of rank-1 examples, the channels otherwise."""
import torch

from reference_util import case, grads, rand, write

cases = []
for name, x in [("vector", 3 * rand(3, 5)), ("1d", 3 * rand(2, 4, 3)),
                ("2d", 3 * rand(2, 3, 2, 2)), ("3d", 3 * rand(1, 2, 2, 2, 3)),
                ("one_channel", rand(2, 1, 3)),
                ("huge_logits", torch.tensor([[1000.0, -1000.0, 999.0, 0.0],
                                              [-1000.0, -1000.0, -999.0, -998.0]])),
                ("huge_logits_2d", (1000 * rand(2, 3, 2, 2)).to(torch.float32).double())]:
    outs, gouts, gins, _ = grads(lambda x: [torch.softmax(x, dim=1)], [x], {})
    assert torch.isfinite(outs[0]).all()
    cases.append(case(name, [x], outs, output_grads=gouts, input_grads=gins))
write("softmax.json", "SoftmaxLayer", cases)
