#!/usr/bin/env bash
# Usage: scripts/check-exports.sh [LIBSYNACK.so [LIBSYNACK.a]]
#        (default: $BUILD/libsynack.so and $BUILD/libsynack.a, BUILD=build)
#
# An application that embeds synack may link lwIP, or have its own
# ring_push or tcp_input: the libraries must not carry names outside the
# public API. This checks
#  1. the dynamic symbol table of the shared library (`nm -D`) and the
#     defined global symbols of the static archive (`nm -g`): every one must
#     be synack_* or SYNACK_*; each offender is named with where it is;
#  2. that both libraries do define every function declared in
#     include/synack/*.h (a declaration without the SYNACK_API export mark is
#     hidden by -fvisibility=hidden and an application could not link it).
#     The declarations are listed by the compiler (gcc -aux-info); with a
#     compiler that lacks that option this part is skipped, with a note.
#
# The only names allowed besides synack_*/SYNACK_* are the ones a toolchain
# may put into a shared library's dynamic table by itself, not synack's code:
# _init and _fini (crti.o's entry points) and _edata, _end and __bss_start
# (defined by ld; older binutils export them from every .so, 2.40 does not).
# The static archive has no such excuse: nothing at all is allowed there.
#
# Exit 0 when clean, 1 when a symbol is exported that should not be (or a
# public function is missing), 2 on a usage or nm error.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in
/*) ;;
*) [ -d "$BUILD" ] || BUILD=$root/$BUILD ;;
esac
so=${1:-$BUILD/libsynack.so}
ar=${2:-$BUILD/libsynack.a}
CC=${CC:-cc}

if [ $# -gt 2 ]; then
	echo "usage: $0 [LIBSYNACK.so [LIBSYNACK.a]]" >&2
	exit 2
fi
for f in "$so" "$ar"; do
	if [ ! -f "$f" ]; then
		echo "check-exports: $f: no such file" >&2
		exit 2
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

status=0
summary=()
# exported FILE KIND NM-ARGS...: list FILE's defined external symbols as
# "where name" lines in $tmp/KIND, then flag those outside the public prefixes.
exported() {
	local file=$1 kind=$2 allow=$3 bad=0 total where name
	shift 3
	# nm -A prints "file:addr T name", or "archive:member:addr T name".
	if ! nm -A --defined-only "$@" "$file" >"$tmp/$kind.nm" 2>"$tmp/err"; then
		echo "check-exports: nm failed on $file: $(cat "$tmp/err")" >&2
		exit 2
	fi
	awk 'NF >= 3 { n = split($1, p, ":"); w = p[1]; if (n > 2) w = w "(" p[2] ")"; print w, $NF }' \
		"$tmp/$kind.nm" >"$tmp/$kind"
	total=$(wc -l <"$tmp/$kind")
	while read -r where name; do
		case "$name" in
		synack_* | SYNACK_*) continue ;;
		esac
		if [ "$allow" = toolchain ]; then
			case "$name" in
			_init | _fini | _edata | _end | __bss_start) continue ;;
			esac
		fi
		echo "check-exports: $where exports $name (not synack_*/SYNACK_*)" >&2
		bad=$((bad + 1))
	done <"$tmp/$kind"
	if [ "$total" -eq 0 ]; then
		summary+=("check-exports: $file exports no symbol at all (not a synack library?)")
		status=1
	elif [ "$bad" -ne 0 ]; then
		summary+=("check-exports: $file: $bad of $total exported symbols are outside synack_*/SYNACK_*")
		status=1
	else
		summary+=("check-exports: $file: $total exported symbols, all synack_*/SYNACK_*")
	fi
}

exported "$so" so toolchain -D
exported "$ar" a none -g

# 2. Every public function is exported by both libraries.
for h in "$root"/include/synack/*.h; do
	printf '#include "synack/%s"\n' "${h##*/}"
done >"$tmp/all.c"
# shellcheck disable=SC2086 # CC may be "ccache gcc"
if ! $CC -std=gnu11 -D_GNU_SOURCE -I"$root/include" -fsyntax-only -aux-info "$tmp/aux" "$tmp/all.c" 2>"$tmp/err"; then
	echo "check-exports: note: $CC cannot list declarations (-aux-info); public functions not checked" >&2
else
	# Lines look like "/* include/synack/tcp.h:33:NC */ extern int synack_tcp_listen (...);"
	# (static inline functions, which are not exported, say "static").
	sed -n -E 's|^/\* ([^ ]*/)?include/synack/[^ ]*:[0-9]+:[^ ]* \*/ extern [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*|\2|p' \
		"$tmp/aux" | sort -u >"$tmp/declared"
	if [ ! -s "$tmp/declared" ]; then
		echo "check-exports: found no function declared in include/synack/*.h" >&2
		status=1
	fi
	for kind in so a; do
		file=$so
		[ "$kind" = a ] && file=$ar
		awk '{ print $2 }' "$tmp/$kind" | sort -u >"$tmp/$kind.names"
		while read -r name; do
			echo "check-exports: $file does not export $name, declared in include/synack/ (SYNACK_API missing?)" >&2
			status=1
		done < <(comm -23 "$tmp/declared" "$tmp/$kind.names")
	done
	summary+=("check-exports: $(wc -l <"$tmp/declared") functions declared in include/synack/*.h, $(comm -23 "$tmp/declared" "$tmp/so.names" | wc -l) missing from the .so, $(comm -23 "$tmp/declared" "$tmp/a.names" | wc -l) from the .a")
fi
# The summary last, so that the end of a long list of offenders shows it.
printf '%s\n' "${summary[@]}"
exit "$status"
