"""Writes the PyTorch-exported models of tests/onnx/ (torch.onnx.export at
opsets 11, 13 and 17) with an input and PyTorch's output beside each:
NAME.onnx, NAME.input.npy, NAME.output.npy. Small nets, fixed seeds.
Run with Debian's python3 (python3-torch):
    /usr/bin/python3 tests/data/onnx/make_models.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = x.view(x.size(0), -1)  # Shape -> Gather -> Unsqueeze -> Concat -> Reshape
        return torch.softmax(self.fc2(torch.tanh(self.fc1(x))), dim=1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + x)


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.bn0 = nn.BatchNorm2d(8)  # after a ReLU: PyTorch cannot fold it into the Conv
        self.block = Block(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.block(self.pool(self.bn0(torch.relu(self.stem(x)))))
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class MobileNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.expand = nn.Conv2d(4, 12, 1)
        self.bn1 = nn.BatchNorm2d(12)
        self.depthwise = nn.Conv2d(12, 12, 3, stride=2, padding=1, groups=12)
        self.bn2 = nn.BatchNorm2d(12)
        self.project = nn.Conv2d(12, 6, 1)

    def forward(self, x):
        x = nn.functional.relu6(self.bn1(self.expand(x)))
        x = nn.functional.relu6(self.bn2(self.depthwise(x)))
        return self.project(x)


class Conv1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(2, 6, 5, padding=2)
        self.c2 = nn.Conv1d(6, 4, 3, stride=2, dilation=2)
        self.pool = nn.AvgPool1d(2)

    def forward(self, x):
        return self.pool(nn.functional.elu(self.c2(torch.sigmoid(self.c1(x)))))


class Conv3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv3d(1, 4, 3, padding=1)
        self.norm = nn.InstanceNorm3d(4, affine=True)
        self.c2 = nn.Conv3d(4, 2, 2, stride=2)

    def forward(self, x):
        return self.c2(nn.functional.leaky_relu(self.norm(self.c1(x)), 0.2))


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 2, 1)

    def forward(self, x):
        return torch.cat([torch.relu(self.a(x)), torch.tanh(self.b(x))], dim=1)


class UNet(nn.Module):
    """A U-Net-style net: down by a strided convolution, up by ConvTranspose,
    the skip connection joined by Concat."""
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(16, 8, 3, stride=1, padding=1, groups=2)
        self.dec = nn.Conv2d(16, 2, 1)

    def forward(self, x):
        e = torch.relu(self.enc(x))
        d = torch.relu(self.down(e))
        u = torch.relu(self.up(d))
        u = torch.relu(self.up2(torch.cat([u, e], dim=1)))
        return self.dec(torch.cat([u, e], dim=1))


class StyleTransfer(nn.Module):
    """The fast style-transfer network in small (Johnson et al.): reflection
    padding, instance normalization, a residual block, nearest upsampling."""
    def __init__(self):
        super().__init__()
        self.pad1 = nn.ReflectionPad2d(4)
        self.conv1 = nn.Conv2d(3, 8, 9)
        self.in1 = nn.InstanceNorm2d(8, affine=True)
        self.pad2 = nn.ReflectionPad2d(1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2)
        self.in2 = nn.InstanceNorm2d(16, affine=True)
        self.res = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(16, 16, 3),
                                 nn.InstanceNorm2d(16, affine=True), nn.ReLU(),
                                 nn.ReflectionPad2d(1), nn.Conv2d(16, 16, 3),
                                 nn.InstanceNorm2d(16, affine=True))
        self.pad3 = nn.ReflectionPad2d(1)
        self.conv3 = nn.Conv2d(16, 8, 3)
        self.in3 = nn.InstanceNorm2d(8, affine=True)
        self.pad4 = nn.ReflectionPad2d(4)
        self.conv4 = nn.Conv2d(8, 3, 9)

    def forward(self, x):
        y = torch.relu(self.in1(self.conv1(self.pad1(x))))
        y = torch.relu(self.in2(self.conv2(self.pad2(y))))
        y = y + self.res(y)
        y = nn.functional.interpolate(y, scale_factor=2, mode="nearest")
        y = torch.relu(self.in3(self.conv3(self.pad3(y))))
        return self.conv4(self.pad4(y))


class Bilinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)

    def forward(self, x):
        y = nn.functional.interpolate(self.conv(x), scale_factor=2, mode="bilinear",
                                      align_corners=False)
        return nn.functional.interpolate(y, size=(5, 7), mode="bilinear", align_corners=False)


class PReLULRN(nn.Module):
    """PReLU (one slope per channel and one shared), LRN, and arithmetic with
    constants and of computed tensors (x * sigmoid(x), (y - 0.5) / 2), edge
    padding, Hardswish."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.prelu = nn.PReLU(6)
        self.lrn = nn.LocalResponseNorm(3, alpha=1e-2, beta=0.75, k=2.0)
        self.prelu1 = nn.PReLU()
        self.hs = nn.Hardswish()
        self.smooth = nn.Conv2d(6, 6, 3)
        with torch.no_grad():
            self.prelu.weight.copy_(torch.linspace(-0.5, 0.5, 6))

    def forward(self, x):
        y = self.lrn(self.prelu(self.conv(x)))
        y = self.prelu1(y) * torch.sigmoid(y)
        edge = self.smooth(torch.nn.functional.pad(y, (1, 1, 1, 1), mode="replicate"))
        y = (y - 0.5) / 2 + edge
        return self.hs(y)


class Pools(nn.Module):
    """Max pooling with dilation and ceil_mode, average pooling with ceil_mode
    (a last window past the padding) and with count_include_pad=False."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        y = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 3, stride=2, padding=1,
                                     dilation=2, ceil_mode=True)
        y = nn.functional.avg_pool2d(self.conv2(y), 3, stride=2, padding=1, ceil_mode=True)
        return nn.functional.avg_pool2d(y, 2, stride=1, padding=1, count_include_pad=False)


class GELUNet(nn.Module):
    """nn.GELU, which opsets before 20 write as Div, Erf, Add, Mul, Mul."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.gelu = nn.GELU()

    def forward(self, x):
        return self.gelu(self.conv(x))


class Reductions(nn.Module):
    """Means and maxima over the spatial axes and over the channels, keepdim
    both ways (ReduceMean, ReduceMax, ReduceSum, ReduceMin)."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        centred = y - y.mean(dim=(2, 3), keepdim=True)
        gate = torch.sigmoid(y.amax(dim=1, keepdim=True))
        z = centred * gate + y.sum(dim=1, keepdim=True) - y.amin(dim=(1, 3), keepdim=True)
        return torch.cat([z.mean(dim=3), y.sum(dim=3)], dim=1)


class ConstantOperands(nn.Module):
    """Max, Min and Pow with a constant operand: torch.clamp with tensor
    bounds (Max then Min, a bound per channel and one per position),
    torch.maximum with a constant row, torch.minimum with a number first,
    2 ** x (Pow of a constant base) and x ** c with an exponent per channel."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.register_buffer("low", torch.tensor([-0.5, -0.2, 0.1]).view(3, 1, 1))
        self.register_buffer("high", torch.linspace(0.2, 1.0, 25).view(1, 5, 5))
        self.register_buffer("floor", torch.linspace(-1.0, 1.0, 5))
        self.register_buffer("cap", torch.tensor(0.3))
        self.register_buffer("exponent", torch.tensor([2.0, 3.0, 1.0]).view(3, 1, 1))
        self.register_buffer("root", torch.tensor([0.5, 1.5, 2.5]).view(3, 1, 1))

    def forward(self, x):
        y = self.conv(x)
        return torch.cat([torch.clamp(y, min=self.low, max=self.high),
                          torch.maximum(y, self.floor), torch.minimum(self.cap, y),
                          2 ** y, y ** self.exponent, y.abs() ** self.root], dim=1)


def randomize_bn(model, g):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm3d, nn.InstanceNorm2d)):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.5, 0.5, generator=g)
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.5, 0.5, generator=g)
                    m.running_var.uniform_(0.5, 2.0, generator=g)


def export(name, model, shape, opset, dynamic_batch=False, names=("input", "output")):
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(2)
    randomize_bn(model, g)
    model.eval()
    x = torch.randn(*shape, generator=g)
    path = os.path.join(HERE, name + ".onnx")
    axes = {names[0]: {0: "batch"}, names[1]: {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(model, x, path, opset_version=opset, input_names=[names[0]],
                      output_names=[names[1]], dynamic_axes=axes, do_constant_folding=True)
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(HERE, name + ".input.npy"), x.numpy())
    np.save(os.path.join(HERE, name + ".output.npy"), y.numpy())


if __name__ == "__main__":
    torch.manual_seed(0)
    export("mlp_opset11", MLP(), (3, 3, 4), 11, dynamic_batch=True)
    torch.manual_seed(0)
    export("mlp_opset17", MLP(), (3, 3, 4), 17)
    torch.manual_seed(0)
    export("resnet_opset13", ResNet(), (2, 3, 16, 16), 13)
    torch.manual_seed(0)
    export("mobilenet_opset11", MobileNetBlock(), (2, 4, 8, 8), 11, names=("Input", "Output"))
    torch.manual_seed(0)
    export("mobilenet_opset17", MobileNetBlock(), (2, 4, 8, 8), 17, dynamic_batch=True)
    torch.manual_seed(0)
    export("conv1d_opset13", Conv1d(), (2, 2, 20), 13, dynamic_batch=True)
    torch.manual_seed(0)
    export("conv3d_opset17", Conv3d(), (2, 1, 6, 6, 6), 17)
    torch.manual_seed(0)
    export("concat_opset13", Concat(), (2, 3, 5, 5), 13)
    torch.manual_seed(0)
    export("unet_opset13", UNet(), (2, 3, 8, 8), 13)
    torch.manual_seed(0)
    export("style_opset11", StyleTransfer(), (1, 3, 16, 16), 11)
    torch.manual_seed(0)
    export("style_opset17", StyleTransfer(), (2, 3, 16, 16), 17, dynamic_batch=True)
    torch.manual_seed(0)
    export("bilinear_opset13", Bilinear(), (2, 2, 3, 4), 13)
    torch.manual_seed(0)
    export("prelu_lrn_opset13", PReLULRN(), (2, 3, 6, 6), 13)
    torch.manual_seed(0)
    export("pools_opset13", Pools(), (2, 2, 12, 12), 13)
    torch.manual_seed(0)
    export("gelu_opset13", GELUNet(), (2, 2, 5, 5), 13)
    torch.manual_seed(0)
    export("reduce_opset13", Reductions(), (2, 2, 5, 6), 13)
    torch.manual_seed(0)
    export("constants_opset11", ConstantOperands(), (2, 2, 5, 5), 11)
    torch.manual_seed(0)
    export("constants_opset17", ConstantOperands(), (2, 2, 5, 5), 17, dynamic_batch=True)
