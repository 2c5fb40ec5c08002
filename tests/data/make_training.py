"""Reference training runs for NetTrain parity: PyTorch trains the same nets
from the same initial arrays on the same data in the same order (no
shuffling), and records every batch's loss and the final arrays.

Arrays are named by their strata path ("1/Weights"); PyTorch's weight/bias
map to Weights/Biases, InstanceNorm's weight/bias to Gamma/Beta."""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)
torch.set_default_dtype(torch.float32)


def tensor(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().flatten().tolist()]}


def named_arrays(model):
    out = {}
    for i, layer in enumerate(model):
        for pname, p in layer.named_parameters():
            key = {"weight": "Gamma" if isinstance(layer, nn.InstanceNorm2d) else "Weights",
                   "bias": "Beta" if isinstance(layer, nn.InstanceNorm2d) else "Biases"}[pname]
            out[f"{i + 1}/{key}"] = p
    return out


def run(name, model, x, y, loss_fn, make_opt, batch, rounds, clip=0.0, names=named_arrays):
    initial = {k: tensor(v) for k, v in names(model).items()}
    opt = make_opt(model.parameters())
    losses = []
    for _ in range(rounds):
        for s in range(0, len(x), batch):
            opt.zero_grad()
            loss = loss_fn(model(x[s:s + batch]), y[s:s + batch])
            loss.backward()
            if clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(loss.item())
    final = {k: tensor(v) for k, v in names(model).items()}
    return {"name": name, "inputs": tensor(x), "targets": tensor(y), "batch_size": batch,
            "rounds": rounds, "initial": initial, "final": final, "batch_losses": losses}


cases = []

# An MLP with mean squared loss, SGD with momentum and L2, and a partial last batch.
mlp = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
x = torch.randn(13, 4)
y = torch.randn(13, 3)
c = run("mlp_sgd", mlp, x, y, F.mse_loss,
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01), batch=5, rounds=3)
c.update(method="SGD", options={"LearningRate": 0.1, "Momentum": 0.9, "L2Regularization": 0.01},
         loss="MeanSquared")
cases.append(c)


def cnn():
    # No convolution biases: before instance normalization their gradient is
    # zero up to rounding, which Adam would amplify into noise.
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.InstanceNorm2d(4, eps=1e-3, affine=True),
                         nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3))


x = torch.randn(10, 1, 6, 6)
y = torch.randint(0, 3, (10,))
for name, make_opt, options, method, clip in [
        ("cnn_sgd", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
         {"LearningRate": 0.05, "Momentum": 0.9}, "SGD", 0.0),
        ("cnn_adam", lambda p: torch.optim.Adam(p, lr=0.01),
         {"LearningRate": 0.01}, "ADAM", 0.0),
        ("cnn_sgd_clipped", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5),
         {"LearningRate": 0.05, "Momentum": 0.5, "GradientClipping": 0.5}, "SGD", 0.5)]:
    torch.manual_seed(2)
    model = cnn()
    with torch.no_grad():  # non-trivial Gamma and Beta
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.uniform_(-0.5, 0.5)
    c = run(name, model, x, y.float(), lambda out, t: F.cross_entropy(out, t.long()), make_opt,
            batch=4, rounds=2, clip=clip)
    c.update(method=method, options=options, loss="CrossEntropy")
    cases.append(c)


class Scaling(nn.Module):
    """strata's ConstantTimesLayer with a Scaling array of the given shape."""

    def __init__(self, *shape):
        super().__init__()
        self.scaling = nn.Parameter(torch.empty(*shape))

    def forward(self, x):
        return x * self.scaling


class Resize(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)


class Mean(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


# The second-edition layers in one chain, trained by SGD with momentum:
# reflection padding, a convolution, LRN (ChannelWindowSize 1 = size 3),
# PReLU, a stride-2 deconvolution, per-channel scaling, bilinear resizing by
# 1/2 and the spatial mean, as class scores. Strata positions are 1-based.
torch.manual_seed(5)
model = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(2, 4, 3),
                      nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.0), nn.PReLU(4),
                      nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
                      Scaling(3, 1, 1), Resize(), Mean())
with torch.no_grad():  # Slopes and Scalings away from their initial values
    model[3].weight.uniform_(0.1, 0.4)
    model[5].scaling.uniform_(0.5, 1.5)
x = torch.randn(12, 2, 6, 6)
y = torch.randint(0, 3, (12,))
strata_names = {"1.weight": "2/Weights", "1.bias": "2/Biases", "3.weight": "4/Slope",
                "4.weight": "5/Weights", "4.bias": "5/Biases", "5.scaling": "6/Scaling"}
c = run("second_edition_sgd", model, x, y.float(), lambda out, t: F.cross_entropy(out, t.long()),
        lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9), batch=4, rounds=3,
        names=lambda m: {strata_names[k]: p for k, p in m.named_parameters()})
c.update(method="SGD", options={"LearningRate": 0.2, "Momentum": 0.9}, loss="CrossEntropy")
cases.append(c)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "training.json")
with open(path, "w") as f:
    json.dump({"generated_by": "make_training.py", "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print("wrote", path, len(cases), "cases")
