#!/usr/bin/python3
"""Times the main job -- training the digits net -- in strata and in PyTorch.

Both train the main job's net (examples/digits/net.json; `make run`):
Convolution(32, 3x3, padding 1, no biases) -> InstanceNormalization -> Ramp
-> Mean pooling 2/2 -> Convolution(64, 3x3, padding 1, no biases) ->
InstanceNormalization -> Ramp -> Mean pooling 2/2 -> Flatten -> Linear(10)
-> Softmax, on the same data (digits_train.csv, 1,500 examples, pixels / 16)
with the main job's training: SGD (learning rate 0.05, momentum 0.9, L2
regularization = weight_decay 0.003), the rate falling along a cosine over
the 20 rounds (CosineAnnealingLR(T_max=20) stepped once per round), batch
16, reshuffled every round, CrossEntropy (the NLL of the log of the
Softmax output, as strata computes it), on the same number of threads.
PyTorch's InstanceNorm2d has affine parameters and strata's default epsilon
(1e-3). The two sides run alternately, --repeats times each, and the script
reports the median examples per second over the training loop alone (data in
memory, no evaluation during it), the median accuracy on digits_test.csv
(297 examples), strata's peak resident memory (VmHWM) and the ratio.

    /usr/bin/python3 bench/digits_vs_pytorch.py [--data examples/digits]
        [--driver build-bench/bench/digits_train] [--threads 2] [--repeats 3]

Needs Debian's python3-torch and python3-numpy; strata's side is the
digits_train program built by `make bench` (it reads the same CSVs and
checks its net against net.json).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPSILON = 1e-3  # InstanceNormalizationLayer's default Epsilon


def load_digits(path):
    rows = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
    x = (rows[:, :64] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    t = rows[:, 64].astype(np.int64)
    return x, t


class DigitsNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.norm1 = torch.nn.InstanceNorm2d(32, affine=True, eps=EPSILON)
        self.conv2 = torch.nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.norm2 = torch.nn.InstanceNorm2d(64, affine=True, eps=EPSILON)
        self.linear = torch.nn.Linear(64 * 2 * 2, 10)

    def forward(self, x):
        x = torch.nn.functional.avg_pool2d(torch.relu(self.norm1(self.conv1(x))), 2, 2)
        x = torch.nn.functional.avg_pool2d(torch.relu(self.norm2(self.conv2(x))), 2, 2)
        return torch.softmax(self.linear(x.flatten(1)), 1)


def train_pytorch(train, test, args):
    torch.manual_seed(args.seed)
    x = torch.from_numpy(train[0])
    t = torch.from_numpy(train[1])
    net = DigitsNet()
    net.train()
    sgd = torch.optim.SGD(net.parameters(), lr=args.learning_rate, momentum=args.momentum,
                          weight_decay=args.l2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=args.rounds)
    n = x.shape[0]
    start = time.perf_counter()
    for _ in range(args.rounds):
        order = torch.randperm(n)
        for b in range(0, n, args.batch_size):
            idx = order[b:b + args.batch_size]
            sgd.zero_grad()
            # The net ends in Softmax: CrossEntropy is the NLL of log p, as in strata.
            loss = torch.nn.functional.nll_loss(torch.log(net(x[idx])), t[idx])
            loss.backward()
            sgd.step()
        schedule.step()
    seconds = time.perf_counter() - start
    net.eval()
    with torch.no_grad():
        predicted = net(torch.from_numpy(test[0])).argmax(1).numpy()
    accuracy = float((predicted == test[1]).mean())
    return {"examples_per_second": n * args.rounds / seconds, "train_seconds": seconds,
            "final_loss": float(loss), "test_accuracy": accuracy}


def train_strata(args):
    cmd = [args.driver, "--data", args.data, "--rounds", str(args.rounds),
           "--batch-size", str(args.batch_size), "--learning-rate", str(args.learning_rate),
           "--momentum", str(args.momentum), "--l2", str(args.l2), "--seed", str(args.seed),
           "--threads", str(args.threads)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({run.returncode}): {run.stderr.strip()}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.path.join(ROOT, "examples", "digits"),
                   help="the directory with digits_train.csv, digits_test.csv and net.json")
    p.add_argument("--driver", default=os.path.join(ROOT, "build-bench", "bench", "digits_train"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--l2", type=float, default=0.003, help="L2 regularization (weight_decay)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3, help="runs per side; medians are reported")
    args = p.parse_args()
    for name in ("digits_train.csv", "digits_test.csv", "net.json"):
        if not os.path.exists(os.path.join(args.data, name)):
            sys.exit(f"no {name} in {args.data}; pass --data")
    if not os.path.exists(args.driver):
        sys.exit(f"no strata driver at {args.driver}; run `make bench` first, or pass --driver")

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)  # before any parallel work starts
    train = load_digits(os.path.join(args.data, "digits_train.csv"))
    test = load_digits(os.path.join(args.data, "digits_test.csv"))
    runs = {"strata": [], "pytorch": []}
    load_before = os.getloadavg()[0]
    for r in range(args.repeats):
        # Alternate the two (and which goes first), so that the machine's load
        # falls on both alike.
        order = ("strata", "pytorch") if r % 2 == 0 else ("pytorch", "strata")
        for side in order:
            runs[side].append(train_strata(args) if side == "strata"
                              else train_pytorch(train, test, args))

    print(f"digits net (main job), {args.rounds} rounds of {len(train[0])} examples, batch "
          f"{args.batch_size}, SGD {args.learning_rate} cosine, momentum {args.momentum}, "
          f"L2 {args.l2}, {args.threads} thread{'' if args.threads == 1 else 's'}, median of "
          f"{args.repeats} runs (torch {torch.__version__}); load average {load_before:.2f} "
          f"before, {os.getloadavg()[0]:.2f} after")
    median = {}
    for side, results in runs.items():
        eps = statistics.median(r["examples_per_second"] for r in results)
        acc = statistics.median(r["test_accuracy"] for r in results)
        median[side] = eps
        extra = f", peak RSS {max(r['peak_rss_mb'] for r in results):.1f} MB" \
            if side == "strata" else ""
        print(f"  {side:8s} {eps:10.0f} examples/s   test accuracy {100 * acc:.1f}%{extra}")
    print(f"  strata / pytorch: {median['strata'] / median['pytorch']:.2f}x")


if __name__ == "__main__":
    main()
