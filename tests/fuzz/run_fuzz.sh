#!/usr/bin/env bash
# Runs the .faq reader fuzzer: first every seed (the sample model and each corrupted copy) once under
# ASan/UBSan, then coverage-guided fuzzing for SECONDS. Any crash or sanitizer report fails the test.
# Usage: run_fuzz.sh FUZZER FAQ_SAMPLE WORKDIR SECONDS
set -euo pipefail
fuzzer=$1 sample=$2 work=$3 seconds=$4
rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
"$sample" "$work/corpus/sample.faq" --corrupt-dir "$work/corpus"
"$sample" "$work/corpus/sample_w8.faq" --wbits 8 --abits 8 --tests 1 --size 6
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$fuzzer" -runs=0 "$work/corpus" 2>&1 | tail -n 3
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" 2>&1 | tail -n 15
echo "fuzz: no crash in ${seconds}s"
