"""Reference values for PaddingLayer, from PyTorch's torch.nn.functional.pad
(modes constant, replicate, reflect, circular).

PyTorch pads at most the last three dimensions in the non-constant modes;
padding is separable, so any dimension (channels included) is padded here one
dimension at a time with a 1-D F.pad, checked against a direct 2-D/3-D F.pad
where PyTorch has one."""
import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write

MODES = {"Fixed": "replicate", "Reflected": "reflect", "Periodic": "circular"}


def pad_1d(x, dim, before, after, mode):
    """Pads dimension `dim` of x with a 1-D F.pad in `mode`."""
    moved = x.movedim(dim, -1)
    shape = moved.shape
    flat = moved.reshape(-1, 1, shape[-1])
    flat = F.pad(flat, (before, after), mode=mode)
    return flat.reshape(*shape[:-1], flat.shape[-1]).movedim(-1, dim)


def torch_pad(x, pairs, padding):
    """x: a batch; pairs: one (before, after) per dimension of an example."""
    if not isinstance(padding, str):
        flat = []
        for b, a in reversed(pairs):
            flat += [b, a]
        return F.pad(x, tuple(flat), mode="constant", value=padding)
    mode = MODES[padding]
    y = x
    for d in reversed(range(len(pairs))):
        b, a = pairs[d]
        if b or a:
            y = pad_1d(y, d + 1, b, a, mode)
    # The same as PyTorch's own 2-D or 3-D padding where it applies.
    spatial = len(pairs) - 1
    if 1 <= spatial <= 3 and pairs[0] == (0, 0) and x.dim() == spatial + 2:
        flat = []
        for b, a in reversed(pairs[1:]):
            flat += [b, a]
        assert torch.equal(y, F.pad(x, tuple(flat), mode=mode))
    return y


cases = []


def add(name, shape, pairs, padding):
    x = rand(*shape)
    outs, gouts, gins, _ = grads(lambda x: [torch_pad(x, pairs, padding)], [x], {})
    cases.append(case(name, [x], outs, options={"PaddingSize": [list(p) for p in pairs],
                                                 "Padding": padding},
                      output_grads=gouts, input_grads=gins))


for padding in [0.5, "Fixed", "Reflected", "Periodic"]:
    tag = "Constant" if not isinstance(padding, str) else padding
    add(f"{tag}_rank1", (2, 5), [(2, 3)], padding)
    add(f"{tag}_1d", (2, 2, 5), [(0, 0), (3, 1)], padding)
    add(f"{tag}_2d", (1, 2, 5, 3), [(0, 0), (2, 1), (0, 2)], padding)
    add(f"{tag}_3d", (1, 1, 2, 3, 3), [(0, 0), (1, 1), (2, 0), (1, 2)], padding)
    add(f"{tag}_channels", (1, 3, 4), [(1, 2), (0, 1)], padding)
    add(f"{tag}_rank4_channels", (1, 2, 2, 2, 3), [(1, 1), (1, 0), (0, 1), (1, 1)], padding)

add("Constant_negative_value", (1, 2, 3, 3), [(0, 0), (1, 1), (1, 1)], -2.25)
add("Constant_zero_default", (1, 2, 3), [(1, 0), (0, 2)], 0)
add("Reflected_largest", (1, 2, 4), [(0, 0), (3, 3)], "Reflected")
add("Periodic_whole_dimension", (1, 2, 3), [(0, 0), (3, 3)], "Periodic")
add("Fixed_long", (1, 1, 2), [(0, 0), (5, 4)], "Fixed")
add("no_padding", (2, 2, 3), [(0, 0), (0, 0)], "Reflected")
write("padding.json", "PaddingLayer", cases)
