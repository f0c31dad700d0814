/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parsers of the sysfs view's attribute writes, as Linux's sysfs
 * stores parse them: pure functions, no device, no FUSE, so that they can
 * be fuzzed alone (fuzz/attr-write.c). src/fs/sysfs.c uses them for every
 * store.
 */
#ifndef DEVLIFE_FS_PARSE_H
#define DEVLIFE_FS_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/**
 * dl_fs__store_text() - a sysfs store's text
 * @data: the bytes written (not NUL-terminated)
 * @size: how many
 * @out: where to copy them, NUL-terminated
 * @outlen: size of @out
 *
 * At most @outlen - 1 bytes, read as the kernel's stores read their
 * buffer: a C string, ending at the first NUL (a single "\0" is the
 * empty text: dpdk-devbind clears driver_override with it); then one
 * trailing newline is dropped.
 *
 * Context: any thread; pure.
 * Return: the length of the text in @out, or -EINVAL (nothing written,
 * too long). On failure @out may have been written.
 */
int dl_fs__store_text(const char *data, size_t size, char *out, size_t outlen);

/**
 * dl_fs__store_bool() - "1"/"0" for remove, rescan, online and the like
 * @s: the text from dl_fs__store_text()
 * @ret: where to store the value (written only on success)
 *
 * As kstrtoul() with base 0 (decimal, 0x hex, 0 octal), then non-zero is
 * true: one leading '+', no '-', no white space, nothing after the
 * number.
 *
 * Context: any thread; pure.
 * Return: 0 or -EINVAL.
 */
int dl_fs__store_bool(const char *s, bool *ret);

/**
 * dl_fs__store_kbool() - Linux's kstrtobool(), for sriov_drivers_autoprobe
 * @s: the text from dl_fs__store_text()
 * @ret: where to store the value (written only on success)
 *
 * Only the first one or two characters count: y, Y, 1, on, oN... are
 * true; n, N, 0, off... are false.
 *
 * Context: any thread; pure.
 * Return: 0 or -EINVAL.
 */
int dl_fs__store_kbool(const char *s, bool *ret);

/**
 * dl_fs__store_ulong() - an unsigned number, as kstrtoul() with base 0
 * @s: the text from dl_fs__store_text()
 * @max: the largest value accepted
 * @ret: where to store it (written only on success)
 *
 * Exactly lib/kstrtox.c's kstrtoull(): one leading '+' is skipped, then
 * the radix (0x hex, 0 octal), at least one digit, nothing after.
 *
 * Context: any thread; pure.
 * Return: 0, or -EINVAL (not a number, '-', white space, trailing text,
 * overflow, above @max).
 */
int dl_fs__store_ulong(const char *s, unsigned long max, unsigned long *ret);

#endif
