"""Reference for losses and optimizers working together: a few training
steps of a linear model y = x Wᵀ + b (written out here and in the test, so no
layer is involved) with PyTorch's losses, autograd and torch.optim.

A case: {"name", "loss": "CrossEntropy"|"MeanSquared", "method", "options",
         "inputs": T [N, in], "targets": T, "weights": T [out, in], "biases": T [out],
         "losses": [loss per step], "final_weights": T, "final_biases": T}."""
import torch
import torch.nn.functional as F

from reference_util import rand, tensor, write


def run(name, loss, method, options, targets, n=8, n_in=3, n_out=3, steps=5):
    x = rand(n, n_in, lo=-2.0, hi=2.0)
    w0, b0 = rand(n_out, n_in), rand(n_out)
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    wd = options.get("L2Regularization", 0.0)
    if method == "SGD":
        opt = torch.optim.SGD([w, b], lr=options["LearningRate"],
                              momentum=options.get("Momentum", 0.0), weight_decay=wd)
    else:
        opt = torch.optim.Adam([w, b], lr=options["LearningRate"], weight_decay=wd)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        y = x @ w.T + b
        value = F.cross_entropy(y, targets.long()) if loss == "CrossEntropy" else F.mse_loss(y, targets)
        value.backward()
        if options.get("GradientClipping"):
            torch.nn.utils.clip_grad_norm_([w, b], options["GradientClipping"])
        opt.step()
        losses.append(float(value))
    return {"name": name, "loss": loss, "method": method, "options": options,
            "inputs": tensor(x), "targets": tensor(targets), "weights": tensor(w0),
            "biases": tensor(b0), "losses": losses, "final_weights": tensor(w),
            "final_biases": tensor(b)}


cases = [
    run("cross_entropy_sgd", "CrossEntropy", "SGD",
        {"LearningRate": 0.5, "Momentum": 0.9, "L2Regularization": 0.01},
        torch.tensor([0, 1, 2, 2, 1, 0, 0, 1], dtype=torch.float64)),
    run("cross_entropy_adam_clipping", "CrossEntropy", "ADAM",
        {"LearningRate": 0.05, "GradientClipping": 0.5},
        torch.tensor([2, 2, 0, 1, 1, 0, 2, 1], dtype=torch.float64)),
    run("mean_squared_sgd", "MeanSquared", "SGD", {"LearningRate": 0.1, "Momentum": 0.5},
        rand(8, 2), n_out=2),
]
write("training_steps.json", "TrainingSteps", cases)
