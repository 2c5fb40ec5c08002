"""Writes small CSV datasets with NumPy's savetxt, and what NumPy's own CSV
reader (loadtxt, as float32) makes of them as .npy files, for the CSV reader's
tests. Run with Debian's python3:
    /usr/bin/python3 tests/data/make_csv.py
"""
import os

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "csv")
os.makedirs(HERE, exist_ok=True)
rng = np.random.default_rng(1)


def write(name, features, targets, header=None, newline="\n", fmt="%.9g"):
    path = os.path.join(HERE, name)
    table = np.column_stack([features, targets])
    np.savetxt(path, table, delimiter=",", fmt=fmt, newline=newline,
               header=header or "", comments="")
    # NumPy's reading of the same text, rounded once to float32.
    back = np.loadtxt(path, delimiter=",", skiprows=1 if header else 0, dtype=np.float64)
    back = back.astype(np.float32)
    stem = os.path.splitext(path)[0]
    np.save(stem + "_inputs.npy", np.ascontiguousarray(back[:, :-1]))
    np.save(stem + "_targets.npy", np.ascontiguousarray(back[:, -1]))


# Digits-like: 8x8 pixel intensities 0..16 and a class index, with a header.
pixels = rng.integers(0, 17, size=(12, 64)).astype(np.float64)
classes = rng.integers(0, 10, size=12).astype(np.float64)
header = ",".join([f"pixel_{i}_{j}" for i in range(8) for j in range(8)] + ["target"])
write("digits_header.csv", pixels, classes, header=header, fmt="%d")

# Real-valued regression data with Windows line ends and no header, written
# with 17 significant digits so that parsing has to round to float32.
x = rng.standard_normal((10, 5)) * np.array([1e-3, 1.0, 1e3, 1e-30, 1e30])
y = rng.standard_normal(10)
write("regression_crlf.csv", x, y, newline="\r\n", fmt="%.17g")
print(f"wrote {HERE}")
