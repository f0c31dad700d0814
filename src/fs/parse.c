/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int dl_fs__store_text(const char *data, size_t size, char *out, size_t outlen)
{
	size_t n;

	if (size == 0 || size >= outlen)
		return -EINVAL;
	/* kernfs_fop_write_iter() terminates the buffer at the byte count,
	 * and every store reads it as a C string: it ends at a NUL. */
	memcpy(out, data, size);
	out[size] = '\0';
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return (int)n;
}

/* lib/kstrtox.c: _parse_integer_fixup_radix(), _parse_integer(),
 * _kstrtoull() (whose one trailing newline store_text() dropped). */
int dl_fs__store_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned int base = 10;
	unsigned long v = 0;
	const char *p;

	if (*s == '+')
		s++; /* kstrtoull() */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    isxdigit((unsigned char)s[2])) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (p = s; *p; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			break;
		if (d >= base)
			break;
		if (v > (ULONG_MAX - d) / base)
			return -EINVAL; /* -ERANGE, which every store folds */
		v = v * base + d;
	}
	if (p == s || *p || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int dl_fs__store_bool(const char *s, bool *ret)
{
	unsigned long v;
	int r = dl_fs__store_ulong(s, (unsigned long)-1, &v);

	if (r == 0)
		*ret = v != 0;
	return r;
}

int dl_fs__store_kbool(const char *s, bool *ret)
{
	switch (s[0]) {
	case 'y':
	case 'Y':
	case '1':
		*ret = true;
		return 0;
	case 'n':
	case 'N':
	case '0':
		*ret = false;
		return 0;
	case 'o':
	case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*ret = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*ret = false;
			return 0;
		}
		break;
	default:
		break;
	}
	return -EINVAL;
}
