#!/usr/bin/env python3
"""The paths through the iCE40 DSP blocks that nextpnr-ice40 does not time, bounded (docs/fpga.md).

usage: dsp_paths.py NETLIST.json REPORT.json PERIOD_NS

nextpnr-ice40 (0.4) treats every SB_MAC16 port as a register's input or output, whatever the block's parameters, so
a path that runs through a block's multiplier without a register in it (a multiplier fed from its pins, or read at a
combinational output) is cut in two and its multiplier never counted. This check allows such a path only where it is
one register-to-register hop: a multiplier (or the block's adder) fed from its pins must be fed by flip-flops, and a
combinational output must drive flip-flops only; it then bounds the path as a flip-flop's clock-to-output, the routes nextpnr measured
(REPORT.json from --detailed-timing-report), the multiplier's delay and a logic cell's setup, and fails unless the
bound fits the clock period. NETLIST.json is the synth_ice40 netlist the report was placed and routed from.
Prints one line of JSON; exits 1 if a block breaks the rule or a bound exceeds PERIOD_NS, 2 on unreadable input.
"""
import json
import sys

# Delays (ns) of the UP5K: the 16 x 16 multiplier from a pin to its output with no register, as icetime's timing
# model of SB_MAC16 (MUL_U_16X16_BYPASS, fpga-icestorm) gives it, 8.96 from B to O; a logic cell's clock-to-output
# and its setup through a LUT input, as nextpnr-ice40's critical-path reports of the UP5K give them (1.39; 0.82 to
# 1.15); all rounded up.
MULTIPLIER_NS = 9.0
CLOCK_TO_Q_NS = 1.4
SETUP_NS = 1.2


def fail(message, code=1):
    print(f"dsp_paths: {message}", file=sys.stderr)
    sys.exit(code)


def param(cell, name):
    value = cell["parameters"].get(name, "0")
    try:
        return int(value, 2) if isinstance(value, str) else int(value)
    except ValueError:
        return 0


def main():
    if len(sys.argv) != 4:
        fail("usage: dsp_paths.py NETLIST.json REPORT.json PERIOD_NS", 2)
    try:
        netlist = json.load(open(sys.argv[1]))
        report = json.load(open(sys.argv[2]))
        period = float(sys.argv[3])
    except (OSError, ValueError) as e:
        fail(f"cannot read the input: {e}", 2)
    if "detailed_net_timings" not in report:
        fail(f"{sys.argv[2]}: no detailed_net_timings (nextpnr-ice40 --detailed-timing-report)", 2)
    top = next((m for m in netlist["modules"].values() if m.get("attributes", {}).get("top")), None)
    if top is None:
        fail(f"{sys.argv[1]}: no top module", 2)
    cells = top["cells"]
    # bit -> the cells and ports that read it, and the cell and port that drive it
    readers, driver = {}, {}
    for name, cell in cells.items():
        for port, bits in cell["connections"].items():
            for b in bits:
                if isinstance(b, str):
                    continue
                if cell["port_directions"].get(port) == "output":
                    driver[b] = (name, port)
                else:
                    readers.setdefault(b, []).append((name, port))
    is_ff = lambda name: cells[name]["type"].startswith("SB_DFF")

    # the routes nextpnr measured: into each DSP pin (worst), out of each DSP output pin (worst over its endpoints)
    into, out_of = {}, {}
    for net in report["detailed_net_timings"]:
        for e in net["endpoints"]:
            if e["cell"].endswith("_DSP"):
                key = (e["cell"][:-4], e["port"].split("_")[0])
                into[key] = max(into.get(key, 0.0), e["delay"])
        if net["driver"].endswith("_DSP") and net["endpoints"]:
            bit = int(net["port"].split("_")[1]) if "_" in net["port"] else 0
            key = (net["driver"][:-4], "TOP" if bit >= 16 else "BOT")
            out_of[key] = max(out_of.get(key, 0.0), max(e["delay"] for e in net["endpoints"]))

    dsps = [n for n, c in cells.items() if c["type"] == "SB_MAC16"]
    worst, untimed = 0.0, 0
    for name in dsps:
        cell = cells[name]
        # the operands (A, B) and the adder's addend (C, D) that reach the block's logic without its own register
        open_inputs = [p for p in ("A", "B", "C", "D") if not param(cell, f"{p}_REG")
                       and any(not isinstance(b, str) for b in cell["connections"].get(p, []))]
        inputs_registered = not open_inputs

        def registered(half):
            select = param(cell, f"{half}OUTPUT_SELECT")
            if select == 1:
                return True  # the accumulator register
            if select == 3:
                return bool(param(cell, "PIPELINE_16x16_MULT_REG1") or param(cell, "PIPELINE_16x16_MULT_REG2"))
            if select == 2:
                return bool(param(cell, f"{half}_8x8_MULT_REG"))
            return False

        used = {"TOP": False, "BOT": False}
        for i, b in enumerate(cell["connections"]["O"]):
            if not isinstance(b, str) and readers.get(b):
                half = "TOP" if i >= 16 else "BOT"
                used[half] = True
                if not registered(half):
                    for reader, port in readers[b]:
                        if not (is_ff(reader) and port == "D"):
                            fail(f"DSP block {name}: output O[{i}] has no register in the block and drives {reader}.{port}, "
                                 "not a flip-flop: a path through its multiplier would not be timed by nextpnr-ice40")
        comb = [h for h in ("TOP", "BOT") if used[h] and not registered(h)]
        if inputs_registered and not comb:
            continue  # register to register inside the block: the block's own pipelined mode
        untimed += 1
        start = 0.0
        if inputs_registered:
            start = CLOCK_TO_Q_NS
        else:
            for port in open_inputs:
                for i, b in enumerate(cell["connections"][port]):
                    if isinstance(b, str):
                        continue
                    source = driver.get(b)
                    if source is None or not is_ff(source[0]) or source[1] != "Q":
                        fail(f"DSP block {name}: input {port}[{i}] has no register in the block and is not driven by a "
                             "flip-flop: a path through its multiplier would not be timed by nextpnr-ice40")
                if (name, port) not in into:
                    fail(f"{sys.argv[2]}: no routes into DSP block {name} (a report of another netlist?)", 2)
            start = CLOCK_TO_Q_NS + max(into[(name, port)] for port in open_inputs)
        for h in comb:
            if (name, h) not in out_of:
                fail(f"{sys.argv[2]}: no routes out of DSP block {name} (a report of another netlist?)", 2)
        end = max(out_of[(name, h)] for h in comb) + SETUP_NS if comb else 0.0
        worst = max(worst, start + MULTIPLIER_NS + end)
    result = {"dsp_blocks": len(dsps), "paths_through_multipliers": untimed, "bound_ns": round(worst, 2), "period_ns": period}
    print(json.dumps(result))
    if worst > period:
        fail(f"a path through a DSP block's multiplier may take {worst:.2f} ns, more than the clock's {period:.2f} ns")


if __name__ == "__main__":
    main()
