#!/usr/bin/env python3
"""FPGA resources of the generated datapath (PE array and post-processing lane) for the iCE40, ECP5 and Xilinx 7
families, from Yosys `synth_ice40`, `synth_ecp5` and `synth_xilinx` (cell counts by kind: LUT, FF, carry, DSP,
block RAM). Writes the generated table of docs/fpga.md and docs/fpga.json. The buffers are not included yet
(register arrays with asynchronous reads cannot map to block RAM: issue 6).
Usage: scripts/fpga_resources.py [PRESET ...] (default: edge tiny)"""
import json, os, pathlib, re, subprocess, sys

root = pathlib.Path(__file__).resolve().parent.parent
hwgen = os.environ.get("FAQ_HWGEN", str(root / "build/hw/faq-hwgen"))
presets = sys.argv[1:] or ["edge", "tiny"]
out = root / "out/fpga"
out.mkdir(parents=True, exist_ok=True)
families = {
    "ice40": ("synth_ice40 -dsp", {"LUT": r"SB_LUT4", "FF": r"SB_DFF\w*", "carry": r"SB_CARRY", "DSP": r"SB_MAC16", "BRAM": r"SB_(?:RAM40_4K|SPRAM256KA)"}),
    "ecp5": ("synth_ecp5", {"LUT": r"LUT4", "FF": r"TRELLIS_FF", "carry": r"CCU2C", "DSP": r"MULT18X18D", "BRAM": r"DP16KD"}),
    "xilinx": ("synth_xilinx", {"LUT": r"LUT[1-6]", "FF": r"FD[A-Z]*", "carry": r"CARRY4", "DSP": r"DSP48E1", "BRAM": r"RAMB\w+"}),
}
rows = []
for preset in presets:
    rtl = out / preset
    subprocess.run([hwgen, "--config", preset, "-o", str(rtl)], check=True, capture_output=True)
    for top, files in (("faq_array", ["faq_pe.v", "faq_array.v"]), ("faq_post", ["faq_post.v"])):
        for family, (command, kinds) in families.items():
            stat = out / f"{preset}_{top}_{family}.txt"
            script = f"read_verilog {' '.join(str(rtl / f) for f in files)}; {command} -top {top}; tee -q -o {stat} stat"
            subprocess.run(["yosys", "-q", "-p", script], check=True, capture_output=True)
            text = stat.read_text()
            counts = {k: sum(int(m[1]) for m in re.findall(r"^\s+(%s)\s+(\d+)$" % pattern, text, re.M)) for k, pattern in kinds.items()}
            rows.append({"preset": preset, "module": top, "family": family, **counts})
            print(preset, top, family, counts, flush=True)
(root / "docs/fpga.json").write_text(json.dumps(rows, indent=2) + "\n")
lines = ["| preset | module | family | LUT | FF | carry | DSP | BRAM |", "|---|---|---|---|---|---|---|---|"]
for r in rows:
    lines.append(f"| {r['preset']} | {r['module']} | {r['family']} | {r['LUT']:,} | {r['FF']:,} | {r['carry']:,} | {r['DSP']} | {r['BRAM']} |")
doc = root / "docs/fpga.md"
begin, end = "<!-- BEGIN GENERATED: scripts/fpga_resources.py -->", "<!-- END GENERATED: scripts/fpga_resources.py -->"
text = doc.read_text()
head, rest = text.split(begin)
doc.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end)[1])
