"""Reference values for InstanceNormalizationLayer, from PyTorch's
torch.nn.functional.instance_norm (biased variance, eps inside the sqrt)."""
import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write



def by_formula(x, gamma, beta, eps):
    """The spec's formula, written out."""
    dims = tuple(range(2, x.dim()))
    m = x.mean(dim=dims, keepdim=True)
    v = ((x - m) ** 2).mean(dim=dims, keepdim=True)
    view = (1, -1) + (1,) * (x.dim() - 2)
    return gamma.view(view) * (x - m) / torch.sqrt(v + eps) + beta.view(view)


cases = []
for name, shape, eps in [("1d", (2, 3, 5), 1e-3), ("2d", (2, 4, 3, 5), 1e-3),
                         ("3d", (1, 2, 3, 4, 2), 1e-5), ("one_position", (2, 3, 1, 1), 1e-3),
                         ("large_mean", (2, 2, 6, 6), 1e-3)]:
    x = rand(*shape)
    if name == "large_mean":
        x = (1e4 + x).to(torch.float32).to(torch.float64)
    c = shape[1]
    gamma, beta = rand(c, lo=0.5, hi=1.5), rand(c)

    def fn(x, Gamma, Beta):
        if name == "one_position":  # PyTorch refuses one spatial element
            return [by_formula(x, Gamma, Beta, eps)]
        y = F.instance_norm(x, weight=Gamma, bias=Beta, eps=eps)
        assert torch.allclose(y, by_formula(x, Gamma, Beta, eps))
        return [y]

    outs, gouts, gins, garrs = grads(fn, [x], {"Gamma": gamma, "Beta": beta})
    cases.append(case(name, [x], outs, options={"Epsilon": eps},
                      arrays={"Gamma": gamma, "Beta": beta}, output_grads=gouts,
                      input_grads=gins, array_grads=garrs,
                      **({"rtol": 1e-3, "atol": 1e-3} if name == "large_mean" else {})))

# Constant channels: the output is Beta, with no NaN.
x = torch.full((1, 2, 3, 3), 7.0)
gamma, beta = torch.tensor([2.0, 3.0]), torch.tensor([0.5, -1.0])
cases.append(case("constant_channel", [x], [F.instance_norm(x, weight=gamma, bias=beta, eps=1e-3)],
                  arrays={"Gamma": gamma, "Beta": beta}))
write("instance_normalization.json", "InstanceNormalizationLayer", cases)
