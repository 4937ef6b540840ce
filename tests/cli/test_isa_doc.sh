#!/usr/bin/env bash
# docs/isa.md embeds the output of `faqc isa` between two markers; this test fails when they differ.
# FAQ_UPDATE_GOLDEN=1 rewrites the embedded table from the code instead.
# Usage: test_isa_doc.sh FAQC DOC
set -euo pipefail
faqc=$1 doc=$2
begin='<!-- BEGIN GENERATED: faqc isa -->'
end='<!-- END GENERATED -->'
generated=$("$faqc" isa)
embedded=$(awk -v b="$begin" -v e="$end" '$0==e{f=0} f{print} $0==b{f=1}' "$doc")
if [ "$generated" == "$embedded" ]; then echo "1 passed, 0 failed: $doc matches faqc isa"; exit 0; fi
if [ "${FAQ_UPDATE_GOLDEN:-0}" = 1 ]; then
  awk -v b="$begin" -v e="$end" -v g="$generated" '$0==b{print; print g; f=1; next} $0==e{f=0} !f{print}' "$doc" >"$doc.new"
  mv "$doc.new" "$doc"
  echo "updated $doc"; exit 0
fi
diff <(echo "$generated") <(echo "$embedded") || true
echo "0 passed, 1 failed: $doc is out of date (FAQ_UPDATE_GOLDEN=1 ctest -R isa_doc rewrites it)"
exit 1
