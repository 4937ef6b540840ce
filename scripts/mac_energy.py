#!/usr/bin/env python3
"""Energy per MAC from the synthesized netlists (issue 6): the systolic array (faq_array, rows = cols = SIZE) is
generated at each precision, mapped onto the OSU 0.18 um cells (Yosys, as scripts/synth_sweep.py), simulated at
gate level in Icarus with the library's cell models (sim/gate/tb_array_energy.v) on streamed operands, and every
net's toggle rate and duty cycle from that simulation are given to OpenSTA's `report_power` (on every cell pin and
input port), which prices them with the library's internal-power tables and the pin
capacitances it drives (1.8 V; no wire-load model in the library, so wire capacitance is not counted; zero-delay
simulation, so glitches are not counted). Energy per MAC = power x clock period / (rows x cols): every PE does one
MAC per cycle in the cycles measured.

Operands (seeded), streamed a line every cycle, each weight tile used for BLOCK lines while the other bank is
reloaded with the next (R weight shifts per block): random ones (weights uniform over the contract's symmetric
range, activations uniform over [0, 2^a - 1], unsigned as after ReLU) at every precision; and, where one of the
trained models (--models, default models/*.faq) has that precision, its own convolutions' weight tiles and
test-vector activations (ModelOperands), which switch less than random ones.

For the energy model (docs/energy.md: Horowitz's 45 nm energies), the netlist energies are anchored at its W8A8
MAC (an 8x8 multiply and an add at the W8A8 array's accumulator width): energy(w, a) = model(8, 8) x
netlist(w, a) / netlist(8, 8), i.e. the netlists give the ratios between precisions, Horowitz the scale. Written to
docs/mac_energy.json (the random operands' energies, which cover every precision; the trained ones beside them),
which `faqc compile|run --mac-energy` reads, to the generated section of docs/scaling.md and to
docs/scaling_mac_energy.svg and .png (energy per MAC vs bits); a run with any other measurement option writes
WORK/mac_energy.json (or --out) and leaves the documents alone.
Usage: scripts/mac_energy.py [--size N] [--lines N] [--block N] [--seed N] [--precisions W:A,...] [--operands random|zero]
                             [--models FAQ ...] [--out FILE] [--work DIR] [--no-doc]   (about 3.5 minutes for the defaults)"""
import argparse, array, json, os, pathlib, random, re, struct, subprocess, sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from synthlib import LIB, MAP, ROOT, acc_bits, line_plot, sweep_config, write_generated  # noqa: E402

CELLS = pathlib.Path(LIB).with_suffix(".v")
PERIOD_NS = 10.0


def bad_input(message):
    """A one-line error for bad input (arguments, a model file): exit 2; failures of the tools exit 1."""
    print(f"mac_energy.py: {message}", file=sys.stderr)
    sys.exit(2)


def model_mac_pj(w, a):
    """The energy model's MAC (sim/src/energy.cpp): multiply(a, w) + add(acc_bits), Horowitz 45 nm."""
    return 0.2 * a * w / 64.0 + 0.1 * acc_bits(w, a) / 32.0


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"mac_energy.py: {' '.join(map(str, cmd[:2]))} failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r.stdout


def map_array(rtl, work):
    """The flattened array mapped onto the cells, every internal net single-bit and simply named (for the VCD and
    for OpenSTA), as Verilog and JSON."""
    run(["yosys", "-q", "-p", f"read_liberty -lib {LIB}; read_verilog {rtl / 'faq_pe.v'} {rtl / 'faq_array.v'}; "
         f"{MAP.format(top='faq_array')}; rename -hide w:*; splitnets; opt_clean -purge; rename -enumerate; "
         f"tee -q -o {work / 'stat.txt'} stat -liberty {LIB}; write_verilog -noattr {work / 'gate.v'}; write_json {work / 'gate.json'}"])
    # OpenSTA's reader takes no concatenations: the only assigns left alias output bits (sign extension), which
    # drive nothing inside the array, so its copy of the netlist goes without them
    lines = (work / "gate.v").read_text().splitlines()
    module = json.loads((work / "gate.json").read_text())["modules"]["faq_array"]
    outputs = {n for n, p in module["ports"].items() if p["direction"] == "output"}
    for line in lines:
        if line.strip().startswith("assign"):
            targets = re.findall(r"([A-Za-z_][\w$]*)\s*\[", line.split("=")[0]) or re.findall(r"assign\s+([\w$]+)", line)
            if not targets or any(t not in outputs for t in targets):
                raise SystemExit(f"mac_energy.py: {work / 'gate.v'}: an assign to an internal net: {line.strip()[:120]}")
    (work / "gate_sta.v").write_text("\n".join(l for l in lines if not l.strip().startswith("assign")) + "\n")
    return module


class RandomOperands:
    """Weights uniform over the contract's symmetric range, activations uniform over [0, 2^a - 1] (ReLU outputs);
    zero: every operand 0 (nothing but the clock and the bank controls switch)."""
    def __init__(self, w, a, R, C, seed, zero=False):
        self.rng, self.w, self.a, self.R, self.C, self.zero = random.Random(seed), w, a, R, C, zero

    def _int(self, lo, hi):
        return 0 if self.zero else self.rng.randint(lo, hi)

    def tile(self, block):  # R rows of C weights
        wmax = (1 << (self.w - 1)) - 1
        return [[self._int(-wmax, wmax) for _ in range(self.C)] for _ in range(self.R)]

    def lines(self, block, count):  # count lines of R activations
        return [[self._int(0, (1 << self.a) - 1) for _ in range(self.R)] for _ in range(count)]


def read_faq(path):
    """(graph, tensor(name) -> (shape, values)) of a .faq model (a safetensors file, docs/faq-format.md)."""
    data = pathlib.Path(path).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    def tensor(name):
        entry = header[name]
        begin, end = entry["data_offsets"]
        values = array.array({"I8": "b", "U8": "B", "I16": "h", "U16": "H", "I32": "i", "F32": "f"}[entry["dtype"]],
                             data[8 + n + begin:8 + n + end])
        if sys.byteorder == "big":
            values.byteswap()
        return entry["shape"], values
    return json.loads(header["__metadata__"]["faq"]), tensor


class ModelOperands:
    """The operands a trained network gives the array: each block of lines is one weight tile (R reduction indices x
    C output channels) of one of the model's convolutions with w-bit weights and a-bit inputs (chosen in proportion
    to its MACs), and the activation lines are that layer's im2col inputs for consecutive output pixels of a test
    vector (the layer input's expected values in the .faq), as the array would stream them."""
    def __init__(self, path, w, a, R, C, seed):
        graph, tensor = read_faq(path)
        layers = {l["name"]: l for l in graph["layers"]}
        self.R, self.C, self.rng, self.vectors, self.choice = R, C, random.Random(seed), graph.get("test_vectors", 0), {}
        self.convs = []
        for l in graph["layers"]:
            if l["op"] == "conv2d" and l["groups"] == 1 and l["weight_bits"] == w and layers[l["inputs"][0]]["bits"] == a:
                (O, I, kh, kw), weights = tensor(f"{l['name']}.weight")
                ins = [tensor(f"test.{t}.{l['inputs'][0]}") for t in range(self.vectors)]
                macs = O * I * kh * kw * l["shape"][1] * l["shape"][2]
                self.convs.append(dict(layer=l, O=O, I=I, kh=kh, kw=kw, weights=weights, inputs=ins, macs=macs))
        if not self.convs or self.vectors == 0:
            raise ValueError(f"{path}: no convolution with W{w}A{a} operands and test vectors")
        self.name = pathlib.Path(path).name

    def _block(self, block):
        if block not in self.choice:
            conv = self.rng.choices(self.convs, weights=[c["macs"] for c in self.convs])[0]
            K = conv["I"] * conv["kh"] * conv["kw"]
            self.choice[block] = (conv, self.R * self.rng.randrange(-(-K // self.R)), self.C * self.rng.randrange(-(-conv["O"] // self.C)),
                                  self.rng.randrange(conv["layer"]["shape"][1] * conv["layer"]["shape"][2]), self.rng.randrange(self.vectors))
        return self.choice[block]

    def _reduction(self, conv, j):  # (input channel, ky, kx) of reduction index j, None past the end
        kk = conv["kh"] * conv["kw"]
        return None if j >= conv["I"] * kk else (j // kk, (j // conv["kw"]) % conv["kh"], j % conv["kw"])

    def tile(self, block):
        conv, j0, o0, _, _ = self._block(block)
        rows = []
        for r in range(self.R):
            at = self._reduction(conv, j0 + r)
            rows.append([0 if at is None or o0 + c >= conv["O"] else
                         conv["weights"][(((o0 + c) * conv["I"] + at[0]) * conv["kh"] + at[1]) * conv["kw"] + at[2]] for c in range(self.C)])
        return rows

    def lines(self, block, count):
        conv, j0, _, p0, vector = self._block(block)
        l = conv["layer"]
        (_, H, W), x = conv["inputs"][vector]
        Ho, Wo = l["shape"][1], l["shape"][2]
        out = []
        for i in range(count):
            y, xo = divmod((p0 + i) % (Ho * Wo), Wo)
            line = []
            for r in range(self.R):
                at = self._reduction(conv, j0 + r)
                iy = None if at is None else y * l["stride"][0] + at[1] - l["padding"][0]
                ix = None if at is None else xo * l["stride"][1] + at[2] - l["padding"][1]
                line.append(x[(at[0] * H + iy) * W + ix] if at is not None and 0 <= iy < H and 0 <= ix < W else 0)
            out.append(line)
        return out


def stimulus(path, R, C, w, aw, lines, block, operands):
    """One hex line per cycle, {w_bank, w_shift, w_line, a_bank, a_valid, a_line}: both banks preloaded, then a line
    of activations every cycle, block after block, each block on its weight tile in alternate banks; during a block
    the other bank is reloaded with the next block's tile (R weight shifts), after the lines of its last use have
    left the array. Returns the cycle from which the activity is measured (the second block's first) and the lines."""
    def word(w_bank, w_shift, wl, a_bank, a_valid, al):
        v = 0
        for x in (w_bank, w_shift):
            v = (v << 1) | x
        for x in reversed(wl):
            v = (v << w) | (x & ((1 << w) - 1))
        for x in (a_bank, a_valid):
            v = (v << 1) | x
        for x in reversed(al):
            v = (v << aw) | (x & ((1 << aw) - 1))
        return v
    tiles = {}
    def tile(b):
        if b not in tiles:
            tiles[b] = operands.tile(b)
        return tiles[b]
    # a tile shifts in from the top, its last row first
    rows = [word(b, 1, tile(b)[R - 1 - r], 0, 0, [0] * R) for b in (0, 1) for r in range(R)]
    drained = 2 * R + C  # lines of the previous block are out of the array by then
    for b in range((block + lines) // block):
        acts, nxt = operands.lines(b, block), tile(b + 1)
        for k in range(block):
            reload = drained <= k < drained + R
            rows.append(word(1 - b % 2, int(reload), nxt[R - 1 - (k - drained)] if reload else [0] * C, b % 2, 1, acts[k]))
    width = 4 + C * w + R * aw
    path.write_text("\n".join(f"{v:0{(width + 3) // 4}x}" for v in rows) + "\n")
    return 2 * R + block, rows


def vcd_activity(path):
    """({(name, bit): (toggles, time high)}, window) from $dumpvars to $dumpoff: the window in the dump's time unit."""
    ids, state = {}, {}
    t0 = t = None
    toggles, high, last = {}, {}, {}
    with open(path) as f:
        header = True
        for line in f:
            if header:
                if line.startswith("$var"):
                    p = line.split()
                    width, ident, name = int(p[2]), p[3], p[4]
                    lsb = int(re.match(r"\[(\d+):(\d+)\]", p[5]).group(2)) if len(p) > 6 and p[5].startswith("[") else 0
                    ids.setdefault(ident, []).append((name, width, lsb))
                elif line.startswith("$enddefinitions"):
                    header = False
                continue
            if line.startswith("#"):
                t = int(line[1:])
                if t0 is None:
                    t0 = t
                continue
            if line.startswith("$dumpoff"):
                break
            if line.startswith("$"):
                continue
            if line[0] in "01xz":
                value, ident = line[0], line[1:].strip()
            elif line[0] == "b":
                value, ident = line[1:].split()
            else:
                continue
            for name, width, lsb in ids.get(ident, []):
                value = value.rjust(width, "0" if value[0] in "01" else value[0])
                for i in range(width):
                    key = (name, lsb + i)
                    v = value[width - 1 - i]
                    old = state.get(key)
                    if old == v:
                        continue
                    if old == "1":
                        high[key] = high.get(key, 0) + t - last[key]
                    if old in ("0", "1") and v in ("0", "1"):
                        toggles[key] = toggles.get(key, 0) + 1
                    state[key], last[key] = v, t
    for key, v in state.items():
        if v == "1":
            high[key] = high.get(key, 0) + t - last[key]
    return {k: (toggles.get(k, 0), high.get(k, 0)) for k in state}, t - t0


def synthesize_array(w, a, size, work):
    """The array of this precision generated and mapped: (module JSON, port widths)."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = sweep_config(f"energy_w{w}a{a}_{size}x{size}", size, w, a)
    (work / "config.json").write_text(json.dumps(cfg))
    hwgen = os.environ.get("FAQ_HWGEN", str(ROOT / "build/hw/faq-hwgen"))
    run([hwgen, "--config", str(work / "config.json"), "-o", str(work / "rtl")])
    module = map_array(work / "rtl", work)
    ports = {n: len(p["bits"]) for n, p in module["ports"].items()}
    if ports["w_line"] != size * w:
        raise SystemExit(f"mac_energy.py: {work}: w_line is {ports['w_line']} bits, expected {size} x {w}")
    return module, ports


def measure(w, a, size, lines, block, work, operands, module, ports, run_dir):
    """Energy per MAC of the mapped array (synthesize_array's, in `work`) streaming `operands`; the simulation and
    OpenSTA's files in run_dir."""
    R = C = size
    aw, wb = ports["a_line"] // R, w
    run_dir.mkdir(parents=True, exist_ok=True)
    frm, played = stimulus(run_dir / "stimulus.hex", R, C, w, aw, lines, block, operands)
    n = frm + lines
    params = [f"-Ptb_array_energy.{k}={v}" for k, v in dict(R=R, C=C, AW=aw, WB=wb, OUT=ports["out_line"], N=n, FROM=frm).items()]
    run(["iverilog", "-g2012", *params, "-o", str(run_dir / "tb.vvp"), str(ROOT / "sim/gate/tb_array_energy.v"), str(work / "gate.v"), str(CELLS)])
    run(["vvp", "-n", str(run_dir / "tb.vvp"), f"+stimulus={run_dir / 'stimulus.hex'}", f"+vcd={run_dir / 'activity.vcd'}"])
    activity, window = vcd_activity(run_dir / "activity.vcd")
    (run_dir / "activity.vcd").unlink()
    cycles = window / (PERIOD_NS * 1000)  # the VCD is in ps
    if abs(cycles - lines) > 1e-6:
        raise SystemExit(f"mac_energy.py: {run_dir / 'activity.vcd'}: {cycles} cycles dumped, expected {lines}")
    # the dump's account of the inputs must be the stimulus's own: the toggles of each input bit over the lines
    # measured (a check of the VCD reading and of the window)
    offset = 0
    for name in ("a_line", "a_valid", "a_bank", "w_line", "w_shift", "w_bank"):
        for i in range(ports[name]):
            bit = offset + i
            expected = sum(((played[k] >> bit) & 1) != ((played[k - 1] >> bit) & 1) for k in range(frm + 1, n))
            key = (name, i if ports[name] > 1 else 0)
            if activity.get(key, (0, 0))[0] != expected:
                raise SystemExit(f"mac_energy.py: {run_dir / 'activity.vcd'}: input {name}[{i}] toggles {activity.get(key, (0, 0))[0]} "
                                 f"times in the dump, {expected} in the stimulus")
        offset += ports[name]
    # each bit's name as dumped: single-bit nets by name, port bits by (port, index)
    bitname = {}
    for name, net in module["netnames"].items():
        for i, bit in enumerate(net["bits"]):
            if isinstance(bit, int) and (name, i if len(net["bits"]) > 1 else 0) in activity:
                bitname.setdefault(bit, (name, i if len(net["bits"]) > 1 else 0))
    tcl = [f"read_liberty {LIB}", f"read_verilog {work / 'gate_sta.v'}", "link_design faq_array",
           f"create_clock -name clk -period {PERIOD_NS} [get_ports clk]"]
    def rate(bit):  # (toggles per cycle, duty) of a net bit; constants do not switch
        if isinstance(bit, str):
            return 0.0, float(bit == "1")
        toggles, high = activity[bitname[bit]]
        return toggles / lines, high / window
    clock = module["ports"]["clk"]["bits"][0]
    for name, p in module["ports"].items():
        if p["direction"] == "input" and name != "clk":
            for i, bit in enumerate(p["bits"]):
                act, duty = rate(bit)
                tcl.append(f"set_power_activity -input_ports [get_ports {{{name}[{i}]}}] -activity {act:.6g} -duty {duty:.6g}"
                           if len(p["bits"]) > 1 else f"set_power_activity -input_ports [get_ports {name}] -activity {act:.6g} -duty {duty:.6g}")
    # every cell pin, inputs and outputs: OpenSTA prices a cell's internal energy from its input pins' activity and
    # the switching of a net from its driver's (its set_power_activity -pins is broken in this version, and a
    # global activity would override the pins': the pin command is called directly, and no global is set)
    missing = [f"{cname}/{pin}" for cname, cell in module["cells"].items() for pin, bits in cell["connections"].items()
               if isinstance(bits[0], int) and bits[0] not in bitname]
    if missing:
        raise SystemExit(f"mac_energy.py: {work}: {len(missing)} cell pins (e.g. {missing[0]}) have no activity in the simulation")
    for cname, cell in module["cells"].items():
        for pin, bits in cell["connections"].items():
            if bits[0] != clock:
                act, duty = rate(bits[0])
                tcl.append(f"sta::set_power_pin_activity [get_pins {{{cname}/{pin}}}] {act:.6g} {duty:.6g}")
    tcl += ["report_power -digits 6", "exit"]
    (run_dir / "power.tcl").write_text("\n".join(tcl) + "\n")
    report = run(["sta", "-no_init", "-exit", str(run_dir / "power.tcl")])
    (run_dir / "power.txt").write_text(report)
    if "Error" in report:
        raise SystemExit(f"mac_energy.py: OpenSTA: {next(l for l in report.splitlines() if 'Error' in l)} (see {run_dir / 'power.txt'})")
    groups = {}
    for line in report.splitlines():
        m = re.match(r"^(Sequential|Combinational|Total)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", line)
        if m:
            groups[m[1]] = [float(x) for x in m.groups()[1:]]
    pj = lambda watts: watts * PERIOD_NS * 1e-9 * 1e12 / (R * C)  # per MAC
    internal, switching, leakage, total = groups["Total"]
    area = float(re.search(r"Chip area for module '\\?faq_array': ([0-9.]+)", (work / "stat.txt").read_text())[1])
    return {"weight_bits": w, "act_bits": a, "acc_bits": acc_bits(w, a), "rows": R, "cols": C, "area_um2": area,
            "cells": len(module["cells"]), "cycles": lines,
            "pj_per_mac_018": pj(total), "internal_pj": pj(internal), "switching_pj": pj(switching), "leakage_pj": pj(leakage),
            "sequential_pj": pj(sum(groups["Sequential"][:3])), "combinational_pj": pj(sum(groups["Combinational"][:3]))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--lines", type=int, default=2048)
    ap.add_argument("--block", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--precisions", default="2:2,4:4,8:8,16:16,4:8,8:4")
    ap.add_argument("--out", default=str(ROOT / "docs/mac_energy.json"))
    ap.add_argument("--work", default=str(ROOT / "out/mac_energy"))
    ap.add_argument("--operands", choices=["random", "zero"], default="random",
                    help="zero: every operand 0, so that only the clock switches (a check of the activity's plumbing)")
    ap.add_argument("--models", nargs="*", default=sorted(str(p) for p in (ROOT / "models").glob("*.faq")),
                    help="trained .faq models whose convolutions give operands too, at the precisions they have (default: models/*.faq)")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    # docs/mac_energy.json and the document's table are the default measurement's: a run of other operands, seeds,
    # precisions or sizes writes its JSON beside its work files instead (or to an --out given), and no document
    varied = [k for k in ("size", "lines", "block", "seed", "precisions", "operands", "models") if getattr(args, k) != ap.get_default(k)]
    if varied and args.out == ap.get_default("out"):
        args.out = str(pathlib.Path(args.work) / "mac_energy.json")
        args.no_doc = True
        print(f"mac_energy.py: not the default measurement ({', '.join('--' + k for k in varied)}): results in {args.out}, documents untouched")
    try:
        pairs = [(int(w), int(a)) for w, a in (p.split(":") for p in args.precisions.split(","))]
    except ValueError:
        bad_input(f"--precisions {args.precisions}: expected W:A pairs separated by commas, e.g. 4:4,8:8")
    if (8, 8) not in pairs:
        bad_input("--precisions must include 8:8 (the anchor)")
    if args.size < 1 or args.block < 1 or args.lines < args.block or args.lines % args.block:
        bad_input("--lines must be a positive multiple of --block, and --size positive")
    rows = []
    for w, a in pairs:
        work = pathlib.Path(args.work) / f"w{w}a{a}_{args.size}x{args.size}"
        module, ports = synthesize_array(w, a, args.size, work)
        operands = RandomOperands(w, a, args.size, args.size, args.seed, args.operands == "zero")
        r = measure(w, a, args.size, args.lines, args.block, work, operands, module, ports, work / args.operands)
        print(f"W{w}A{a}: {r['pj_per_mac_018']:.4f} pJ per MAC at 0.18 um ({r['cells']} cells), {args.operands} operands", flush=True)
        # the model with the most MACs at this precision gives its operands (a W4A4 FAQ model's first layer is W8A8)
        candidates = []
        for path in args.models if args.operands == "random" else []:
            try:
                candidates.append(ModelOperands(path, w, a, args.size, args.size, args.seed))
            except ValueError as e:
                if "no convolution with" not in str(e):
                    bad_input(f"{path}: not a readable .faq model ({e})")
            except (OSError, KeyError, IndexError, struct.error) as e:
                bad_input(f"{path}: not a readable .faq model ({type(e).__name__}: {e})")
        if candidates:
            operands = max(candidates, key=lambda o: sum(c["macs"] for c in o.convs))
            m = measure(w, a, args.size, args.lines, args.block, work, operands, module, ports, work / operands.name.removesuffix(".faq"))
            r["trained"] = {"model": operands.name, **{k: m[k] for k in m if k.endswith("_pj") or k == "pj_per_mac_018"}}
            print(f"W{w}A{a}: {m['pj_per_mac_018']:.4f} pJ per MAC at 0.18 um, operands of {operands.name}", flush=True)
        rows.append(r)
    ref = next(r for r in rows if (r["weight_bits"], r["act_bits"]) == (8, 8))
    scale = model_mac_pj(8, 8) / ref["pj_per_mac_018"]
    for r in rows:
        r["ratio_to_w8a8"] = r["pj_per_mac_018"] / ref["pj_per_mac_018"]
        r["pj_per_mac"] = r["pj_per_mac_018"] * scale
        r["model_pj_per_mac"] = model_mac_pj(r["weight_bits"], r["act_bits"])
        r["model_ratio_to_w8a8"] = r["model_pj_per_mac"] / model_mac_pj(8, 8)
        if "trained" in r and "trained" in ref:
            r["trained"]["ratio_to_w8a8"] = r["trained"]["pj_per_mac_018"] / ref["trained"]["pj_per_mac_018"]
    result = {"source": "scripts/mac_energy.py: OpenSTA report_power of the mapped faq_array (OSU 0.18 um, 1.8 V) with "
                        "the toggle activity of its gate-level simulation, anchored at the energy model's W8A8 MAC",
              "array": f"{args.size}x{args.size}", "clock_ns": PERIOD_NS, "seed": args.seed, "anchor_pj": model_mac_pj(8, 8),
              "scale_to_anchor": scale, "macs": rows}
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    if args.no_doc:
        return
    lines = [f"{args.size}×{args.size} array, OSU 0.18 µm at 1.8 V, {args.lines} cycles ({args.block}-line blocks per weight tile), "
             f"OpenSTA `report_power` with the simulated activity of every net; per MAC (pJ). Random operands (activations "
             f"unsigned), and where a trained model of `models/` has that precision, its convolutions' own weights and "
             f"test-vector activations:", "",
             "| W/A | acc | array µm² | internal | switching | random operands, 0.18 µm | / W8A8 | bits² model / W8A8 | "
             "trained operands, 0.18 µm | / W8A8 | anchored (pJ, docs/mac_energy.json) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["weight_bits"] * r["act_bits"], r["weight_bits"])):
        tr = r.get("trained")
        trained = (f"{tr['pj_per_mac_018']:.3f} ({tr['model']}) | " + (f"**{tr['ratio_to_w8a8']:.3f}**" if "ratio_to_w8a8" in tr else "")) if tr else " | "
        lines.append(f"| W{r['weight_bits']}A{r['act_bits']} | {r['acc_bits']} | {r['area_um2']:,.0f} | {r['internal_pj']:.3f} | "
                     f"{r['switching_pj']:.3f} | {r['pj_per_mac_018']:.3f} | **{r['ratio_to_w8a8']:.3f}** | {r['model_ratio_to_w8a8']:.3f} | "
                     f"{trained} | {r['pj_per_mac']:.4f} |")
    lines += ["", f"Anchor: the energy model's W8A8 MAC, {model_mac_pj(8, 8):.4f} pJ (45 nm), is {scale:.4f}× the netlist's "
              f"{ref['pj_per_mac_018']:.3f} pJ at 0.18 µm (random operands: the table covers every precision)."]
    # SVG and PNG: energy per MAC at W = A bits, random and trained operands, with the bits^2 reference through W8A8
    square = sorted(r["weight_bits"] for r in rows if r["weight_bits"] == r["act_bits"])
    at = {r["weight_bits"]: r for r in rows if r["weight_bits"] == r["act_bits"]}
    series = [("#1f77b4", "random operands", {i: at[b]["pj_per_mac_018"] for i, b in enumerate(square)}, False),
              ("#2ca02c", "trained resnet20 operands", {i: at[b]["trained"]["pj_per_mac_018"] for i, b in enumerate(square) if "trained" in at[b]}, False),
              ("gray", "bits^2 through W8A8 (random)", {i: ref["pj_per_mac_018"] * (b / 8) ** 2 for i, b in enumerate(square)}, True)]
    ymax = max(v for s in series for v in s[2].values()) * 1.05
    line_plot(ROOT / "docs/scaling_mac_energy.svg", "energy per MAC (pJ, OSU 0.18 um, 4x4 array) vs weight/activation bits",
              [f"W{b}A{b}" for b in square], series, ymax, lambda v: f"{v:.0f}")
    lines += ["", "![energy per MAC vs bits](scaling_mac_energy.svg) (PNG: `scaling_mac_energy.png`)"]
    write_generated(ROOT / "docs/scaling.md", "scripts/mac_energy.py", lines, "MAC energy from the netlists")


if __name__ == "__main__":
    main()
