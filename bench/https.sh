#!/usr/bin/env bash
# https: new HTTPS connections per second for a 1 KiB file, beside nginx,
# measured in the same run. Prints (stdout):
#   https_conn synack=X baseline=Y ratio=X/Y conn/s
#   https_conn_cpu synack=X baseline=Y ratio=X/Y conn/cpu-s
# and '#' notes on stderr. The second line is connections per second of
# the server's own CPU time (utime + stime from /proc; for nginx, master
# and worker): when wrk, which does the client side of every handshake on
# its own CPU, saturates first, conn/s is the client's limit and only the
# second line compares the servers.
#
# Each request is a new TLS 1.3 connection: wrk -H 'Connection: close'
# (one thread, BENCH_HTTPS_CONNS concurrent connections, default 16) for
# BENCH_HTTPS_SECONDS (default 5; 2 with BENCH_QUICK=1) against
#  - synack: `synack serve --kernel --tls --cert C --key K --http DIR`
#    (kernel TCP sockets, synack's TLS engine and HTTP server, one thread);
#  - baseline: nginx (/usr/sbin/nginx), one worker, from a private
#    configuration in a temporary directory (pid, logs and temp files
#    there), TLS 1.3 only, X25519, TLS_AES_128_GCM_SHA256, no access log,
#    one session ticket per connection as synack (libssl's default is 2).
# Both serve the same file with the same certificate and key (ECDSA P-256,
# made by `openssl req` at run time) on loopback ports. With two or more
# CPUs, the server runs on the last CPU and wrk on the others (taskset);
# both servers take turns, BENCH_REPEAT runs each (default 3), the best
# counts (the CPU figure comes from the same best run). The note gives
# each server's CPU time per connection and how many of wrk's connections
# resumed a TLS session (wrk keeps its session across reconnects).
#
# Env: BENCH_QUICK, BENCH_REPEAT, BENCH_HTTPS_SECONDS, BENCH_HTTPS_CONNS,
# SYNACK (the synack binary; default $BUILD/synack), NGINX, WRK.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SYNACK:-${BUILD:-$root/build}/synack}
case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
nginx=${NGINX:-/usr/sbin/nginx}
wrk=${WRK:-/usr/bin/wrk}
secs=${BENCH_HTTPS_SECONDS:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 2 || echo 5)}
conns=${BENCH_HTTPS_CONNS:-16}
repeat=${BENCH_REPEAT:-3}
hz=$(getconf CLK_TCK)

note() { echo "# https_conn: $*" >&2; }
fig() { # fig NAME SYNACK BASELINE UNIT
	local ratio=-
	case "$2$3" in *[!0-9.]* | '') ;; *) ratio=$(awk -v s="$2" -v k="$3" 'BEGIN { printf "%.2f", s / k }') ;; esac
	echo "$1 synack=$2 baseline=$3 ratio=$ratio $4"
}
line() { # line SYNACK BASELINE [SYNACK-CPU BASELINE-CPU]
	fig https_conn "$1" "$2" conn/s
	fig https_conn_cpu "${3:--}" "${4:--}" conn/cpu-s
}

for tool in "$bin" "$nginx" "$wrk"; do
	if [ ! -x "$tool" ]; then
		note "SKIP: $tool not found"
		line - -
		exit 0
	fi
done
command -v openssl >/dev/null || { note "SKIP: openssl not found" && line - - && exit 0; }

tmp=$(mktemp -d /tmp/synack-bench-https.XXXXXX)
chmod 755 "$tmp" # nginx's worker runs as nobody when we are root
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A free loopback port (asks the kernel for an ephemeral one).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Wait until something answers HTTPS on port $1 (up to 5 s).
wait_port() {
	for _ in $(seq 50); do
		if openssl s_client -connect "127.0.0.1:$1" -tls1_3 </dev/null >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
# CPU ticks (utime + stime) of the processes given.
ticks() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
	done
	echo $t
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -nodes -days 30 \
	-subj /CN=bench.synack -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null || {
	note "openssl req failed"
	line error error
	exit 1
}
chmod 644 "$tmp/key.pem"
mkdir -p "$tmp/www"
head -c 1024 /dev/urandom >"$tmp/www/file.bin"
chmod -R a+rX "$tmp/www"

ncpu=$(nproc)
srv_cpus= cli_cpus=
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	srv_cpus=$((ncpu - 1))
	cli_cpus=0-$((ncpu - 2))
fi
srv_pin=() cli_pin=()
[ -z "$srv_cpus" ] || srv_pin=(taskset -c "$srv_cpus")
[ -z "$cli_cpus" ] || cli_pin=(taskset -c "$cli_cpus")

# ---- nginx ----
nport=$(free_port)
pport=$(free_port)
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx-body;
	proxy_temp_path $tmp/nginx-proxy;
	fastcgi_temp_path $tmp/nginx-fastcgi;
	uwsgi_temp_path $tmp/nginx-uwsgi;
	scgi_temp_path $tmp/nginx-scgi;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$nport ssl;
		ssl_certificate $tmp/cert.pem;
		ssl_certificate_key $tmp/key.pem;
		ssl_protocols TLSv1.3;
		ssl_ecdh_curve X25519;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
		ssl_conf_command NumTickets 1;
		root $tmp/www;
	}
	# the same, logging whether each connection resumed a session
	log_format reuse "\$ssl_session_reused \$ssl_protocol \$ssl_cipher";
	server {
		listen 127.0.0.1:$pport ssl;
		access_log $tmp/reuse.log reuse;
		ssl_certificate $tmp/cert.pem;
		ssl_certificate_key $tmp/key.pem;
		ssl_protocols TLSv1.3;
		ssl_ecdh_curve X25519;
		ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
		ssl_conf_command NumTickets 1;
		root $tmp/www;
	}
}
EOF
"${srv_pin[@]}" "$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" 2>>"$tmp/nginx-error.log" &
nginx_pid=$!
pids+=("$nginx_pid")

# ---- synack ----
sport=$(free_port)
"${srv_pin[@]}" "$bin" serve --kernel --port "$sport" --tls --cert "$tmp/cert.pem" --key "$tmp/key.pem" \
	--http "$tmp/www" >"$tmp/synack.log" 2>&1 &
synack_pid=$!
pids+=("$synack_pid")

status=0
if ! wait_port "$nport"; then
	note "nginx did not start: $(tail -n 3 "$tmp/nginx-error.log" | tr '\n' ' ')"
	nport=
	status=1
fi
if ! wait_port "$sport"; then
	note "synack serve did not start: $(tail -n 3 "$tmp/synack.log" | tr '\n' ' ')"
	sport=
	status=1
fi
nginx_procs=("$nginx_pid" $(pgrep -P "$nginx_pid"))

# run PORT PIDS...: one wrk run; prints "CONN_PER_S TICKS ERRORS REQUESTS"
run() {
	local port=$1 out t0 t1 rps errs reqs
	shift
	t0=$(ticks "$@")
	out=$("${cli_pin[@]}" "$wrk" -t1 -c"$conns" -d"${secs}s" -H 'Connection: close' \
		"https://127.0.0.1:$port/file.bin" 2>&1)
	t1=$(ticks "$@")
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	reqs=$(echo "$out" | awk '/ requests in / { print $1 }')
	errs=$(echo "$out" | awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }')
	echo "${rps:-0} $((t1 - t0)) $errs ${reqs:-0}"
}

# wrk keeps each connection's TLS session (SSL_clear) and offers it on the
# next: most of its connections resume (a PSK-DHE handshake). Measured on
# nginx's logging twin for one second.
# synack's twin: serve -v logs "resumed" on each resumed handshake.
resumed=- resumed_s=-
if [ -n "$nport" ]; then
	"${cli_pin[@]}" "$wrk" -t1 -c"$conns" -d1s -H 'Connection: close' "https://127.0.0.1:$pport/file.bin" >/dev/null 2>&1
	resumed=$(awk '{ n++; if ($1 == "r") r++ } END { if (n) printf "%.1f%% of %d", 100 * r / n, n; else print "-" }' \
		"$tmp/reuse.log" 2>/dev/null)
fi
if [ -n "$sport" ]; then
	vport=$(free_port)
	"$bin" serve --kernel --port "$vport" --tls --cert "$tmp/cert.pem" --key "$tmp/key.pem" --http "$tmp/www" -v \
		>"$tmp/synack-v.log" 2>&1 &
	vpid=$!
	pids+=("$vpid")
	if wait_port "$vport"; then
		"${cli_pin[@]}" "$wrk" -t1 -c"$conns" -d1s -H 'Connection: close' "https://127.0.0.1:$vport/file.bin" >/dev/null 2>&1
		resumed_s=$(awk '/: TLS with / { n++; if (/ resumed/) r++ } END { if (n) printf "%.1f%% of %d", 100 * r / n, n; else print "-" }' \
			"$tmp/synack-v.log")
	fi
	kill "$vpid" 2>/dev/null
fi

best_s=0 best_n=0 cpu_s= cpu_n= err_s=0 err_n=0
for _ in $(seq "$repeat"); do
	if [ -n "$nport" ]; then
		read -r r t e q < <(run "$nport" "${nginx_procs[@]}")
		err_n=$((err_n + e))
		if awk -v a="$r" -v b="$best_n" 'BEGIN { exit !(a > b) }'; then
			best_n=$r
			cpu_n=$(awk -v t="$t" -v q="$q" -v hz="$hz" 'BEGIN { if (q > 0) printf "%.1f", t / hz * 1e6 / q }')
		fi
	fi
	if [ -n "$sport" ]; then
		read -r r t e q < <(run "$sport" "$synack_pid")
		err_s=$((err_s + e))
		if awk -v a="$r" -v b="$best_s" 'BEGIN { exit !(a > b) }'; then
			best_s=$r
			cpu_s=$(awk -v t="$t" -v q="$q" -v hz="$hz" 'BEGIN { if (q > 0) printf "%.1f", t / hz * 1e6 / q }')
		fi
	fi
done

fmt() { awk -v v="$1" 'BEGIN { if (v > 0) printf "%.0f", v; else print "error" }'; }
per_cpu() { [ -n "$1" ] && [ "$1" != 0 ] && awk -v u="$1" 'BEGIN { printf "%.0f", 1e6 / u }' || echo -; }
s=$(fmt "$best_s")
n=$(fmt "$best_n")
line "$s" "$n" "$(per_cpu "$cpu_s")" "$(per_cpu "$cpu_n")"
note "wrk -t1 -c$conns -d${secs}s -H 'Connection: close', 1 KiB file, best of $repeat;" \
	"server on CPU ${srv_cpus:-any}, wrk on CPU ${cli_cpus:-any}; server CPU per connection:" \
	"synack=${cpu_s:--}us nginx=${cpu_n:--}us; wrk errors (non-2xx, socket): synack=$err_s nginx=$err_n;" \
	"connections that resumed a session (probe, 1 s): synack=$resumed_s nginx=$resumed;" \
	"wrk does every client handshake on its own CPU: when it is saturated, conn/s is its limit and" \
	"https_conn_cpu compares the servers"
[ "$s" = error ] || [ "$n" = error ] && status=1
exit $status
