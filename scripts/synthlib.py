"""Shared by the synthesis and report scripts: Yosys onto the OSU 0.18 um standard cells (Debian
qflow-tech-osu018), OpenSTA timing of the mapped netlist, the ImageNet-shaped benchmark models and their energy
totals, and the generated sections of the documents they write."""
import math, os, pathlib, re, subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("BUILD", ROOT / "build"))
BENCH = ROOT / "out/bench"

LIB = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib"
# ABC maps onto the cells for a 100 MHz target (-D, picoseconds) with the ports' driver and load of osu018.constr,
# which makes it buffer high-fanout nets and size the cells on critical paths (its `buffer`, `upsize`, `dnsize`), as
# any placement flow would: mapped for area alone, a broadcast such as the array's w_shift drives every PE through
# one gate and OpenSTA's Fmax measures that net, not the design (an 8x8 W8A8 array: 33 MHz; buffered: about 200)
CONSTR = pathlib.Path(__file__).resolve().parent / "osu018.constr"
ABC = f"abc -D 10000 -constr {CONSTR} -liberty {LIB}"
# (the same driver and load for OpenSTA: fmax_mhz)
_CONSTR = dict(line.split(None, 1) for line in CONSTR.read_text().splitlines() if line.strip())
# Yosys: a design flattened and mapped onto the library's cells (format with top=...)
MAP = f"synth -top {{top}} -flatten; dfflibmap -liberty {LIB}; {ABC}; opt_clean"
# Before write_verilog for OpenSTA, whose reader takes no assignment to a concatenation: every multi-bit net split,
# undefined constants tied to 0, and each remaining assignment (an alias of two nets) a buffer cell
FOR_STA = "setundef -zero; splitnets; opt_clean -purge; insbuf -buf BUFX2 A Y"

# The precision sweeps' accumulators: the product plus ResNet-18's largest reduction (3x3x512), at most the contract's 32
REDUCTION_BITS = math.ceil(math.log2(3 * 3 * 512))


def acc_bits(weight_bits, act_bits):
    return min(32, weight_bits + act_bits + REDUCTION_BITS)


def sweep_config(name, size, weight_bits, act_bits, **fields):
    """The configuration a sweep generates its datapath from: a size x size array at these widths, accumulator by
    acc_bits unless `fields` say otherwise (the buffers do not matter to the datapath)."""
    return {"name": name, "rows": size, "cols": size, "weight_bits": weight_bits, "act_bits": act_bits,
            "acc_bits": acc_bits(weight_bits, act_bits), "spad_kib": 16, "wbuf_kib": 4, "acc_kib": 8, "param_kib": 1,
            "mem_port_bits": 64, "dataflow": "weight_stationary", **fields}


# FPGA families: the Yosys synthesis command and the cells of each kind in its `stat` (docs/fpga.md)
FPGA_FAMILIES = {
    "ice40": ("synth_ice40 -dsp", {"LUT": r"SB_LUT4", "FF": r"SB_DFF\w*", "carry": r"SB_CARRY", "DSP": r"SB_MAC16", "BRAM": r"SB_(?:RAM40_4K|SPRAM256KA)"}),
    "ecp5": ("synth_ecp5", {"LUT": r"LUT4", "FF": r"TRELLIS_FF", "carry": r"CCU2C", "DSP": r"MULT18X18D", "BRAM": r"DP16KD"}),
    "xilinx": ("synth_xilinx", {"LUT": r"LUT[1-6]", "FF": r"FD[A-Z]*", "carry": r"CARRY4", "DSP": r"DSP48E1", "BRAM": r"RAMB\w+"}),
}


def count_cells(stat_text, kinds):
    """Cells of each kind (name -> regex of cell types) in the text of one module's Yosys `stat`."""
    return {k: sum(int(m[1]) for m in re.findall(r"^\s+(%s)\s+(\d+)$" % pattern, stat_text, re.M)) for k, pattern in kinds.items()}


def fmax_mhz(netlist, top, out):
    """Fmax of a mapped netlist from OpenSTA: the worst register-to-register (and port) path plus setup."""
    sdc = out / f"{top}.sdc"
    inputs = "[delete_from_list [all_inputs] [get_ports clk]]"
    sdc.write_text("create_clock -name clk -period 100 [get_ports clk]\n"
                   f"set_input_delay 0 -clock clk {inputs}\n"
                   "set_output_delay 0 -clock clk [all_outputs]\n"
                   # the ports as ABC mapped them (osu018.constr)
                   f"set_driving_cell -lib_cell {_CONSTR['set_driving_cell']} {inputs}\n"
                   f"set_load {_CONSTR['set_load']} [all_outputs]\n")
    tcl = out / f"{top}.sta.tcl"
    tcl.write_text(f"read_liberty {LIB}\nread_verilog {netlist}\nlink_design {top}\nread_sdc {sdc}\n"
                   "report_checks -path_delay max -digits 3\nexit\n")
    run = subprocess.run(["sta", str(tcl)], check=True, capture_output=True, text=True)
    log = run.stdout
    errors = [l for l in (run.stdout + run.stderr).splitlines() if l.startswith("Error")]
    if errors:  # (a netlist statement OpenSTA skipped would leave its paths untimed)
        raise SystemExit(f"OpenSTA could not read {netlist}: {errors[0]}")
    slack = float(re.findall(r"(-?[0-9.]+)\s+slack", log)[-1])
    return 1000.0 / (100.0 - slack)


def synthesize(files, top, out):
    """(area in um^2, cell count, Fmax in MHz) of `top` from `files`, flattened and mapped to the library."""
    netlist = out / f"{top}_{files[0].parent.name}_mapped.v"
    script = (f"read_verilog {' '.join(map(str, files))}; {MAP.format(top=top)}; stat -liberty {LIB}; {FOR_STA}; "
              f"write_verilog -noattr -noexpr {netlist}")
    log = subprocess.run(["yosys", "-p", script], check=True, capture_output=True, text=True).stdout
    chip = re.findall(r"Chip area for module '\\\\?%s': ([0-9.]+)" % top, log)
    cells = re.findall(r"Number of cells:\s+([0-9]+)", log)
    if not chip:
        raise SystemExit(f"synthesis of {top} gave no area (see yosys output)")
    return float(chip[-1]), int(cells[-1]), fmax_mhz(netlist, top, out)


def line_plot(svg_path, title, labels, series, ymax, tick):
    """An SVG line plot (and its PNG, rsvg-convert) of values over the categories `labels`: series is a list of
    (color, legend, {label index: value}, dashed); tick formats the y axis's six labels."""
    W, H, L, B = 560, 360, 70, 50
    xs = [L + (W - L - 60) * i / (len(labels) - 1) for i in range(len(labels))]
    def y(v):
        return H - B - (H - B - 20) * v / ymax
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<line x1="{L}" y1="{H-B}" x2="{W-20}" y2="{H-B}" stroke="black"/><line x1="{L}" y1="20" x2="{L}" y2="{H-B}" stroke="black"/>']
    for x, label in zip(xs, labels):
        svg.append(f'<text x="{x:.1f}" y="{H-B+18}" text-anchor="middle">{label}</text>')
    for k in range(6):
        v = ymax * k / 5
        svg.append(f'<text x="{L-6}" y="{y(v)+4:.1f}" text-anchor="end">{tick(v)}</text>')
    svg.append(f'<text x="{L}" y="14">{title}</text>')
    for color, _, values, dashed in series:
        pts = " ".join(f"{xs[i]:.1f},{y(v):.1f}" for i, v in sorted(values.items()))
        dash = 'stroke-dasharray="5,4"' if dashed else ""
        svg.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" {dash} points="{pts}"/>')
        if len(values) < len(labels):  # a partial series: its points marked
            svg += [f'<circle cx="{xs[i]:.1f}" cy="{y(v):.1f}" r="3" fill="{color}"/>' for i, v in values.items()]
    for i, (color, legend, _, _) in enumerate(series):
        svg.append(f'<line x1="{L+10}" y1="{30+16*i}" x2="{L+30}" y2="{30+16*i}" stroke="{color}" stroke-width="2"/><text x="{L+36}" y="{34+16*i}">{legend}</text>')
    svg.append("</svg>")
    svg_path.write_text("\n".join(svg) + "\n")
    subprocess.run(["rsvg-convert", "-o", str(svg_path.with_suffix(".png")), str(svg_path)], check=True)  # librsvg2-bin


def write_generated(doc, script, lines, heading):
    """Replaces the section between `script`'s BEGIN/END GENERATED markers in `doc` by `lines`; a document without
    the markers gets them appended under `heading`."""
    begin, end = f"<!-- BEGIN GENERATED: {script} -->", f"<!-- END GENERATED: {script} -->"
    text = doc.read_text()
    if begin not in text:
        text += f"\n## {heading}\n\n{begin}\n{end}\n"
    head, rest = text.split(begin)
    doc.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end)[1])


def bench_model(wb, ab):
    """out/bench/resnet18_w{wb}a{ab}.faq: ResNet-18 224x224x3, random init (cycles and energy depend on shapes and
    precisions, not on weight values), first conv and fc 8-bit; made with faq-train when missing."""
    BENCH.mkdir(parents=True, exist_ok=True)
    path = BENCH / f"resnet18_w{wb}a{ab}.faq"
    if not path.exists():
        subprocess.run([str(BUILD / "golden/faq-train"), "--model", "resnet18", "--random-init", "--image-size", "224", "--channels", "3",
                        "--wbits", str(wb), "--abits", str(ab), "--calib-batches", "2", "--test-vectors", "1",
                        "--name", path.stem, "--out", str(BENCH), "--no-progress"], check=True, capture_output=True)
    return path


def energy_uj(compiled):
    """MAC, on-chip and DRAM energy (uJ) summed over the layers of a `faqc compile --json` summary."""
    return {k: sum(l["energy_pj"][k] for l in compiled["layers"]) / 1e6 for k in ("mac", "onchip", "dram")}
