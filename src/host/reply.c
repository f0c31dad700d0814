/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replies of the host channel (docs/host-protocol.md): data lines ". ",
 * a final "ok" or "error ENAME message", built in memory and sent
 * whole; a reply that runs out of memory still keeps the framing.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <devlife/devlife.h>

#include "platform.h"
#include "proto.h"
#include "sendall.h"
#include "server-internal.h"
#include "server.h"

/* ------------------------------------------------------------------ */
/* Output                                                              */

void dl_host__out_add(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		char *p;

		while (cap < o->len + n + 1)
			cap *= 2;
		p = realloc(o->p, cap);
		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void out_vprintf(struct out *o, const char *fmt, va_list ap)
{
	char small[512];
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		dl_host__out_add(o, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);

	if (!big) {
		o->oom = true;
		return;
	}
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	dl_host__out_add(o, big, (size_t)n);
	free(big);
}

void dl_host__out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
}

/* A data line: ". " and the text with anything that could break the
 * framing (newlines, control bytes) replaced by '?'. */
void dl_host__out_data(struct out *o, const char *s, size_t n)
{
	dl_host__out_add(o, ". ", 2);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if ((unsigned char)c < ' ' && c != '\t')
			c = '?';
		dl_host__out_add(o, &c, 1);
	}
	dl_host__out_add(o, "\n", 1);
}

void dl_host__out_dataf(struct out *o, const char *fmt, ...)
{
	struct out line = { 0 };
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(&line, fmt, ap);
	va_end(ap);
	if (line.oom)
		o->oom = true;
	else
		dl_host__out_data(o, line.p ? line.p : "", line.len);
	free(line.p);
}

/* The final line of an error reply; @msg is made one line. */
void dl_host__out_error(struct out *o, int err, const char *msg)
{
	dl_host__out_printf(o, "error %s ", dl_host_errno_name(err));
	for (const char *p = msg && *msg ? msg : strerror(err); *p; p++) {
		char c = (unsigned char)*p < ' ' ? ' ' : *p;

		dl_host__out_add(o, &c, 1);
	}
	dl_host__out_add(o, "\n", 1);
}

/* Send and reset @o. A reply that could not be built in memory becomes
 * an ENOMEM error (its data lines are lost, the framing is kept). */
int dl_host__out_flush(int fd, struct out *o, bool final)
{
	int r;

	if (o->oom) {
		static const char enomem[] = "error ENOMEM out of memory\n";

		r = dl_host_send_all(fd, enomem, sizeof(enomem) - 1);
		if (r == 0 && !final)
			r = -ENOMEM; /* a stream cannot go on after that */
	} else {
		r = dl_host_send_all(fd, o->p ? o->p : "", o->len);
	}
	o->len = 0;
	o->oom = false;
	if (o->p)
		o->p[0] = '\0';
	return r;
}
