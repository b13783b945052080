#!/usr/bin/env bash
# Usage: scripts/check-format.sh   (from the repository's top)
#
# Every C file in the tree is formatted as the checked-in .clang-format
# says (Debian 12's clang-format 14; `make format` rewrites them). Prints
# each file that drifted with the number of lines that differ, and exits
# 1 if any did; prints "SKIP: <reason>" and exits 0 when clang-format is
# absent; exits 2 on a usage error. Files tracked by git, or every .c/.h
# below src include tools tests bench examples outside a checkout.
set -uo pipefail

if ! command -v clang-format >/dev/null 2>&1; then
	echo "SKIP: clang-format is not installed (apt-get install clang-format)"
	exit 0
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find src include tools tests bench examples -name '*.[ch]' 2>/dev/null | sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "check-format: no C files found" >&2; exit 2; }
bad=0
for f in "${files[@]}"; do
	n=$(clang-format "$f" | diff "$f" - | grep -c '^[<>]')
	if [ "$n" -gt 0 ]; then
		echo "check-format: $f: $n lines differ from .clang-format (run: make format)"
		bad=$((bad + 1))
	fi
done
if [ $bad -gt 0 ]; then
	echo "check-format: $bad of ${#files[@]} files drifted"
	exit 1
fi
echo "check-format: ${#files[@]} files match .clang-format ($(clang-format --version | sed 's/.*version //'))"
