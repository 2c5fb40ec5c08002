"""Reference trajectories for the optimizers (train/optimizer.hpp), from
torch.optim.SGD and torch.optim.Adam, with torch.nn.utils.clip_grad_norm_
for GradientClipping, on fixed parameters and a fixed gradient sequence.

A case: {"name", "method": "SGD"|"ADAM", "options": {Wolfram keys},
         "parameters": [T], "gradients": [[T per parameter] per step],
         optional "learning_rates": [rate per step],
         "trajectory": [[T per parameter] after each step]}."""
import numpy as np
import torch

from reference_util import rand, write
from reference_util import tensor as full_tensor

SHAPES = [(2, 3), (4,), (1, 1, 2)]


def tensor(t):
    """{"shape", "data"} with each value written as the shortest decimal that
    reads back as the same float32 (keeps the file small)."""
    j = full_tensor(t)
    j["data"] = [float(repr(np.float32(v))) for v in j["data"]]
    return j


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def run(name, method, options, steps=6, grad_scale=1.0, learning_rates=None, zero_rows=False):
    params = [rand(*s, lo=-2.0, hi=2.0) for s in SHAPES]
    grads = [[f32(grad_scale * rand(*s)) for s in SHAPES] for _ in range(steps)]
    if zero_rows:  # entries whose gradient is always 0: Adam's 0/(0 + eps)
        for step in grads:
            step[0][0].zero_()
    ps = [p.clone().requires_grad_(True) for p in params]
    lr = options.get("LearningRate")
    wd = options.get("L2Regularization", 0.0)
    if method == "SGD":
        opt = torch.optim.SGD(ps, lr=lr, momentum=options.get("Momentum", 0.0), weight_decay=wd)
    else:
        opt = torch.optim.Adam(ps, lr=lr, betas=(options.get("Beta1", 0.9),
                                                 options.get("Beta2", 0.999)),
                               eps=options.get("Epsilon", 1e-8), weight_decay=wd)
    clip = options.get("GradientClipping")
    trajectory, norms = [], []
    for k in range(steps):
        if learning_rates:
            for group in opt.param_groups:
                group["lr"] = learning_rates[k]
        for p, g in zip(ps, grads[k]):
            p.grad = g.clone()
        if clip:
            norms.append(float(torch.nn.utils.clip_grad_norm_(ps, clip)))
        opt.step()
        trajectory.append([tensor(p) for p in ps])
    if clip:  # the case must exercise both sides of the bound
        assert min(norms) < clip < max(norms), (name, norms)
    c = {"name": name, "method": method, "options": options,
         "parameters": [tensor(p) for p in params],
         "gradients": [[tensor(g) for g in step] for step in grads],
         "trajectory": trajectory}
    if learning_rates:
        c["learning_rates"] = learning_rates
    return c


cases = [
    run("sgd", "SGD", {"LearningRate": 0.1}),
    run("sgd_momentum", "SGD", {"LearningRate": 0.05, "Momentum": 0.9}),
    run("sgd_l2", "SGD", {"LearningRate": 0.1, "L2Regularization": 0.01}),
    run("sgd_momentum_l2", "SGD", {"LearningRate": 0.05, "Momentum": 0.8,
                                   "L2Regularization": 0.05}),
    run("sgd_momentum_clipping", "SGD", {"LearningRate": 0.05, "Momentum": 0.9,
                                         "L2Regularization": 0.01, "GradientClipping": 3.0},
        grad_scale=1.5, steps=8),
    run("sgd_momentum_changing_rate", "SGD", {"LearningRate": 0.1, "Momentum": 0.9},
        learning_rates=[0.1, 0.1, 0.05, 0.05, 0.01, 0.2]),
    run("adam", "ADAM", {"LearningRate": 0.01}),
    run("adam_l2", "ADAM", {"LearningRate": 0.01, "L2Regularization": 0.1}),
    run("adam_betas_epsilon", "ADAM", {"LearningRate": 0.02, "Beta1": 0.8, "Beta2": 0.99,
                                       "Epsilon": 1e-6}, zero_rows=True),
    run("adam_clipping", "ADAM", {"LearningRate": 0.01, "L2Regularization": 0.01,
                                  "GradientClipping": 3.0}, grad_scale=1.5, steps=8),
    run("adam_changing_rate", "ADAM", {"LearningRate": 0.01},
        learning_rates=[0.01, 0.005, 0.005, 0.02, 0.001, 0.01]),
]
write("optimizers.json", "Optimizer", cases)
