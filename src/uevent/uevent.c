/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building, encoding and decoding uevents (see uevent.h).
 */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "uevent.h"

/* lib/kobject_uevent.c kobject_actions[] */
static const char *const actions[] = {
	"add", "remove", "change", "move", "online", "offline", "bind",
	"unbind",
};

bool dl_uevent_action_valid(const char *action, size_t len)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strlen(actions[i]) == len &&
		    memcmp(actions[i], action, len) == 0)
			return true;
	return false;
}

int dl_uevent_add(struct dl_uevent *ev, const char *fmt, ...)
{
	size_t room = sizeof(ev->buf) - ev->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ev->buf + ev->len, room, fmt, ap);
	va_end(ap);
	/* As add_uevent_var(): the string and its NUL must fit. */
	if (n < 0 || (size_t)n >= room) {
		if (room)
			ev->buf[ev->len] = '\0';
		return -ENOMEM;
	}
	ev->len += (size_t)n + 1;
	ev->nvars++;
	return 0;
}

int dl_uevent_init(struct dl_uevent *ev, const char *action,
		   const char *devpath, const char *subsystem)
{
	ev->len = 0;
	ev->nvars = 0;
	if (!action || !devpath || !subsystem || devpath[0] != '/' ||
	    !dl_uevent_action_valid(action, strlen(action)) || !subsystem[0])
		return -EINVAL;
	if (dl_uevent_add(ev, "ACTION=%s", action) ||
	    dl_uevent_add(ev, "DEVPATH=%s", devpath) ||
	    dl_uevent_add(ev, "SUBSYSTEM=%s", subsystem))
		return -ENOMEM;
	return 0;
}

const char *dl_uevent_get(const struct dl_uevent *ev, const char *key)
{
	size_t klen = strlen(key);

	for (size_t off = 0; off < ev->len;) {
		const char *v = ev->buf + off;
		size_t vlen = strnlen(v, ev->len - off);

		if (vlen > klen && v[klen] == '=' && !memcmp(v, key, klen))
			return v + klen + 1;
		off += vlen + 1;
	}
	return NULL;
}

/* lib/uuid.c uuid_is_valid(): 8-4-4-4-12 hex digits. */
static bool uuid_valid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* action_arg_word_end(): alphanumerics up to @delim, at least one. */
static const char *word_end(const char *p, const char *end, char delim)
{
	const char *q = p;

	while (q <= end && *q != delim)
		if (!isalnum((unsigned char)*q++))
			return NULL;
	return q == p ? NULL : q;
}

/* kobject_action_args(): "UUID[ KEY=VALUE...]" */
static int synth_args(const char *buf, size_t count, struct dl_uevent *vars)
{
	const char *next, *end;

	if (count && (buf[count - 1] == '\n' || buf[count - 1] == '\0'))
		count--;
	if (count < 36 || !uuid_valid(buf) ||
	    dl_uevent_add(vars, "SYNTH_UUID=%.36s", buf))
		return -EINVAL;
	next = buf + 36;
	end = buf + count - 1;
	while (next <= end) {
		const char *key, *val;

		if (*next != ' ' || ++next > end)
			return -EINVAL;
		key = next;
		next = word_end(key, end, '=');
		if (!next || next > end || *next != '=' || ++next > end)
			return -EINVAL;
		val = next;
		next = word_end(val, end, ' ');
		if (!next || dl_uevent_add(vars, "SYNTH_ARG_%.*s=%.*s",
					   (int)(val - 1 - key), key,
					   (int)(next - val), val))
			return -EINVAL;
	}
	return 0;
}

int dl_uevent_synth_parse(const char *buf, size_t len, char action[9],
			  struct dl_uevent *vars)
{
	size_t n = len, first;
	const char *sp;

	vars->len = 0;
	vars->nvars = 0;
	/* kobject_action_type() */
	if (n && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	if (!n)
		return -EINVAL;
	sp = memchr(buf, ' ', n);
	first = sp ? (size_t)(sp - buf) : n;
	if (first > 8 || !dl_uevent_action_valid(buf, first))
		return -EINVAL;
	memcpy(action, buf, first);
	action[first] = '\0';
	if (!sp)
		return dl_uevent_add(vars, "SYNTH_UUID=0") ? -EINVAL : 0;
	return synth_args(sp + 1, len - first - 1, vars);
}

int dl_uevent_kernel_msg(const struct dl_uevent *ev, char *buf, size_t len)
{
	const char *action = dl_uevent_get(ev, "ACTION");
	const char *devpath = dl_uevent_get(ev, "DEVPATH");
	int n;

	if (!action || !devpath)
		return -EINVAL;
	n = snprintf(buf, len, "%s@%s", action, devpath);
	if (n < 0 || (size_t)n + 1 + ev->len > len)
		return -ENOBUFS;
	memcpy(buf + n + 1, ev->buf, ev->len);
	return n + 1 + (int)ev->len;
}

/* MurmurHash2, 32-bit, by Austin Appleby (public domain): the function
 * systemd's string_hash32() calls with seed 0. Words are read in the
 * machine's byte order, as systemd's src/basic/MurmurHash2.c does. */
uint32_t dl_uevent_hash32(const char *s)
{
	const uint32_t m = 0x5bd1e995;
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	uint32_t h = (uint32_t)len;

	for (; len >= 4; p += 4, len -= 4) {
		uint32_t k;

		memcpy(&k, p, 4);
		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len) {
	case 3:
		h ^= (uint32_t)p[2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)p[1] << 8;
		/* fall through */
	case 1:
		h ^= p[0];
		h *= m;
		break;
	default:
		break;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

uint64_t dl_uevent_bloom64(const char *s)
{
	uint32_t h = dl_uevent_hash32(s);

	return (UINT64_C(1) << (h & 63)) | (UINT64_C(1) << ((h >> 6) & 63)) |
	       (UINT64_C(1) << ((h >> 12) & 63)) |
	       (UINT64_C(1) << ((h >> 18) & 63));
}

/* TAGS is ":a:b:" (udev's device_properties_prepare()); every tag sets
 * its bits. */
static uint64_t tags_bloom(const char *tags)
{
	uint64_t bits = 0;
	char tag[128];

	while (tags && *tags) {
		size_t n = strcspn(tags, ":");

		if (n && n < sizeof(tag)) {
			memcpy(tag, tags, n);
			tag[n] = '\0';
			bits |= dl_uevent_bloom64(tag);
		}
		tags += n;
		if (*tags == ':')
			tags++;
	}
	return bits;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

int dl_uevent_udev_msg(const struct dl_uevent *ev, void *buf, size_t len)
{
	const char *subsystem = dl_uevent_get(ev, "SUBSYSTEM");
	const char *devtype = dl_uevent_get(ev, "DEVTYPE");
	unsigned char *h = buf;
	uint64_t bloom;
	uint32_t v;

	if (!subsystem)
		return -EINVAL;
	if (len < DL_UEVENT_UDEV_HEADER_SIZE + ev->len)
		return -ENOBUFS;
	memset(h, 0, DL_UEVENT_UDEV_HEADER_SIZE);
	memcpy(h, "libudev", 8);
	put_be32(h + 8, DL_UEVENT_UDEV_MAGIC);
	/* header_size, properties_off and properties_len are in the
	 * sender's byte order (systemd stores them without htobe32). */
	v = DL_UEVENT_UDEV_HEADER_SIZE;
	memcpy(h + 12, &v, 4);
	memcpy(h + 16, &v, 4);
	v = (uint32_t)ev->len;
	memcpy(h + 20, &v, 4);
	put_be32(h + 24, dl_uevent_hash32(subsystem));
	if (devtype)
		put_be32(h + 28, dl_uevent_hash32(devtype));
	bloom = tags_bloom(dl_uevent_get(ev, "TAGS"));
	if (bloom) {
		put_be32(h + 32, (uint32_t)(bloom >> 32));
		put_be32(h + 36, (uint32_t)bloom);
	}
	memcpy(h + DL_UEVENT_UDEV_HEADER_SIZE, ev->buf, ev->len);
	return (int)(DL_UEVENT_UDEV_HEADER_SIZE + ev->len);
}

/* Copy "KEY=VALUE\0" strings, skipping empty ones and those without '='. */
static int parse_vars(const char *p, size_t len, struct dl_uevent *ev)
{
	ev->len = 0;
	ev->nvars = 0;
	for (size_t off = 0; off < len;) {
		size_t n = strnlen(p + off, len - off);

		if (n && memchr(p + off, '=', n)) {
			if (n + 1 > sizeof(ev->buf) - ev->len)
				return -EINVAL;
			memcpy(ev->buf + ev->len, p + off, n);
			ev->buf[ev->len + n] = '\0';
			ev->len += n + 1;
			ev->nvars++;
		}
		off += n + 1;
	}
	if (!dl_uevent_get(ev, "ACTION") || !dl_uevent_get(ev, "DEVPATH") ||
	    !dl_uevent_get(ev, "SUBSYSTEM"))
		return -EINVAL;
	return 0;
}

int dl_uevent_parse(const void *msg, size_t len, struct dl_uevent *ev,
		    bool *ret_udev)
{
	const char *p = msg;
	size_t hlen;

	/* sd-device drops anything shorter than 32 bytes. */
	if (len < 32)
		return -EINVAL;
	if (memcmp(p, "libudev", 8) == 0) {
		uint32_t magic, off, plen;

		memcpy(&magic, p + 8, 4);
		memcpy(&off, p + 16, 4);
		memcpy(&plen, p + 20, 4);
		if (be32toh(magic) != DL_UEVENT_UDEV_MAGIC || off + 32 > len ||
		    off > len || plen > len - off)
			return -EINVAL;
		*ret_udev = true;
		return parse_vars(p + off, plen, ev);
	}
	hlen = strnlen(p, len);
	if (hlen + 1 < sizeof("a@/d") || hlen + 1 >= len ||
	    !memmem(p, hlen, "@/", 2))
		return -EINVAL;
	*ret_udev = false;
	return parse_vars(p + hlen + 1, len - hlen - 1, ev);
}
