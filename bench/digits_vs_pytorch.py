#!/usr/bin/python3
"""Times the main job -- training the digits net -- in strata and in PyTorch.

Both train the same net (Convolution(8, 3x3, padding 1) -> InstanceNorm ->
Ramp -> Pooling 2/2 -> Convolution(16, 3x3, padding 1) -> InstanceNorm ->
Ramp -> Pooling 2/2 -> Flatten -> Linear(10) -> Softmax) on the same data
(the first 1,500 digits, pixels / 16), with the same hyper-parameters (SGD,
learning rate 0.1, momentum 0.9, batch 64, 20 rounds, reshuffled every
round, CrossEntropy) on the same number of threads, and report examples per
second over the training loop (data already in memory, evaluation excluded)
and the accuracy on the last 297 digits.

    /usr/bin/python3 bench/digits_vs_pytorch.py --data digits.csv.gz \\
        [--driver build-bench/bench/digits_train] [--threads 2] [--repeats 3]

Needs Debian's python3-torch and python3-numpy; strata's side is the
digits_train program built by `make bench`.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_digits(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = (rows[:, :64] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    t = rows[:, 64].astype(np.float32)
    return (x[:1500], t[:1500]), (x[1500:], t[1500:])


class DigitsNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.norm1 = torch.nn.InstanceNorm2d(8, affine=True, eps=1e-3)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.norm2 = torch.nn.InstanceNorm2d(16, affine=True, eps=1e-3)
        self.linear = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.norm1(self.conv1(x))), 2, 2)
        x = torch.nn.functional.max_pool2d(torch.relu(self.norm2(self.conv2(x))), 2, 2)
        return torch.softmax(self.linear(x.flatten(1)), 1)


def train_pytorch(train, test, args, seed):
    torch.manual_seed(seed)
    x = torch.from_numpy(train[0])
    t = torch.from_numpy(train[1]).long()
    net = DigitsNet()
    sgd = torch.optim.SGD(net.parameters(), lr=args.learning_rate, momentum=args.momentum)
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
    seconds = time.perf_counter() - start
    net.eval()
    with torch.no_grad():
        predicted = net(torch.from_numpy(test[0])).argmax(1).numpy()
    accuracy = float((predicted == test[1]).mean())
    return {"examples_per_second": n * args.rounds / seconds, "train_seconds": seconds,
            "final_loss": float(loss), "test_accuracy": accuracy}


def train_strata(files, args, seed):
    cmd = [args.driver, "--train-inputs", files[0], "--train-targets", files[1],
           "--test-inputs", files[2], "--test-targets", files[3],
           "--rounds", str(args.rounds), "--batch-size", str(args.batch_size),
           "--learning-rate", str(args.learning_rate), "--momentum", str(args.momentum),
           "--seed", str(seed), "--threads", str(args.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.path.join(ROOT, "examples", "digits", "digits.csv"),
                   help="the digits CSV (64 pixels, then the class), plain or .gz")
    p.add_argument("--driver", default=os.path.join(ROOT, "build-bench", "bench", "digits_train"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--repeats", type=int, default=3, help="runs per side; medians are reported")
    args = p.parse_args()
    if not os.path.exists(args.data):
        sys.exit(f"no digits data at {args.data}; pass --data")
    if not os.path.exists(args.driver):
        sys.exit(f"no strata driver at {args.driver}; run `make bench` first, or pass --driver")

    torch.set_num_threads(args.threads)
    train, test = load_digits(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        files = [os.path.join(tmp, name + ".npy") for name in
                 ("train_inputs", "train_targets", "test_inputs", "test_targets")]
        for f, a in zip(files, (train[0], train[1], test[0], test[1])):
            np.save(f, a)
        runs = {"strata": [], "pytorch": []}
        for r in range(args.repeats):
            # Alternate the two, so that the machine's load falls on both alike.
            runs["strata"].append(train_strata(files, args, seed=r + 1))
            runs["pytorch"].append(train_pytorch(train, test, args, seed=r + 1))

    print(f"digits net, {args.rounds} rounds of {len(train[0])} examples, batch "
          f"{args.batch_size}, SGD {args.learning_rate} momentum {args.momentum}, "
          f"{args.threads} threads, median of {args.repeats} runs (torch {torch.__version__})")
    median = {}
    for side, results in runs.items():
        eps = statistics.median(r["examples_per_second"] for r in results)
        acc = statistics.median(r["test_accuracy"] for r in results)
        median[side] = eps
        extra = f", peak RSS {max(r['peak_rss_mb'] for r in results):.0f} MB" \
            if "peak_rss_mb" in results[0] else ""
        print(f"  {side:8s} {eps:10.0f} examples/s   test accuracy {100 * acc:.1f}%{extra}")
    print(f"  strata / pytorch: {median['strata'] / median['pytorch']:.2f}x")


if __name__ == "__main__":
    main()
