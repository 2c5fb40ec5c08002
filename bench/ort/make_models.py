#!/usr/bin/python3
"""Writes the four models of the ONNX Runtime comparison (bench/ort/compare.cpp)
into a folder, each as NAME.onnx with its input NAME.input.npy:

  style      the fast style-transfer network of tests/data/onnx/make_models.py
             (reflection padding, 9x9 and 3x3 convolutions, instance
             normalization, a residual block, nearest upsampling), 1x3x256x256
  resnet     the ResNet-style classifier of the same file, 64x3x32x32
  mobilenet  its MobileNet-style block (1x1, depthwise 3x3 with stride 2, ReLU6)
             with 3 input channels, 16x3x64x64
  digits     the main job's net (bench/digits_vs_pytorch.py's DigitsNet) on the
             297 test digits (examples/digits/digits_test.csv, pixels / 16)

The definitions are the tests' and the digits benchmark's; the arrays are
random (fixed seeds; normalization statistics and affine parameters drawn as
the tests draw them). Fixed shapes (no dynamic batch), so that ONNX Runtime
can specialize. The files are small, but they are made at bench time (make
bench-ort) into the build folder rather than committed.

    /usr/bin/python3 bench/ort/make_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "data", "onnx"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import make_models as tests  # noqa: E402  (tests/data/onnx/make_models.py)
import digits_vs_pytorch as digits  # noqa: E402


class MobileNetBlock3(tests.MobileNetBlock):
    """The tests' MobileNet-style block taking RGB images (3 input channels)."""
    def __init__(self):
        super().__init__()
        self.expand = nn.Conv2d(3, 12, 1)


def export(out, name, model, x):
    torch.manual_seed(1)
    tests.randomize_bn(model, torch.Generator().manual_seed(2))
    model.eval()
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"], do_constant_folding=True)
    np.save(os.path.join(out, name + ".input.npy"), x.numpy())
    print(f"{path}: {os.path.getsize(path)} bytes, input {list(x.shape)}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    torch.manual_seed(0)
    export(out, "style", tests.StyleTransfer(), torch.rand(1, 3, 256, 256, generator=g))
    torch.manual_seed(0)
    export(out, "resnet", tests.ResNet(), torch.randn(64, 3, 32, 32, generator=g))
    torch.manual_seed(0)
    export(out, "mobilenet", MobileNetBlock3(), torch.randn(16, 3, 64, 64, generator=g))
    x, _ = digits.load_digits(os.path.join(ROOT, "examples", "digits", "digits_test.csv"))
    torch.manual_seed(0)
    export(out, "digits", digits.DigitsNet(), torch.from_numpy(x))


if __name__ == "__main__":
    main()
