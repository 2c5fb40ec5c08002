"""Writes the catalogue of hostile files in tests/data/hostile/: net files,
.npy files and CSV files that strata must refuse with a strata::Error naming
the problem (tests/serialization/hostile_files_test.cpp holds the expected
message of each). The .npy headers are written by hand, as a hostile tool
would; the valid parts come from NumPy. Run with Debian's python3:
    /usr/bin/python3 tests/data/make_hostile.py
"""
import io
import json
import os
import struct

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")
os.makedirs(HERE, exist_ok=True)


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def net(body, **top):
    doc = {"format": "strata-net", "version": 1}
    doc.update(top)
    doc.update(body)
    return json.dumps(doc)


def chain(layers, input_shape):
    return net({"type": "NetChain", "Input": input_shape, "layers": layers})


def graph(layers, connections, **ports):
    body = {"type": "NetGraph", "layers": layers, "connections": connections}
    body.update(ports)
    return net(body)


flatten = {"type": "FlattenLayer"}
ramp = {"type": "ElementwiseLayer", "Function": "Ramp"}

# ---- Net files: dimensions
write("net_negative_dimension.json", chain([flatten], [-3, 4]))
write("net_zero_dimension.json", chain([flatten], [0, 4]))
write("net_enormous_dimension.json", chain([flatten], [99999999999, 4]))
write("net_dimension_beyond_int64.json", chain([flatten], [18446744073709551616]))
# Each dimension allowed (2^31), their product 2^93 is not.
write("net_product_overflows.json", chain([flatten], [2**31, 2**31, 2**31]))
write("net_linear_weights_overflow.json",
      chain([{"type": "LinearLayer", "Size": 2**31}], [2**20, 2**20]))
write("net_array_shape_overflows.json",
      chain([{"type": "LinearLayer", "Size": 2,
              "Weights": {"shape": [2**32, 2**32, 2**32], "data": []}}], [2]))
write("net_kernel_larger_than_input.json",
      chain([{"type": "ConvolutionLayer", "OutputChannels": 2, "KernelSize": 9}], [1, 4, 4]))

# ---- Net files: numbers
write("net_nan_in_array.json",
      '{"format": "strata-net", "version": 1, "type": "LinearLayer", "Size": 1, "Input": [1],\n'
      ' "Weights": {"shape": [1, 1], "data": [NaN]}}')
write("net_infinity_in_array.json",
      '{"format": "strata-net", "version": 1, "type": "LinearLayer", "Size": 1, "Input": [1],\n'
      ' "Weights": {"shape": [1, 1], "data": [1e999]}}')
write("net_beyond_float32_in_array.json",
      '{"format": "strata-net", "version": 1, "type": "LinearLayer", "Size": 1, "Input": [1],\n'
      ' "Weights": {"shape": [1, 1], "data": [1e39]}}')
write("net_string_for_number.json", chain([{"type": "LinearLayer", "Size": "10"}], [4]))
write("net_string_dimension.json", chain([flatten], ["3", 4]))
write("net_string_in_array.json",
      chain([{"type": "LinearLayer", "Size": 1, "Biases": {"shape": [1], "data": ["0.5"]}}], [1]))
write("net_infinite_option.json",
      '{"format": "strata-net", "version": 1, "type": "InstanceNormalizationLayer",\n'
      ' "Epsilon": -1e999}')

# ---- Net files: structure
write("net_duplicate_layer_names.json",
      chain([dict(ramp, name="act"), dict(flatten), dict(ramp, name="act")], [4]))
write("net_duplicate_key.json",
      '{"format": "strata-net", "version": 1, "type": "NetChain", "Input": [4],\n'
      ' "layers": [{"type": "LinearLayer", "Size": 3, "Size": 4}]}')
write("net_cycle.json",
      graph([dict(ramp, name="a"), dict(ramp, name="b"), dict(ramp, name="c")],
            [["#Input", "c"], ["c", "#Output"], ["a", "b"], ["b", "a"]], Input=[4]))
write("net_self_connection.json",
      graph([dict(ramp, name="a"), dict(ramp, name="c")],
            [["#Input", "c"], ["c", "#Output"], ["a", "a"]], Input=[4]))
write("net_missing_port.json",
      graph([dict(ramp, name="a")], [["#Input", "a"], ["a.Result", "#Output"]], Input=[4]))
write("net_missing_layer.json",
      graph([dict(ramp, name="a")], [["#Input", "a"], ["a", "b"], ["a", "#Output"]], Input=[4]))
write("net_unknown_layer_type.json", chain([{"type": "ConvolutionLayr"}], [4]))
write("net_unknown_key.json", chain([{"type": "LinearLayer", "Sise": 3}], [4]))
write("net_nested_lists.json", chain([flatten], [[[[4]]]]))
write("net_control_characters.json", chain([{"type": "Ramp\nLayer\u0001"}], [4]))
write("net_newer_version.json", net({"type": "NetChain", "layers": [ramp]}, version=99))
write("net_truncated.json", chain([ramp, flatten], [4])[:60])
write("net_empty.json", "")
write("net_not_json.json", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'")
# nlohmann's lexer takes a NUL byte for the end of the input: what follows was ignored.
write("net_trailing_nul.json", net({"type": "ElementwiseLayer", "Function": "Ramp"}) + "\n\0garbage")
write("net_nul_inside.json", '{"format": "strata-net",\0 "version": 1}')

# ---- .npy files
def npy_bytes(array):
    f = io.BytesIO()
    np.lib.format.write_array(f, array, allow_pickle=False)
    return f.getvalue()


def npy_with_header(header, data=b"", version=1):
    """A .npy file with a header written by hand, padded as numpy pads."""
    text = header.encode("latin1")
    prefix = 10 if version == 1 else 12
    pad = 64 - (prefix + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    length = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + data


six = np.arange(6, dtype=np.float32)
write("npy_truncated_data.npy", npy_bytes(np.arange(100, dtype=np.float32))[:128 + 12])
write("npy_truncated_header.npy", npy_bytes(six)[:40])
write("npy_only_magic.npy", b"\x93NUMPY")
write("npy_mislabelled_dtype.npy",  # says float64, holds float32 data
      npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", six.tobytes()))
write("npy_mislabelled_shape.npy",  # says 2 x 4, holds 6 values
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }",
                      six.tobytes()))
write("npy_trailing_bytes.npy", npy_bytes(six) + b"\x00" * 8)
write("npy_csv_text.npy", "a,b,target\n1,2,0\n")
write("npy_zip_archive.npy", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20)
write("npy_negative_dimension.npy",
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }"))
write("npy_enormous_dimension.npy",
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }"))
write("npy_product_overflows.npy",
      npy_with_header("{'descr': '<f4', 'fortran_order': False, "
                      "'shape': (4294967296, 4294967296, 4294967296), }"))
write("npy_dimension_beyond_int64.npy",
      npy_with_header("{'descr': '<f4', 'fortran_order': False, "
                      "'shape': (99999999999999999999,), }"))
write("npy_string_dimension.npy",
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': ('6',), }",
                      six.tobytes()))
write("npy_header_length_beyond_file.npy",
      b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{'descr'")
write("npy_nested_header.npy",
      npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 1000 + ")" * 1000
                      + ", }"))
write("npy_float64_beyond_float32.npy", npy_bytes(np.array([1.0, 1e300], dtype=np.float64)))
write("npy_unsupported_dtype.npy", npy_bytes(np.array([1 + 2j], dtype=np.complex64)))
write("npy_object_dtype.npy",
      npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"\x00" * 8))

# ---- CSV files
write("csv_nan.csv", "x,y,target\n1,2,0\n3,nan,1\n")
write("csv_infinity.csv", "x,y,target\n1,-inf,0\n")
write("csv_beyond_float32.csv", "x,y,target\n1,1e39,0\n")
write("csv_string_for_number.csv", "x,y,target\n1,2,0\n3,four,1\n")
write("csv_ragged_row.csv", "1,2,0\n3,4,5,1\n")
write("csv_empty_cell.csv", "1,2,0\n3,,1\n")
write("csv_unterminated_quote.csv", "1,2,0\n\"3,4,1\n")
write("csv_header_only.csv", "x,y,target")  # and no final newline (a fuzz finding)
write("csv_one_column.csv", "1\n2\n")
write("csv_empty.csv", "")
write("csv_binary.csv", npy_bytes(six))

# ---- Second battery: values no file may hold
write("net_negative_moving_variance.json",
      chain([{"type": "LinearLayer", "Size": 2, "name": "fc"},
             {"type": "BatchNormalizationLayer", "name": "norm",
              "MovingVariance": {"shape": [2], "data": [1, -0.5]}}], [3]))

# ---- Second battery: data that is not finite. Valid .npy files, refused as
# training data (tests/cli/culprits.sh): kept apart, in hostile_data/.
DATA_DIR = os.path.join(os.path.dirname(HERE), "hostile_data")
os.makedirs(DATA_DIR, exist_ok=True)


def write_data(name, data):
    with open(os.path.join(DATA_DIR, name), "wb") as f:
        f.write(data)


nan_inputs = np.random.RandomState(0).rand(64, 2).astype(np.float32)
nan_inputs[5, 1] = np.nan
write_data("npy_nan_input.npy", npy_bytes(nan_inputs))
inf_targets = np.random.RandomState(1).rand(64, 1).astype(np.float32)
inf_targets[3, 0] = -np.inf
write_data("npy_infinite_target.npy", npy_bytes(inf_targets))
