"""Reference values for LocalResponseNormalizationLayer, from PyTorch's
torch.nn.LocalResponseNorm(2n + 1, Alpha, Beta, Bias), checked against the
spec's formula written out (channels past either end count as zeros, and the
sum is divided by the full window size 2n + 1)."""
import torch

from reference_util import case, grads, rand, write


def by_formula(x, n, alpha, beta, bias):
    """D = (Bias + Alpha / (2n + 1) · Σ x_{c'}² over c' in [max(0, c − n), min(C − 1, c + n)])^Beta."""
    C = x.shape[1]
    sq = x * x
    out = []
    for c in range(C):
        s = sq[:, max(0, c - n):min(C - 1, c + n) + 1].sum(dim=1)
        out.append(x[:, c] / (bias + alpha / (2 * n + 1) * s) ** beta)
    return torch.stack(out, dim=1)


cases = []
for name, shape, opts in [
        ("1d_defaults", (2, 6, 5), {}),
        ("2d", (2, 7, 3, 4), {"ChannelWindowSize": 1, "Alpha": 2.0, "Beta": 0.75, "Bias": 2.0}),
        ("3d_wide_window", (1, 5, 2, 3, 2), {"ChannelWindowSize": 3, "Alpha": 3.0, "Beta": 1.3,
                                             "Bias": 0.5}),
        ("window_0", (2, 3, 4), {"ChannelWindowSize": 0, "Alpha": 1.5, "Beta": 1.0}),
        ("many_channels", (1, 40, 3), {"ChannelWindowSize": 2, "Alpha": 4.0, "Beta": 0.75}),
        ("long_planes", (1, 2, 270), {"ChannelWindowSize": 1, "Alpha": 2.0, "Beta": 0.6,
                                      "Bias": 1.5}),
        ("alexnet", (1, 9, 2, 2), {"ChannelWindowSize": 2, "Alpha": 1e-4, "Beta": 0.75,
                                   "Bias": 2.0})]:
    n = opts.get("ChannelWindowSize", 2)
    alpha, beta, bias = opts.get("Alpha", 1.0), opts.get("Beta", 0.5), opts.get("Bias", 1.0)
    x = rand(*shape, lo=-2.0, hi=2.0)
    if name == "alexnet":
        x = (x * 50).to(torch.float32).to(torch.float64)  # large, so that Alpha 1e-4 matters

    def fn(x):
        y = torch.nn.LocalResponseNorm(2 * n + 1, alpha=alpha, beta=beta, k=bias)(x)
        assert torch.allclose(y, by_formula(x, n, alpha, beta, bias))
        return [y]

    outs, gouts, gins, _ = grads(fn, [x], {})
    cases.append(case(name, [x], outs, options=opts, output_grads=gouts, input_grads=gins))
write("local_response_normalization.json", "LocalResponseNormalizationLayer", cases)
