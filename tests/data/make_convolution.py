"""Reference values for ConvolutionLayer, from PyTorch's
torch.nn.functional.conv1d/conv2d/conv3d (cross-correlation). Asymmetric
PaddingSize ([before, after] pairs) is applied with F.pad before an unpadded
convolution."""
import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def per_dim(value, rank):
    return list(value) if isinstance(value, list) else [value] * rank


def pad_pairs(padding, rank):
    """PaddingSize in any of its forms -> [(before, after)] per dimension."""
    if isinstance(padding, list) and padding and isinstance(padding[0], list):
        return [tuple(p) for p in padding]
    return [(p, p) for p in per_dim(padding, rank)]


def convolve(x, weights, biases, options):
    rank = x.dim() - 2
    pairs = pad_pairs(options.get("PaddingSize", 0), rank)
    # F.pad takes (last dim before, last dim after, previous dim before, ...).
    flat = [v for before_after in reversed(pairs) for v in before_after]
    return CONV[rank](F.pad(x, flat), weights, biases,
                      stride=per_dim(options.get("Stride", 1), rank),
                      dilation=per_dim(options.get("Dilation", 1), rank),
                      groups=options.get("ChannelGroups", 1))


cases = []


def add(name, x_shape, options):
    rank = len(x_shape) - 2
    groups = options.get("ChannelGroups", 1)
    out = options["OutputChannels"]
    kernel = per_dim(options["KernelSize"], rank)
    x = rand(*x_shape)
    arrays = {"Weights": rand(out, x_shape[1] // groups, *kernel)}
    if options.get("Biases", True):
        arrays["Biases"] = rand(out)

    def fn(x, Weights, Biases=None):
        y = convolve(x, Weights, Biases, options)
        pairs = pad_pairs(options.get("PaddingSize", 0), rank)
        if all(b == a for b, a in pairs):  # the same through PyTorch's own padding
            same = CONV[rank](x, Weights, Biases, stride=per_dim(options.get("Stride", 1), rank),
                              padding=[b for b, _ in pairs],
                              dilation=per_dim(options.get("Dilation", 1), rank), groups=groups)
            assert torch.allclose(y, same)
        return [y]

    outs, gouts, gins, garrs = grads(fn, [x], arrays)
    cases.append(case(name, [x], outs, options=options, arrays=arrays, output_grads=gouts,
                      input_grads=gins, array_grads=garrs))


add("1d", (2, 3, 7), {"OutputChannels": 4, "KernelSize": 3, "PaddingSize": 1})
add("1d_stride_dilation_asymmetric_padding", (2, 2, 11),
    {"OutputChannels": 3, "KernelSize": [3], "Stride": 2, "Dilation": 2, "PaddingSize": [[2, 1]]})
add("2d", (1, 2, 5, 6), {"OutputChannels": 3, "KernelSize": [3, 2], "Stride": [2, 1],
                         "PaddingSize": [1, 0]})
add("2d_asymmetric_padding", (1, 2, 5, 5),
    {"OutputChannels": 3, "KernelSize": 3, "Stride": 2, "PaddingSize": [[1, 0], [0, 2]]})
add("2d_dilation", (1, 2, 6, 5),
    {"OutputChannels": 2, "KernelSize": 3, "Dilation": [2, 1], "PaddingSize": 1})
add("2d_groups", (2, 4, 3, 4),
    {"OutputChannels": 4, "KernelSize": 3, "PaddingSize": 1, "ChannelGroups": 2})
add("2d_depthwise_no_biases", (1, 3, 5, 5),
    {"OutputChannels": 3, "KernelSize": 3, "ChannelGroups": 3, "Biases": False})
add("2d_1x1", (2, 4, 2, 3), {"OutputChannels": 3, "KernelSize": 1})
add("2d_1x1_stride", (1, 3, 5, 5), {"OutputChannels": 2, "KernelSize": [1, 1], "Stride": 2})
add("2d_padding_beyond_kernel", (1, 1, 2, 3), {"OutputChannels": 2, "KernelSize": 2, "PaddingSize": 2})
add("3d", (1, 2, 4, 4, 3), {"OutputChannels": 2, "KernelSize": 3, "PaddingSize": 1, "Stride": 2})
add("3d_asymmetric_groups_no_biases", (1, 4, 3, 4, 3),
    {"OutputChannels": 2, "KernelSize": [2, 3, 2], "Stride": [1, 2, 1], "ChannelGroups": 2,
     "PaddingSize": [[1, 0], [0, 1], [1, 1]], "Biases": False})
write("convolution.json", "ConvolutionLayer", cases)
