#!/usr/bin/env bash
# faqc inspect on the sample model and on every corrupted copy of it: the sample prints its table and JSON;
# every corrupted copy exits 2 with exactly one line on stderr that names the file.
# Usage: test_inspect.sh FAQC FAQ_SAMPLE WORKDIR
set -u
faqc=$1 sample=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$sample" "$work/sample.faq" --corrupt-dir "$work/corrupt" || { echo "FAIL: faq-sample"; exit 1; }

out=$("$faqc" inspect "$work/sample.faq") || fail "inspect of the sample exited $?"
grep -q "total: " <<<"$out" || fail "inspect output has no total line"
json=$("$faqc" inspect --json "$work/sample.faq") || fail "inspect --json exited $?"
for key in '"layers"' '"params"' '"macs"'; do grep -q "$key" <<<"$json" || fail "inspect --json lacks $key"; done

"$faqc" --version | grep -q "^faqc " || fail "--version"
"$faqc" --help >/dev/null || fail "--help exited non-zero"
"$faqc" inspect "$work/does-not-exist.faq" 2>/dev/null; [ $? -eq 2 ] || fail "missing file must exit 2"
"$faqc" frobnicate 2>/dev/null; [ $? -eq 2 ] || fail "unknown subcommand must exit 2"

count=0
for f in "$work"/corrupt/*.faq; do
  count=$((count + 1))
  "$faqc" inspect "$f" >/dev/null 2>"$work/stderr"
  rc=$?
  lines=$(wc -l <"$work/stderr")
  if [ $rc -ne 2 ]; then fail "$(basename "$f"): exit $rc, expected 2"; continue; fi
  [ "$lines" -eq 1 ] || fail "$(basename "$f"): $lines lines on stderr, expected 1"
  grep -qF "$f" "$work/stderr" || fail "$(basename "$f"): message does not name the file: $(cat "$work/stderr")"
done
[ "$count" -gt 100 ] || fail "only $count corrupted files were generated"
echo "$((count - failures)) passed, $failures failed (of $count corrupted files and the sample checks)"
[ "$failures" -eq 0 ]
