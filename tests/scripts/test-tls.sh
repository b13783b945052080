#!/usr/bin/env bash
# TLS interop: synack's TLS engine against OpenSSL, GnuTLS, curl and
# Python's ssl module, as a client and as a server.
#
# Usage: tests/scripts/test-tls.sh            (after `make`)
#        SYNACK=path/to/synack tests/scripts/test-tls.sh
# Prints one "ok ..." / "FAIL ..." / "SKIP: ..." line per check and a last
# line "test-tls: N passed, N failed"; exits 1 if any check failed.
#
# Certificates are made for this run with `openssl req`/`openssl x509`: a
# CA and a leaf for localhost, 127.0.0.1, ::1 and the namespace addresses,
# once with EC P-256 keys and once with RSA-2048; a second CA (unknown to
# the client), a leaf for another name, an expired leaf (`-days -1`) and a
# client certificate.
#
# 1. Kernel sockets on loopback (`--kernel`: the TLS engine alone, no
#    privileges needed). synack connect against openssl s_server (every
#    suite x group: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
#    TLS_CHACHA20_POLY1305_SHA256 x X25519, P-256), gnutls-serv (each suite
#    once, both groups among them) and a Python ssl server; synack serve
#    against openssl s_client (every suite x group), gnutls-cli, curl and
#    a Python ssl client. Data goes both ways and is compared by SHA-256
#    (base64 lines through echo servers: s_server -rev reverses each line,
#    which `rev` predicts); the suite and group synack reports (-v) are the
#    ones the peer was restricted to. Key logs of both ends are compared
#    line by line. Then the failures: unknown CA, wrong name, expired
#    certificate (synack client: exit 1, one line naming the alert), a
#    client certificate required and missing, and a server that gets
#    garbage, a stalled handshake and half a ClientHello and still serves.
#    Bad --cert/--key files: one line, exit 1. TLS 1.2 (issue 10): synack
#    serve --tls12 against openssl s_client -tls1_2 (each ECDHE AEAD
#    suite, EC and RSA) and gnutls-cli VERS-TLS1.2; curl --tls-max 1.2
#    against serve's default (both versions); synack connect (offering 1.3
#    and 1.2) against openssl s_server -tls1_2 (each suite, both
#    certificate types) and gnutls-serv VERS-TLS1.2; --tls12 and --tls13
#    pinning; the 1.2 key log line equal to s_server's.
# 2. synack's own TCP over TUN inside a private network namespace (as root
#    or with CAP_NET_ADMIN; otherwise SKIP): synack serve --tls --http
#    against curl (also --tls-max 1.2) and openssl s_client in the
#    namespace, synack connect --tls against openssl s_server there (also
#    -tls1_2 with EC and RSA certificates).
# 3. Load: wrk with 200 connections for 5 s against synack serve --tls
#    --http over --kernel and over TUN: no socket error, no non-2xx answer,
#    and the server's resident memory (VmRSS) back near its baseline.
#
# Every peer runs under `timeout --foreground`; every process, the
# namespace and the files are removed on exit, also on failure. With a
# sanitizer build (SYNACK=build-asan/synack) every sanitizer report of a
# synack process is a failure, and the memory comparison is only printed
# (ASan keeps freed memory in quarantine).
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SYNACK:-$root/build/synack}
NS=synack-tls-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-tls.XXXXXX")
pass=0
failed=0
pids=()
have_ns=0
sanitized=0
grep -qa -e __asan_init -e __ubsan_handle "$bin" 2>/dev/null && sanitized=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$tmp/sanitizer"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:log_path=$tmp/sanitizer"
# A base port for this run, so that two runs do not collide.
P=$((20000 + ($$ % 1500) * 30))

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
skip() { echo "SKIP: $1"; }
check() { # check NAME CONDITION-STATUS [DETAIL]
	if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "${3:-}"; fi
}
summary() { echo "test-tls: $pass passed, $failed failed"; }

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	if [ "$have_ns" -eq 1 ]; then
		p=$(ip netns pids "$NS" 2>/dev/null)
		# shellcheck disable=SC2086 # one pid a word
		[ -z "$p" ] || kill -KILL $p 2>/dev/null
		ip netns del "$NS" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip_all() {
	skip "$1"
	summary
	exit 0
}

if [ ! -x "$bin" ]; then
	echo "FAIL $bin is not built (run make)"
	echo "test-tls: 0 passed, 1 failed"
	exit 1
fi
for t in openssl python3 sha256sum rev base64 ss; do
	command -v "$t" >/dev/null || skip_all "$t is missing (scripts/deps.sh test installs it)"
done
"$bin" serve --help 2>/dev/null | grep -q -- '--tls' || skip_all "this synack has no --tls yet"

# san_check WHERE: each sanitizer report written since the last call is one
# failure (a no-op for an optimised build).
san_reports=0
san_check() {
	local f
	for f in "$tmp"/sanitizer.*; do
		[ -e "$f" ] || continue
		san_reports=$((san_reports + 1))
		bad "sanitizer report of pid ${f##*.} (found after: $1)" \
			"$(grep -m5 -E 'ERROR|runtime error|^ *#[0-9] ' "$f" | sed 's/^ *//' | tr '\n' ' ' | head -c 700)"
		mv "$f" "$tmp/seen.${f##*/}"
	done
}
san_in() { grep -m1 -E 'Sanitizer|runtime error' "$1" 2>/dev/null; }

# ---- certificates ----

pki=$tmp/pki
mkdir -p "$pki"
SAN_LIST="DNS:localhost,IP:127.0.0.1,IP:::1,IP:10.71.0.2,IP:10.72.0.1"
# newkey ec|rsa: the openssl req key options.
newkey() { if [ "$1" = ec ]; then echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256"; else echo "-newkey rsa:2048"; fi; }
# mkca NAME ec|rsa
mkca() {
	# shellcheck disable=SC2046 # the key options are words
	openssl req -x509 $(newkey "$2") -nodes -keyout "$pki/$1.key" -out "$pki/$1.pem" -days 30 \
		-subj "/CN=synack test $1" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>>"$pki/log"
}
# mkleaf NAME ec|rsa CA DAYS SAN [EKU]
mkleaf() {
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature%s\nextendedKeyUsage=%s\n' \
		"$5" "$([ "$2" = rsa ] && echo ,keyEncipherment)" "${6:-serverAuth}" >"$pki/$1.ext"
	# shellcheck disable=SC2046
	openssl req -new $(newkey "$2") -nodes -keyout "$pki/$1.key" -out "$pki/$1.csr" \
		-subj "/CN=$(echo "${5#DNS:}" | cut -d, -f1)" 2>>"$pki/log" &&
		openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$3.pem" -CAkey "$pki/$3.key" -CAcreateserial \
			-days "$4" -extfile "$pki/$1.ext" -out "$pki/$1.pem" 2>>"$pki/log"
}
mkca ca-ec ec && mkca ca-rsa rsa && mkca ca-other ec &&
	mkleaf leaf-ec ec ca-ec 30 "$SAN_LIST" &&
	mkleaf leaf-rsa rsa ca-rsa 30 "$SAN_LIST" &&
	mkleaf leaf-other ec ca-other 30 "$SAN_LIST" &&
	mkleaf leaf-wrongname ec ca-ec 30 "DNS:wrong.example" &&
	mkleaf leaf-expired ec ca-ec -1 "$SAN_LIST" &&
	mkleaf client ec ca-ec 30 "DNS:client.example" clientAuth
check "certificates made with openssl req/x509 (EC P-256, RSA-2048; CA, leaves, expired)" $? "$(tail -3 "$pki/log")"
cat "$pki/ca-ec.pem" "$pki/ca-rsa.pem" >"$pki/ca-both.pem"
expired_dates=$(openssl x509 -in "$pki/leaf-expired.pem" -noout -enddate 2>/dev/null)

# ---- data and peers ----

# Base64 lines (76 characters): text every peer passes through unchanged.
head -c 300000 /dev/urandom | base64 -w 76 >"$tmp/lines"
lines_sum=$(sha256sum <"$tmp/lines" | cut -d' ' -f1)
rev_sum=$(rev <"$tmp/lines" | sha256sum | cut -d' ' -f1)
mkdir -p "$tmp/www"
head -c $((1 << 20)) /dev/urandom >"$tmp/www/blob.bin"
blob_sum=$(sha256sum <"$tmp/www/blob.bin" | cut -d' ' -f1)
echo "<h1>synack over TLS</h1>" >"$tmp/www/index.html"

cat >"$tmp/peer.py" <<'EOF'
# Python ssl peers for test-tls.sh.
import hashlib, os, socket, ssl, sys, time

def echo_server(port, cert, key, ready):
    """One TLS connection: echo until the peer's close_notify, then ours."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    l = socket.create_server(("127.0.0.1", int(port)))
    l.settimeout(20)
    open(ready, "w").close()
    raw, _ = l.accept()
    raw.settimeout(20)
    s = ctx.wrap_socket(raw, server_side=True)
    while True:
        b = s.recv(65536)
        if not b:
            break
        s.sendall(b)
    s.unwrap()
    raw.close()

def https_get(port, ca, path, out):
    """GET path over TLS 1.3, verified against ca; the body to out."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path.encode())
    data = bytearray()
    while True:
        b = s.recv(65536)  # SSLEOFError if the server ends without close_notify
        if not b:
            break
        data += b
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit("answer: %r" % head[:100])
    open(out, "wb").write(body)
    print(s.version(), s.cipher()[0])

def garbage(port):
    """Random bytes instead of a ClientHello: the first bytes back."""
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    try:
        s.sendall(b"\x16\x03\x01\x40\x00" + os.urandom(65536))
    except (BrokenPipeError, ConnectionResetError):
        pass
    got = b""
    try:
        while len(got) < 64:
            b = s.recv(64)
            if not b:
                break
            got += b
    except ConnectionResetError:
        pass
    print(got[:7].hex())

def stall(port, what, limit):
    """Connect, send nothing (or half a ClientHello) and time how long
    the server keeps the connection."""
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=float(limit))
    if what == "half":
        s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(40))
    t0 = time.monotonic()
    try:
        while s.recv(4096):
            pass
        how = "closed"
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        sys.exit("still open after %s s" % limit)
    print("%s after %.1f s" % (how, time.monotonic() - t0))

globals()[sys.argv[1]](*sys.argv[2:])
EOF

# bgrun CMD...: CMD in the background (under timeout --foreground, LIMIT
# seconds, default 60); $! is its pid and cleanup kills it.
bgrun() {
	timeout --foreground -k 5 "${LIMIT:-60}" "$@" &
	pids+=($!)
}
# wait_port PORT [NS-PREFIX...]: until something listens on PORT.
wait_port() {
	local port=$1
	shift
	# up to 20 s: an openssl s_server on a loaded CI machine beside the
	# ASan run took more than 5 (a refused connect, CI of 2026-12-06)
	for _ in $(seq 400); do
		"$@" ss -Hltn "sport = :$port" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
wait_file() {
	for _ in $(seq 100); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# feed FILE OUT SIZE: FILE, then keep standard input open until OUT holds
# SIZE bytes (at most 20 s): for peers that hang up at the end of input.
feed() {
	cat "$1"
	for _ in $(seq 200); do
		[ "$(stat -c %s "$2" 2>/dev/null || echo 0)" -ge "$3" ] && return 0
		sleep 0.1
	done
}
sum() { sha256sum <"$1" | cut -d' ' -f1; }
lines_size=$(stat -c %s "$tmp/lines")

# start_serve NAME ARGS...: synack serve in the background, until it
# listens. $srv_pid, $srv_log.
start_serve() {
	srv_log=$tmp/serve.$1.log
	shift
	LIMIT=300 bgrun "$bin" serve "$@" >"$srv_log" 2>&1
	srv_pid=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$srv_log" && return 0
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "  serve did not start: $(head -c 300 "$srv_log")"
	return 1
}
# stop_serve NAME: SIGTERM; it must exit 0 with no sanitizer report.
stop_serve() {
	kill -TERM "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null
	local rc=$?
	check "$1: synack serve exits 0 on SIGTERM" $([ $rc -eq 0 ] && [ -z "$(san_in "$srv_log")" ]; echo $?) \
		"rc=$rc $(san_in "$srv_log") $(tail -c 300 "$srv_log")"
	san_check "$1"
}
suites=(TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256)
groups=(X25519 P-256)
# synack's names of the groups
declare -A gname=([X25519]=x25519 [P-256]=secp256r1)
declare -A gnutls_suite=([TLS_AES_128_GCM_SHA256]=AES-128-GCM [TLS_AES_256_GCM_SHA384]=AES-256-GCM
	[TLS_CHACHA20_POLY1305_SHA256]=CHACHA20-POLY1305)
declare -A gnutls_group=([X25519]=GROUP-X25519 [P-256]=GROUP-SECP256R1)
# kind i: the certificate type of combination i (alternates EC and RSA).
kind() { if [ $(($1 % 2)) -eq 0 ]; then echo ec; else echo rsa; fi; }
# negotiated LOG SUITE GROUP: synack -v reported that suite and group.
negotiated() { grep -q "TLS.*: TLSv1.3 $2 ${gname[$3]}" "$1"; }
cli_k() { timeout --foreground -k 5 30 "$bin" connect --kernel "$@"; }

# ---- 1. kernel sockets: synack connect -> peers ----

echo "# kernel sockets: synack connect --tls -> openssl s_server, gnutls-serv, python"
i=0
for s in "${suites[@]}"; do
	for g in "${groups[@]}"; do
		k=$(kind $i)
		port=$((P + 1))
		bgrun openssl s_server -tls1_3 -ciphersuites "$s" -groups "$g" -rev -naccept 1 -accept "127.0.0.1:$port" \
			-cert "$pki/leaf-$k.pem" -key "$pki/leaf-$k.key" -quiet >"$tmp/ossl.out" 2>&1
		speer=$!
		wait_port $port
		cli_k -v --tls --ca "$pki/ca-$k.pem" --sni localhost 127.0.0.1 $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		wait "$speer" 2>/dev/null
		check "synack connect -> openssl s_server -rev, $s, $g, $k cert: exit 0, every line back reversed (SHA-256), $s/${gname[$g]} negotiated" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$rev_sum" ] && negotiated "$tmp/err" "$s" "$g"; echo $?) \
			"rc=$rc $(grep -v '^synack: connect: TLS: ' "$tmp/err" | head -c 300) | $(grep 'TLS: ' "$tmp/err") | s_server: $(head -c 200 "$tmp/ossl.out")"
		i=$((i + 1))
	done
done
san_check "synack connect -> openssl s_server"
grep -q '^synack: connect: TLS > ClientHello versions=TLSv1.3,TLSv1.2 suites=' "$tmp/err" &&
	grep -q '^synack: connect: TLS < ServerHello suite=' "$tmp/err" &&
	grep -q '^synack: connect: TLS < Certificate CN=localhost (1 certs) (handshake keys)$' "$tmp/err" &&
	grep -q '^synack: connect: TLS   write keys: application ' "$tmp/err"
check "connect -v: every TLS message on a line, with the keys protecting it" $? "$(grep ' TLS ' "$tmp/err" | head -3)"

if command -v gnutls-serv >/dev/null; then
	i=0
	for s in "${suites[@]}"; do
		g=${groups[$((i % 2))]}
		k=$(kind $((i + 1)))
		port=$((P + 2 + i))
		bgrun gnutls-serv --echo -p $port --x509certfile "$pki/leaf-$k.pem" --x509keyfile "$pki/leaf-$k.key" \
			--priority "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+${gnutls_suite[$s]}:-GROUP-ALL:+${gnutls_group[$g]}" \
			>"$tmp/gs.out" 2>&1
		speer=$!
		wait_port $port
		cli_k -v --tls --ca "$pki/ca-$k.pem" localhost $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		kill "$speer" 2>/dev/null
		wait "$speer" 2>/dev/null
		check "synack connect -> gnutls-serv --echo, $s, $g, $k cert: exit 0, echo equal (SHA-256), negotiated as asked" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ] && negotiated "$tmp/err" "$s" "$g"; echo $?) \
			"rc=$rc $(head -c 300 "$tmp/err") | gnutls-serv: $(grep -i -m3 'error\|alert' "$tmp/gs.out")"
		i=$((i + 1))
	done
else
	skip "gnutls-serv is missing (gnutls-bin)"
fi

rm -f "$tmp/ready"
bgrun python3 "$tmp/peer.py" echo_server $((P + 5)) "$pki/leaf-ec.pem" "$pki/leaf-ec.key" "$tmp/ready" >"$tmp/py.out" 2>&1
speer=$!
wait_file "$tmp/ready"
cli_k --tls --ca "$pki/ca-ec.pem" localhost $((P + 5)) <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
rc=$?
wait "$speer"
prc=$?
check "synack connect -> python ssl echo server: exit 0 both, echo equal (SHA-256)" \
	$([ $rc -eq 0 ] && [ $prc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ]; echo $?) \
	"rc=$rc python rc=$prc $(head -c 300 "$tmp/err") $(tail -c 300 "$tmp/py.out")"

# Key log: the client's secrets as synack logs them are the ones s_server logs.
port=$((P + 6))
rm -f "$tmp/kl.synack" "$tmp/kl.ossl"
bgrun openssl s_server -tls1_3 -rev -naccept 1 -accept "127.0.0.1:$port" -cert "$pki/leaf-ec.pem" \
	-key "$pki/leaf-ec.key" -keylogfile "$tmp/kl.ossl" -quiet >/dev/null 2>&1
speer=$!
wait_port $port
echo hello | cli_k --tls --ca "$pki/ca-ec.pem" --keylog "$tmp/kl.synack" localhost $port >/dev/null 2>"$tmp/err"
rc=$?
wait "$speer" 2>/dev/null
labels=$(awk '{print $1}' "$tmp/kl.synack" 2>/dev/null | sort -u | tr '\n' ' ')
missing=$(grep -v '^#' "$tmp/kl.synack" 2>/dev/null | grep -vxF -f <(grep -v '^#' "$tmp/kl.ossl" 2>/dev/null) | head -2)
# has_secrets FILE: the four TLS 1.3 traffic secrets, NSS format.
has_secrets() {
	local l
	for l in CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET CLIENT_TRAFFIC_SECRET_0 \
		SERVER_TRAFFIC_SECRET_0; do
		grep -q "^$l [0-9a-f]\{64\} [0-9a-f]\{64,96\}$" "$1" || return 1
	done
}
check "synack connect --keylog: 4 traffic secrets, each line also in s_server -keylogfile" \
	$([ $rc -eq 0 ] && [ -s "$tmp/kl.synack" ] && [ -z "$missing" ] && has_secrets "$tmp/kl.synack"; echo $?) \
	"rc=$rc labels: $labels; not in openssl's: $missing $(head -c 200 "$tmp/err")"

# The failures a client must name.
# neg NAME ALERT CERT CA [ARGS...]: s_server with CERT; synack trusting CA
# must exit 1 with one line naming ALERT, and s_server must have read it.
neg() {
	local name=$1 alert=$2 cert=$3 ca=$4 port=$((P + 7))
	shift 4
	bgrun openssl s_server -tls1_3 -rev -naccept 1 -accept "127.0.0.1:$port" -cert "$pki/$cert.pem" \
		-key "$pki/$cert.key" >"$tmp/neg.out" 2>&1
	local speer=$!
	wait_port $port
	cli_k --tls --ca "$pki/$ca.pem" "$@" localhost $port </dev/null >/dev/null 2>"$tmp/err"
	local rc=$?
	wait "$speer" 2>/dev/null
	check "$name: synack connect exits 1, one line: TLS handshake failed ... $alert" \
		$([ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "TLS handshake failed: sent $alert" "$tmp/err"; echo $?) \
		"rc=$rc $(head -c 400 "$tmp/err")"
	echo "     synack: $(head -c 300 "$tmp/err")"
	check "$name: openssl s_server received the alert ($alert)" \
		$(grep -qi "alert ${alert//_/ }" "$tmp/neg.out"; echo $?) "$(grep -i -m2 'error\|alert' "$tmp/neg.out")"
}
neg "unknown CA" unknown_ca leaf-other ca-ec
neg "wrong name" bad_certificate leaf-wrongname ca-ec --sni localhost
neg "expired certificate ($expired_dates)" certificate_expired leaf-expired ca-ec
san_check "synack connect failures"

# ---- 1. kernel sockets: peers -> synack serve ----

echo "# kernel sockets: openssl s_client, gnutls-cli, curl, python -> synack serve --kernel --tls"
SE=$((P + 8))
SR=$((P + 9))
start_serve echo-ec --kernel --port $SE --tls --cert "$pki/leaf-ec.pem" --key "$pki/leaf-ec.key" --echo \
	--keylog "$tmp/kl.serve" -v
pid_ec=$srv_pid log_ec=$srv_log
start_serve echo-rsa --kernel --port $SR --tls --cert "$pki/leaf-rsa.pem" --key "$pki/leaf-rsa.key" --echo -v
pid_rsa=$srv_pid log_rsa=$srv_log
i=0
for s in "${suites[@]}"; do
	for g in "${groups[@]}"; do
		k=$(kind $i)
		port=$SE log=$log_ec
		[ "$k" = rsa ] && port=$SR log=$log_rsa
		rm -f "$tmp/out"
		feed "$tmp/lines" "$tmp/out" "$lines_size" |
			timeout --foreground -k 5 30 openssl s_client -quiet -no_ign_eof -nocommands -tls1_3 -ciphersuites "$s" -groups "$g" \
				-connect "127.0.0.1:$port" -servername localhost -CAfile "$pki/ca-$k.pem" -verify_return_error \
				-keylogfile "$tmp/kl.sclient" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		check "openssl s_client -> synack serve --echo, $s, $g, $k cert: exit 0, echo equal (SHA-256), serve -v reports $s/${gname[$g]}" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ] &&
				grep 'TLS with' "$log" | tail -1 | grep -q "TLSv1.3 $s ${gname[$g]}"; echo $?) \
			"rc=$rc $(grep -i -m3 'error\|alert' "$tmp/err") | $(grep 'TLS with' "$log" | tail -1)"
		i=$((i + 1))
	done
done
missing=$(grep -v '^#' "$tmp/kl.serve" 2>/dev/null | grep -vxF -f <(grep -v '^#' "$tmp/kl.sclient") | head -2)
check "synack serve --keylog: the traffic secrets, every line also in s_client -keylogfile ($(wc -l <"$tmp/kl.serve" 2>/dev/null) lines)" \
	$([ -s "$tmp/kl.serve" ] && [ -z "$missing" ] && has_secrets "$tmp/kl.serve"; echo $?) "not in openssl's: $missing"

if command -v gnutls-cli >/dev/null; then
	i=0
	for s in "${suites[@]}"; do
		g=${groups[$(((i + 1) % 2))]}
		k=$(kind $i)
		port=$SE
		[ "$k" = rsa ] && port=$SR
		rm -f "$tmp/out"
		feed "$tmp/lines" "$tmp/out" "$lines_size" |
			timeout --foreground -k 5 30 gnutls-cli --x509cafile "$pki/ca-$k.pem" -p $port localhost \
				--priority "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+${gnutls_suite[$s]}:-GROUP-ALL:+${gnutls_group[$g]}" \
				--logfile "$tmp/gc.log" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		check "gnutls-cli -> synack serve --echo, $s, $g, $k cert: exit 0, echo equal (SHA-256)" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ]; echo $?) \
			"rc=$rc $(grep -i -m3 'error\|alert\|fail' "$tmp/gc.log" "$tmp/err")"
		i=$((i + 1))
	done
else
	skip "gnutls-cli is missing (gnutls-bin)"
fi
grep -qE '^synack: serve: 127\.0\.0\.1 port [0-9]+: TLS < ClientHello suites=' "$log_ec" &&
	grep -qE '^synack: serve: 127\.0\.0\.1 port [0-9]+: TLS > CertificateVerify ' "$log_ec"
check "serve -v: every TLS message on a line, named by its peer" $? "$(grep ' TLS ' "$log_ec" | head -3)"
kill -0 "$pid_ec" 2>/dev/null && kill -0 "$pid_rsa" 2>/dev/null
check "both echo servers still running" $?

# Robustness: garbage, a stalled handshake, half a ClientHello; the server
# answers garbage with an alert and goes on serving.
out=$(timeout --foreground 20 python3 "$tmp/peer.py" garbage $SR 2>&1)
check "garbage instead of a ClientHello: a fatal alert comes back (15 03 03 00 02 02 ..)" \
	$([[ $out == 150303000202* ]]; echo $?) "$out"
feed "$tmp/lines" "$tmp/out" "$lines_size" | timeout --foreground -k 5 30 openssl s_client -quiet -no_ign_eof -nocommands \
	-connect "127.0.0.1:$SR" -servername localhost -CAfile "$pki/ca-rsa.pem" >"$tmp/out" 2>"$tmp/err"
check "after the garbage the server still serves (s_client echo equal)" \
	$([ "$(sum "$tmp/out")" = "$lines_sum" ]; echo $?) "$(head -c 200 "$tmp/err")"
stop_serve "kernel echo servers (RSA)"
srv_pid=$pid_ec srv_log=$log_ec
stop_serve "kernel echo servers (EC)"

SH=$((P + 3))
start_serve https --kernel --port $SH --tls --cert "$pki/leaf-ec.pem" --key "$pki/leaf-ec.key" --http "$tmp/www" \
	--alpn http/1.1 --handshake-timeout 2 -v
if command -v curl >/dev/null; then
	i=0
	for s in "${suites[@]}"; do
		g=${groups[$((i % 2))]}
		rm -f "$tmp/out"
		timeout --foreground -k 5 30 curl -sS --tlsv1.3 --tls13-ciphers "$s" --curves "$g" --cacert "$pki/ca-ec.pem" \
			-o "$tmp/out" -w '%{http_code}' "https://localhost:$SH/blob.bin" >"$tmp/code" 2>"$tmp/err"
		rc=$?
		check "curl --cacert https://localhost/blob.bin (1 MiB), $s, $g: 200, SHA-256 equal" \
			$([ $rc -eq 0 ] && [ "$(cat "$tmp/code")" = 200 ] && [ "$(sum "$tmp/out")" = "$blob_sum" ]; echo $?) \
			"rc=$rc code=$(cat "$tmp/code") $(head -c 300 "$tmp/err")"
		i=$((i + 1))
	done
	for c in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
		rm -f "$tmp/out"
		timeout --foreground -k 5 30 curl -sS --tlsv1.2 --tls-max 1.2 --ciphers "$c" --cacert "$pki/ca-ec.pem" \
			-o "$tmp/out" -w '%{http_code}' "https://localhost:$SH/blob.bin" >"$tmp/code" 2>"$tmp/err"
		rc=$?
		check "curl --tlsv1.2 --tls-max 1.2 --ciphers $c https://localhost/blob.bin -> synack serve --tls (default versions): 200, SHA-256 equal, serve -v reports TLSv1.2" \
			$([ $rc -eq 0 ] && [ "$(cat "$tmp/code")" = 200 ] && [ "$(sum "$tmp/out")" = "$blob_sum" ] &&
				grep 'TLS with' "$srv_log" | tail -1 | grep -q ": TLSv1.2 "; echo $?) \
			"rc=$rc code=$(cat "$tmp/code") $(head -c 300 "$tmp/err") | $(grep 'TLS with' "$srv_log" | tail -1)"
	done
	timeout --foreground -k 5 30 curl -sv --tlsv1.2 --tls-max 1.2 --cacert "$pki/ca-ec.pem" "https://localhost:$SH/" \
		-o "$tmp/out" 2>"$tmp/err"
	check "curl --tls-max 1.2: ALPN http/1.1 accepted in TLS 1.2 too" \
		$([ "$(cat "$tmp/out")" = "<h1>synack over TLS</h1>" ] && grep -qi "ALPN.*accepted.*http/1.1" "$tmp/err"; echo $?) \
		"$(grep -i -m3 'alpn\|error' "$tmp/err")"
	timeout --foreground -k 5 30 curl -sv --cacert "$pki/ca-ec.pem" "https://127.0.0.1:$SH/" -o "$tmp/out" 2>"$tmp/err"
	check "curl https://127.0.0.1/ (IP address SAN): index.html; ALPN http/1.1 accepted" \
		$([ "$(cat "$tmp/out")" = "<h1>synack over TLS</h1>" ] && grep -qi "ALPN.*accepted.*http/1.1" "$tmp/err"; echo $?) \
		"$(grep -i -m3 'alpn\|error' "$tmp/err")"
else
	skip "curl is missing"
fi
out=$(timeout --foreground 20 python3 "$tmp/peer.py" https_get $SH "$pki/ca-ec.pem" /blob.bin "$tmp/out" 2>&1)
check "python ssl client -> synack https: 200, body SHA-256 equal, close_notify at the end ($out)" \
	$([ $? -eq 0 ] && [ "$(sum "$tmp/out")" = "$blob_sum" ]; echo $?) "$out"
out=$(timeout --foreground 20 python3 "$tmp/peer.py" stall $SH none 6 2>&1)
check "a client that sends nothing is dropped after --handshake-timeout 2 ($out)" \
	$([[ $out =~ (closed|reset)\ after\ [234]\. ]]; echo $?) "$out"
out=$(timeout --foreground 20 python3 "$tmp/peer.py" stall $SH half 6 2>&1)
check "half a ClientHello, then silence: dropped after the timeout ($out)" \
	$([[ $out =~ (closed|reset)\ after\ [234]\. ]]; echo $?) "$out"
out=$(timeout --foreground 20 python3 "$tmp/peer.py" https_get $SH "$pki/ca-ec.pem" /index.html "$tmp/out" 2>&1)
check "the server still serves after them" $? "$out"
grep -q "handshake not done after 2 s" "$srv_log"
check "serve -v names the handshake timeout" $? "$(tail -3 "$srv_log")"

# ---- load: wrk, 200 connections, 5 s, kernel sockets ----

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# synack_pid PID: the synack process under a timeout (or ip netns exec) PID.
synack_pid() {
	local p=$1 c
	for _ in 1 2 3; do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$(basename "$bin" | cut -c1-15)" ] && echo "$p" && return
		c=$(ps -o pid= --ppid "$p" | head -1 | tr -d ' ')
		[ -n "$c" ] || return
		p=$c
	done
}
# load LABEL URL PID [NS-PREFIX...]: wrk's own timeout is 10 s, not 2 s:
# the sanitizer build serves 200 new TLS connections at once slowly, and
# a slow answer is not an error (speed is measured by make bench)
load() {
	local label=$1 url=$2 pid base after out rc
	pid=$(synack_pid "$3")
	shift 3
	"$@" timeout --foreground 10 curl -sk -o /dev/null "$url" # warm up: first allocations
	base=$(rss "$pid")
	"$@" timeout --foreground -k 5 30 wrk -t2 -c200 -d5s --timeout 10s "$url" >"$tmp/wrk.out" 2>&1
	rc=$?
	# back to the baseline once the last connections are gone: a client
	# whose FIN or RST was lost is held until serve's linger timeout (10 s)
	for _ in $(seq $([ "$sanitized" -eq 1 ] && echo 2 || echo 30)); do
		sleep 0.5
		after=$(rss "$pid")
		[ -n "$after" ] && [ -n "$base" ] && [ "$after" -le $((base + 4096)) ] && break
	done
	out=$(tr '\n' ' ' <"$tmp/wrk.out" | tr -s ' ' | head -c 600)
	echo "     wrk: $(grep -E 'Requests/sec|requests in' "$tmp/wrk.out" | tr -s ' ' | tr '\n' ' ')"
	echo "     VmRSS of synack serve: ${base:-?} kB before, ${after:-?} kB after"
	check "$label: wrk -c200 -d5s: completed requests, no socket errors, no non-2xx answers" \
		$([ $rc -eq 0 ] && grep -qE '[1-9][0-9]* requests in' "$tmp/wrk.out" &&
			! grep -qE 'Socket errors|Non-2xx' "$tmp/wrk.out"; echo $?) "rc=$rc $out"
	if [ "$sanitized" -eq 1 ]; then
		skip "$label: memory after load: ASan keeps freed memory in quarantine (${base:-?} -> ${after:-?} kB)"
	else
		check "$label: VmRSS back near its baseline within 15 s of the load (${base:-?} -> ${after:-?} kB; allowed +4 MiB)" \
			$([ -n "$base" ] && [ -n "$after" ] && [ "$after" -le $((base + 4096)) ]; echo $?)
	fi
}
if command -v wrk >/dev/null; then
	echo "# load: wrk"
	load "kernel sockets" "https://127.0.0.1:$SH/index.html" "$srv_pid"
else
	skip "wrk is missing: no load test"
fi
stop_serve "kernel https server"

# ---- TLS 1.2: synack serve --tls12 against openssl and gnutls, then
# synack connect against openssl s_server -tls1_2 and gnutls-serv ----

echo "# kernel sockets: openssl s_client -tls1_2, gnutls-cli -> synack serve --kernel --tls12"
for k in ec rsa; do
	port=$((P + 10))
	[ "$k" = rsa ] && port=$((P + 11))
	start_serve "tls12-$k" --kernel --port $port --tls --tls12 --cert "$pki/leaf-$k.pem" --key "$pki/leaf-$k.key" \
		--echo -v
	auth=ECDSA
	[ "$k" = rsa ] && auth=RSA
	for c in AES128-GCM-SHA256 AES256-GCM-SHA384 CHACHA20-POLY1305; do
		rm -f "$tmp/out"
		feed "$tmp/lines" "$tmp/out" "$lines_size" |
			timeout --foreground -k 5 30 openssl s_client -quiet -no_ign_eof -nocommands -tls1_2 \
				-cipher "ECDHE-$auth-$c" -connect "127.0.0.1:$port" -servername localhost \
				-CAfile "$pki/ca-$k.pem" -verify_return_error >"$tmp/out" 2>"$tmp/err"
		rc=$?
		check "TLS 1.2: openssl s_client -tls1_2 -cipher ECDHE-$auth-$c -> synack serve --tls12 --echo: exit 0, echo equal (SHA-256), serve -v reports TLSv1.2" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ] &&
				grep 'TLS with' "$srv_log" | tail -1 | grep -q ": TLSv1.2 TLS_ECDHE_${auth}_WITH_"; echo $?) \
			"rc=$rc $(grep -i -m3 'error\|alert' "$tmp/err") | $(grep 'TLS with' "$srv_log" | tail -1)"
	done
	if [ "$k" = ec ]; then
		echo hello | timeout --foreground -k 5 20 openssl s_client -quiet -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA \
			-connect "127.0.0.1:$port" -CAfile "$pki/ca-ec.pem" >/dev/null 2>"$tmp/err"
		grep -q 'only CBC or static-RSA' "$srv_log"
		check "TLS 1.2: a client offering only CBC is refused; serve -v says why in one line" $? \
			"$(grep -i -m2 'fail\|alert' "$srv_log")"
		echo hello | timeout --foreground -k 5 20 openssl s_client -quiet -tls1_3 -connect "127.0.0.1:$port" \
			-CAfile "$pki/ca-ec.pem" >/dev/null 2>"$tmp/err"
		grep -qi 'alert protocol version' "$tmp/err"
		check "TLS 1.2: --tls12 pins the version: a TLS 1.3-only client gets protocol_version" $? \
			"$(grep -i -m2 'error\|alert' "$tmp/err")"
		# resumption: a session ticket (RFC 5077), then a session ID
		# without tickets (serve keeps a session cache)
		for how in ticket id; do
			opt=
			[ "$how" = id ] && opt=-no_ticket
			rm -f "$tmp/sess"
			echo hello | timeout --foreground -k 5 20 openssl s_client -tls1_2 $opt -sess_out "$tmp/sess" \
				-connect "127.0.0.1:$port" -CAfile "$pki/ca-ec.pem" >"$tmp/out1" 2>&1
			echo hello | timeout --foreground -k 5 20 openssl s_client -tls1_2 $opt -sess_in "$tmp/sess" \
				-connect "127.0.0.1:$port" -CAfile "$pki/ca-ec.pem" >"$tmp/out2" 2>&1
			grep -q '^New, TLSv1.2' "$tmp/out1" && grep -q '^Reused, TLSv1.2' "$tmp/out2" &&
				grep 'TLS with' "$srv_log" | tail -1 | grep -q 'resumed'
			check "TLS 1.2: openssl s_client -tls1_2 $opt -sess_out, then -sess_in: the second connection resumes (by $how), serve -v says resumed" \
				$? "$(grep -m1 -E '^(New|Reused)' "$tmp/out1") / $(grep -m1 -E '^(New|Reused)' "$tmp/out2") | $(grep 'TLS with' "$srv_log" | tail -1)"
		done
		if command -v gnutls-cli >/dev/null; then
			rm -f "$tmp/out"
			feed "$tmp/lines" "$tmp/out" "$lines_size" |
				timeout --foreground -k 5 30 gnutls-cli --x509cafile "$pki/ca-ec.pem" -p $port localhost \
					--priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" --logfile "$tmp/gc.log" >"$tmp/out" 2>"$tmp/err"
			rc=$?
			check "TLS 1.2: gnutls-cli VERS-TLS1.2 -> synack serve --tls12 --echo: exit 0, echo equal (SHA-256)" \
				$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ]; echo $?) \
				"rc=$rc $(grep -i -m3 'error\|alert\|fail' "$tmp/gc.log" "$tmp/err")"
		fi
	fi
	stop_serve "TLS 1.2 server ($k)"
done

echo "# kernel sockets: synack connect --tls -> openssl s_server -tls1_2, gnutls-serv VERS-TLS1.2"
# negotiated12 LOG SUITE: synack connect -v reported TLS 1.2 with SUITE.
negotiated12() { grep -q "TLS: TLSv1.2 $2 " "$1"; }
i=0
for k in ec rsa; do
	auth=ECDSA
	[ "$k" = rsa ] && auth=RSA
	for c in AES128-GCM-SHA256 AES256-GCM-SHA384 CHACHA20-POLY1305; do
		port=$((P + 12 + i))
		bgrun openssl s_server -tls1_2 -cipher "ECDHE-$auth-$c" -rev -naccept 1 -accept "127.0.0.1:$port" \
			-cert "$pki/leaf-$k.pem" -key "$pki/leaf-$k.key" -quiet >"$tmp/ossl.out" 2>&1
		speer=$!
		wait_port $port
		want=$(case "$c" in AES128*) echo AES_128_GCM_SHA256 ;; AES256*) echo AES_256_GCM_SHA384 ;;
			*) echo CHACHA20_POLY1305_SHA256 ;; esac)
		cli_k -v --tls --ca "$pki/ca-$k.pem" --sni localhost 127.0.0.1 $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		wait "$speer" 2>/dev/null
		check "TLS 1.2: synack connect --tls (1.3 and 1.2 offered) -> openssl s_server -tls1_2 -cipher ECDHE-$auth-$c -rev: exit 0, lines back reversed (SHA-256), TLSv1.2 TLS_ECDHE_${auth}_WITH_$want" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$rev_sum" ] &&
				negotiated12 "$tmp/err" "TLS_ECDHE_${auth}_WITH_$want"; echo $?) \
			"rc=$rc $(grep -v ' > \| < ' "$tmp/err" | head -c 300) | s_server: $(head -c 200 "$tmp/ossl.out")"
		i=$((i + 1))
	done
done
grep -q '^synack: connect: TLS < ServerKeyExchange ' "$tmp/err" &&
	grep -q '^synack: connect: TLS < ServerHelloDone (in the clear)$' "$tmp/err" &&
	grep -q '^synack: connect: TLS > ClientKeyExchange ' "$tmp/err" &&
	grep -q '^synack: connect: TLS > ChangeCipherSpec (in the clear)$' "$tmp/err"
check "TLS 1.2: connect -v names the seed's messages (ServerKeyExchange, ServerHelloDone, ClientKeyExchange, ChangeCipherSpec)" \
	$? "$(grep ' TLS ' "$tmp/err" | head -8 | tr '\n' '|')"
# --tls12 pins the client: a 1.3-capable s_server gives it 1.2 (with the
# downgrade sentinel, which a 1.2-only client accepts); --tls13 against a
# 1.2-only server fails with protocol_version.
port=$((P + 18))
rm -f "$tmp/kl.synack" "$tmp/kl.ossl"
bgrun openssl s_server -rev -naccept 1 -accept "127.0.0.1:$port" -cert "$pki/leaf-ec.pem" -key "$pki/leaf-ec.key" \
	-keylogfile "$tmp/kl.ossl" -quiet >"$tmp/ossl.out" 2>&1
speer=$!
wait_port $port
cli_k -v --tls --tls12 --ca "$pki/ca-ec.pem" --keylog "$tmp/kl.synack" localhost $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
rc=$?
wait "$speer" 2>/dev/null
check "TLS 1.2: synack connect --tls12 -> openssl s_server (1.3-capable): exit 0, echo reversed, TLSv1.2; key log CLIENT_RANDOM line equal to s_server's" \
	$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$rev_sum" ] && grep -q "TLS: TLSv1.2 " "$tmp/err" &&
		grep -q '^CLIENT_RANDOM [0-9a-f]\{64\} [0-9a-f]\{96\}$' "$tmp/kl.synack" &&
		grep -qxF -f "$tmp/kl.synack" "$tmp/kl.ossl"; echo $?) \
	"rc=$rc $(grep -v ' > \| < ' "$tmp/err" | head -c 300) | synack: $(head -c 200 "$tmp/kl.synack") | s_server: $(head -c 200 "$tmp/kl.ossl")"
port=$((P + 19))
bgrun openssl s_server -tls1_2 -rev -naccept 1 -accept "127.0.0.1:$port" -cert "$pki/leaf-ec.pem" \
	-key "$pki/leaf-ec.key" -quiet >"$tmp/ossl.out" 2>&1
speer=$!
wait_port $port
cli_k --tls --tls13 --ca "$pki/ca-ec.pem" localhost $port </dev/null >/dev/null 2>"$tmp/err"
rc=$?
kill "$speer" 2>/dev/null
wait "$speer" 2>/dev/null
check "TLS 1.2: synack connect --tls13 -> a TLS 1.2-only s_server: exit 1, one line naming protocol_version" \
	$([ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "protocol_version" "$tmp/err"; echo $?) \
	"rc=$rc $(head -c 300 "$tmp/err")"
if command -v gnutls-serv >/dev/null; then
	for k in ec rsa; do
		port=$((P + 20))
		[ "$k" = rsa ] && port=$((P + 21))
		bgrun gnutls-serv --echo -p $port --x509certfile "$pki/leaf-$k.pem" --x509keyfile "$pki/leaf-$k.key" \
			--priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" >"$tmp/gs.out" 2>&1
		speer=$!
		wait_port $port
		cli_k -v --tls --ca "$pki/ca-$k.pem" localhost $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		kill "$speer" 2>/dev/null
		wait "$speer" 2>/dev/null
		check "TLS 1.2: synack connect --tls -> gnutls-serv --echo VERS-TLS1.2, $k cert: exit 0, echo equal (SHA-256), TLSv1.2" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ] && grep -q "TLS: TLSv1.2 " "$tmp/err"; echo $?) \
			"rc=$rc $(grep -v ' > \| < ' "$tmp/err" | head -c 300) | gnutls-serv: $(grep -i -m3 'error\|alert' "$tmp/gs.out")"
	done
else
	skip "gnutls-serv is missing (gnutls-bin)"
fi
san_check "TLS 1.2 client"

# ---- client certificates, bad files ----

start_serve mtls --kernel --port $((P + 4)) --tls --cert "$pki/leaf-ec.pem" --key "$pki/leaf-ec.key" \
	--client-ca "$pki/ca-ec.pem" --echo
echo hello-mtls >"$tmp/mtls"
rm -f "$tmp/out"
feed "$tmp/mtls" "$tmp/out" 11 | timeout --foreground -k 5 20 openssl s_client -quiet -no_ign_eof -nocommands -connect "127.0.0.1:$((P + 4))" \
	-CAfile "$pki/ca-ec.pem" -cert "$pki/client.pem" -key "$pki/client.key" >"$tmp/out" 2>"$tmp/err"
check "--client-ca: s_client with a client certificate is served" \
	$([ "$(cat "$tmp/out")" = hello-mtls ]; echo $?) "$(grep -i -m2 'error\|alert' "$tmp/err")"
# (stdin stays open a while: at EOF s_client would close before the
# server's alert, which follows the client's Finished, has arrived)
{
	echo hello
	sleep 3
} | timeout --foreground -k 5 20 openssl s_client -quiet -no_ign_eof -nocommands -connect "127.0.0.1:$((P + 4))" \
	-CAfile "$pki/ca-ec.pem" >"$tmp/out" 2>"$tmp/err"
check "--client-ca: s_client without one gets certificate_required, no data" \
	$([ ! -s "$tmp/out" ] && grep -qi "alert certificate required" "$tmp/err"; echo $?) \
	"$(grep -i -m2 'error\|alert' "$tmp/err")"
rm -f "$tmp/out"
feed "$tmp/mtls" "$tmp/out" 11 | timeout --foreground -k 5 20 openssl s_client -tls1_2 -quiet -no_ign_eof -nocommands \
	-connect "127.0.0.1:$((P + 4))" -CAfile "$pki/ca-ec.pem" -cert "$pki/client.pem" -key "$pki/client.key" \
	>"$tmp/out" 2>"$tmp/err"
check "--client-ca: s_client -tls1_2 with a client certificate is served (TLS 1.2 CertificateVerify checked)" \
	$([ "$(cat "$tmp/out")" = hello-mtls ]; echo $?) "$(grep -i -m2 'error\|alert' "$tmp/err")"
{
	echo hello
	sleep 3
} | timeout --foreground -k 5 20 openssl s_client -tls1_2 -quiet -no_ign_eof -nocommands \
	-connect "127.0.0.1:$((P + 4))" -CAfile "$pki/ca-ec.pem" >"$tmp/out" 2>"$tmp/err"
check "--client-ca: s_client -tls1_2 without one gets handshake_failure, no data" \
	$([ ! -s "$tmp/out" ] && grep -qi "alert handshake failure" "$tmp/err"; echo $?) \
	"$(grep -i -m2 'error\|alert' "$tmp/err")"
port=$((P + 24))
bgrun openssl s_server -tls1_2 -rev -naccept 1 -accept "127.0.0.1:$port" -cert "$pki/leaf-ec.pem" \
	-key "$pki/leaf-ec.key" -Verify 1 -CAfile "$pki/ca-ec.pem" -verify_return_error >"$tmp/ossl.out" 2>&1
speer=$!
wait_port $port
cli_k --tls --ca "$pki/ca-ec.pem" --cert "$pki/client.pem" --key "$pki/client.key" localhost $port \
	<"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
rc=$?
wait "$speer" 2>/dev/null
check "TLS 1.2: synack connect --cert -> openssl s_server -tls1_2 -Verify 1: exit 0, lines back reversed, s_server verified the client" \
	$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$rev_sum" ] && grep -q "CN.*=.*client" "$tmp/ossl.out"; echo $?) \
	"rc=$rc $(head -c 300 "$tmp/err") | s_server: $(grep -i -m3 'subject\|error\|verify' "$tmp/ossl.out")"
stop_serve "client-certificate server"

# one_line NAME STATUS PATTERN -- ARGS...: synack exits STATUS with one line.
one_line() {
	local name=$1 want=$2 pat=$3
	shift 4
	timeout --foreground -k 5 "${T:-20}" "$bin" "$@" </dev/null >/dev/null 2>"$tmp/err"
	local rc=$?
	check "$name: exit $want, one line" \
		$([ $rc -eq "$want" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qE -- "$pat" "$tmp/err"; echo $?) \
		"rc=$rc $(head -c 300 "$tmp/err")"
}
echo "not a certificate" >"$tmp/bad.pem"
one_line "serve: --cert of a file that is not PEM" 1 "^synack: serve: --cert" -- \
	serve --kernel --port $((P + 4)) --tls --cert "$tmp/bad.pem" --key "$pki/leaf-ec.key" --echo
one_line "serve: --cert of a missing file" 1 "^synack: serve: --cert" -- \
	serve --kernel --port $((P + 4)) --tls --cert "$tmp/nothing.pem" --key "$pki/leaf-ec.key" --echo
T=5 one_line "serve: a key that does not match the certificate" 1 "^synack: serve: --cert/--key: " -- \
	serve --kernel --port $((P + 4)) --tls --cert "$pki/leaf-ec.pem" --key "$pki/leaf-rsa.key" --echo
one_line "serve: --tls12 and --tls13 together" 2 "^synack: serve: give one of --tls12 and --tls13" -- \
	serve --kernel --tls --tls12 --tls13 --cert "$pki/leaf-ec.pem" --key "$pki/leaf-ec.key" --echo
one_line "connect: --tls12 and --tls13 together" 2 "^synack: connect: give one of --tls12 and --tls13" -- \
	connect --kernel --tls --tls12 --tls13 localhost 1
one_line "serve: --tls without --key" 2 "^synack: serve: --tls needs --cert FILE and --key FILE" -- \
	serve --kernel --tls --cert "$pki/leaf-ec.pem" --echo
one_line "connect: --ca without --tls" 2 "^synack: connect: --ca needs --tls" -- \
	connect --kernel --ca "$pki/ca-ec.pem" localhost 1
one_line "connect: --kernel with --tun" 2 "^synack: connect: --kernel uses the OS's TCP sockets" -- \
	connect --kernel --tun x0 --addr 10.9.0.2/24 10.9.0.1 1
one_line "connect: refused (kernel)" 1 "connection refused" -- connect --kernel --tls --ca "$pki/ca-ec.pem" 127.0.0.1 1
san_check "error messages"

# ---- 2. synack's TCP over TUN in a namespace ----

echo "# synack TCP over TUN in a network namespace"
nsx() { ip netns exec "$NS" "$@"; }
if [ ! -c /dev/net/tun ]; then
	skip "TUN checks: no /dev/net/tun"
elif ! ip netns add "$NS" 2>/dev/null; then
	skip "TUN checks: no CAP_NET_ADMIN: cannot create a network namespace (run as root)"
else
	have_ns=1
	add_dev() { # add_dev NAME V4
		nsx ip tuntap add dev "$1" mode tun && nsx ip addr add "$2" dev "$1" && nsx ip link set "$1" up
	}
	nsx ip link set lo up
	if ! add_dev st0 10.71.0.1/24 || ! add_dev st1 10.72.0.1/24 || ! add_dev st2 10.73.0.1/24; then
		bad "TUN devices st0, st1, st2 in namespace $NS"
	else
		srv_log=$tmp/serve.tun.log
		bgrun ip netns exec "$NS" "$bin" serve --tun st0 --addr 10.71.0.2/24 --tls --cert "$pki/leaf-ec.pem" \
			--key "$pki/leaf-ec.key" --http "$tmp/www" >"$srv_log" 2>&1
		srv_pid=$!
		for _ in $(seq 100); do
			grep -q "listening on" "$srv_log" && break
			sleep 0.05
		done
		rm -f "$tmp/out"
		nsx timeout --foreground -k 5 30 curl -sS --cacert "$pki/ca-ec.pem" -o "$tmp/out" -w '%{http_code}' \
			https://10.71.0.2/blob.bin >"$tmp/code" 2>"$tmp/err"
		rc=$?
		check "TUN: curl --cacert https://10.71.0.2/blob.bin from the namespace: 200, SHA-256 equal" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$blob_sum" ]; echo $?) \
			"rc=$rc code=$(cat "$tmp/code") $(head -c 300 "$tmp/err") | $(tail -c 300 "$srv_log")"
		size=$(stat -c %s "$tmp/www/blob.bin")
		printf 'GET /blob.bin HTTP/1.0\r\n\r\n' | nsx timeout --foreground -k 5 30 openssl s_client -quiet -ign_eof \
			-connect 10.71.0.2:443 -CAfile "$pki/ca-ec.pem" -verify_return_error >"$tmp/out" 2>"$tmp/err"
		rc=$?
		check "TUN: openssl s_client GET /blob.bin: body SHA-256 equal, exit 0 (close_notify ends it)" \
			$([ $rc -eq 0 ] && [ "$(tail -c "$size" "$tmp/out" | sha256sum | cut -d' ' -f1)" = "$blob_sum" ]; echo $?) \
			"rc=$rc $(grep -i -m3 'error\|alert\|verify' "$tmp/err")"
		rm -f "$tmp/out"
		nsx timeout --foreground -k 5 30 curl -sS --tlsv1.2 --tls-max 1.2 --cacert "$pki/ca-ec.pem" -o "$tmp/out" \
			-w '%{http_code}' https://10.71.0.2/blob.bin >"$tmp/code" 2>"$tmp/err"
		rc=$?
		check "TUN: curl --tlsv1.2 --tls-max 1.2 https://10.71.0.2/blob.bin: 200, SHA-256 equal" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$blob_sum" ]; echo $?) \
			"rc=$rc code=$(cat "$tmp/code") $(head -c 300 "$tmp/err") | $(tail -c 300 "$srv_log")"
		if command -v wrk >/dev/null; then
			load "TUN" "https://10.71.0.2/index.html" "$srv_pid" ip netns exec "$NS"
		fi
		# under loss: iptables drops 2% of what the kernel receives from
		# and sends to st0 (this kernel has no netem); the default TUN
		# queue; 1 MiB over TLS 1.3 and over TLS 1.2, four times each
		if command -v iptables >/dev/null && nsx iptables -A INPUT -i st0 -m statistic --mode random \
			--probability 0.02 -j DROP 2>"$tmp/ipt.err" && nsx iptables -A OUTPUT -o st0 -m statistic \
			--mode random --probability 0.02 -j DROP 2>>"$tmp/ipt.err"; then
			for v in 1.3 1.2; do
				good=0 t0=$SECONDS
				for _ in 1 2 3 4; do
					rm -f "$tmp/out"
					nsx timeout --foreground -k 5 60 curl -sS --tlsv1.2 --tls-max "$v" --cacert "$pki/ca-ec.pem" \
						-o "$tmp/out" https://10.71.0.2/blob.bin 2>"$tmp/err" &&
						[ "$(sum "$tmp/out")" = "$blob_sum" ] && good=$((good + 1))
				done
				check "TUN, 2% loss each way (iptables): curl --tls-max $v 1 MiB four times: every body intact (SHA-256; $((SECONDS - t0)) s)" \
					$([ "$good" -eq 4 ]; echo $?) "$good of 4 intact; $(head -c 300 "$tmp/err")"
			done
			nsx iptables -F INPUT
			nsx iptables -F OUTPUT
		else
			skip "TLS under loss: iptables in the namespace: $(head -c 200 "$tmp/ipt.err" 2>/dev/null)"
		fi
		stop_serve "TUN https server"

		port=$((P + 5))
		bgrun ip netns exec "$NS" openssl s_server -tls1_3 -rev -naccept 1 -accept "10.72.0.1:$port" \
			-cert "$pki/leaf-rsa.pem" -key "$pki/leaf-rsa.key" -quiet >"$tmp/ossl.out" 2>&1
		speer=$!
		wait_port $port ip netns exec "$NS"
		nsx timeout --foreground -k 5 30 "$bin" connect --tun st1 --addr 10.72.0.2/24 -v --tls --ca "$pki/ca-rsa.pem" \
			10.72.0.1 $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		wait "$speer" 2>/dev/null
		check "TUN: synack connect --tls -> openssl s_server -rev in the namespace: exit 0, lines back reversed (SHA-256)" \
			$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$rev_sum" ]; echo $?) \
			"rc=$rc $(grep -v ' > \| < ' "$tmp/err" | grep -m3 'synack: connect: [^0-9]') | $(head -c 200 "$tmp/ossl.out")"

		for k in ec rsa; do
			port=$((P + 22))
			[ "$k" = rsa ] && port=$((P + 23))
			bgrun ip netns exec "$NS" openssl s_server -tls1_2 -rev -naccept 1 -accept "10.72.0.1:$port" \
				-cert "$pki/leaf-$k.pem" -key "$pki/leaf-$k.key" -quiet >"$tmp/ossl.out" 2>&1
			speer=$!
			wait_port $port ip netns exec "$NS"
			nsx timeout --foreground -k 5 30 "$bin" connect --tun st1 --addr 10.72.0.2/24 -v --tls \
				--ca "$pki/ca-$k.pem" --sni localhost 10.72.0.1 $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
			rc=$?
			wait "$speer" 2>/dev/null
			check "TUN: synack connect --tls -> openssl s_server -tls1_2 -rev, $k cert: exit 0, lines back reversed (SHA-256), TLSv1.2" \
				$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$rev_sum" ] && grep -q "TLS: TLSv1.2 " "$tmp/err"; echo $?) \
				"rc=$rc $(grep -v ' > \| < ' "$tmp/err" | grep -m3 'synack: connect: [^0-9]') | $(head -c 200 "$tmp/ossl.out")"
		done

		# every suite and group over synack's TCP, both directions:
		# s_client -> synack serve --echo (EC and RSA certificates
		# alternating), synack connect -> s_server -rev
		srv_log=$tmp/serve.tun2.log
		bgrun ip netns exec "$NS" "$bin" serve --tun st2 --addr 10.73.0.2/24 --port 7 --tls \
			--cert "$pki/leaf-ec.pem" --key "$pki/leaf-ec.key" --echo -v >"$srv_log" 2>&1
		srv_pid=$!
		for _ in $(seq 100); do
			grep -q "listening on" "$srv_log" && break
			sleep 0.05
		done
		i=0
		for s in "${suites[@]}"; do
			for g in "${groups[@]}"; do
				rm -f "$tmp/out"
				feed "$tmp/lines" "$tmp/out" "$lines_size" |
					nsx timeout --foreground -k 5 30 openssl s_client -quiet -no_ign_eof -nocommands -tls1_3 \
						-ciphersuites "$s" -groups "$g" -connect 10.73.0.2:7 -servername localhost \
						-CAfile "$pki/ca-ec.pem" -verify_return_error >"$tmp/out" 2>"$tmp/err"
				rc=$?
				check "TUN: openssl s_client -> synack serve --echo, $s, $g: exit 0, echo equal (SHA-256), $s/${gname[$g]} negotiated" \
					$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ] &&
						grep 'TLS with' "$srv_log" | tail -1 | grep -q "TLSv1.3 $s ${gname[$g]}"; echo $?) \
					"rc=$rc $(grep -i -m3 'error\|alert' "$tmp/err") | $(grep 'TLS with' "$srv_log" | tail -1)"

				k=$(kind $i)
				port=$((P + 6 + i))
				bgrun ip netns exec "$NS" openssl s_server -tls1_3 -ciphersuites "$s" -groups "$g" -rev -naccept 1 \
					-accept "10.72.0.1:$port" -cert "$pki/leaf-$k.pem" -key "$pki/leaf-$k.key" -quiet >"$tmp/ossl.out" 2>&1
				speer=$!
				wait_port $port ip netns exec "$NS"
				nsx timeout --foreground -k 5 30 "$bin" connect --tun st1 --addr 10.72.0.2/24 -v --tls \
					--ca "$pki/ca-$k.pem" --sni localhost 10.72.0.1 $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
				rc=$?
				wait "$speer" 2>/dev/null
				check "TUN: synack connect -> openssl s_server -rev, $s, $g, $k cert: exit 0, lines back reversed (SHA-256), $s/${gname[$g]} negotiated" \
					$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$rev_sum" ] && negotiated "$tmp/err" "$s" "$g"; echo $?) \
					"rc=$rc $(grep -v ' > \| < ' "$tmp/err" | grep -m3 'synack: connect: [^0-9]') | $(head -c 200 "$tmp/ossl.out")"
				i=$((i + 1))
			done
		done
		# TLS 1.2 over synack's TCP, every suite: the ECDSA ones from
		# s_client -tls1_2 to the echo server (EC certificate), the RSA
		# ones from synack connect to s_server -tls1_2 (RSA certificate)
		i=0
		for c in AES128-GCM-SHA256 AES256-GCM-SHA384 CHACHA20-POLY1305; do
			rm -f "$tmp/out"
			feed "$tmp/lines" "$tmp/out" "$lines_size" |
				nsx timeout --foreground -k 5 30 openssl s_client -quiet -no_ign_eof -nocommands -tls1_2 \
					-cipher "ECDHE-ECDSA-$c" -connect 10.73.0.2:7 -servername localhost \
					-CAfile "$pki/ca-ec.pem" -verify_return_error >"$tmp/out" 2>"$tmp/err"
			rc=$?
			check "TUN: openssl s_client -tls1_2 -cipher ECDHE-ECDSA-$c -> synack serve --echo: exit 0, echo equal (SHA-256), TLSv1.2" \
				$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ] &&
					grep 'TLS with' "$srv_log" | tail -1 | grep -q ": TLSv1.2 TLS_ECDHE_ECDSA_"; echo $?) \
				"rc=$rc $(grep -i -m3 'error\|alert' "$tmp/err") | $(grep 'TLS with' "$srv_log" | tail -1)"
			port=$((P + 25 + i))
			bgrun ip netns exec "$NS" openssl s_server -tls1_2 -cipher "ECDHE-RSA-$c" -rev -naccept 1 \
				-accept "10.72.0.1:$port" -cert "$pki/leaf-rsa.pem" -key "$pki/leaf-rsa.key" -quiet >"$tmp/ossl.out" 2>&1
			speer=$!
			wait_port $port ip netns exec "$NS"
			nsx timeout --foreground -k 5 30 "$bin" connect --tun st1 --addr 10.72.0.2/24 -v --tls \
				--ca "$pki/ca-rsa.pem" --sni localhost 10.72.0.1 $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
			rc=$?
			wait "$speer" 2>/dev/null
			check "TUN: synack connect -> openssl s_server -tls1_2 -cipher ECDHE-RSA-$c -rev: exit 0, lines back reversed (SHA-256), TLSv1.2 TLS_ECDHE_RSA_*" \
				$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$rev_sum" ] && grep -q "TLS: TLSv1.2 TLS_ECDHE_RSA_" "$tmp/err"; echo $?) \
				"rc=$rc $(grep -v ' > \| < ' "$tmp/err" | grep -m3 'synack: connect: [^0-9]') | $(head -c 200 "$tmp/ossl.out")"
			i=$((i + 1))
		done
		if command -v gnutls-cli >/dev/null; then
			rm -f "$tmp/out"
			feed "$tmp/lines" "$tmp/out" "$lines_size" |
				nsx timeout --foreground -k 5 30 gnutls-cli --x509cafile "$pki/ca-ec.pem" -p 7 --sni-hostname localhost --verify-hostname localhost 10.73.0.2 \
					--priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" --logfile "$tmp/gc.log" >"$tmp/out" 2>"$tmp/err"
			rc=$?
			check "TUN: gnutls-cli VERS-TLS1.2 -> synack serve --echo: exit 0, echo equal (SHA-256), TLSv1.2" \
				$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ] &&
					grep 'TLS with' "$srv_log" | tail -1 | grep -q ": TLSv1.2 "; echo $?) \
				"rc=$rc $(grep -i -m3 'error\|alert\|fail' "$tmp/gc.log" "$tmp/err")"
			port=$((P + 28))
			bgrun ip netns exec "$NS" gnutls-serv --echo -p $port --x509certfile "$pki/leaf-rsa.pem" \
				--x509keyfile "$pki/leaf-rsa.key" --priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" >"$tmp/gs.out" 2>&1
			speer=$!
			wait_port $port ip netns exec "$NS"
			nsx timeout --foreground -k 5 30 "$bin" connect --tun st1 --addr 10.72.0.2/24 -v --tls \
				--ca "$pki/ca-rsa.pem" --sni localhost 10.72.0.1 $port <"$tmp/lines" >"$tmp/out" 2>"$tmp/err"
			rc=$?
			kill "$speer" 2>/dev/null
			wait "$speer" 2>/dev/null
			check "TUN: synack connect -> gnutls-serv --echo VERS-TLS1.2 (RSA): exit 0, echo equal (SHA-256), TLSv1.2" \
				$([ $rc -eq 0 ] && [ "$(sum "$tmp/out")" = "$lines_sum" ] && grep -q "TLS: TLSv1.2 " "$tmp/err"; echo $?) \
				"rc=$rc $(grep -v ' > \| < ' "$tmp/err" | grep -m3 'synack: connect: [^0-9]') | $(grep -i -m3 'error\|alert' "$tmp/gs.out")"
		fi
		stop_serve "TUN echo server"
		san_check "TUN"
	fi
fi

san_check "the last synack processes"
if [ "$sanitized" -eq 1 ]; then
	check "sanitizer build: no ASan, UBSan or LSan report from any synack process" \
		$([ "$san_reports" -eq 0 ]; echo $?) "$san_reports report(s), each listed above"
fi
summary
[ "$failed" -eq 0 ]
