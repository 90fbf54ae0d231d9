#!/bin/bash
# check-certificate.sh - check a certificate PDF of `metrolog certificate`
# against the items ISO/IEC 17025:2017 7.8 asks of a calibration
# certificate, with pdftotext (poppler-utils).
#
#   tools/check-certificate.sh CERTIFICATE.pdf
#
# Prints one line per item, "ok" or "MISSING", then a summary; exits 0
# when every item is there, 1 when one is missing, 2 on bad usage. An
# item is "there" when the certificate carries its English label or
# phrase (every label is also in Vietnamese); each page must carry the
# certificate number and "Page N of M"; a final certificate is approved
# and not a draft. It checks that the items are present, not that their
# values are right: the values are the record's
# (tests/integration/test_certificate.c checks them).
set -uo pipefail
[ $# -eq 1 ] && [ -r "$1" ] || { echo "usage: $0 CERTIFICATE.pdf" >&2; exit 2; }
pdf=$1
text=$(pdftotext -enc UTF-8 "$pdf" - 2>/dev/null) || { echo "$pdf: not a PDF pdftotext can read" >&2; exit 2; }
flat=$(printf '%s' "$text" | tr '\n' ' ' | tr -s ' ')
pages=$(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
missing=0 total=0

item() { # item CLAUSE WHAT PATTERN...: every extended regex matches flat
	local clause=$1 what=$2 ok=ok
	shift 2
	for re in "$@"; do
		printf '%s' "$flat" | grep -Eq -- "$re" || ok=MISSING
	done
	total=$((total + 1))
	[ $ok = ok ] || missing=$((missing + 1))
	printf '%-8s %-58s %s\n' "$clause" "$what" "$ok"
}
item "a"       "title" "Calibration certificate"
item "b"       "laboratory's name and address" "Laboratory "
item "b"       "accreditation" "Accreditation "
item "c"       "location of the work" "Location of calibration"
total=$((total + 1))
per_page=ok
for ((p = 1; p <= ${pages:-0}; p++)); do
	pt=$(pdftotext -enc UTF-8 -f "$p" -l "$p" "$pdf" - | tr '\n' ' ')
	printf '%s' "$pt" | grep -q "Certificate No\." || per_page=MISSING
	printf '%s' "$pt" | grep -q "Page $p of $pages" || per_page=MISSING
done
[ "${pages:-0}" -ge 1 ] || per_page=MISSING
[ $per_page = ok ] || missing=$((missing + 1))
printf '%-8s %-58s %s\n' "d" "certificate number and page x of y on all $pages pages" "$per_page"
item "d"       "clear end" "End of certificate"
item "e"       "customer" "Customer "
item "f"       "method" "Calibration method"
item "g"       "item: identification, model, serial, condition" "Item calibrated" "Model" "Serial number" "Condition on receipt"
item "h"       "date of receipt" "Date of receipt"
item "i"       "date of calibration" "Date of calibration"
item "j"       "date of issue (issued: not a draft)" "Date of issue"
item "l"       "results relate only to the item calibrated" "The results relate only to the item calibrated"
item "m"       "results with units" "Calibration results" "Unit"
item "n"       "additions, deviations, exclusions from the method" "deviations or exclusions from the method"
item "o"       "who authorised it (approved)" "Authorised by" "approved on"
item "4.1 a"   "measurement uncertainty" "U \(k\)" "expanded uncertainty"
item "4.1 b"   "environmental conditions" "Environmental conditions"
item "4.1 c"   "metrological traceability" "(metrologically traceable to the SI|No claim of metrological traceability)"
item "4.1"     "results as found and as left" "As found" "As left"
item "6.1"     "decision rule and its risk" "Decision rule" "Risk \(ISO/IEC 17025 7\.8\.6\.1"
item "6.2"     "statement of conformity and specification" "Statement of conformity" "Error limits from:"
item "-"       "reproduced only in full (accreditation bodies ask it)" "shall not be reproduced except in full"
total=$((total + 1))
if printf '%s' "$flat" | grep -q "DRAFT"; then
	missing=$((missing + 1)); draft=MISSING
else draft=ok; fi
printf '%-8s %-58s %s\n' "o, j" "final: not a draft" "$draft"
if printf '%s' "$flat" | grep -q "replaces certificate"; then
	item "8.8" "amendment: what it replaces and why" "amends and replaces certificate" "Amendment: "
fi
echo "ISO/IEC 17025:2017 7.8: $((total - missing)) of $total items present in $pdf"
[ $missing -eq 0 ]
