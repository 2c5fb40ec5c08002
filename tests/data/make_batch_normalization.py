"""Reference values for BatchNormalizationLayer, from PyTorch's
torch.nn.functional.batch_norm in training mode (batch statistics, biased
variance for normalizing, running statistics updated with the unbiased
variance) and in eval mode (running statistics).

strata's Momentum weighs the old moving statistics; PyTorch's `momentum`
weighs the batch statistic, so PyTorch momentum = 1 - Momentum. Training cases
carry the moving statistics after one step in "moving_after"."""
import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, tensor, write


def by_formula(x, gamma, beta, mean, var, eps):
    view = (1, -1) + (1,) * (x.dim() - 2)
    return gamma.view(view) * (x - mean.view(view)) / torch.sqrt(var.view(view) + eps) \
        + beta.view(view)


cases = []
for name, shape, eps, momentum in [("vector", (4, 3), 1e-3, 0.9),
                                   ("1d", (3, 2, 5), 1e-3, 0.9),
                                   ("2d", (2, 3, 3, 2), 1e-5, 0.8),
                                   ("3d", (2, 2, 2, 3, 2), 1e-3, 0.5),
                                   ("batch_of_one", (1, 2, 3, 2), 1e-3, 0.9),
                                   ("large_mean", (3, 2, 3, 3), 1e-3, 0.9)]:
    x = rand(*shape)
    if name == "large_mean":
        x = (1e4 + x).to(torch.float32).to(torch.float64)
    c = shape[1]
    gamma, beta = rand(c, lo=0.5, hi=1.5), rand(c)
    moving_mean, moving_var = rand(c), rand(c, lo=0.5, hi=2.0)
    arrays = {"Gamma": gamma, "Beta": beta, "MovingMean": moving_mean,
              "MovingVariance": moving_var}
    options = {"Epsilon": eps, "Momentum": momentum}
    tol = {"rtol": 1e-3, "atol": 1e-3} if name == "large_mean" else {}
    dims = [0] + list(range(2, x.dim()))

    # Training: one step, running statistics updated in place.
    running_mean, running_var = moving_mean.clone(), moving_var.clone()

    def train(x, Gamma, Beta):
        y = F.batch_norm(x, running_mean, running_var, Gamma, Beta, training=True,
                         momentum=1 - momentum, eps=eps)
        m = x.mean(dim=dims)
        v = ((x - m.view((1, -1) + (1,) * (x.dim() - 2))) ** 2).mean(dim=dims)
        assert torch.allclose(y, by_formula(x, Gamma, Beta, m, v, eps))
        return [y]

    outs, gouts, gins, garrs = grads(train, [x], {"Gamma": gamma, "Beta": beta})
    n = x.numel() // c
    m = x.mean(dim=dims)
    v_unbiased = x.var(dim=dims, unbiased=True)
    assert torch.allclose(running_mean, momentum * moving_mean + (1 - momentum) * m)
    assert torch.allclose(running_var, momentum * moving_var + (1 - momentum) * v_unbiased)
    assert n > 1
    cases.append(case("training_" + name, [x], outs, options=options, arrays=arrays,
                      output_grads=gouts, input_grads=gins, array_grads=garrs, mode="Training",
                      moving_after={"MovingMean": tensor(running_mean),
                                    "MovingVariance": tensor(running_var)}, **tol))

    # Inference: the moving statistics.
    def infer(x, Gamma, Beta):
        y = F.batch_norm(x, moving_mean, moving_var, Gamma, Beta, training=False, eps=eps)
        assert torch.allclose(y, by_formula(x, Gamma, Beta, moving_mean, moving_var, eps))
        return [y]

    outs, gouts, gins, garrs = grads(infer, [x], {"Gamma": gamma, "Beta": beta})
    cases.append(case("inference_" + name, [x], outs, options=options, arrays=arrays,
                      output_grads=gouts, input_grads=gins, array_grads=garrs, **tol))

write("batch_normalization.json", "BatchNormalizationLayer", cases)
