#!/usr/bin/env bash
# The larger constrained-random run on the RTL (not part of make test): SCALE times the layers of every RtlRandom
# test (tiny, default, edge, a 4x4 scalable array, the 2x2 and 4x2 iCE40 configurations, tiny with digit-serial lanes, the HX8K
# 12x2 configuration), each compiled, run on the Verilated accelerator and compared with the reference interpreter.
# Usage: scripts/rtl_random.sh [SCALE (default 20)]
set -euo pipefail
FAQ_RTL_RANDOM_SCALE=${1:-20} "${BUILD:-build}/tests/faq_rtl_tests" --gtest_output=xml:out/rtl_random.xml
grep -o '<property name="[a-z_]*" value="[0-9]*"/>' out/rtl_random.xml
