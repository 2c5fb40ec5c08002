"""Reference values for ParametricRampLayer, from PyTorch's
torch.nn.functional.prelu with one slope per channel (nn.PReLU(num_parameters=C))."""
import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write

cases = []
for name, shape in [("rank1", (3, 4)), ("1d", (2, 3, 5)), ("2d", (2, 4, 3, 3)),
                    ("3d", (1, 2, 3, 2, 2)), ("lanes", (2, 2, 40))]:
    x = rand(*shape)
    if name == "1d":
        x[0, 0, :2] = 0.0  # the kink: the x <= 0 side's derivative
    slope = rand(shape[1], lo=-0.5, hi=0.75)

    def fn(x, Slope):
        y = F.prelu(x, Slope)
        assert torch.equal(y, torch.where(x > 0, x, Slope.view((1, -1) + (1,) * (x.dim() - 2)) * x))
        return [y]

    outs, gouts, gins, garrs = grads(fn, [x], {"Slope": slope})
    cases.append(case(name, [x], outs, arrays={"Slope": slope}, output_grads=gouts,
                      input_grads=gins, array_grads=garrs))
write("parametric_ramp.json", "ParametricRampLayer", cases)
