#!/bin/bash
# demo-records.sh - the demo's calibration records, as a lab would enter
# them (dates relative to today), and their certificates.
#
#   tools/demo-records.sh DB OUTDIR
#
# DB is a database metrologd has created from config/demo.cfg (its
# instruments, standards, lab and customers). Records the two reference
# standards (calibrated by the national institute), BATH-1 against the
# thermometer standard and PG-2 against the deadweight tester; the lab
# manager, not the technician, approves all but PG-2's, whose certificate
# stays a draft. Writes OUTDIR/certificate-DEMO-C-002.pdf (approved) and
# OUTDIR/certificate-DEMO-C-001-draft.pdf. Run by tools/demo.sh, and by
# tests/integration/test_certificate.c, which checks the approved
# certificate against every item of ISO/IEC 17025 7.8
# (tools/check-certificate.sh). Exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 DB OUTDIR" >&2; exit 2; }
db=$1 out=$2
# METROLOG: the tool to run (the tests give their build's)
ml() { "${METROLOG:-build/plain/tools/metrolog}" "$@" -d "$db"; }
ago() { date -d "-$1 days" +%F; } # the lab's date, as the tool reads it
vmi=(--lab "Viện Đo lường Việt Nam (VMI)" --lab-address "8 Hoàng Quốc Việt, Cầu Giấy, Hà Nội"
	--accreditation "VILAS 001 (demo)")
manager=(--by "Trần Đức Minh" --role "Trưởng phòng thí nghiệm / Lab manager")

ml calibrate -i STD-DWT-1 -c DEMO-S-001 --date "$(ago 800)" -t "Lê Văn Cường" "${vmi[@]}" \
	--point "pressure,kPa,100,100.002,,-0.01,0.01,0.003,2" >/dev/null
ml calibrate -i STD-PRT-1 -c DEMO-S-002 --date "$(ago 300)" -t "Lê Văn Cường" "${vmi[@]}" \
	--point "temperature,degC,0.01,0.0112,,-0.005,0.005,0.0015,2" >/dev/null
ml calibrate -i PG-2 -c DEMO-C-001 --date "$(ago 170)" -s STD-DWT-1 -t "Nguyễn Thị Hoa" \
	--received "$(ago 172)" --condition "tốt / good" \
	--method "ĐLVN 76:2001, so sánh với áp kế chuẩn" \
	--specification "cấp chính xác 0,2 của nhà sản xuất / maker's class 0.2" \
	--conditions "(23.0 ± 1.0) °C; (50 ± 10) %RH" --rule guarded \
	--point "gauge-1,kPa,101.325,101.331,,-0.2,0.2,0.02,2" \
	--point "gauge-2,kPa,101.325,101.49,101.33,-0.2,0.2,0.02,2" >/dev/null
ml calibrate -i BATH-1 -c DEMO-C-002 --date "$(ago 20)" -s STD-PRT-1 -t "Nguyễn Thị Hoa" \
	--received "$(ago 22)" --customer-id "0401234567" --condition "tốt, không hư hỏng / good, no visible damage" \
	--method "ĐLVN 138:2004, so sánh trong bể ổn nhiệt" \
	--deviations "không có / none" \
	--specification "±0,05 °C theo yêu cầu của khách hàng / ±0.05 °C, the customer's requirement" \
	--conditions "(23.0 ± 1.0) °C; (50 ± 10) %RH" --rule guarded \
	--point "probe-1,degC,20,20.012,,-0.05,0.05,0.01,2" --point "probe-2,degC,20,19.994,,-0.05,0.05,0.01,2" \
	--point "probe-3,degC,20,20.041,20.003,-0.05,0.05,0.01,2"
# Until approved, a certificate is a draft (DRAFT on every page).
ml approve DEMO-S-001 "${manager[@]}" >/dev/null
ml approve DEMO-S-002 "${manager[@]}" >/dev/null
echo
ml approve DEMO-C-002 "${manager[@]}"
mkdir -p "$out"
ml certificate --certificate DEMO-C-002 -o "$out/certificate-DEMO-C-002.pdf"
ml certificate --certificate DEMO-C-001 -o "$out/certificate-DEMO-C-001-draft.pdf"
