"""Prints docs/onnx.md's conformance table from the backend test's results
(build/tests/onnx_backend_results.txt, written by tests/onnx/backend_test.cpp):
    /usr/bin/python3 tests/onnx/conformance_table.py build/tests/onnx_backend_results.txt
"""
import collections
import sys

rows = collections.defaultdict(collections.Counter)
reasons = collections.defaultdict(list)
for line in open(sys.argv[1]):
    op, test, result, detail = (line.rstrip("\n").split("\t") + [""])[:4]
    rows[op][result] += 1
    if result == "refused":
        reasons[op].append((test, detail.split(": ", 1)[-1]))

print("| op | passed | refused | total |")
print("|---|---|---|---|")
total = collections.Counter()
for op in sorted(rows):
    c = rows[op]
    n = sum(c.values())
    total.update(c)
    print(f"| {op} | {c['passed']} | {c['refused']} | {n} |")
print(f"| **all** | **{total['passed']}** | **{total['refused']}** | **{sum(total.values())}** |")
if "--reasons" in sys.argv:
    print()
    for op in sorted(reasons):
        for test, why in reasons[op]:
            print(f"- `{test}`: {why}")
