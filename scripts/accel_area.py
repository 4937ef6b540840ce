#!/usr/bin/env python3
"""Area of the whole generated accelerator, per module, on the OSU 0.18 um standard cells (Debian
qflow-tech-osu018; Yosys synth, dfflibmap + abc -liberty for a 100 MHz target with buffering (synthlib.ABC), stat -liberty per module): the array (its PEs flattened into
it, so that each row's PEs shed the partial-sum bits that row does not pass, docs/hw.md, with its skew and de-skew
registers), the post-processing lanes, the control (fetch, decoder, scoreboard,
unit sequencers, the request/response/output FIFOs and the lane packing/unpacking, all in flip-flops and gates)
and the four buffers (SPAD, WBUF, ACC, PARAM).

The buffers are not synthesized into flip-flops: the library has no SRAM and Debian ships no memory compiler, so
their area comes from a stated SRAM model, applied to the width x depth Yosys infers for each memory:
    area = bits x bitcell / efficiency,  bitcell = 140 F^2 at F = 0.18 um (4.54 um^2), efficiency 0.70.
140 F^2 is an assumption for a 6T cell with logic design rules (not a measurement of any foundry's cell);
the 0.70 array efficiency stands for decoders, sense amplifiers and I/O. Both are parameters below; the report
also states what the same bits cost as the library's flip-flops (DFFPOSX1 area, no read multiplexers).
Writes docs/accel_area.json and the generated table of docs/scaling.md.
Usage: scripts/accel_area.py [PRESET ...] (default: tiny edge default)"""
import json, os, pathlib, re, subprocess, sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from synthlib import ABC, LIB as lib, write_generated  # noqa: E402

root = pathlib.Path(__file__).resolve().parent.parent
hwgen = os.environ.get("FAQ_HWGEN", str(root / "build/hw/faq-hwgen"))
presets = sys.argv[1:] or ["tiny", "edge", "default"]
out = root / "out/accel_area"
out.mkdir(parents=True, exist_ok=True)

FEATURE_UM = 0.18
BITCELL_F2 = 140.0
EFFICIENCY = 0.70
SRAM_UM2_PER_BIT = BITCELL_F2 * FEATURE_UM ** 2 / EFFICIENCY
BUFFERS = ["spad", "wbuf", "acc", "param"]
# the memories of each buffer in faq_accel (ACC is two, one per scoreboard half)
BUFFER_MEMORIES = {"spad": ["spad"], "wbuf": ["wbuf"], "acc": ["acc0", "acc1"], "param": ["param"]}
FIFOS = ["ld_mfifo", "pl_mfifo", "ex_mfifo", "st_mfifo", "meta", "resp", "ofifo", "q", "qm"]
dff_area = float(re.search(r"cell \(DFFPOSX1\)\s*\{\s*area\s*:\s*([0-9.]+)", pathlib.Path(lib).read_text()).group(1))


def synthesize(preset):
    rtl = out / preset / "rtl"
    subprocess.run([hwgen, "--config", preset, "-o", str(rtl)], check=True, capture_output=True)
    files = " ".join(l for l in (rtl / "files.f").read_text().split())
    stat, mems = out / preset / "stat.txt", out / preset / "memories.txt"
    buffers = " ".join(f"faq_accel/{m}" for b in BUFFERS for m in BUFFER_MEMORIES[b])
    fifos = " ".join(f"faq_accel/{f}" for f in FIFOS)
    script = (f"read_verilog {files}; hierarchy -top faq_accel; flatten faq_array; synth -top faq_accel -run :fine; tee -q -o {mems} dump {buffers}; "
              f"memory_map {fifos}; opt -full; techmap; opt -fast; dfflibmap -liberty {lib}; {ABC}; "
              f"opt_clean; tee -q -o {stat} stat -liberty {lib}")
    subprocess.run(["yosys", "-q", "-p", script], check=True, capture_output=True)
    text = stat.read_text()
    area = {m: float(a) for m, a in re.findall(r"Chip area for module '\\(\w+)': ([0-9.]+)", text)}
    hierarchy = text.split("=== design hierarchy ===")[1]
    count = {m: int(n) for m, n in re.findall(r"^\s+(faq_\w+)\s+(\d+)$", hierarchy, re.M)}
    found = {}
    for cell in mems.read_text().split("cell $mem_v2")[1:]:
        name = re.search(r"parameter \\MEMID \"\\\\(\w+)\"", cell).group(1)
        width = int(re.search(r"parameter \\WIDTH (\d+)", cell).group(1))
        size = int(re.search(r"parameter \\SIZE (\d+)", cell).group(1))
        found[name] = {"width": width, "depth": size, "bits": width * size}
    missing = [m for b in BUFFERS for m in BUFFER_MEMORIES[b] if m not in found and m != "acc1"]  # acc1: none with 1 line
    if missing:
        sys.exit(f"accel_area.py: {preset}: Yosys inferred no memory for {missing}")
    memories = {}
    for b in BUFFERS:
        parts = [found[m] for m in BUFFER_MEMORIES[b] if m in found]
        memories[b] = {"width": parts[0]["width"], "depth": sum(x["depth"] for x in parts), "bits": sum(x["bits"] for x in parts)}
    return area, count, memories


rows = []
for preset in presets:
    area, count, memories = synthesize(preset)
    config = json.loads((out / preset / "rtl/config.json").read_text())
    pes = config["rows"] * config["cols"]
    lanes = count.get("faq_post", 0)
    modules = {
        "array (PEs, skew, de-skew)": area["faq_array"],
        "post-processing lanes": area["faq_post"] * lanes,
        "control and FIFOs": area["faq_accel"],
    }
    for b in BUFFERS:
        modules[f"{b.upper()} (SRAM model)"] = memories[b]["bits"] * SRAM_UM2_PER_BIT
    total = sum(modules.values())
    buffer_bits = sum(memories[b]["bits"] for b in BUFFERS)
    row = {"preset": preset, "pes": pes, "post_lanes": lanes, "modules_um2": modules, "total_um2": total,
           "array_per_pe_um2": area["faq_array"] / pes, "post_lane_um2": area["faq_post"], "buffers": {b: memories[b] for b in BUFFERS},
           "buffer_bits": buffer_bits, "buffers_as_flipflops_um2": buffer_bits * dff_area}
    rows.append(row)
    print(preset, f"total {total / 1e6:.2f} mm2", {k: f"{v / 1e6:.3f}" for k, v in modules.items()}, flush=True)

model = {"feature_um": FEATURE_UM, "bitcell_f2": BITCELL_F2, "efficiency": EFFICIENCY, "um2_per_bit": SRAM_UM2_PER_BIT,
         "dffposx1_um2": dff_area}
(root / "docs/accel_area.json").write_text(json.dumps({"sram_model": model, "presets": rows}, indent=2) + "\n")
names = list(rows[0]["modules_um2"])
lines = [f"SRAM model: {SRAM_UM2_PER_BIT:.2f} um^2 per bit ({BITCELL_F2:.0f} F^2 bitcell at F = {FEATURE_UM} um, "
         f"{EFFICIENCY:.0%} array efficiency; an assumption, see scripts/accel_area.py). Logic: Yosys + osu018 cells.", "",
         "| module | " + " | ".join(f"{r['preset']} ({r['pes']} PEs) mm² | share" for r in rows) + " |",
         "|---|" + "---:|---:|" * len(rows)]
for name in names:
    cells = []
    for r in rows:
        v = r["modules_um2"][name]
        cells += [f"{v / 1e6:.3f}", f"{100 * v / r['total_um2']:.1f} %"]
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
lines.append("| **total** | " + " | ".join(f"**{r['total_um2'] / 1e6:.3f}** | 100 %" for r in rows) + " |")
lines.append("| total per PE | " + " | ".join(f"{r['total_um2'] / r['pes'] / 1e6:.4f} | " for r in rows) + " |")
lines.append("| buffers as flip-flops instead (DFFPOSX1 only) | " +
             " | ".join(f"{r['buffers_as_flipflops_um2'] / 1e6:.2f} | " for r in rows) + " |")
write_generated(root / "docs/scaling.md", "scripts/accel_area.py", lines, "The whole accelerator, per module")
print("docs/scaling.md, docs/accel_area.json")
