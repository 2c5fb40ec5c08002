"""Reference values for the training losses (train/loss.hpp), from PyTorch:
F.cross_entropy on logits, F.nll_loss(log(p)) on probabilities, F.mse_loss,
and their gradients with respect to the net output by autograd.

A case: {"name", "loss": "CrossEntropy"|"MeanSquared",
         "scores": "Logits"|"Probabilities" (CrossEntropy only),
         "output": T, "targets": T, "value": loss, "output_grad": T}."""
import torch
import torch.nn.functional as F

from reference_util import rand, tensor, write


def f32(t):
    """Rounded to float32, so that both sides see the same numbers."""
    return t.to(torch.float32).to(torch.float64)


def make_case(name, loss, output, targets, fn, scores=None, **extra):
    y = output.clone().requires_grad_(True)
    value = fn(y, targets)
    value.backward()
    c = {"name": name, "loss": loss, "output": tensor(output), "targets": tensor(targets),
         "value": float(value), "output_grad": tensor(y.grad)}
    if scores:
        c["scores"] = scores
    c.update(extra)
    return c


def logits_case(name, z, t, **extra):
    return make_case(name, "CrossEntropy", z, t.to(torch.float64),
                     lambda y, t: F.cross_entropy(y, t.long()), scores="Logits", **extra)


def probabilities_case(name, p, t, **extra):
    # The spec's formula, written out, agrees with nll_loss(log p).
    by_formula = -torch.log(p[torch.arange(len(t)), t]).mean()
    assert torch.allclose(by_formula, F.nll_loss(torch.log(p), t))
    return make_case(name, "CrossEntropy", p, t.to(torch.float64),
                     lambda y, t: F.nll_loss(torch.log(y), t.long()), scores="Probabilities",
                     **extra)


def mse_case(name, y, t, **extra):
    def fn(y, t):
        v = F.mse_loss(y.view(t.shape) if y.dim() != t.dim() else y, t)
        assert torch.allclose(v, ((y.reshape(-1) - t.reshape(-1)) ** 2).mean())
        return v
    return make_case(name, "MeanSquared", y, t, fn, **extra)


cases = []
cases.append(logits_case("logits", f32(3 * rand(6, 5)), torch.tensor([0, 4, 2, 2, 1, 3])))
cases.append(logits_case("logits_one_example", rand(1, 10), torch.tensor([7])))
cases.append(logits_case("logits_one_class", rand(3, 1), torch.tensor([0, 0, 0])))
cases.append(logits_case("logits_two_classes", f32(5 * rand(4, 2)), torch.tensor([1, 0, 0, 1])))
# Far beyond exp's range in float32: log-sum-exp keeps loss and gradient finite.
cases.append(logits_case("logits_large", torch.tensor(
    [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [0.5, 1000.0, -1000.0],
     [-1000.0, -1000.0, -1000.0]]), torch.tensor([1, 2, 0, 2]), atol=1e-6))

for name, shape, sharp in [("probabilities", (5, 4), 1.0), ("probabilities_peaked", (3, 6), 8.0)]:
    p = f32(torch.softmax(sharp * rand(*shape), dim=1))
    t = torch.randint(0, shape[1], (shape[0],))
    cases.append(probabilities_case(name, p, t))
# Tiny but representable probabilities: exactly −log p, no clamping.
p = torch.tensor([[1e-30, 1.0 - 1e-7, 1e-7], [0.25, 0.5, 0.25]])
cases.append(probabilities_case("probabilities_tiny", f32(p), torch.tensor([0, 2])))

cases.append(mse_case("mean_squared", rand(4, 3), rand(4, 3)))
cases.append(mse_case("mean_squared_images", rand(2, 3, 2, 2), rand(2, 3, 2, 2)))
cases.append(mse_case("mean_squared_column", f32(4 * rand(5, 1)), f32(4 * rand(5))))
cases.append(mse_case("mean_squared_vector", rand(6), rand(6)))

write("losses.json", "Loss", cases)
