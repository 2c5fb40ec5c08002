"""Writes small .npy files with NumPy itself, for the .npy reader's tests,
and expected.json with what each valid file holds (values as float32, the
type strata reads them into). Run with Debian's python3:
    /usr/bin/python3 tests/data/make_npy.py
"""
import json
import os

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")
os.makedirs(HERE, exist_ok=True)
expected = {}


def save(name, array, version=None):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)
    return path


def valid(name, array, version=None):
    save(name, array, version)
    as_f32 = np.asarray(array).astype(np.float32)
    expected[name] = {"descr": np.lib.format.dtype_to_descr(np.asarray(array).dtype),
                      "version": list(version or (1, 0)),
                      "shape": list(as_f32.shape),
                      "data": [float(v) for v in as_f32.flatten(order="C")]}


# Valid files, in every supported dtype.
f32 = np.array([[0.1, -1.5, 1.0 / 3.0], [-0.0, 3.4028235e38, 1e-45]], dtype=np.float32)
valid("float32_2x3.npy", f32)
valid("float64_5.npy", np.array([0.1, 1.0 / 3.0, -2.5e-3, 1e30, 1e-40], dtype=np.float64))
valid("int64_targets.npy", np.array([0, 3, 9, 1, 2, 7], dtype=np.int64))
valid("int32_2x2.npy", np.array([[-7, 0], [2147483647, -2147483648]], dtype=np.int32))
valid("int16_3.npy", np.array([-32768, 5, 32767], dtype=np.int16))
valid("int8_3.npy", np.array([-128, -1, 127], dtype=np.int8))
valid("uint8_4.npy", np.array([0, 1, 128, 255], dtype=np.uint8))
valid("uint16_2.npy", np.array([0, 65535], dtype=np.uint16))
valid("uint32_2.npy", np.array([7, 4294967295], dtype=np.uint32))
valid("uint64_2.npy", np.array([3, 2**64 - 1], dtype=np.uint64))
valid("bool_4.npy", np.array([True, False, False, True]))
valid("float32_2x3x4.npy", (np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.25 - 1))
valid("float32_scalar.npy", np.array(2.5, dtype=np.float32))
valid("float32_empty.npy", np.zeros((0,), dtype=np.float32))
valid("float32_2x0x3.npy", np.zeros((2, 0, 3), dtype=np.float32))
valid("float32_v2.npy", np.array([[1.25, -2.0]], dtype=np.float32), version=(2, 0))
valid("float32_v3.npy", np.array([4.0, 0.5, -8.0], dtype=np.float32), version=(3, 0))
# A one-dimensional array is the same in either order; numpy writes False.
valid("float64_1d.npy", np.array([1.5, 2.5]))

# Files strata must refuse.
save("fortran_2x3.npy", np.asfortranarray(f32))
save("big_endian.npy", np.array([1.0, 2.0], dtype=">f4"))
save("complex128.npy", np.array([1 + 2j], dtype="<c16"))
save("float16.npy", np.array([1.0], dtype=np.float16))
save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
save("float64_overflow.npy", np.array([1.0, 1e300]))
path = save("truncated.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) - 5)

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump({"generated_by": "make_npy.py", "numpy": np.__version__, "files": expected}, f,
              indent=1)
    f.write("\n")
print(f"wrote {len(os.listdir(HERE))} files to {HERE}")
