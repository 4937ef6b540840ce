#!/usr/bin/env python3
"""Where a placed iCE40 design's logic cells go (docs/fpga.md).

usage: cells.py ROUTES.json

Reads the routed design that fpga/ice40/net_delays.py wrote (nextpnr's packed cells and the nets they drive) and
counts its logic cells (ICESTORM_LC: a LUT4, a carry and a flip-flop each, as the device has them) by the signal
each one drives: its flip-flop's or LUT's output, else its carry's. Signal names are the generated RTL's (the
accelerator is `accel` in the board top level), so a cell counts toward
  - "PE array": the array module (`accel.array.*`),
  - "post-processing lanes": the lane modules (`accel.post_N.*`),
  - "accelerator control": the rest of the accelerator (fetch and issue, LD, EX, ST, the buffers' ports, FIFOs),
  - "board top level": the board's UART, command decoder, memory engine and cycle counter (`fpga/ice40/faq_board.v`),
  - "carry feed-ins and feed-outs": cells nextpnr adds to bring a signal into a carry chain or a carry out of one
    (named by nextpnr, not by the RTL).
Prints one line of JSON: logic_cells, by_part {part: cells}, and by_signal (the accelerator control's cells by the
first word of their signal's name, `st_out` under `st`, largest first). Exit 2 on unreadable input.
"""
import collections
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sta import load_routes  # noqa: E402  (beside this script)

PARTS = ("PE array", "post-processing lanes", "accelerator control", "board top level", "carry feed-ins and feed-outs")


def fail(message, code=2):
    print(f"cells: {message}", file=sys.stderr)
    sys.exit(code)


def part_of(net):
    if net.startswith("accel.array."):
        return PARTS[0], None
    if re.match(r"accel\.post_\d+\.", net):
        return PARTS[1], None
    if net.startswith("accel."):
        word = re.match(r"accel\.\\?([A-Za-z]+\d*)", net)
        return PARTS[2], word.group(1) if word else net
    return PARTS[3], None


def main():
    if len(sys.argv) != 2:
        fail("usage: cells.py ROUTES.json")
    cells, _, _, driven = load_routes(sys.argv[1], fail)
    logic = [name for name, cell in cells.items() if cell["type"] == "ICESTORM_LC"]
    by_part, by_signal = collections.Counter({p: 0 for p in PARTS}), collections.Counter()
    for name in logic:
        net = driven.get((name, "O")) or driven.get((name, "COUT")) or driven.get((name, "LO")) or ""
        part, word = (PARTS[4], None) if name.startswith("$nextpnr_ICESTORM_LC") else part_of(net)
        by_part[part] += 1
        if word:
            by_signal[word] += 1
    print(json.dumps({"logic_cells": len(logic), "by_part": dict(by_part), "by_signal": dict(by_signal.most_common())}))


if __name__ == "__main__":
    main()
