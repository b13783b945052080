#!/usr/bin/env bash
# Usage: scripts/check-layers.sh OBJ...   (objects under .../obj/src/LAYER/)
#
# The layers of DESIGN.md point one way. An object may reference symbols
# defined only in its own layer or in the layers it is allowed to see:
#   base   -                       the building blocks
#   wire   base                    stateless parse/emit
#   net    base wire               links, IP, ICMP, ND/ARP, fragments
#   tcp    base wire net           TCP (reaches net downwards only)
#   crypto base                    the libcrypto table
#   tls    base crypto             the TLS engine (bytes in, bytes out)
#   stack  every layer above       the composition root wires them all
#   link   base                    links know frames only
#   app    anything                glue that touches the OS
# Net reaches upper protocols only through the entry points they register
# (struct net_proto), never by name; this proves it. The symbols are taken
# with nm from the objects themselves, so a header that pulls a wrong
# dependency in shows up as soon as a symbol is used. Exit 0 when clean,
# 1 naming every offending reference, 2 on a usage or nm error.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 OBJ..." >&2
	exit 2
fi

allowed() { # allowed LAYER: the layers LAYER may use, besides itself
	case "$1" in
	base) echo "" ;;
	wire) echo "base" ;;
	net) echo "base wire" ;;
	tcp) echo "base wire net" ;;
	crypto) echo "base" ;;
	tls) echo "base crypto" ;;
	stack) echo "base wire net tcp crypto tls" ;;
	link) echo "base" ;;
	app) echo "*" ;;
	*) echo "?" ;;
	esac
}

layer_of() { # layer_of OBJ: the folder after obj/src/
	local p=${1#*obj/src/}
	echo "${p%%/*}"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Every defined global symbol and the layer that defines it.
for obj in "$@"; do
	[ -f "$obj" ] || { echo "check-layers: $obj: no such object" >&2; exit 2; }
	l=$(layer_of "$obj")
	[ "$(allowed "$l")" != "?" ] || { echo "check-layers: $obj: unknown layer '$l'" >&2; exit 2; }
	nm --defined-only -g "$obj" | awk -v l="$l" 'NF == 3 {print $3, l}' >>"$tmp/defs" || exit 2
done
sort -u "$tmp/defs" -o "$tmp/defs"

status=0
for obj in "$@"; do
	l=$(layer_of "$obj")
	ok=" $l $(allowed "$l") "
	[ "$ok" = " $l * " ] && continue
	nm -u "$obj" | awk '{print $NF}' | sort -u >"$tmp/undef"
	while read -r sym owner; do
		case "$ok" in
		*" $owner "*) ;;
		*)
			echo "check-layers: ${obj#*obj/} ($l) uses $sym from $owner"
			status=1
			;;
		esac
	done < <(join "$tmp/undef" "$tmp/defs")
done
[ $status -eq 0 ] && echo "check-layers: $# objects, every reference points down"
exit $status
