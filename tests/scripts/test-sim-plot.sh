#!/usr/bin/env bash
# SIM_PLOT (issue 11): the simulators draw the time-sequence graph that
# `synack demo --plot` draws (tools/plot.c; test-demo.sh checks that one).
#  - the replay of one seed of tests/sim/transfer.c (build/tests/sim_transfer
#    TEST SEED 1) with SIM_PLOT=FILE.svg in front;
#  - bench/sim_path with SIM_PLOT=FILE.svg (and SIM_PLOT_RUN=NAME), on a
#    small custom path (SIM_PATH) so that it takes well under a second.
#
# Usage: tests/scripts/test-sim-plot.sh        (after make tests)
#        BUILD=build-dir tests/scripts/test-sim-plot.sh
# Prints one "ok ..." or "FAIL ..." line per check and a last line
# "test-sim-plot: N passed, N failed"; exits 1 if any check failed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/${BUILD:-build}
transfer=$build/tests/sim_transfer
simpath=$build/bench/sim_path
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-sim-plot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
failed=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
summary() { echo "test-sim-plot: $pass passed, $failed failed"; }

for b in "$transfer" "$simpath"; do
	if [ ! -x "$b" ]; then
		bad "$b is not built (run make tests)"
		summary
		exit 1
	fi
done

# count_class FILE CLASS: elements whose class is exactly CLASS.
count_class() { grep -o "class=\"$2\"" "$1" | wc -l; }
# svg_ok NAME FILE: starts as an SVG file does and is well-formed XML.
svg_ok() {
	if [ "$(head -c 5 "$2" 2>/dev/null)" != "<?xml" ] || ! grep -q '^<svg ' "$2"; then
		bad "$1: an SVG file" "starts with '$(head -c 40 "$2" 2>/dev/null | tr '\n' ' ')'"
	elif python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "$2" 2>"$tmp/xmlerr"; then
		ok "$1: an SVG file, well-formed XML"
	else
		bad "$1: well-formed XML" "$(tail -n 1 "$tmp/xmlerr")"
	fi
}
# svg_has NAME FILE TEXT...
svg_has() {
	local name=$1 file=$2 t missing=
	shift 2
	for t in "$@"; do grep -qF -- "$t" "$file" || missing="$missing '$t'"; done
	if [ -z "$missing" ]; then ok "$name: axes, lines and legend named"; else bad "$name" "no$missing"; fi
}
# rexmits_match NAME FILE NOTE-FILE: the note's "(N retransmitted)" is N > 0
# and the SVG draws N retransmission marks, each circled.
rexmits_match() {
	local said drawn circled
	said=$(sed -n 's/.*data segments (\([0-9]*\) retransmitted).*/\1/p' "$3" | head -n 1)
	drawn=$(count_class "$2" "seg rexmit")
	circled=$(count_class "$2" rxmark)
	if [ -n "$said" ] && [ "$said" -gt 0 ] && [ "$drawn" -eq "$said" ] && [ "$circled" -eq "$said" ]; then
		ok "$1: $drawn retransmissions drawn and circled, as the note says"
	else
		bad "$1: retransmissions" "note '${said:-none}', $drawn drawn, $circled circled"
	fi
}
labels=("time (s)" "relative sequence number (bytes)" "cwnd, ssthresh (bytes)" "srtt (ms)" \
	">ACK</text>" ">receive window</text>" ">cwnd</text>" "retransmitted segment")

# ---- the replay of one seed of tests/sim/transfer.c ----
t_test=transfer_over_impaired_link_many_seeds
(cd "$tmp" && SIM_PLOT=seed7.svg "$transfer" "$t_test" 7 1) >"$tmp/t.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "^    SIM_PLOT seed7.svg: " "$tmp/t.out"; then
	ok "sim_transfer: SIM_PLOT=seed7.svg with the replay of seed 7 (exit 0, says what it drew)"
else
	bad "sim_transfer: SIM_PLOT replay" "exit $rc: $(tr '\n' '|' <"$tmp/t.out" | head -c 300)"
fi
svg_ok "sim_transfer plot" "$tmp/seed7.svg"
svg_has "sim_transfer plot" "$tmp/seed7.svg" "${labels[@]}" "client 10.0.0.1:" "$t_test seed 7: "
rexmits_match "sim_transfer plot" "$tmp/seed7.svg" "$tmp/t.out"
(cd "$tmp" && SIM_PLOT=again.svg "$transfer" "$t_test" 7 1) >/dev/null 2>&1
if cmp -s "$tmp/seed7.svg" "$tmp/again.svg"; then ok "sim_transfer: same seed, same file"; else bad "sim_transfer: same seed, same file"; fi
SIM_PLOT="$tmp/many.svg" "$transfer" "$t_test" 7 2 >"$tmp/t.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ ! -e "$tmp/many.svg" ] && grep -q "SIM_PLOT ignored" "$tmp/t.out"; then
	ok "sim_transfer: SIM_PLOT with two seeds is ignored and says so"
else
	bad "sim_transfer: SIM_PLOT with two seeds" "exit $rc, file $([ -e "$tmp/many.svg" ] && echo written || echo absent)"
fi
SIM_PLOT="$tmp/no/dir/x.svg" "$transfer" "$t_test" 7 1 >"$tmp/t.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "SIM_PLOT: cannot create '$tmp/no/dir/x.svg'" "$tmp/t.out" && ! grep -q "seeds simulated" "$tmp/t.out"; then
	ok "sim_transfer: an unwritable SIM_PLOT fails before the run (exit $rc)"
else
	bad "sim_transfer: unwritable SIM_PLOT" "exit $rc: $(tr '\n' '|' <"$tmp/t.out" | head -c 300)"
fi

# ---- bench/sim_path ----
path="0.02 10000 10 0 1" # 2% loss, 10 ms one way, 10 Mbit/s, 1 MiB: four runs
SIM_PATH=$path "$simpath" >"$tmp/plain.out" 2>"$tmp/plain.err"
SIM_PATH=$path SIM_PLOT="$tmp/path.svg" "$simpath" >"$tmp/p.out" 2>"$tmp/p.err"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/p.out")" -eq 4 ] && cmp -s "$tmp/plain.out" "$tmp/p.out"; then
	ok "sim_path: SIM_PLOT leaves the figures as they are (exit 0, 4 lines)"
else
	bad "sim_path: figures with SIM_PLOT" "exit $rc; $(diff "$tmp/plain.out" "$tmp/p.out" | head -n 4 | tr '\n' '|')"
fi
if diff <(cat "$tmp/plain.err") <(grep -v "^#   plot $tmp/path.svg: " "$tmp/p.err") >/dev/null &&
	[ "$(grep -c "^#   plot $tmp/path.svg: " "$tmp/p.err")" -eq 1 ]; then
	ok "sim_path: one more note on stderr, nothing else changed"
else
	bad "sim_path: notes with SIM_PLOT" "$(diff "$tmp/plain.err" "$tmp/p.err" | head -n 4 | tr '\n' '|')"
fi
svg_ok "sim_path plot" "$tmp/path.svg"
svg_has "sim_path plot" "$tmp/path.svg" "${labels[@]}" "bench/sim_path path_cubic_sack_loss2: " "cubic, SACK"
rexmits_match "sim_path plot" "$tmp/path.svg" "$tmp/p.err"
SIM_PATH=$path SIM_PLOT="$tmp/nr.svg" SIM_PLOT_RUN=path_newreno_nosack_loss2 "$simpath" >/dev/null 2>"$tmp/p.err"
rc=$?
if [ "$rc" -eq 0 ] && grep -qF "bench/sim_path path_newreno_nosack_loss2: " "$tmp/nr.svg" &&
	grep -qF "newreno, no SACK" "$tmp/nr.svg"; then
	ok "sim_path: SIM_PLOT_RUN picks the run it names"
else
	bad "sim_path: SIM_PLOT_RUN" "exit $rc: $(tr '\n' '|' <"$tmp/p.err" | head -c 300)"
fi
SIM_PATH=$path SIM_PLOT="$tmp/none.svg" SIM_PLOT_RUN=path_nothing "$simpath" >/dev/null 2>"$tmp/p.err"
rc=$?
if [ "$rc" -eq 1 ] && [ ! -e "$tmp/none.svg" ] && grep -q "^sim_path: SIM_PLOT_RUN: no run named 'path_nothing'" "$tmp/p.err"; then
	ok "sim_path: a SIM_PLOT_RUN that names no run fails (exit 1), no file left"
else
	bad "sim_path: unknown SIM_PLOT_RUN" "exit $rc: $(grep -v '^#' "$tmp/p.err" | tr '\n' '|')"
fi
SIM_PLOT="$tmp/no/dir/x.svg" "$simpath" >"$tmp/p.out" 2>"$tmp/p.err"
rc=$?
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/p.err")" -eq 1 ] && [ ! -s "$tmp/p.out" ] &&
	grep -q "^sim_path: SIM_PLOT: cannot create '$tmp/no/dir/x.svg'" "$tmp/p.err"; then
	ok "sim_path: an unwritable SIM_PLOT fails at once (exit 1: $(cat "$tmp/p.err"))"
else
	bad "sim_path: unwritable SIM_PLOT" "exit $rc: $(tr '\n' '|' <"$tmp/p.err" | head -c 300)"
fi

summary
[ "$failed" -eq 0 ]
