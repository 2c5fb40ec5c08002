"""Reference values for ResizeLayer, from PyTorch's F.interpolate
(align_corners=False; modes linear/bilinear/trilinear and nearest), given the
output size (`size=`, ResizeLayer's Dimensions) or the factors
(`scale_factor=` with recompute_scale_factor unset, ResizeLayer's Scale: the
mapping then uses the factor itself).

Every output is also computed from the spec's formula (one interpolation
matrix per axis, in double) and must agree with PyTorch. Along an axis that
keeps its size, PyTorch 1.13 ignores a given factor in the linear modes
(forward and backward) and in the nearest mode's backward (not its forward);
the spec (and ONNX's half_pixel and asymmetric/floor) uses the factor there
too. The two cases here on such an axis ("spec_*_same_size") are taken from
the formula, with a check that PyTorch does differ."""
import math

import torch
import torch.nn.functional as F

from reference_util import case, grads, rand, write

LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


def axis_matrix(n_in, n_out, s, resampling):
    """[n_out, n_in]: output j as a combination of the inputs, per the spec."""
    a = torch.zeros(n_out, n_in)
    for j in range(n_out):
        if resampling == "Nearest":
            a[j, min(math.floor(j / s), n_in - 1)] = 1.0
        else:
            c = max((j + 0.5) / s - 0.5, 0.0)
            lo = min(math.floor(c), n_in - 1)
            lam = min(max(c - lo, 0.0), 1.0)
            hi = min(lo + 1, n_in - 1)
            a[j, lo] += 1.0 - lam
            a[j, hi] += lam
    return a


def by_formula(x, out_sizes, scales, resampling):
    y = x
    for d in range(len(out_sizes)):
        n_in = x.shape[2 + d]
        s = scales[d] if scales is not None else out_sizes[d] / n_in
        a = axis_matrix(n_in, out_sizes[d], s, resampling)
        y = torch.movedim(torch.tensordot(torch.movedim(y, 2 + d, -1), a, dims=([-1], [1])), -1,
                          2 + d)
    return y


cases = []


def add(name, shape, resampling, dimensions=None, scale=None, from_formula=False):
    x = rand(*shape)
    r = len(shape) - 2
    scales = None
    if scale is not None:
        scales = [float(scale)] * r if not isinstance(scale, list) else [float(s) for s in scale]
    out_sizes = dimensions or [math.floor(shape[2 + d] * scales[d]) for d in range(r)]
    mode = "nearest" if resampling == "Nearest" else LINEAR[r]
    kw = {} if mode == "nearest" else {"align_corners": False}

    def torch_fn(x):
        if dimensions is not None:
            return [F.interpolate(x, size=dimensions, mode=mode, **kw)]
        return [F.interpolate(x, scale_factor=scales, mode=mode, **kw)]

    def formula_fn(x):
        return [by_formula(x, out_sizes, scales, resampling)]

    outs, gouts, gins, _ = grads(formula_fn if from_formula else torch_fn, [x], {})
    formula = by_formula(x, out_sizes, scales, resampling)
    assert list(outs[0].shape[2:]) == out_sizes, (name, outs[0].shape, out_sizes)
    if not from_formula:
        assert torch.allclose(outs[0], formula, atol=1e-12), name
    else:
        # The documented difference: PyTorch's forward or its gradient.
        touts, _, tgins, _ = grads(torch_fn, [x], {})
        assert not (torch.allclose(touts[0], formula) and torch.allclose(tgins[0], gins[0])), name
    options = {"Resampling": resampling}
    if dimensions is not None:
        options["Dimensions"] = dimensions
    else:
        options["Scale"] = scale
    cases.append(case(name, [x], outs, options=options, output_grads=gouts, input_grads=gins))


for resampling in ["Linear", "Nearest"]:
    add(f"{resampling}_1d_dimensions_up", (2, 2, 7), resampling, dimensions=[11])
    add(f"{resampling}_1d_dimensions_down", (1, 2, 7), resampling, dimensions=[3])
    add(f"{resampling}_1d_scale_2.5", (1, 2, 7), resampling, scale=2.5)
    add(f"{resampling}_1d_scale_0.6", (2, 1, 7), resampling, scale=0.6)
    add(f"{resampling}_2d_dimensions", (1, 2, 5, 3), resampling, dimensions=[3, 7])
    add(f"{resampling}_2d_scale_2", (1, 2, 3, 3), resampling, scale=2)
    add(f"{resampling}_2d_scale_list", (1, 1, 5, 4), resampling, scale=[1.7, 0.6])
    add(f"{resampling}_2d_scale_0.75", (2, 1, 5, 3), resampling, scale=0.75)
    add(f"{resampling}_3d_dimensions", (1, 1, 3, 4, 2), resampling, dimensions=[5, 3, 3])
    add(f"{resampling}_3d_scale_list", (1, 2, 3, 4, 2), resampling, scale=[1.5, 0.5, 2.0])
    add(f"{resampling}_3d_scale_1.4", (1, 1, 3, 4, 3), resampling, scale=1.4)
add("spec_linear_same_size", (1, 1, 3, 4), "Linear", scale=[1.2, 1.0], from_formula=True)
add("spec_nearest_same_size", (1, 1, 3), "Nearest", scale=1.2, from_formula=True)
write("resize.json", "ResizeLayer", cases)
