#!/bin/sh
# The Debian package: built with dpkg-buildpackage from a clean copy of the
# tree (the checkout is never touched), lintian-clean, and, unpacked into a
# throwaway root, a binary that runs, a manual that man finds, the example
# settings, the copyright, and a bash completion that bash-completion loads
# from where the package puts it.

. "$top_srcdir/tests/lib.sh"

# The package is built from a clean copy, the same in every build of the
# tree: a sanitizer build would only build it a second time.
if grep -aq __asan_init "$TIDBPLAY" 2>/dev/null; then
	not_here "the package, built from a clean copy" \
	    "a sanitizer build: the main build builds and checks the package"
	done_testing
fi

# Every tool this needs, with the package that brings it.
missing=
for tool in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian \
    man:man-db bash:bash git:git readelf:binutils; do
	command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
done
[ -f /usr/share/bash-completion/bash_completion ] ||
    missing="$missing bash-completion"
if [ -n "$missing" ]; then
	if [ "${CI:-}" = true ]; then
		fail "packaging tools are missing: apt-get install$missing"
		done_testing
	fi
	echo "1..0 # SKIP not installed:$missing"
	exit 0
fi
if ! git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		fail "$top_srcdir is not a git checkout"
		done_testing
	fi
	echo "1..0 # SKIP $top_srcdir is not a git checkout"
	exit 0
fi

# The version this tree builds, as the program says it.
tpraw --version
version=$(printf '%s\n' "$OUT" | sed -n 's/^tidbplay \([^ ]*\) .*/\1/p')
[ -n "$version" ] || bail "tidbplay --version says '$OUT'"
arch=$(dpkg --print-architecture)

# What a checkout holds besides what git ignores, before and after.
tree_state() {
	git -C "$top_srcdir" status --porcelain --untracked-files=all
	git -C "$top_srcdir" status --porcelain --ignored -- debian
	ls -d "$top_srcdir"/../tidbplay_* "$top_srcdir"/../tidbplay-dbgsym_* \
	    2>/dev/null
}
before=$(tree_state)

# The copy: the files git tracks, and new ones it does not ignore, as they
# are in the working tree.
SRC=$T/pkg/tidbplay
mkdir -p "$SRC"
(cd "$top_srcdir" && git ls-files --cached --others --exclude-standard |
    while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
    tar -cf - -T -) | tar -C "$SRC" -xf - || bail "cannot copy the tree"

# The changelog's version is the one configure.ac gives the program.
is "$(cd "$SRC" && dpkg-parsechangelog -S Version)" "$version" \
    "debian/changelog is at the version configure.ac sets"

# As on a user's machine: not inside this make (whose MAKEFLAGS would carry
# its TESTS into the package's make check) nor this test's environment.
(cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u TESTS -u DEB_BUILD_OPTIONS -u DEB_BUILD_PROFILES \
    -u top_srcdir -u top_builddir -u TIDBPLAY dpkg-buildpackage -us -uc -b) \
    >"$T/build.log" 2>&1
rc=$?
is "$rc" 0 "dpkg-buildpackage -us -uc -b builds the package"
[ "$rc" -eq 0 ] || { diag "$(tail -40 "$T/build.log")"; done_testing; }
if grep -q '^PASS: tests/unit ' "$T/build.log" &&
    ! grep -q '^[A-Z]*: tests/[a-z]*\.t' "$T/build.log"; then
	pass "the package build runs the unit tests and none with a server"
else
	fail "the package build runs the unit tests and none with a server"
	diag "$(grep -E '^(PASS|FAIL|SKIP|ERROR):' "$T/build.log" | head)"
fi

DEB=$T/pkg/tidbplay_${version}_$arch.deb
if [ -f "$DEB" ]; then
	pass "it is tidbplay_${version}_$arch.deb"
else
	fail "it is tidbplay_${version}_$arch.deb"
	diag "$(ls "$T/pkg")"
	done_testing
fi

is "$(tree_state)" "$before" "the checkout is as it was"

# lintian: no error, no warning; what it says besides is shown.
lintian "$DEB" >"$T/lintian.out" 2>&1
rc=$?
grep -v '^running with root privileges' "$T/lintian.out" >"$T/tags"
is "$rc" 0 "lintian exits 0"
if grep -q '^[EW]: ' "$T/tags"; then
	fail "lintian reports no error and no warning"
	diag "$(cat "$T/tags")"
else
	pass "lintian reports no error and no warning"
	[ -s "$T/tags" ] && diag "$(cat "$T/tags")"
fi

# Depends: from the libraries the binary links, by ${shlibs:Depends}.
depends=$(dpkg-deb -f "$DEB" Depends)
ROOT=$T/root
dpkg-deb -x "$DEB" "$ROOT" || bail "dpkg-deb -x failed"
BIN=$ROOT/usr/bin/tidbplay
for lib in $(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
	# where the loader finds it, as dpkg knows that path or its target
	path=$(ldd "$BIN" | awk -v lib="$lib" '$1 == lib && $2 == "=>" { print $3 }')
	pkg=
	for p in "$path" "/usr$path" "$(readlink -f "$path")"; do
		[ -n "$pkg" ] || pkg=$(dpkg -S "$p" 2>/dev/null | sed -n '1s/[:,].*//p')
	done
	case " $depends" in
	*" $pkg "* | *" $pkg,"* | *" $pkg") pass "Depends names $pkg ($lib)" ;;
	*)
		fail "Depends names ${pkg:-the package of} $lib"
		diag "Depends: $depends"
		;;
	esac
done

# The files, where the package puts them.
for f in usr/bin/tidbplay usr/share/man/man1/tidbplay.1.gz \
    usr/share/doc/tidbplay/copyright \
    usr/share/doc/tidbplay/examples/tidbplay.ini.example \
    usr/share/bash-completion/completions/tidbplay; do
	if [ -f "$ROOT/$f" ]; then
		pass "the package installs /$f"
	else
		fail "the package installs /$f"
	fi
done
if cmp -s "$top_srcdir/tidbplay.ini.example" \
    "$ROOT/usr/share/doc/tidbplay/examples/tidbplay.ini.example"; then
	pass "the example settings are the tree's"
else
	fail "the example settings are the tree's"
fi
COPYRIGHT=$ROOT/usr/share/doc/tidbplay/copyright
like "$(head -1 "$COPYRIGHT")" \
    '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/$' \
    "the copyright file is machine-readable"
like "$(grep '^License:' "$COPYRIGHT" | sort -u)" '^License: GPL-3.0-or-later$' \
    "the copyright file says GPL-3.0-or-later, and nothing else"
if grep -q '/usr/share/common-licenses/GPL-3' "$COPYRIGHT" &&
    cmp -s "$top_srcdir/COPYING" /usr/share/common-licenses/GPL-3; then
	pass "the licence it points to is COPYING"
else
	fail "the licence it points to is COPYING"
fi

# The binary runs.
OUT=$("$BIN" --version 2>&1)
RC=$?
is "$RC" 0 "the installed binary runs"
like "$OUT" "^tidbplay $version " "and says its version"

# man finds the page, and it is tidbplay's.
OUT=$(man -M "$ROOT/usr/share/man" -w tidbplay 2>&1)
is "$OUT" "$ROOT/usr/share/man/man1/tidbplay.1.gz" "man -M finds the page"
OUT=$(MANPAGER=cat MANWIDTH=80 man -M "$ROOT/usr/share/man" tidbplay 2>&1)
like "$OUT" '^ +tidbplay (-|—|\\-) ' "man -M shows it"

# bash-completion loads the completion from where the package puts it.
candidates() {
	bash "$top_srcdir/tests/complete.sh" --load "$ROOT/usr/share" "$1" \
	    2>"$T/err" | sort | tr '\n' ' ' | sed 's/ *$//'
}
OUT=$(candidates '--for')
is "$OUT" '--force --format' "'--for<Tab>' offers --format (and --force)"
[ -s "$T/err" ] && diag "$(cat "$T/err")"
OUT=$(candidates '--form')
is "$OUT" '--format' "'--form<Tab>' completes to --format"
OUT=$(candidates '--format ')
is "$OUT" 'csv json table tsv vertical' "'--format <Tab>' offers the five formats"

done_testing
