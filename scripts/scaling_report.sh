#!/usr/bin/env bash
# The whole scaling report from scratch (docs/scaling.md, docs/energy.json, docs/mac_energy.json, docs/accel_area.json,
# docs/fpga.md and their plots): the precision sweep (Yosys + OSU 0.18 um + OpenSTA), the MAC energy of the
# synthesized arrays (gate-level activity priced by OpenSTA), energy per ResNet-18 inference, the whole
# accelerator's area per module (SRAM model for the buffers), FPGA resources. Needs a build
# (make) with hw/ and golden/ (faq-train makes the random-init ResNet-18 models when missing). About 30 minutes.
# Usage: scripts/scaling_report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/synth_sweep.py
python3 scripts/mac_energy.py
python3 scripts/energy_report.py default
python3 scripts/accel_area.py tiny edge default scalable
python3 scripts/scalable_pe_area.py
python3 scripts/scalable_report.py
python3 scripts/fpga_resources.py edge tiny
echo "docs/scaling.md, docs/scaling.json, docs/mac_energy.json, docs/energy.json, docs/accel_area.json, docs/scalable_pe.json, docs/scalable.json, docs/fpga.md regenerated"
