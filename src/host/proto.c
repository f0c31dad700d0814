/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel's protocol (proto.h): parsing a request line into a
 * struct dl_host_req, step by step (the line, its words, the command,
 * the command's arguments), and the addresses and errno names both
 * ends of the channel use.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devfn.h"
#include "proto.h"

static const struct {
	const char *name;
	enum dl_host_cmd cmd;
	int min_args, max_args; /* after the command word */
} commands[] = {
	{ "help", DL_HOST_HELP, 0, 0 },
	{ "tree", DL_HOST_TREE, 0, 0 },
	{ "add", DL_HOST_ADD, 1, 64 },
	{ "eject", DL_HOST_EJECT, 1, 1 },
	{ "surprise", DL_HOST_SURPRISE, 1, 1 },
	{ "relations", DL_HOST_RELATIONS, 1, DL_HOST_ARGS_MAX },
	{ "error", DL_HOST_ERROR, 1, 1 },
	{ "stats", DL_HOST_STATS, 0, 0 },
	{ "trace", DL_HOST_TRACE, 0, 1 },
	{ "monitor", DL_HOST_MONITOR, 0, 0 },
};

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Exactly n hex digits (n > 0), value <= max. */
static int hexfield(const char *s, size_t n, unsigned long max,
		    unsigned long *ret)
{
	unsigned long v = 0;

	if (n == 0 || n > 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v * 16 + (unsigned long)d;
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int dl_host_parse_bus(const char *s, struct dl_host_addr *ret)
{
	const char *colon;
	unsigned long dom = 0, bus;

	if (!s || !ret)
		return -EINVAL;
	colon = strchr(s, ':');
	if (colon) {
		if (hexfield(s, (size_t)(colon - s), 0xffff, &dom) < 0 ||
		    colon - s != 4)
			return -EINVAL;
		s = colon + 1;
	}
	if (strlen(s) != 2 || hexfield(s, 2, 0xff, &bus) < 0)
		return -EINVAL;
	*ret = (struct dl_host_addr){ .domain = (uint16_t)dom,
				      .bus = (uint8_t)bus };
	return 0;
}

int dl_host_parse_addr(const char *s, struct dl_host_addr *ret)
{
	unsigned long dom = 0, bus, dev, fn;
	size_t len;

	if (!s || !ret)
		return -EINVAL;
	len = strlen(s);
	if (len == 12) {
		if (s[4] != ':' || hexfield(s, 4, 0xffff, &dom) < 0)
			return -EINVAL;
		s += 5;
		len -= 5;
	}
	if (len != 7 || s[2] != ':' || s[5] != '.')
		return -EINVAL;
	if (hexfield(s, 2, 0xff, &bus) < 0 || hexfield(s + 3, 2, DL_PCI_SLOT_MAX, &dev) < 0 ||
	    hexfield(s + 6, 1, DL_PCI_FN_MAX, &fn) < 0)
		return -EINVAL;
	*ret = (struct dl_host_addr){ .domain = (uint16_t)dom,
				      .bus = (uint8_t)bus,
				      .dev = (uint8_t)dev,
				      .fn = (uint8_t)fn };
	return 0;
}

char *dl_host_format_addr(const struct dl_host_addr *a, char *buf)
{
	snprintf(buf, DL_HOST_ADDR_SIZE, "%04x:%02x:%02x.%x", (unsigned int)a->domain,
		 (unsigned int)a->bus, (unsigned int)(a->dev & DL_PCI_SLOT_MAX),
		 (unsigned int)(a->fn & DL_PCI_FN_MAX));
	return buf;
}

void dl_host_req_clear(struct dl_host_req *req)
{
	if (!req)
		return;
	free(req->addrs);
	free(req->kv);
	free(req->buf);
	memset(req, 0, sizeof(*req));
}

static bool valid_kv(const char *t)
{
	const char *eq = strchr(t, '=');

	if (!eq || eq == t || eq[1] == '\0')
		return false;
	for (const char *p = t; p < eq; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return false;
	return true;
}

/* The length of the request without its line ending, after checking
 * its size and its bytes. */
static int check_line(const char *line, size_t len, size_t *ret_len, char *err,
		      size_t errlen)
{
	if (!line)
		return fail(err, errlen, -EINVAL, "empty request");
	if (len >= DL_HOST_LINE_MAX)
		return fail(err, errlen, -E2BIG, "request longer than %d bytes",
			    DL_HOST_LINE_MAX - 1);
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0' || (c < ' ' && c != '\t') || c >= 0x7f)
			return fail(err, errlen, -EINVAL,
				    "invalid byte 0x%02x at column %zu", c,
				    i + 1);
	}
	*ret_len = len;
	return 0;
}

/* Split @buf at blanks into @tok (DL_HOST_ARGS_MAX + 2 slots). */
static int split_words(char *buf, char **tok, size_t *ret_ntok, char *err,
		       size_t errlen)
{
	size_t ntok = 0;

	for (char *p = buf; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (ntok == DL_HOST_ARGS_MAX + 1)
			return fail(err, errlen, -E2BIG,
				    "more than %d arguments", DL_HOST_ARGS_MAX);
		tok[ntok++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (ntok == 0)
		return fail(err, errlen, -EINVAL, "empty request");
	*ret_ntok = ntok;
	return 0;
}

/* The command @tok[0] names, with a number of arguments it takes: its
 * index in commands[]. */
static int find_command(char **tok, size_t ntok, char *err, size_t errlen)
{
	int ci = -1;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(tok[0], commands[i].name) == 0)
			ci = (int)i;
	if (ci < 0)
		return fail(err, errlen, -EINVAL,
			    "unknown command '%.32s' (try 'help')", tok[0]);
	if ((int)ntok - 1 < commands[ci].min_args ||
	    (int)ntok - 1 > commands[ci].max_args)
		return fail(err, errlen, -EINVAL,
			    "%s takes %d to %d arguments, got %zu",
			    commands[ci].name, commands[ci].min_args,
			    commands[ci].max_args, ntok - 1);
	return ci;
}

/* add, eject, surprise, error: a function address; add also key=value
 * pairs. */
static int parse_function_args(struct dl_host_req *req, char **tok, size_t ntok,
			       char *err, size_t errlen)
{
	if (dl_host_parse_addr(tok[1], &req->addr) < 0)
		return fail(err, errlen, -EINVAL,
			    "'%.32s' is not a PCI address (DDDD:BB:DD.F)", tok[1]);
	if (req->cmd != DL_HOST_ADD)
		return 0;
	req->nkv = (unsigned int)(ntok - 2);
	req->kv = calloc(req->nkv + 1, sizeof(char *));
	if (!req->kv)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 2; i < ntok; i++) {
		if (!valid_kv(tok[i]))
			return fail(err, errlen, -EINVAL,
				    "'%.32s' is not key=value", tok[i]);
		req->kv[i - 2] = tok[i];
	}
	return 0;
}

/* relations: a bus, then the addresses of the functions on it that are
 * still there. */
static int parse_relations_args(struct dl_host_req *req, char **tok, size_t ntok,
				char *err, size_t errlen)
{
	if (dl_host_parse_bus(tok[1], &req->addr) < 0)
		return fail(err, errlen, -EINVAL,
			    "'%.32s' is not a bus (DDDD:BB)", tok[1]);
	req->naddrs = (unsigned int)(ntok - 2);
	req->addrs = calloc(req->naddrs + 1, sizeof(*req->addrs));
	if (!req->addrs)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 2; i < ntok; i++) {
		struct dl_host_addr *a = &req->addrs[i - 2];

		if (dl_host_parse_addr(tok[i], a) < 0)
			return fail(err, errlen, -EINVAL,
				    "'%.32s' is not a PCI address", tok[i]);
		if (a->domain != req->addr.domain || a->bus != req->addr.bus)
			return fail(err, errlen, -EINVAL,
				    "%.32s is not on bus %04x:%02x", tok[i],
				    req->addr.domain, req->addr.bus);
	}
	return 0;
}

/* trace: nothing, or follow. */
static int parse_trace_args(struct dl_host_req *req, char **tok, size_t ntok,
			    char *err, size_t errlen)
{
	if (ntok == 2) {
		if (strcmp(tok[1], "follow") != 0 && strcmp(tok[1], "--follow") != 0)
			return fail(err, errlen, -EINVAL, "trace takes only 'follow'");
		req->follow = true;
	}
	return 0;
}

int dl_host_parse(const char *line, size_t len, struct dl_host_req *req,
		  char *err, size_t errlen)
{
	char *buf, *tok[DL_HOST_ARGS_MAX + 2];
	size_t ntok = 0;
	int ci, r;

	if (!req)
		return -EINVAL;
	memset(req, 0, sizeof(*req));
	r = check_line(line, len, &len, err, errlen);
	if (r < 0)
		return r;
	buf = malloc(len + 1);
	if (!buf)
		return fail(err, errlen, -ENOMEM, "out of memory");
	memcpy(buf, line, len);
	buf[len] = '\0';
	r = split_words(buf, tok, &ntok, err, errlen);
	ci = r < 0 ? r : find_command(tok, ntok, err, errlen);
	if (ci < 0) {
		free(buf);
		return ci;
	}
	req->cmd = commands[ci].cmd;
	req->buf = buf;
	switch (req->cmd) {
	case DL_HOST_ADD:
	case DL_HOST_EJECT:
	case DL_HOST_SURPRISE:
	case DL_HOST_ERROR:
		r = parse_function_args(req, tok, ntok, err, errlen);
		break;
	case DL_HOST_RELATIONS:
		r = parse_relations_args(req, tok, ntok, err, errlen);
		break;
	case DL_HOST_TRACE:
		r = parse_trace_args(req, tok, ntok, err, errlen);
		break;
	default:
		r = 0;
		break;
	}
	if (r < 0)
		dl_host_req_clear(req);
	return r;
}

static const struct {
	int value;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" },     { ENOENT, "ENOENT" },   { EIO, "EIO" },
	{ E2BIG, "E2BIG" },     { ENOMEM, "ENOMEM" },   { EACCES, "EACCES" },
	{ EBUSY, "EBUSY" },     { EEXIST, "EEXIST" },   { ENODEV, "ENODEV" },
	{ EINVAL, "EINVAL" },   { ENOSPC, "ENOSPC" },   { ERANGE, "ERANGE" },
	{ EDEADLK, "EDEADLK" }, { ENOSYS, "ENOSYS" },   { ETIMEDOUT, "ETIMEDOUT" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENXIO, "ENXIO" },
	{ ESHUTDOWN, "ESHUTDOWN" }, { ECANCELED, "ECANCELED" },
	{ EAGAIN, "EAGAIN" },
};

const char *dl_host_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].value == err)
			return errnames[i].name;
	return "EIO";
}

int dl_host_errno_value(const char *name)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (name && strcmp(errnames[i].name, name) == 0)
			return errnames[i].value;
	return 0;
}
