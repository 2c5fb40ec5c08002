"""Writes the tensor files of the command-line tests (tests/cli/) with NumPy.
Run with Debian's python3:
    /usr/bin/python3 tests/data/cli/make_cli_data.py

- regression_inputs.npy / regression_targets.npy: 64 examples of 2 features
  (float32) and targets y = 2 x1 - x2 + 0.5 ([64, 1],
  float64, to exercise the float64 reader), for a linear model whose trained
  Weights and Biases the test compares with (2, -1) and 0.5.
- regression_targets_short.npy: 63 targets, one too few.
- batch_3x4.npy: a batch of 3 examples of 4 features, for the wrong-shape
  error of `strata apply` (the hand-set net takes 3 features).
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)

x = rng.uniform(-1, 1, size=(64, 2)).astype(np.float32)
y = (2 * x[:, 0].astype(np.float64) - x[:, 1] + 0.5).reshape(64, 1)
np.save(os.path.join(HERE, "regression_inputs.npy"), x)
np.save(os.path.join(HERE, "regression_targets.npy"), y)
np.save(os.path.join(HERE, "regression_targets_short.npy"), y[:63])
np.save(os.path.join(HERE, "batch_3x4.npy"),
        np.arange(12, dtype=np.float32).reshape(3, 4))
