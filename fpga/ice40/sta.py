#!/usr/bin/env python3
"""The routed iCE40 design timed again with icestorm's timing model, DSP blocks included (docs/fpga.md).

usage: sta.py ROUTES.json PERIOD_NS [--report REPORT.md]

nextpnr-ice40 (0.4) treats every SB_MAC16 port as a register's input or output, whatever the block's parameters,
with 0.1 ns from the clock to an output. So a path through a block's multiplier with no register in it is cut in
two and the multiplier never counted, and a path out of a block's output register starts 0.1 ns after the clock,
where icestorm's timing model (fpga-icestorm-chipdb: timings_up5k.txt for the UP5K, from which nextpnr's logic-cell
delays come too) puts it up to about 2 ns after; nextpnr also takes 0.1 ns for a block RAM's write-enable setup,
where the model has up to 0.5. This script times every register-to-register path of the design again: the routes as
nextpnr measured them (ROUTES.json, written in the same run by the post-route script fpga/ice40/net_delays.py), the
logic cells, block RAMs, SPRAMs and global buffers as the model of the design's device gives them, and the DSP
blocks as the model's worst over every mode of their kind: per output bit from the clock where the bit is read from
a register, the multiplier (about 9 ns) from its pins or input registers where it is not, the model's setup into
input registers. Prints one line of JSON: the design's worst path (critical_path_ns; critical_path: the pin it starts
from, the pin it ends at and its cells), the worst of those that start or end in a DSP block (dsp_paths_ns, 0
without DSP blocks), how many paths end beyond 90 % of the period (near_critical, of endpoints) and the worst paths
grouped by the registers they run between (worst_groups: from, to, endpoints, worst ns; a register is named by the
signal its flip-flops drive, a block RAM or DSP block by its cell). --report writes the same as markdown, with the
worst path pin by pin (route and cell delays, arrival) and the endpoints by path length. Exits 1 if the worst path
exceeds PERIOD_NS, 2 on unreadable input or an unwritable report. FAQ_ICE40_TIMINGS names another model file.
"""
import json
import os
import re
import sys

MODELS = "/usr/share/fpga-icestorm/chipdb"
# a logic cell's ports in nextpnr and in the timing model
LC_PIN = {"I0": "in0", "I1": "in1", "I2": "in2", "I3": "in3", "CIN": "carryin", "CEN": "ce", "SR": "sr"}
LC_OUT = {"O": "lcout", "LO": "ltout", "COUT": "carryout"}
MODEL_CELL = {"ICESTORM_RAM": "SB_RAM40_4K", "ICESTORM_SPRAM": "SB_SPRAM256KA", "SB_GB": "ICE_GB"}
CLOCK_PINS = {"CLK", "RCLK", "WCLK", "CLOCK"}
NONE = float("-inf")  # no synchronous path: a pin, a constant, a clock


def fail(message, code=1):
    sys.stdout.flush()  # the JSON line first, then the error
    print(f"sta: {message}", file=sys.stderr)
    sys.exit(code)


def load_model(path):
    """icestorm's timing model: per cell, the worst (max corner, either edge) delay of each arc and setup, in ns."""
    model, cell = {}, None
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        fail(f"cannot read the iCE40 timing model {path} (Debian fpga-icestorm-chipdb): {e}", 2)
    # "min:typ:max" in ps, "*" where the model has none
    worst = lambda fields: max((float(v.split(":")[2]) for v in fields if not v.startswith("*")), default=0.0) / 1000.0
    for line in lines:
        f = line.split()
        if not f:
            continue
        if f[0] == "CELL":
            cell = model.setdefault(f[1], {"arc": {}, "setup": {}})
        elif f[0] == "IOPATH" and cell is not None:
            key = (f[1].split(":")[-1], re.sub(r"\[\d+\]$", "", f[2]) if not f[2].startswith("O[") else f[2])
            cell["arc"][key] = max(cell["arc"].get(key, 0.0), worst(f[3:5]))
        elif f[0] == "SETUP" and cell is not None:
            pin = re.sub(r"\[\d+\]$", "", f[1].split(":")[-1])
            cell["setup"][pin] = max(cell["setup"].get(pin, 0.0), worst(f[3:4]))
    for needed in ("LogicCell40", "SB_RAM40_4K", "ICE_GB"):
        if needed not in model:
            fail(f"{path}: no {needed} in the timing model", 2)
    return model


def load_routes(path, fail):
    """fpga/ice40/net_delays.py's routed design: its cells, nets and chip, and the net each driving pin drives"""
    try:
        routes = json.load(open(path))
        cells, nets, chip = routes["cells"], routes["nets"], routes["chip"]
        driven = {}
        for net in nets:
            driven.setdefault(tuple(net["driver"]), net["net"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"cannot read the input ({path}: fpga/ice40/net_delays.py's): {e}", 2)
    return cells, nets, chip, driven


def main():
    args = sys.argv[1:]
    report = None
    if len(args) == 4 and args[2] == "--report":
        report = args[3]
    elif len(args) != 2:
        fail("usage: sta.py ROUTES.json PERIOD_NS [--report REPORT.md]", 2)
    try:
        period = float(args[1])
    except ValueError as e:
        fail(f"cannot read the input ({args[0]}: fpga/ice40/net_delays.py's): {e}", 2)
    cells, nets, chip, driven = load_routes(args[0], fail)
    device = re.fullmatch(r"Lattice iCE40([A-Z]+\d+K?)", chip)
    if device is None:
        fail(f"{sys.argv[1]}: chip '{chip}' is not an iCE40 with a timing model", 2)
    model = load_model(os.environ.get("FAQ_ICE40_TIMINGS", f"{MODELS}/timings_{device.group(1).lower()}.txt"))
    dsps = {n for n, c in cells.items() if c["type"] == "ICESTORM_DSP"}
    lc = model["LogicCell40"]
    # a DSP block's timing: the worst over the model's modes of its kind (8 x 8 or not, MODE_8x8): per output bit
    # from the clock, from a pin to an output (the multiplier), into an input register
    mac = {}
    for small in (0, 1):
        kinds = {k: v for k, v in model.items() if k.startswith("SB_MAC16") and ("8X8" in k) == bool(small)}
        clk_to_o, comb = {}, 0.0
        for m in kinds.values():
            for (src, dst), d in m["arc"].items():
                if dst.startswith("O["):
                    if src == "CLK":
                        clk_to_o[int(dst[2:-1])] = max(clk_to_o.get(int(dst[2:-1]), 0.0), d)
                    else:
                        comb = max(comb, d)
        setups = [m["setup"] for k, m in kinds.items() if k.endswith("ALL_PIPELINE")]
        mac[small] = {"clk_to_o": clk_to_o, "comb": comb, "setups": setups,
                      "reg": max(clk_to_o.values(), default=0.0)}  # an input register's output into the multiplier: the worst

    readers, source = {}, {}
    for net in nets:
        driver = tuple(net["driver"])
        for cell, port, ns in net["users"]:
            if cell not in cells or driver[0] not in cells:
                fail(f"{sys.argv[1]}: net {net.get('net')} names a cell that is not in the design", 2)
            if port in CLOCK_PINS:
                continue
            readers.setdefault(driver, []).append((cell, port, ns))
            source[(cell, port)] = (driver, ns)
    base = lambda port: re.sub(r"_\d+$", "", port)
    # each DSP block's driven input pins and read outputs, gathered once
    dsp_in = {name: [p for (n, p) in source if n == name] for name in dsps}
    dsp_out = {name: [p for (n, p) in readers if n == name] for name in dsps}
    param = lambda name, key: int(cells[name]["params"].get(key, "0") or "0", 2)
    is_ff = lambda name: cells[name]["type"] == "ICESTORM_LC" and param(name, "DFF_ENABLE")
    block = lambda name: mac[1 if param(name, "MODE_8x8") else 0]

    def reg_setup(name, port):
        """a block's input register, or its output register at the end of the multiplier (port None)"""
        found = [m[base(port)] for m in block(name)["setups"] if port and base(port) in m]
        return max(found) if found else max(d for m in block(name)["setups"] for d in m.values())

    def registered_out(name, port):
        m = re.fullmatch(r"O_(\d+)", port)
        if m is None:
            return False
        half = "TOP" if int(m.group(1)) >= 16 else "BOT"
        select = param(name, f"{half}OUTPUT_SELECT")
        if select == 1:
            return True  # the accumulator register
        if select == 3:
            return bool(param(name, "PIPELINE_16x16_MULT_REG1") or param(name, "PIPELINE_16x16_MULT_REG2"))
        return select == 2 and bool(param(name, f"{half}_8x8_MULT_REG"))

    def open_pin(name, port):
        """an operand (A, B) or addend (C, D) pin that reaches the block's logic without its own register"""
        return base(port) in ("A", "B", "C", "D") and not param(name, f"{base(port)}_REG")

    def setup(name, port):
        kind = cells[name]["type"]
        if kind == "ICESTORM_LC":  # through the LUT into the flip-flop, or its enable and reset
            if not is_ff(name) or port in ("I0", "I1", "I2", "I3") and not depends(name, "O", port):
                return None
            return lc["setup"].get(LC_PIN.get(port))
        if kind == "ICESTORM_DSP":
            if open_pin(name, port):
                return None  # through the multiplier: the block's outputs
            return reg_setup(name, port)
        if kind in MODEL_CELL and kind != "SB_GB":
            return model[MODEL_CELL[kind]]["setup"].get(base(port))  # none for a pin the model does not time
        return None  # a package pin's, asynchronous

    def depends(name, out, pin):
        """whether a logic cell's output can change with that input: its LUT's function, its carry's use"""
        if out == "COUT":
            return bool(param(name, "CARRY_ENABLE")) and pin in ("I1", "I2", "CIN")
        if pin not in ("I0", "I1", "I2", "I3"):
            return False
        init, k = param(name, "LUT_INIT"), int(pin[1])
        return any((init >> x & 1) != (init >> (x ^ 1 << k) & 1) for x in range(16))

    memo, came = {}, {}  # came[node]: the input pin the latest arrival at a cell's output came through
    sys.setrecursionlimit(1000000)

    def arrival(node):
        """(the latest time an output settles after the clock, the latest over paths that start in a DSP block)"""
        if node in memo:
            return memo[node]
        memo[node] = (NONE, NONE)  # a loop would read this
        name, port = node
        kind = cells[name]["type"]
        if kind == "ICESTORM_LC":
            if port == "O" and is_ff(name):
                t = (lc["arc"][("clk", "lcout")], NONE)
            else:
                t = (NONE, NONE)
                for pin, model_pin in LC_PIN.items():
                    arc = lc["arc"].get((model_pin, LC_OUT.get(port)))
                    if arc is not None and depends(name, port, pin):
                        a = pin_arrival(name, pin)
                        if a[0] + arc > t[0]:
                            came[node] = pin
                        t = (max(t[0], a[0] + arc), max(t[1], a[1] + arc))
        elif kind == "ICESTORM_DSP":
            if registered_out(name, port):
                t = (block(name)["clk_to_o"][int(port[2:])],) * 2
            else:  # the multiplier, from its open pins or its input registers
                pins = [p for p in dsp_in[name] if base(p) in ("A", "B", "C", "D")]
                times = {p: pin_arrival(name, p)[0] if open_pin(name, p) else block(name)["reg"] for p in pins}
                latest = max(times.values(), default=NONE)
                if times and open_pin(name, max(times, key=times.get)):
                    came[node] = max(times, key=times.get)
                t = (latest + block(name)["comb"],) * 2
        elif kind == "SB_GB":
            came[node] = "USER_SIGNAL_TO_GLOBAL_BUFFER"
            a = pin_arrival(name, "USER_SIGNAL_TO_GLOBAL_BUFFER")
            d = max(model["ICE_GB"]["arc"].values())
            t = (a[0] + d, a[1] + d)
        elif kind in MODEL_CELL:
            t = (max(model[MODEL_CELL[kind]]["arc"].values()), NONE)  # a block RAM's or an SPRAM's read register
        else:
            t = (NONE, NONE)  # a package pin, a PLL, a constant
        memo[node] = t
        return t

    def pin_arrival(name, port):
        if (name, port) not in source:
            return (NONE, NONE)
        driver, ns = source[(name, port)]
        a = arrival(driver)
        return (a[0] + ns, a[1] + ns)

    critical, dsp_worst, end, ends = NONE, NONE, None, []
    for (name, port) in source:
        s = setup(name, port)
        if s is None:
            continue
        a = pin_arrival(name, port)
        if a[0] > NONE:
            ends.append((a[0] + s, name, port))
        if a[0] + s > critical:
            critical, end = a[0] + s, (name, port)
        dsp_worst = max(dsp_worst, (a[0] if name in dsps else a[1]) + s)
    # into a block's output register through its multiplier
    for name in dsps:
        outs = [p for p in dsp_out[name] if registered_out(name, p)]
        pins = [p for p in dsp_in[name] if open_pin(name, p)]
        if outs and pins:
            latest = max(pins, key=lambda p: pin_arrival(name, p)[0])
            t = pin_arrival(name, latest)[0] + block(name)["comb"] + reg_setup(name, None)
            ends.append((t, name, latest))
            if t > critical:
                critical, end = t, (name, latest)
            dsp_worst = max(dsp_worst, t)
    def trace(pin):
        """a path's pins from the one it ends at back to the output it starts from"""
        pins = []
        while pin is not None and pin in source and len(pins) < 10000:
            pins.append(pin)
            driver = source[pin][0]
            pin = (driver[0], came[driver]) if driver in came else None
            if pin is None:
                pins.append(driver)
        return pins

    def register(cell, port=None):
        """a flip-flop by the signal it drives (a path's start: the output given), a block by its cell"""
        name = driven.get((cell, port or "O")) if cells[cell]["type"] == "ICESTORM_LC" else cell
        name = re.sub(r"\[\d+\]$", "", name or cell)
        # a flip-flop with no name of its own, which Yosys names after the logic it feeds: that logic's signal and *
        return name.split("_SB_")[0] + ("*" if "_SB_" in name and cells[cell]["type"] == "ICESTORM_LC" else "")

    path = trace(end)
    groups = {}
    for t, name, port in ends:
        pins = trace((name, port))
        key = (register(*pins[-1]) if pins else name, register(name))
        count, worst = groups.get(key, (0, NONE))
        groups[key] = (count + 1, max(worst, t))
    worst_groups = sorted(groups.items(), key=lambda g: -g[1][1])
    result = {"chip": chip, "dsp_blocks": len(dsps), "critical_path_ns": round(critical, 2),
              "dsp_paths_ns": round(max(dsp_worst, 0.0), 2), "period_ns": period,
              "critical_path": {"from": ".".join(path[-1]) if path else None, "to": ".".join(path[0]) if path else None,
                                "cells": len({p[0] for p in path})},
              "endpoints": len(ends), "near_critical": sum(t > 0.9 * period for t, _, _ in ends),
              "worst_groups": [[a, b, n, round(w, 2)] for (a, b), (n, w) in worst_groups[:10]]}
    print(json.dumps(result))
    if report:
        write_report(report, args[0], result, [(p, pin_arrival(*p)[0] if p in source else arrival(p)[0],
                                                source[p][1] if p in source else None) for p in reversed(path)],
                     worst_groups, sorted(t for t, _, _ in ends))
    if critical > period:
        fail(f"the worst path takes {critical:.2f} ns in icestorm's timing model, DSP blocks timed, more than the "
             f"clock's {period:.2f} ns")


def write_report(path, routes, result, pins, groups, times):
    """the timing as markdown: the worst path pin by pin, the paths by register pair, the endpoints by length"""
    period = result["period_ns"]
    lines = [f"# Timing of `{routes}` ({result['chip']}, icestorm's model, DSP blocks timed: fpga/ice40/sta.py)", "",
             f"Clock period {period:.2f} ns ({1000 / period:.2f} MHz). Worst path **{result['critical_path_ns']} ns** "
             f"({1000 / result['critical_path_ns']:.2f} MHz) over {result['critical_path']['cells']} cells; "
             f"{result['endpoints']} timed endpoints, {result['near_critical']} of them beyond 90 % of the period.", "",
             "## The worst path, pin by pin", "",
             "| pin | through the cell above (ns) | route (ns) | arrival (ns) |", "|---|---:|---:|---:|"]
    before = None
    for (cell, port), at, route in pins:
        cell_ns = "" if before is None or route is None else f"{max(at - route - before, 0.0):.2f}"
        lines.append(f"| `{cell}.{port}` | {cell_ns} | {'' if route is None else f'{route:.2f}'} | {at:.2f} |")
        before = at
    if before is not None:
        lines.append(f"| setup | {max(result['critical_path_ns'] - before, 0.0):.2f} | | {result['critical_path_ns']:.2f} |")
    lines += ["", "## The worst paths by the registers they run between", "",
              "A register is named by the signal its flip-flops drive (`*`: a flip-flop Yosys named after the logic it "
              "feeds), a block RAM, SPRAM or DSP block by its cell.", "",
              "| from | to | endpoints | worst (ns) |", "|---|---|---:|---:|"]
    for (a, b), (n, w) in groups[:25]:
        lines.append(f"| `{a}` | `{b}` | {n} | {w:.2f} |")
    lines += ["", "## Endpoints by the length of their worst path", "", "| path, share of the period | endpoints |",
              "|---|---:|"]
    edges = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    for lo, hi in zip([0.0] + edges, edges + [float("inf")]):
        n = sum(lo * period < t <= hi * period for t in times)
        label = f"over {lo:.0%}" if hi == float("inf") else f"up to {hi:.0%}" if lo == 0 else f"{lo:.0%} to {hi:.0%}"
        lines.append(f"| {label} | {n} |")
    try:
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as e:
        fail(f"cannot write the report {path}: {e}", 2)


if __name__ == "__main__":
    main()
