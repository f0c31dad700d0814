#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A client built against the build tree's devlife-uninstalled.pc
# (meson-uninstalled/) sees the public headers and nothing else: the
# private core.h must not be on its include path. The client includes
# every public header, links against the uninstalled library and runs.
#
#   uninstalled-pc.sh BUILD_DIR CC
set -u
build=$1
cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..3"

export PKG_CONFIG_PATH="$build/meson-uninstalled"
if flags=$(pkg-config --cflags --libs devlife 2>"$tmp/err"); then
	echo "ok 1 - pkg-config devlife (uninstalled): $flags"
else
	echo "not ok 1 - pkg-config devlife (uninstalled) failed: $(cat "$tmp/err")"
	exit 1
fi

cat >"$tmp/client.c" <<'C'
#include <devlife/devlife.h>
#include <devlife/inline.h>
#if __has_include("core.h") || __has_include(<core.h>)
#error "the uninstalled devlife.pc puts the private core.h on the include path"
#endif
int main(void)
{
	struct dl_tree *tree;

	if (dl_tree_new(&tree) != 0)
		return 1;
	dl_tree_free(tree);
	return 0;
}
C
libdir=$(pkg-config --libs-only-L devlife | sed 's/^ *-L//; s/ .*//')
# shellcheck disable=SC2086 # flags are words
if $cc -std=gnu11 -Werror -o "$tmp/client" "$tmp/client.c" $flags \
	-Wl,-rpath,"$libdir" >"$tmp/err" 2>&1; then
	echo "ok 2 - a client with public headers only builds against it"
else
	echo "not ok 2 - the client does not build:"
	sed 's/^/# /' "$tmp/err"
	exit 1
fi
if "$tmp/client"; then
	echo "ok 3 - the client runs against the uninstalled library"
else
	echo "not ok 3 - the client failed with status $?"
	exit 1
fi
