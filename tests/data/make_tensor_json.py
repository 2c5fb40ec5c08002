"""Writes float32 values two ways for the tensor JSON tests: as a .npy file
(the exact bits) and as a JSON tensor whose numbers are NumPy's shortest
decimal form of each float32 (repr(np.float32(v))), which strata's JSON
writer must reproduce. Run with Debian's python3:
    /usr/bin/python3 tests/data/make_tensor_json.py
"""
import json
import os

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tensor_json")
os.makedirs(HERE, exist_ok=True)

rng = np.random.default_rng(0)
special = np.array([0.0, -0.0, 0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-45, 1.1754944e-38, 3.4028235e38,
                    -3.4028235e38, 16777216.0, 16777217.0, 1e10, 123456.789, 5e-324],
                   dtype=np.float64).astype(np.float32)
# Random bit patterns cover every exponent; non-finite ones are dropped.
bits = rng.integers(0, 2**32, size=1500, dtype=np.uint64).astype(np.uint32)
random = bits.view(np.float32)
random = random[np.isfinite(random)]
values = np.concatenate([special, random, rng.standard_normal(300).astype(np.float32)])
values = values.reshape(1, -1)

np.save(os.path.join(HERE, "float32_values.npy"), values)
# repr of a float32 is its shortest round-tripping decimal; float() of that
# is the double a JSON reader gets from the same text.
shortest = [float(repr(v)) for v in values.flatten()]
assert (np.array(shortest).astype(np.float32).view(np.uint32) == values.flatten().view(np.uint32)).all()
with open(os.path.join(HERE, "float32_values.json"), "w") as f:
    json.dump({"shape": list(values.shape), "data": shortest}, f)
    f.write("\n")
print(f"wrote {values.size} values to {HERE}")
