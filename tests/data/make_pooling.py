"""Reference values for PoolingLayer, from PyTorch's max_pool1d/2d/3d and
avg_pool1d/2d/3d (count_include_pad=True). Total is avg_pool times the window
size. Asymmetric PaddingSize ([before, after] pairs) is applied with F.pad
before unpadded pooling: with −inf for Max (padding ignored), with zeros for
Mean and Total (padding counted as zeros).

Dilation: max_pool's dilation; for Mean and Total (which avg_pool lacks) the
mean or sum of F.unfold's dilated, zero-padded windows (2-D). Rounding
"Ceiling": max_pool's and avg_pool's ceil_mode=True (symmetric padding; Total
is avg_pool with divisor_override=1, so that a window cut short by the end of
the padding is summed, not rescaled)."""
import math

import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write

MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def per_dim(value, rank):
    return list(value) if isinstance(value, list) else [value] * rank


def pad_pairs(padding, rank):
    if isinstance(padding, list) and padding and isinstance(padding[0], list):
        return [tuple(p) for p in padding]
    return [(p, p) for p in per_dim(padding, rank)]


def pool(x, options):
    rank = x.dim() - 2
    kernel = per_dim(options["KernelSize"], rank)
    stride = per_dim(options.get("Stride", 1), rank)
    pairs = pad_pairs(options.get("PaddingSize", 0), rank)
    function = options.get("Function", "Max")
    dilation = per_dim(options.get("Dilation", 1), rank)
    ceil = options.get("Rounding", "Floor") == "Ceiling"
    if function == "Max" and (ceil or dilation != [1] * rank):
        padding = [b for b, _ in pairs]
        assert all(b == a for b, a in pairs)
        return MAX[rank](x, kernel, stride, padding, dilation, ceil_mode=ceil)
    if dilation != [1] * rank:  # Mean, Total: dilated windows from F.unfold
        assert rank == 2 and not ceil and all(b == a for b, a in pairs)
        n, c, h, w = x.shape
        cols = F.unfold(x, kernel, dilation, [b for b, _ in pairs], stride)
        cols = cols.view(n, c, math.prod(kernel), -1)
        out = [(size + 2 * b - d * (k - 1) - 1) // s + 1
               for size, (b, _), d, k, s in zip((h, w), pairs, dilation, kernel, stride)]
        y = cols.mean(2) if function == "Mean" else cols.sum(2)
        return y.view(n, c, *out)
    if ceil:
        padding = [b for b, _ in pairs]
        assert all(b == a for b, a in pairs)
        if function == "Mean":
            return AVG[rank](x, kernel, stride, padding, ceil_mode=True, count_include_pad=True)
        return AVG[rank](x, kernel, stride, padding, ceil_mode=True, count_include_pad=True,
                         divisor_override=1)
    if all(b == a for b, a in pairs):  # PyTorch's own (symmetric) padding
        padding = [b for b, _ in pairs]
        if function == "Max":
            return MAX[rank](x, kernel, stride, padding)
        y = AVG[rank](x, kernel, stride, padding, count_include_pad=True)
    else:
        flat = [v for before_after in reversed(pairs) for v in before_after]
        if function == "Max":
            return MAX[rank](F.pad(x, flat, value=-math.inf), kernel, stride)
        y = AVG[rank](F.pad(x, flat), kernel, stride)
    return y * math.prod(kernel) if function == "Total" else y


cases = []


def add(name, x, options):
    outs, gouts, gins, _ = grads(lambda x: [pool(x, options)], [x], {})
    cases.append(case(name, [x], outs, options=options, output_grads=gouts, input_grads=gins))


add("max_1d", rand(2, 3, 8), {"KernelSize": 3, "Stride": 2, "PaddingSize": 1})
add("max_2d", rand(2, 2, 5, 6), {"KernelSize": [2, 3], "Stride": [2, 1], "PaddingSize": 1})
add("max_2d_default_stride", rand(1, 2, 4, 4), {"KernelSize": 2, "Function": "Max"})
add("max_2d_asymmetric_padding", rand(1, 2, 5, 5),
    {"KernelSize": 3, "Stride": 2, "PaddingSize": [[1, 0], [0, 2]]})
# Few distinct values: ties inside windows go to the first maximum.
add("max_2d_ties", torch.randint(0, 3, (1, 2, 4, 5)).to(torch.float64),
    {"KernelSize": 2, "Stride": 1})
add("max_3d", rand(1, 2, 4, 5, 4), {"KernelSize": 2, "Stride": 2})
add("max_3d_padding", rand(1, 1, 3, 4, 4),
    {"KernelSize": [3, 2, 2], "PaddingSize": [1, 0, 1], "Stride": [1, 2, 1]})
add("mean_1d", rand(2, 2, 7), {"KernelSize": 3, "Stride": 2, "PaddingSize": 1, "Function": "Mean"})
add("mean_2d_asymmetric_padding", rand(1, 2, 4, 5),
    {"KernelSize": [3, 2], "PaddingSize": [[2, 0], [1, 1]], "Function": "Mean"})
add("mean_3d", rand(1, 1, 4, 4, 5),
    {"KernelSize": [2, 2, 3], "Stride": [2, 1, 2], "PaddingSize": [1, 0, 1], "Function": "Mean"})
add("total_1d", rand(1, 2, 6), {"KernelSize": [2], "Stride": 2, "Function": "Total"})
add("total_2d", rand(2, 2, 5, 5), {"KernelSize": 3, "Stride": 2, "PaddingSize": 1,
                                   "Function": "Total"})
add("total_3d_asymmetric_padding", rand(1, 1, 3, 3, 4),
    {"KernelSize": 2, "PaddingSize": [[1, 0], [0, 1], [0, 0]], "Function": "Total"})
# 2x2 windows, stride 2, tiling the planes exactly (strata's fast path).
add("mean_2d_tiles", rand(3, 4, 6, 10), {"KernelSize": 2, "Stride": 2, "Function": "Mean"})
add("total_2d_tiles", rand(2, 3, 4, 4), {"KernelSize": 2, "Stride": 2, "Function": "Total"})
# Dilation.
add("max_2d_dilation", rand(2, 2, 7, 8),
    {"KernelSize": 3, "Dilation": 2, "PaddingSize": 1})
add("max_1d_dilation_stride", rand(1, 3, 11), {"KernelSize": 2, "Stride": 2, "Dilation": 3})
add("max_3d_dilation", rand(1, 1, 5, 6, 5), {"KernelSize": 2, "Dilation": [2, 1, 2]})
add("mean_2d_dilation", rand(1, 2, 7, 6),
    {"KernelSize": [2, 3], "Stride": [1, 2], "Dilation": [3, 2], "PaddingSize": 1,
     "Function": "Mean"})
add("total_2d_dilation", rand(2, 1, 6, 6),
    {"KernelSize": 2, "Dilation": 2, "Stride": 2, "Function": "Total"})
# Rounding "Ceiling": last windows past the end; where PyTorch drops a last
# window that would start in the padding after the input (the 1-D cases).
add("max_2d_ceiling", rand(1, 2, 7, 8),
    {"KernelSize": 3, "Stride": 2, "PaddingSize": 1, "Rounding": "Ceiling"})
add("max_2d_ceiling_dilation", rand(1, 2, 8, 9),
    {"KernelSize": 2, "Stride": 2, "Dilation": 2, "Rounding": "Ceiling"})
add("max_1d_ceiling_dropped", rand(1, 2, 5),
    {"KernelSize": 2, "Stride": 2, "PaddingSize": 1, "Rounding": "Ceiling"})
add("mean_2d_ceiling", rand(1, 2, 7, 8),
    {"KernelSize": 3, "Stride": 2, "PaddingSize": 1, "Rounding": "Ceiling", "Function": "Mean"})
add("mean_1d_ceiling_dropped", rand(2, 1, 5),
    {"KernelSize": 2, "Stride": 2, "PaddingSize": 1, "Rounding": "Ceiling", "Function": "Mean"})
add("mean_3d_ceiling", rand(1, 1, 5, 4, 6),
    {"KernelSize": [2, 3, 2], "Stride": [2, 2, 3], "Rounding": "Ceiling", "Function": "Mean"})
add("total_2d_ceiling", rand(1, 2, 5, 7),
    {"KernelSize": 2, "Stride": [2, 3], "PaddingSize": 1, "Rounding": "Ceiling",
     "Function": "Total"})
write("pooling.json", "PoolingLayer", cases)
