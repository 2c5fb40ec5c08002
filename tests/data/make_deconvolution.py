"""Reference values for DeconvolutionLayer, from PyTorch's
torch.nn.functional.conv_transpose1d/2d/3d. PyTorch crops the same padding
from both sides; [before, after] pairs are applied by cropping an unpadded
transposed convolution (zero-extended by OutputPadding at the end), and
checked against PyTorch's own padding and output_padding where both sides
agree."""
import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write

DECONV = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def per_dim(value, rank):
    return list(value) if isinstance(value, list) else [value] * rank


def pad_pairs(padding, rank):
    """PaddingSize in any of its forms -> [(before, after)] per dimension."""
    if isinstance(padding, list) and padding and isinstance(padding[0], list):
        return [tuple(p) for p in padding]
    return [(p, p) for p in per_dim(padding, rank)]


def deconvolve(x, weights, biases, options):
    rank = x.dim() - 2
    pairs = pad_pairs(options.get("PaddingSize", 0), rank)
    extra = per_dim(options.get("OutputPadding", 0), rank)
    full = DECONV[rank](x, weights, None, stride=per_dim(options.get("Stride", 1), rank),
                        dilation=per_dim(options.get("Dilation", 1), rank),
                        groups=options.get("ChannelGroups", 1))
    # OutputPadding: zeros at the end (F.pad takes the last dimension first).
    full = F.pad(full, [v for e in reversed(extra) for v in (0, e)])
    for d, ((before, after), e) in enumerate(zip(pairs, extra)):
        size = full.shape[2 + d] - before - after
        full = full.narrow(2 + d, before, size)
    if biases is not None:
        full = full + biases.view(1, -1, *([1] * rank))
    return full


cases = []


def add(name, x_shape, options):
    rank = len(x_shape) - 2
    groups = options.get("ChannelGroups", 1)
    out = options["OutputChannels"]
    kernel = per_dim(options["KernelSize"], rank)
    x = rand(*x_shape)
    arrays = {"Weights": rand(x_shape[1], out // groups, *kernel)}
    if options.get("Biases", True):
        arrays["Biases"] = rand(out)

    def fn(x, Weights, Biases=None):
        y = deconvolve(x, Weights, Biases, options)
        pairs = pad_pairs(options.get("PaddingSize", 0), rank)
        if all(b == a for b, a in pairs):  # the same through PyTorch's own padding
            same = DECONV[rank](x, Weights, Biases,
                                stride=per_dim(options.get("Stride", 1), rank),
                                padding=[b for b, _ in pairs],
                                output_padding=per_dim(options.get("OutputPadding", 0), rank),
                                dilation=per_dim(options.get("Dilation", 1), rank), groups=groups)
            assert same.shape == y.shape and torch.allclose(y, same)
        return [y]

    outs, gouts, gins, garrs = grads(fn, [x], arrays)
    cases.append(case(name, [x], outs, options=options, arrays=arrays, output_grads=gouts,
                      input_grads=gins, array_grads=garrs))


add("1d", (2, 3, 7), {"OutputChannels": 4, "KernelSize": 3, "PaddingSize": 1})
add("1d_stride_dilation_output_padding_pairs", (2, 2, 5),
    {"OutputChannels": 3, "KernelSize": [3], "Stride": 2, "Dilation": 2, "OutputPadding": 1,
     "PaddingSize": [[2, 1]]})
add("1d_crop_more_than_kernel", (1, 2, 6),
    {"OutputChannels": 2, "KernelSize": 2, "Stride": 3, "PaddingSize": [[3, 0]],
     "OutputPadding": 2})
add("2d_upsample", (1, 2, 3, 4),
    {"OutputChannels": 3, "KernelSize": 3, "Stride": 2, "PaddingSize": 1, "OutputPadding": 1})
add("2d_kernel_stride_dilation", (2, 2, 3, 4),
    {"OutputChannels": 3, "KernelSize": [3, 2], "Stride": [2, 1], "PaddingSize": [1, 0],
     "Dilation": [1, 2]})
add("2d_groups", (1, 4, 3, 3),
    {"OutputChannels": 6, "KernelSize": 3, "Stride": 2, "ChannelGroups": 2})
add("2d_depthwise_no_biases", (1, 3, 4, 4),
    {"OutputChannels": 3, "KernelSize": 3, "ChannelGroups": 3, "PaddingSize": 1, "Biases": False})
add("2d_asymmetric_padding", (1, 2, 4, 3),
    {"OutputChannels": 2, "KernelSize": 4, "Stride": 2, "PaddingSize": [[1, 0], [0, 2]],
     "OutputPadding": [1, 0]})
add("2d_output_padding_from_dilation", (1, 2, 3, 3),
    {"OutputChannels": 2, "KernelSize": 2, "Dilation": 2, "OutputPadding": [1, 0]})
add("2d_1x1_stride", (2, 3, 3, 3),
    {"OutputChannels": 2, "KernelSize": 1, "Stride": 2, "OutputPadding": 1})
add("2d_wide_rows", (1, 2, 3, 18), {"OutputChannels": 3, "KernelSize": 3, "PaddingSize": 1})
add("3d", (1, 2, 2, 3, 2),
    {"OutputChannels": 2, "KernelSize": 3, "Stride": 2, "PaddingSize": 1,
     "OutputPadding": [1, 0, 1]})
add("3d_groups_pairs_no_biases", (1, 4, 2, 3, 2),
    {"OutputChannels": 2, "KernelSize": [2, 3, 2], "Stride": [1, 2, 1], "ChannelGroups": 2,
     "PaddingSize": [[1, 0], [0, 1], [1, 1]], "Biases": False})
write("deconvolution.json", "DeconvolutionLayer", cases)
