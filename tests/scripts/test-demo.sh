#!/usr/bin/env bash
# Checks the `synack` command and `synack demo`: options, exit statuses,
# error messages and the ladder's content for each scenario.
#
# Usage: tests/scripts/test-demo.sh            (after `make`)
#        SYNACK=path/to/synack tests/scripts/test-demo.sh
# Prints one "ok ..." or "FAIL ..." line per check and a last line
# "test-demo: N passed, N failed"; exits 1 if any check failed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SYNACK:-$root/build/synack}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
failed=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }

if [ ! -x "$bin" ]; then
	echo "FAIL $bin is not built (run make)"
	echo "test-demo: 0 passed, 1 failed"
	exit 1
fi

# run ARGS...: output in $tmp/out, errors in $tmp/err, status in $rc.
run() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# expect_rc NAME WANT
expect_rc() {
	if [ "$rc" -eq "$2" ]; then ok "$1 (exit $2)"; else bad "$1" "exit $rc, want $2"; fi
}

# has NAME TEXT: $tmp/out contains TEXT (fixed string).
has() {
	if grep -qF -- "$2" "$tmp/out"; then ok "$1"; else bad "$1" "no '$2' in the output"; fi
}

# hasre NAME REGEX: a line of $tmp/out matches the extended REGEX.
hasre() {
	if grep -qE -- "$2" "$tmp/out"; then ok "$1"; else bad "$1" "no line matching '$2'"; fi
}

# hasnote NAME TEXT: TEXT in the ladder's notes, which wrap at the ladder's
# width: the boxes' borders and line breaks are taken out first.
hasnote() {
	if sed 's/^[ 0-9.]*│ *//; s/ *│$//' "$tmp/out" | tr '\n' ' ' | tr -s ' ' | grep -qF -- "$2"; then
		ok "$1"
	else
		bad "$1" "no note '$2' in the output"
	fi
}

hasnt() {
	if grep -qF -- "$2" "$tmp/out"; then bad "$1" "unexpected '$2' in the output"; else ok "$1"; fi
}

# usage_error NAME ARGS...: exit 2, exactly one line "synack: ..." on stderr.
usage_error() {
	local name=$1
	shift
	run "$@"
	local lines first
	lines=$(wc -l <"$tmp/err")
	first=$(head -n 1 "$tmp/err")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [[ $first == synack:* ]]; then
		ok "$name (exit 2: $first)"
	else
		bad "$name" "exit $rc, stderr: $(tr '\n' '|' <"$tmp/err")"
	fi
}

# ---- the command and its help ----
for args in "--help" "help" "-h"; do
	run $args
	expect_rc "synack $args" 0
	has "synack $args lists demo" "demo "
done
has "usage mentions commands" "usage: synack COMMAND"
run demo --help
expect_rc "synack demo --help" 0
for opt in --bytes --delay --loss --seed --pcap --stats --no-color --simultaneous-open \
	--simultaneous-close --reset --rate --no-tls --tls13 --tls12 --keylog --plot; do
	has "demo --help documents $opt" "$opt"
done
run help demo
expect_rc "synack help demo" 0
has "help demo prints demo usage" "usage: synack demo"
run version
expect_rc "synack version" 0
if grep -qE '^synack [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out"; then ok "version format"; else bad "version format" "$(cat "$tmp/out")"; fi
run --version
expect_rc "synack --version" 0
run
expect_rc "synack without a command" 2

# ---- bad usage: one line on stderr, exit 2 ----
usage_error "unknown command" bogus
usage_error "unknown top-level option" --bogus
usage_error "help for an unknown command" help bogus
usage_error "unknown demo option" demo --bogus
usage_error "positional argument" demo extra
usage_error "missing value" demo --bytes
usage_error "non-numeric bytes" demo --bytes abc
usage_error "bytes zero" demo --bytes 0
usage_error "bytes above 64 MiB" demo --bytes 67108865
usage_error "negative bytes" demo --bytes -5
usage_error "trailing junk" demo --bytes 10k
usage_error "loss 100%" demo --loss 100
usage_error "loss 150%" demo --loss 150%
usage_error "negative loss" demo --loss -0.1
usage_error "non-numeric loss" demo --loss lots
usage_error "loss nan" demo --loss nan
usage_error "delay out of range" demo --delay 10001
usage_error "non-numeric seed" demo --seed x
usage_error "value for a flag" demo --stats=yes
usage_error "reset with simultaneous close" demo --reset --simultaneous-close
usage_error "pcap in a missing directory" demo --pcap "$tmp/no/such/dir/x.pcap"
usage_error "version with an argument" version extra
usage_error "keylog without TLS" demo --no-tls --keylog "$tmp/k"
usage_error "keylog: empty name" demo --keylog ""
usage_error "keylog in a missing directory" demo --keylog "$tmp/no/such/dir/keys"
usage_error "plot: empty name" demo --plot ""

# ---- the default scenario: TLS 1.3 over the connection ----
# Every message of the handshake as an arrow, in order, between TCP's
# handshake and its teardown; which keys protect it; the seed's names.
run demo
expect_rc "demo (TLS 1.3)" 0
if [ ! -s "$tmp/err" ]; then ok "tls demo: stderr empty"; else bad "tls demo: stderr empty" "$(head -n 1 "$tmp/err")"; fi
line_of() { grep -nF -- "$1" "$tmp/out" | head -n 1 | cut -d: -f1; }
prev=$(line_of "handshake 3/3")
# (an arrow from the client starts "│── NAME ", one from the server ends
# "NAME ──│")
for msg in "│── ClientHello " "ServerHello ──│" "EncryptedExtensions ──│" "Certificate ──│" \
	"CertificateVerify ──│" "Finished ──│" "│── Finished " "│── ApplicationData " \
	"ApplicationData ──│" "│── Alert " "teardown 1/4" "Alert ──│" "teardown 3/4" "teardown 4/4"; do
	at=$(line_of "$msg")
	if [ -n "$at" ] && [ -n "$prev" ] && [ "$at" -gt "$prev" ]; then
		ok "tls demo: '$msg' in order (line $at)"
	else
		bad "tls demo: '$msg' in order" "at line '${at:-none}', after line '${prev:-none}'"
	fi
	prev=$at
done
has "tls demo: header" "TLS 1.3 over the connection; the server is server.demo"
hasnote "tls demo: seed's ClientHello" "seed: ClientHello. TLS 1.3 also sends the client's key share"
hasnote "tls demo: seed's ServerHello" "seed: ServerHello, choosing version, cipher suite and group"
hasnote "tls demo: no ServerHelloDone in 1.3" "No ServerHelloDone in TLS 1.3"
hasnote "tls demo: session keys named as the seed does" "application traffic keys: the seed's symmetric session keys"
hasnote "tls demo: close_notify before FIN" "close_notify: this end sends no more data"
has "tls demo: plaintext hello" "[in the clear]"
has "tls demo: handshake keys" "[encrypted: handshake keys]"
has "tls demo: session keys" "[encrypted: application (session) keys]"
hasnote "tls demo: certificate check" "client checks the certificate chain against its trusted CA"
has "tls demo: server on 443" "server 10.0.0.2:443"
has "tls demo: client ends in TIME-WAIT" "client: FIN-WAIT-2 → TIME-WAIT"
hasnt "tls demo: no RST" "RST"
has "tls demo: data as TLS records" "data: TLS records from the"
has "tls demo: summary" "client received 1000 of 1000 response bytes, all intact"
hasre "tls demo: what was negotiated" '^TLS: TLSv1\.3, TLS_AES_128_GCM_SHA256, key exchange x25519, server signature ed25519, ALPN http/1.1, certificate verified$'
has "tls demo: points at --no-tls" "synack demo --no-tls"
cp "$tmp/out" "$tmp/tlsfirst"
run demo
if cmp -s "$tmp/out" "$tmp/tlsfirst"; then ok "tls demo: same seed, same output"; else bad "tls demo: same seed, same output" "$(diff "$tmp/out" "$tmp/tlsfirst" | head -n 4 | tr '\n' '|')"; fi
for args in "--loss 20 --seed 3" "--bytes 100000" "--simultaneous-open" "--simultaneous-close" "--reset"; do
	# shellcheck disable=SC2086
	run demo $args
	expect_rc "tls demo $args" 0
done
run demo --pcap "$tmp/tls.pcap" --keylog "$tmp/tls.keys"
expect_rc "tls demo --pcap --keylog" 0
if grep -qE '^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64}$' "$tmp/tls.keys" &&
	grep -qE '^SERVER_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64}$' "$tmp/tls.keys"; then
	ok "key log in NSS format"
else
	bad "key log in NSS format" "$(head -n 2 "$tmp/tls.keys" | tr '\n' '|')"
fi
if command -v tshark >/dev/null 2>&1; then
	# The capture decrypts with the key log: the request shows in the clear
	# and Wireshark's dissectors report no error (expert info).
	if tshark -r "$tmp/tls.pcap" -o "tls.keylog_file:$tmp/tls.keys" -Y 'tls.handshake.type == 20' 2>/dev/null | grep -q .; then
		ok "tshark decrypts the Finished messages with the key log"
	else
		bad "tshark decrypts the Finished messages with the key log"
	fi
	if tshark -r "$tmp/tls.pcap" -o "tls.keylog_file:$tmp/tls.keys" -x 2>/dev/null | grep -q 'GET / HTTP/1.0'; then
		ok "tshark shows the decrypted request"
	else
		bad "tshark shows the decrypted request"
	fi
	tshark -r "$tmp/tls.pcap" -o "tls.keylog_file:$tmp/tls.keys" -q -z expert,error >"$tmp/expert" 2>&1
	if grep -qE '^ *Error|Malformed' "$tmp/expert"; then
		bad "tshark expert info: no error" "$(grep -E 'Error|Malformed' "$tmp/expert" | head -n 3 | tr '\n' '|')"
	else
		ok "tshark expert info: no error"
	fi
else
	echo "skip tshark decryption checks (no tshark)"
fi

# ---- TLS 1.2: the seed's flow (--tls12) ----
run demo --tls12
expect_rc "demo --tls12" 0
has "tls12 demo: header" "TLS 1.2 over the connection"
hasnote "tls12 demo: the ClientHello offers 1.2 only" "versions=TLSv1.2"
# the seed's messages, in the seed's order, each as an arrow
order=$(grep -oE '(──|<─*) (ClientHello|ServerHello|Certificate|ServerKeyExchange|ServerHelloDone|ClientKeyExchange|ChangeCipherSpec|Finished|ApplicationData) ' "$tmp/out" |
	awk '{print $2}' | tr '\n' ' ')
want="ClientHello ServerHello Certificate ServerKeyExchange ServerHelloDone ClientKeyExchange ChangeCipherSpec Finished ChangeCipherSpec Finished ApplicationData ApplicationData "
if [ "$order" = "$want" ]; then ok "tls12 demo: the seed's messages in the seed's order"; else bad "tls12 demo: message order" "$order"; fi
hasnote "tls12 demo: seed's ServerKeyExchange" "seed: ServerKeyExchange: the server's ephemeral ECDHE public key"
hasnote "tls12 demo: seed's ServerHelloDone" "seed: ServerHelloDone"
hasnote "tls12 demo: seed's ClientKeyExchange and the session keys" "symmetric session keys"
hasnote "tls12 demo: seed's ChangeCipherSpec" "seed: ChangeCipherSpec: the client encrypts everything after this"
hasnote "tls12 demo: certificate check" "client checks the certificate chain against its trusted CA"
hasnote "tls12 demo: key block" "key block derived from the master secret"
has "tls12 demo: certificate in the clear" "certificate chain, in the clear in TLS 1.2"
has "tls12 demo: Finished under the session keys" "[encrypted: application (session) keys] seed: Finished"
has "tls12 demo: client ends in TIME-WAIT" "client: FIN-WAIT-2 → TIME-WAIT"
has "tls12 demo: summary" "client received 1000 of 1000 response bytes, all intact"
hasre "tls12 demo: what was negotiated" '^TLS: TLSv1\.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, key exchange x25519, server signature ed25519, ALPN http/1.1, certificate verified$'
if [ "$(tail -n 1 "$tmp/out")" = "the same over TLS 1.3: synack demo" ]; then
	ok "tls12 demo: the last line points at synack demo for TLS 1.3"
else
	bad "tls12 demo: last line" "$(tail -n 1 "$tmp/out")"
fi
for args in "--loss 20 --seed 3" "--bytes 100000" "--reset"; do
	# shellcheck disable=SC2086
	run demo --tls12 $args
	expect_rc "tls12 demo $args" 0
done
run demo --tls12 --pcap "$tmp/tls12.pcap" --keylog "$tmp/tls12.keys"
expect_rc "tls12 demo --pcap --keylog" 0
if grep -qE '^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$' "$tmp/tls12.keys"; then
	ok "tls12 key log: one CLIENT_RANDOM line (NSS format)"
else
	bad "tls12 key log" "$(head -n 2 "$tmp/tls12.keys" | tr '\n' '|')"
fi
if command -v tshark >/dev/null 2>&1; then
	# tshark names every handshake message the seed names, decrypts the
	# Finished messages and the request, and reports no error
	names=$(tshark -r "$tmp/tls12.pcap" -o "tls.keylog_file:$tmp/tls12.keys" -T fields -e _ws.col.Info 2>/dev/null |
		grep -v '^[0-9]* *→\|\[' | tr '\n' '|')
	for m in "Client Hello" "Server Hello" "Certificate" "Server Key Exchange" "Server Hello Done" \
		"Client Key Exchange" "Change Cipher Spec" "Finished"; do
		case "$names" in
		*"$m"*) ok "tshark names $m in the --tls12 capture" ;;
		*) bad "tshark names $m in the --tls12 capture" "$names" ;;
		esac
	done
	if tshark -r "$tmp/tls12.pcap" -o "tls.keylog_file:$tmp/tls12.keys" -Y 'tls.handshake.type == 20' 2>/dev/null | grep -q .; then
		ok "tshark decrypts the TLS 1.2 Finished messages with the key log"
	else
		bad "tshark decrypts the TLS 1.2 Finished messages with the key log"
	fi
	if tshark -r "$tmp/tls12.pcap" -o "tls.keylog_file:$tmp/tls12.keys" -x 2>/dev/null | grep -q 'GET / HTTP/1.0'; then
		ok "tshark shows the decrypted TLS 1.2 request"
	else
		bad "tshark shows the decrypted TLS 1.2 request"
	fi
	tshark -r "$tmp/tls12.pcap" -o "tls.keylog_file:$tmp/tls12.keys" -q -z expert,error >"$tmp/expert" 2>&1
	if grep -qE '^ *Error|Malformed' "$tmp/expert"; then
		bad "tshark expert info on the --tls12 capture: no error" "$(grep -E 'Error|Malformed' "$tmp/expert" | head -n 3 | tr '\n' '|')"
	else
		ok "tshark expert info on the --tls12 capture: no error"
	fi
else
	echo "skip tshark --tls12 checks (no tshark)"
fi

# ---- the TCP scenario (plain TCP: --no-tls) ----
run demo --no-tls --no-tls
expect_rc "demo" 0
has "header: client column" "client 10.0.0.1:"
has "header: server column" "server 10.0.0.2:80"
has "server listens" "server: CLOSED → LISTEN"
has "client SYN-SENT" "client: CLOSED → SYN-SENT"
has "SYN arrow" "── SYN seq 0 win"
has "SYN-ACK arrow" "SYN-ACK seq 0 ack 1 win"
has "options shown" "<mss 1460"
has "timestamps shown" "TS val"
has "handshake 1/3" "handshake 1/3: client picks its initial sequence number, ISN"
has "handshake 2/3" "handshake 2/3: server acknowledges ISN+1"
has "handshake 3/3" "handshake 3/3"
has "request" "data: client sends its request"
has "response" "data: response bytes 1-1000 of 1000"
has "teardown 1/4" "teardown 1/4: client has nothing more to send (FIN)"
has "teardown 4/4" "teardown 4/4"
has "client FIN-WAIT-1" "client: ESTABLISHED → FIN-WAIT-1"
has "client FIN-WAIT-2" "client: FIN-WAIT-1 → FIN-WAIT-2"
has "client TIME-WAIT" "client: FIN-WAIT-2 → TIME-WAIT"
has "TIME-WAIT explained" "TIME-WAIT: waiting 2*MSL"
has "client CLOSED" "client: TIME-WAIT → CLOSED"
has "server CLOSE-WAIT" "server: ESTABLISHED → CLOSE-WAIT"
has "server LAST-ACK" "server: CLOSE-WAIT → LAST-ACK"
has "server CLOSED" "server: LAST-ACK → CLOSED"
has "summary" "client received 1000 of 1000 response bytes, all intact"
hasnt "nothing lost" "lost on the link"
if grep -q $'\033' "$tmp/out"; then bad "no colour into a pipe"; else ok "no colour into a pipe"; fi
if [ ! -s "$tmp/err" ]; then ok "demo: stderr empty"; else bad "demo: stderr empty" "$(head -n 1 "$tmp/err")"; fi
cp "$tmp/out" "$tmp/first"
run demo --no-tls --no-tls
if cmp -s "$tmp/out" "$tmp/first"; then ok "same seed, same output"; else bad "same seed, same output"; fi
run demo --no-tls --seed 7
if cmp -s "$tmp/out" "$tmp/first"; then bad "another seed, other ISNs"; else ok "another seed, other ISNs"; fi

# ---- options ----
run demo --no-tls --bytes 5000
expect_rc "demo --bytes 5000" 0
has "several data segments" "response bytes 1-"
has "last byte" "-5000 of 5000"
has "all bytes" "client received 5000 of 5000 response bytes"
run demo --no-tls --delay 50 --rate 0
expect_rc "demo --delay 50 --rate 0" 0
has "delay in the header" "link: 50 ms one way"
hasre "SYN-ACK after one delay" '^ *50\.000 │<─+ SYN-ACK seq 0 ack 1 '
hasre "TIME-WAIT ends 2*MSL after the last ACK" '^ *120300\.000 │ client: TIME-WAIT → CLOSED' 
run demo --no-tls --loss 30 --seed 2
expect_rc "demo --loss 30 --seed 2" 0
has "loss in the header" "30% loss each way"
has "lost segment marked" "✗ lost on the link"
has "retransmission shown" "retransmission"
has "retransmission timer note" "retransmission timer expired"
has "loss: still all bytes" "client received 1000 of 1000 response bytes, all intact"
run demo --no-tls --loss 0.3 --seed 2
cp "$tmp/out" "$tmp/frac"
run demo --no-tls --loss 30% --seed 2
if cmp -s "$tmp/out" "$tmp/frac"; then ok "loss 0.3 = 30%"; else bad "loss 0.3 = 30%"; fi
run demo --no-tls --loss 0.99
expect_rc "demo --loss 0.99 does not complete" 1
if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^synack: demo: ' "$tmp/err"; then
	ok "failure reason on one line: $(cat "$tmp/err")"
else
	bad "failure reason on one line" "$(tr '\n' '|' <"$tmp/err")"
fi
has "failed run still drawn" "did not complete"

run demo --no-tls --simultaneous-open
expect_rc "demo --simultaneous-open" 0
has "simopen header" "client 10.0.0.1:40000"
for side in client server; do
	has "simopen: $side SYN-SENT" "$side: CLOSED → SYN-SENT"
	has "simopen: $side SYN-RECEIVED" "$side: SYN-SENT → SYN-RECEIVED"
	has "simopen: $side ESTABLISHED" "$side: SYN-RECEIVED → ESTABLISHED"
done
hasnt "simopen: no listener" "LISTEN"
has "simopen explained" "simultaneous open:"

run demo --no-tls --simultaneous-close
expect_rc "demo --simultaneous-close" 0
for side in client server; do
	has "simclose: $side FIN-WAIT-1" "$side: ESTABLISHED → FIN-WAIT-1"
	has "simclose: $side CLOSING" "$side: FIN-WAIT-1 → CLOSING"
	has "simclose: $side TIME-WAIT" "$side: CLOSING → TIME-WAIT"
	has "simclose: $side CLOSED" "$side: TIME-WAIT → CLOSED"
done
has "simclose explained" "simultaneous close:"

run demo --no-tls --reset
expect_rc "demo --reset" 0
has "RST arrow" "── RST seq"
has "reset explained" "reset: client aborts the connection"
has "server reset" "server: ESTABLISHED → CLOSED"
hasnt "reset: no TIME-WAIT" "→ TIME-WAIT"
hasnt "reset: no FIN" "FIN,"

run demo --no-tls --stats
expect_rc "demo --stats" 0
has "stats header" "counter"
has "stats: active opens" "tcp_active_opens"
has "stats: documented" "connect() calls that sent a SYN"
has "stats: link" "client -> server"
if grep -qE '^[a-z_]+ +0 +0 ' "$tmp/out"; then bad "stats: zero rows hidden"; else ok "stats: zero rows hidden"; fi

run demo --no-tls --pcap "$tmp/demo.pcap"
expect_rc "demo --pcap" 0
magic=$(od -An -tx1 -N4 "$tmp/demo.pcap" 2>/dev/null | tr -d ' ')
if [ "$magic" = "d4c3b2a1" ] || [ "$magic" = "a1b2c3d4" ]; then ok "pcap magic"; else bad "pcap magic" "$magic"; fi
segs=$(sed -n 's/.*; \([0-9]*\) segments.*/\1/p' "$tmp/out")
if command -v tshark >/dev/null 2>&1; then
	frames=$(tshark -r "$tmp/demo.pcap" 2>/dev/null | wc -l)
	if [ "$frames" = "$segs" ]; then ok "pcap holds every segment ($frames)"; else bad "pcap frames" "$frames, ladder $segs"; fi
else
	echo "skip pcap frame count (no tshark)"
fi

# ---- --plot: the time-sequence graph (tools/plot.c) ----
# count_class FILE CLASS: elements whose class is exactly CLASS (the legend's
# samples carry one more class, "key", and are not counted).
count_class() { grep -o "class=\"$2\"" "$1" | wc -l; }
# svg_check NAME FILE: well-formed XML, as a browser needs it.
svg_check() {
	if python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "$2" 2>"$tmp/xmlerr"; then
		ok "$1: well-formed XML"
	else
		bad "$1: well-formed XML" "$(tail -n 1 "$tmp/xmlerr")"
	fi
}
# svg_has NAME FILE TEXT
svg_has() {
	if grep -qF -- "$3" "$2"; then ok "$1: has '$3'"; else bad "$1" "no '$3' in $2"; fi
}
lossy="--no-tls --bytes 2000000 --loss 2 --seed 1"
# shellcheck disable=SC2086
run demo $lossy --plot "$tmp/loss.svg" --pcap "$tmp/loss.pcap"
expect_rc "demo $lossy --plot" 0
has "plot: the lossy run completes" "client received 2000000 of 2000000 response bytes, all intact"
if [ ! -s "$tmp/err" ]; then ok "plot: stderr empty"; else bad "plot: stderr empty" "$(head -n 1 "$tmp/err")"; fi
svg_check "lossy plot" "$tmp/loss.svg"
for text in "time (s)" "relative sequence number (bytes)" "cwnd, ssthresh (bytes)" "srtt (ms)" \
	"server 10.0.0.2:80 → client 10.0.0.1:" ">ACK</text>" ">receive window</text>" ">cwnd</text>" \
	">ssthresh</text>" ">srtt</text>" "retransmitted segment"; do
	svg_has "lossy plot" "$tmp/loss.svg" "$text"
done
# One mark per data segment the server sent: the ladder's arrows from the
# server with a length, and (with tshark) the capture's.
marks=$(($(count_class "$tmp/loss.svg" seg) + $(count_class "$tmp/loss.svg" "seg rexmit")))
want=$(grep -cE ' len [1-9][0-9]* ─+│$' "$tmp/out")
if [ "$marks" -eq "$want" ] && [ "$want" -gt 1000 ]; then ok "plot: one mark per server data segment ($marks)"; else bad "plot: data segment marks" "$marks marks, $want in the ladder"; fi
if command -v tshark >/dev/null 2>&1; then
	frames=$(tshark -r "$tmp/loss.pcap" -Y 'tcp.srcport == 80 && tcp.len > 0' 2>/dev/null | wc -l)
	if [ "$marks" -eq "$frames" ]; then ok "plot: marks = data segments in the capture ($frames)"; else bad "plot: marks against the capture" "$marks marks, $frames frames"; fi
else
	echo "skip plot marks against the capture (no tshark)"
fi
rexmits=$(count_class "$tmp/loss.svg" "seg rexmit")
want=$(grep -c "retransmission: server sends" "$tmp/out")
if [ "$rexmits" -gt 0 ] && [ "$rexmits" -eq "$want" ]; then ok "plot: $rexmits retransmissions marked"; else bad "plot: retransmissions marked" "$rexmits marked, $want in the ladder"; fi
if [ "$(count_class "$tmp/loss.svg" rxmark)" -eq "$rexmits" ]; then ok "plot: each retransmission circled"; else bad "plot: each retransmission circled"; fi
if [ "$(count_class "$tmp/loss.svg" sack)" -gt 0 ]; then ok "plot: SACK blocks marked"; else bad "plot: SACK blocks marked" "none"; fi
# shellcheck disable=SC2086
run demo $lossy --plot "$tmp/loss2.svg"
if cmp -s "$tmp/loss.svg" "$tmp/loss2.svg"; then ok "plot: same seed, same file"; else bad "plot: same seed, same file" "$(cmp "$tmp/loss.svg" "$tmp/loss2.svg" 2>&1)"; fi
run demo --no-tls --bytes 100000 --plot "$tmp/clean.svg"
expect_rc "demo --plot without loss" 0
svg_check "lossless plot" "$tmp/clean.svg"
marks=$(count_class "$tmp/clean.svg" seg)
if [ "$marks" -gt 10 ] && [ "$(count_class "$tmp/clean.svg" "seg rexmit")" -eq 0 ]; then ok "plot: no retransmission without loss ($marks segments)"; else bad "plot: lossless marks" "$marks segments, $(count_class "$tmp/clean.svg" "seg rexmit") retransmitted"; fi
run demo --plot "$tmp/tls.svg"
expect_rc "demo --plot over TLS" 0
svg_check "TLS plot" "$tmp/tls.svg"
svg_has "TLS plot" "$tmp/tls.svg" "server 10.0.0.2:443"
# An unwritable path: one line, exit 1, nothing run.
run demo --plot "$tmp/no/such/dir/x.svg"
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^synack: demo: --plot: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then
	ok "plot: unwritable path fails (exit 1: $(cat "$tmp/err"))"
else
	bad "plot: unwritable path" "exit $rc, stderr: $(tr '\n' '|' <"$tmp/err")"
fi
if [ -w /dev/full ]; then
	run demo --no-tls --plot /dev/full
	if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^synack: demo: --plot: writing '/dev/full' failed" "$tmp/err"; then
		ok "plot: a failed write fails the run (exit 1)"
	else
		bad "plot: a failed write" "exit $rc, stderr: $(tr '\n' '|' <"$tmp/err")"
	fi
fi

# ---- golden ladders ----
# The drawing, byte for byte, as tests/demo/ holds it (tools/ladder.c renders
# it; the run is deterministic for a seed). After a change to the drawing or
# to the stack's behaviour that is meant, write the new file with the command
# the failure prints, and look at the diff before committing it.
golden() {
	local file=$1
	shift
	run demo "$@"
	if cmp -s "$tmp/out" "$root/tests/demo/$file"; then
		ok "golden ladder: demo $* = tests/demo/$file"
	else
		bad "golden ladder: demo $*" "differs from tests/demo/$file at line $(cmp "$tmp/out" \
			"$root/tests/demo/$file" 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p'); if meant: $bin demo $* >tests/demo/$file"
	fi
}
golden default.txt --no-tls
golden loss-35-seed-10.txt --no-tls --loss 35 --seed 10 --delay 3
golden simultaneous-open.txt --no-tls --simultaneous-open
golden simultaneous-close.txt --no-tls --simultaneous-close
golden reset.txt --no-tls --reset
golden tls13.txt
golden tls12.txt --tls12

# ---- colour ----
if command -v script >/dev/null 2>&1; then
	script -qec "$bin demo" /dev/null >"$tmp/tty" 2>&1
	if grep -q $'\033\[' "$tmp/tty"; then ok "colour on a terminal"; else bad "colour on a terminal"; fi
	NO_COLOR=1 script -qec "$bin demo" /dev/null >"$tmp/tty" 2>&1
	if grep -q $'\033\[' "$tmp/tty"; then bad "NO_COLOR honoured"; else ok "NO_COLOR honoured"; fi
	script -qec "$bin demo --no-color" /dev/null >"$tmp/tty" 2>&1
	if grep -q $'\033\[' "$tmp/tty"; then bad "--no-color honoured"; else ok "--no-color honoured"; fi
else
	echo "skip colour checks (no script(1))"
fi

echo "test-demo: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
