/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int dl_fs__store_text(const char *data, size_t size, char *out, size_t outlen)
{
	if (size == 0 || size >= outlen)
		return -EINVAL;
	memcpy(out, data, size);
	out[size] = '\0';
	if (out[size - 1] == '\n')
		out[--size] = '\0';
	if (strlen(out) != size) /* an embedded NUL */
		return -EINVAL;
	return (int)size;
}

int dl_fs__store_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	/* strtoul() would skip blanks and take a sign: kstrtoul() does not. */
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
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
