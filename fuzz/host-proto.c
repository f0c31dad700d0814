/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the host channel's request parser (src/host/proto.c), the
 * first thing every byte from a client meets.
 *
 * Beyond "no crash, no leak, no undefined behaviour" it checks what the
 * parser promises: an error leaves the request clear and says why; a
 * request that parses re-serializes to a line that parses to the same
 * request; every address it returns formats and parses back to itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"


static const char *const words[] = {
	[DL_HOST_HELP] = "help",     [DL_HOST_TREE] = "tree",
	[DL_HOST_ADD] = "add",       [DL_HOST_EJECT] = "eject",
	[DL_HOST_SURPRISE] = "surprise", [DL_HOST_RELATIONS] = "relations",
	[DL_HOST_ERROR] = "error",   [DL_HOST_STATS] = "stats",
	[DL_HOST_TRACE] = "trace",
};

static bool same_addr(const struct dl_host_addr *a,
		      const struct dl_host_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev &&
	       a->fn == b->fn;
}

static void check_addr(const struct dl_host_addr *a)
{
	struct dl_host_addr b;
	char buf[16];

	CHECK(a->dev <= 0x1f && a->fn <= 7);
	dl_host_format_addr(a, buf);
	CHECK(strlen(buf) == 12);
	CHECK(dl_host_parse_addr(buf, &b) == 0);
	CHECK(same_addr(a, &b));
}

/* Write the request back as a line (NULL if it does not fit). */
static char *serialize(const struct dl_host_req *req, size_t *ret_len)
{
	size_t cap = DL_HOST_LINE_MAX * 2, len = 0;
	char *s = malloc(cap), a[16];

	if (!s)
		abort();
#define PUT(...) (len += (size_t)snprintf(s + len, cap - len, __VA_ARGS__))
	PUT("%s", words[req->cmd]);
	switch (req->cmd) {
	case DL_HOST_ADD:
		PUT(" %s", dl_host_format_addr(&req->addr, a));
		for (unsigned int i = 0; i < req->nkv; i++)
			PUT(" %s", req->kv[i]);
		break;
	case DL_HOST_EJECT:
	case DL_HOST_SURPRISE:
	case DL_HOST_ERROR:
		PUT(" %s", dl_host_format_addr(&req->addr, a));
		break;
	case DL_HOST_RELATIONS:
		PUT(" %04x:%02x", req->addr.domain, req->addr.bus);
		for (unsigned int i = 0; i < req->naddrs; i++)
			PUT(" %s", dl_host_format_addr(&req->addrs[i], a));
		break;
	case DL_HOST_TRACE:
		if (req->follow)
			PUT(" follow");
		break;
	default:
		break;
	}
#undef PUT
	CHECK(len < cap);
	*ret_len = len;
	return s;
}

static void same_request(const struct dl_host_req *a,
			 const struct dl_host_req *b)
{
	CHECK(a->cmd == b->cmd);
	CHECK(same_addr(&a->addr, &b->addr));
	CHECK(a->naddrs == b->naddrs && a->nkv == b->nkv);
	CHECK(a->follow == b->follow);
	for (unsigned int i = 0; i < a->naddrs; i++)
		CHECK(same_addr(&a->addrs[i], &b->addrs[i]));
	for (unsigned int i = 0; i < a->nkv; i++)
		CHECK(strcmp(a->kv[i], b->kv[i]) == 0);
}

static void check_success(const struct dl_host_req *req)
{
	struct dl_host_req again;
	char err[128];
	size_t len;
	char *line;

	CHECK(req->cmd >= DL_HOST_HELP && req->cmd <= DL_HOST_TRACE);
	CHECK(req->buf != NULL);
	switch (req->cmd) {
	case DL_HOST_ADD:
		CHECK(req->kv && req->kv[req->nkv] == NULL);
		for (unsigned int i = 0; i < req->nkv; i++) {
			const char *eq = strchr(req->kv[i], '=');

			CHECK(eq && eq != req->kv[i] && eq[1]);
			CHECK(!strpbrk(req->kv[i], " \t\r\n"));
		}
		check_addr(&req->addr);
		break;
	case DL_HOST_EJECT:
	case DL_HOST_SURPRISE:
	case DL_HOST_ERROR:
		check_addr(&req->addr);
		break;
	case DL_HOST_RELATIONS:
		CHECK(req->naddrs <= DL_HOST_ARGS_MAX);
		CHECK(req->addr.dev == 0 && req->addr.fn == 0);
		for (unsigned int i = 0; i < req->naddrs; i++) {
			check_addr(&req->addrs[i]);
			CHECK(req->addrs[i].domain == req->addr.domain &&
			      req->addrs[i].bus == req->addr.bus);
		}
		break;
	default:
		CHECK(req->nkv == 0 && req->naddrs == 0);
		break;
	}
	/* A canonical line means the same request. It may be longer than
	 * the original (short addresses gain their domain) and then be
	 * refused as too long, which is fine. */
	line = serialize(req, &len);
	if (len < DL_HOST_LINE_MAX) {
		CHECK(dl_host_parse(line, len, &again, err, sizeof(err)) == 0);
		same_request(req, &again);
		dl_host_req_clear(&again);
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_host_req req, zero;
	char err[128];
	char *s;
	int r;

	memset(err, 'x', sizeof(err));
	r = dl_host_parse((const char *)data, size, &req, err, sizeof(err));
	if (r == 0) {
		check_success(&req);
		dl_host_req_clear(&req);
	} else {
		CHECK(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
		CHECK(memchr(err, '\0', sizeof(err)) && err[0] != '\0');
		memset(&zero, 0, sizeof(zero));
		CHECK(memcmp(&req, &zero, sizeof(req)) == 0);
	}
	dl_host_req_clear(&req); /* clearing twice is allowed */

	/* The address and bus parsers alone, on the input as a string. */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	{
		struct dl_host_addr a;

		if (dl_host_parse_addr(s, &a) == 0)
			check_addr(&a);
		if (dl_host_parse_bus(s, &a) == 0)
			CHECK(a.dev == 0 && a.fn == 0);
		r = dl_host_errno_value(s);
		if (r)
			CHECK(strcmp(dl_host_errno_name(r), s) == 0);
	}
	free(s);
	return 0;
}
