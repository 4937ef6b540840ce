#!/usr/bin/env bash
# The main flow on the built-in default model. Stages that exist run; stages not built yet say so.
# Usage: scripts/sim.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
out=out/sim
mkdir -p "$out"

echo "== model: built-in sample (synthetic W4A4 residual network; trained models arrive with golden/)"
"$build/tests/faq-sample" "$out/sample_w4a4.faq"
"$build/compiler/faqc" inspect "$out/sample_w4a4.faq"
echo
echo "== compile: not built yet (faqc compile, issue 4)"
echo "== simulate: not built yet (instruction-level simulator, issue 4; Verilator co-simulation, issue 5)"
