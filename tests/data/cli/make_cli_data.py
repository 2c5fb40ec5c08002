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
- new_layers_inputs.npy / new_layers_targets.npy: 30 images [2, 8, 8] in 3
  classes, for the net of every second-edition layer (new_layers_net.json).
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

# new_layers_inputs.npy / new_layers_targets.npy: 30 examples [2, 8, 8] in 3
# classes (float32, the targets float32 class indices), for new_layers_net.json:
# class 0 lifts channel 0, class 1 channel 1, class 2 neither, over noise.
targets = np.arange(30) % 3
images = rng.normal(0, 0.5, size=(30, 2, 8, 8))
images[targets == 0, 0] += 1
images[targets == 1, 1] += 1
np.save(os.path.join(HERE, "new_layers_inputs.npy"), images.astype(np.float32))
np.save(os.path.join(HERE, "new_layers_targets.npy"), targets.astype(np.float32))
