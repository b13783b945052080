#!/usr/bin/env bash
# Usage: scripts/deps.sh demo|test|bench
#
# Makes sure the Debian 12 packages a make target needs are installed. Prints
# nothing when they all are. When some are missing: as root, installs them with
# apt-get (non-interactive); otherwise prints the exact apt-get command and
# exits 1. SYNACK_DEPS_EXTRA (space-separated package names) is added to the
# list; it exists to test the "missing" path.
set -euo pipefail

mode=${1:-}

# Why each package is needed:
#   gcc        compiles the library, the `synack` command and the tests; its
#              libasan/libubsan runtimes serve the SAN=1 build of the unit tests
#   make       the build itself
#   libc6-dev  C headers and crt files
#   libssl-dev OpenSSL 3's libcrypto and its headers: every TLS primitive and
#              all X.509 work (DESIGN.md principle 5; the protocol is ours)
#   binutils   nm, used by scripts/check-core-symbols.sh (gcc pulls it in too)
#   clang      libFuzzer targets (fuzz.mk) need clang's -fsanitize=fuzzer
#   libclang-rt-14-dev  clang 14's libFuzzer and ASan/UBSan runtimes
#              (libclang_rt.fuzzer-x86_64.a lives there on Debian 12)
#   tshark     checks that the demo's pcap is well formed with Wireshark's
#              dissectors, and reads its TCP flags
#   pkgconf    provides pkg-config for the install check of synack.pc
#   iproute2   `ip`, `ss` and `nstat` for the interop test (tests/scripts/test-interop.sh):
#              namespaces, TUN/TAP devices, the kernel's TCP state and counters
#   ncat socat curl python3 iputils-ping
#              the kernel-side peers of the interop test: nc-like clients and
#              servers, an HTTP client for `synack serve --http`, Python socket
#              checks (half-close, ECONNRESET, 200 connections, TCP_INFO), ping;
#              python3 also reads the SVG files of test-sim-plot.sh and
#              test-bench-chart.sh (xml.etree: well-formed, where things are)
#   clang-format  the format check of make test (clang-format 14 on Debian 12)
#   openssl gnutls-bin
#              real TLS peers for the TLS interop test (s_server, s_client,
#              gnutls-serv, gnutls-cli) and test certificates (openssl req)
#   wrk        HTTPS load in the TLS test: 200 connections against
#              `synack serve --tls --http` (Debian's wrk links OpenSSL)
#   iptables   random packet loss inside the interop test's own namespace
#              (-m statistic): this kernel has no netem qdisc
#   hping3     the spoofed SYN flood of tests/scripts/test-synflood.sh and of
#              the synflood benchmark (bench/synflood.sh)
#   ethtool    reads a TUN device's offload features: tests/scripts/test-threads.sh
#              checks that synack switches them off when it lets a device go
#   liblwip-dev  lwIP 2.1.3 (headers, liblwip.so, pkg-config file lwip.pc):
#              the baseline of bench/lwip.c, lwIP's raw API beside synack on
#              the same CRR and stream jobs; only `make bench` builds it
# The TCP benchmarks (scripts/run-bench.sh, bench/*.c) need only the compiler
# and coreutils (bench/lwip.c also liblwip-dev, above); their kernel
# baselines read /proc and pin themselves to a core with sched_setaffinity.
demo_pkgs=(gcc make libc6-dev libssl-dev)
test_pkgs=("${demo_pkgs[@]}" binutils clang libclang-rt-14-dev tshark pkgconf iproute2
	ncat socat curl python3 iputils-ping iptables clang-format openssl gnutls-bin wrk hping3 ethtool)
# bench: the TUN benchmarks (bench/tun.sh, bench/synflood.sh) make
# namespaces (iproute2) and run small Python kernel peers (python3);
# bench/tun.sh's loss1_goodput and loss5_goodput drop packets with iptables;
# bench/synflood.sh floods with hping3; the TLS benchmarks link their
# baselines, libssl (libssl-dev, above) and GnuTLS (libgnutls28-dev), and
# bench/https.sh runs nginx against `synack serve --tls` with wrk as the
# client and a certificate made by openssl req; bench/lwip.c links lwIP
# (liblwip-dev) and finds it with pkg-config (pkgconf)
bench_pkgs=("${demo_pkgs[@]}" iproute2 python3 iptables hping3 libgnutls28-dev nginx wrk openssl liblwip-dev pkgconf)

case "$mode" in
demo) want=("${demo_pkgs[@]}") ;;
test) want=("${test_pkgs[@]}") ;;
bench) want=("${bench_pkgs[@]}") ;;
*)
	echo "usage: $0 demo|test|bench" >&2
	exit 2
	;;
esac
if [ -n "${SYNACK_DEPS_EXTRA:-}" ]; then
	read -r -a extra <<<"$SYNACK_DEPS_EXTRA"
	want+=("${extra[@]}")
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "synack: dpkg-query not found; this set-up expects Debian 12. Install by hand: ${want[*]}" >&2
	exit 1
fi

missing=()
for p in "${want[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "synack: missing packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi

echo "synack: installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark's wireshark-common asks whether non-root users may capture; answer no.
if command -v debconf-set-selections >/dev/null 2>&1; then
	echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
fi
apt-get update -q </dev/null >/dev/null ||
	echo "synack: apt-get update failed; trying the install with the current package lists" >&2
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null; then
	echo "synack: apt-get install failed for: ${missing[*]}" >&2
	exit 1
fi
