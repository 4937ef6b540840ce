#!/usr/bin/env python3
"""Compares two faq-train runs of the same model: the integer tensors of NAME.faq (weights, biases, shifts and the
test vectors' every layer output) byte for byte; the tensors derived from float scales (weight_scale, and the
fixed-point multipliers computed from them) and the float weights of NAME-float.safetensors within a relative
tolerance (max |a - b| / max |a| per tensor). Prints the worst tensor; exit 1 when a check fails, 2 on bad input.
Usage: compare_runs.py RUN_A RUN_B NAME RTOL"""
import json, math, pathlib, struct, sys


def read(path):
    try:
        blob = pathlib.Path(path).read_bytes()
        (n,) = struct.unpack_from("<Q", blob, 0)
        header = json.loads(blob[8:8 + n])
    except (OSError, ValueError, struct.error) as e:
        print(f"compare_runs: {path}: {e}")
        sys.exit(2)
    data = blob[8 + n:]
    return {k: (v, data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items() if k != "__metadata__"}


if len(sys.argv) != 5:
    print(__doc__)
    sys.exit(2)
a_dir, b_dir, name, rtol = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], float(sys.argv[4])
a, b = read(a_dir / f"{name}.faq"), read(b_dir / f"{name}.faq")
if sorted(a) != sorted(b):
    print(f"FAIL {name}.faq: different tensors: {sorted(set(a) ^ set(b))}")
    sys.exit(1)
def values(entry):
    meta, raw = entry
    code = {"F32": "f", "I32": "i", "U8": "B", "I8": "b", "I16": "h", "U16": "H"}[meta["dtype"]]
    return struct.unpack(f"<{len(raw) // struct.calcsize(code)}{code}", raw)


def relative(x, y):
    scale = max(max((abs(v) for v in x), default=0), 1e-30)
    return max((abs(p - q) for p, q in zip(x, y)), default=0) / scale


exact = close = 0
for key in sorted(a):
    if a[key][0]["shape"] != b[key][0]["shape"]:
        print(f"FAIL {name}.faq tensor '{key}': shapes {a[key][0]['shape']} and {b[key][0]['shape']}")
        sys.exit(1)
    if key.endswith(".multiplier") or key.endswith(".weight_scale"):
        diff = relative(values(a[key]), values(b[key]))
        if diff > rtol:
            print(f"FAIL {name}.faq tensor '{key}': relative difference {diff:.3g} > {rtol:g}")
            sys.exit(1)
        close += 1
    elif a[key][1] != b[key][1]:
        first = next(i for i, (x, y) in enumerate(zip(values(a[key]), values(b[key]))) if x != y)
        print(f"FAIL {name}.faq tensor '{key}' differs at element {first}: {values(a[key])[first]} and {values(b[key])[first]}")
        sys.exit(1)
    else:
        exact += 1
print(f"{name}.faq: {exact} integer tensors equal element for element, {close} scale-derived tensors within {rtol:g}")
fa, fb = read(a_dir / f"{name}-float.safetensors"), read(b_dir / f"{name}-float.safetensors")
worst, worst_key = 0.0, None
for key in sorted(fa):
    if key not in fb:
        print(f"FAIL float weights: '{key}' missing in {b_dir}")
        sys.exit(1)
    diff = relative(values(fa[key]), values(fb[key]))
    if math.isnan(diff) or diff > worst:
        worst, worst_key = diff, key
print(f"float weights: worst relative difference {worst:.3g} ({worst_key}), tolerance {rtol:g}")
sys.exit(0 if worst <= rtol else 1)
