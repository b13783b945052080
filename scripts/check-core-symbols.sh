#!/usr/bin/env bash
# Usage: scripts/check-core-symbols.sh OBJ...
#
# The sans-I/O core (src/base src/wire src/net src/tcp) must not read a clock,
# touch a file descriptor, read OS randomness or start a thread: time, frames
# and randomness are given to it by its caller. This checks the undefined
# symbols of each object (`nm -u`) against that list, and names every
# offending symbol and the object that references it. Exit 0 when clean,
# 1 when a forbidden symbol is referenced, 2 on a usage or nm error.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 OBJ..." >&2
	exit 2
fi

# The names from the design (DESIGN.md "Sans-I/O core"), plus the aliases
# glibc may substitute for them (64-bit file offsets, _FORTIFY_SOURCE).
forbidden=(
	clock_gettime gettimeofday time clock timespec_get ftime
	read write readv writev pread pwrite __read_chk __pread_chk
	send sendto sendmsg recv recvfrom recvmsg __recv_chk __recvfrom_chk
	socket getrandom getentropy
	open open64 openat openat64 __open_2 __open64_2 fopen fopen64
	rand srand rand_r random srandom random_r srandom_r
)

status=0
for obj in "$@"; do
	if [ ! -f "$obj" ]; then
		echo "check-core-symbols: $obj: no such object" >&2
		status=2
		continue
	fi
	if ! syms=$(nm -u "$obj"); then
		echo "check-core-symbols: nm failed on $obj" >&2
		status=2
		continue
	fi
	# nm -u prints "                 U name" (or "name@VERSION" in shared objects).
	while read -r _ name; do
		[ -n "${name:-}" ] || continue
		name=${name%%@*}
		bad=
		case "$name" in
		pthread_* | __pthread_*) bad=1 ;;
		*)
			for f in "${forbidden[@]}"; do
				if [ "$name" = "$f" ]; then
					bad=1
					break
				fi
			done
			;;
		esac
		if [ -n "$bad" ]; then
			echo "check-core-symbols: $obj references $name (the core must stay sans-I/O)" >&2
			[ "$status" -ne 0 ] || status=1
		fi
	done <<<"$syms"
done
exit "$status"
