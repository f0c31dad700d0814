/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel's commands: help, tree, stats, trace (and following
 * it), and the host events carried out through the PCI platform.
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

#include "monitor.h"
#include "platform.h"
#include "proto.h"
#include "server-internal.h"
#include "server.h"

/* ------------------------------------------------------------------ */
/* Commands                                                            */

static const char *const help_lines[] = {
	"help                      this list",
	"tree                      the device tree: name [vendor:device] state drv= users=",
	"add DBDF key=value...     new hardware at DBDF (keys as in a topology file), then add it",
	"eject DBDF                orderly eject: remove (waiting for users), hardware gone",
	"surprise DBDF             surprise removal: hardware gone now, in-flight I/O fails",
	"relations BUS [DBDF...]   the functions still present on BUS; the others are ejected",
	"error DBDF                error recovery: driver handlers, else remove and rescan",
	"stats                     tree counters, one 'key value' per line",
	"trace [follow]            the lifecycle trace: 'seq ts_ns event name arg'; follow streams",
	"monitor                   stream the uevents: 'uevent KERNEL|UDEV KEY=VALUE...'",
	"scenario NAME TEXT        run a race scenario (TEXT: the file, \\n for newlines); streams its report",
};

static void format_rec(struct out *o, const struct dl_trace_record *rec)
{
	dl_host__out_dataf(o, "%llu %llu %s %s %d", (unsigned long long)rec->seq,
		  (unsigned long long)rec->ts_ns, dl_trace_event_name(rec->event),
		  rec->name[0] ? rec->name : "-", rec->arg);
}

static void cmd_tree(struct dl_host_server *s, struct out *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f) {
		dl_host__out_error(o, ENOMEM, "out of memory");
		return;
	}
	r = dl_pci_platform_print_tree(s->plat, f);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0) {
		dl_host__out_error(o, -r, "cannot print the tree");
	} else {
		for (char *p = text, *nl; p && *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl) {
				dl_host__out_data(o, p, strlen(p));
				break;
			}
			dl_host__out_data(o, p, (size_t)(nl - p));
		}
		dl_host__out_add(o, "ok\n", 3);
	}
	free(text);
}

static void cmd_stats(struct dl_host_server *s, struct out *o)
{
	struct dl_tree_stats st;
	int r = dl_tree_get_stats(s->tree, &st);

	if (r < 0) {
		dl_host__out_error(o, -r, "cannot read the statistics");
		return;
	}
	dl_host__out_dataf(o, "devices_live %llu", (unsigned long long)st.devices_live);
	dl_host__out_dataf(o, "devices_allocated %llu", (unsigned long long)st.devices_allocated);
	dl_host__out_dataf(o, "adds %llu", (unsigned long long)st.adds);
	dl_host__out_dataf(o, "removes %llu", (unsigned long long)st.removes);
	dl_host__out_dataf(o, "remove_busy %llu", (unsigned long long)st.remove_busy);
	dl_host__out_dataf(o, "remove_timeout %llu", (unsigned long long)st.remove_timeout);
	dl_host__out_dataf(o, "work_run %llu", (unsigned long long)st.work_run);
	dl_host__out_dataf(o, "work_cancelled %llu", (unsigned long long)st.work_cancelled);
	{
		struct dl_pci_platform_stats ps;

		if (dl_pci_platform_get_stats(s->plat, &ps) == 0)
			dl_host__out_dataf(o, "violations %llu", (unsigned long long)ps.violations);
	}
	dl_host__out_add(o, "ok\n", 3);
}

/* The backlog from @cursor on; returns the last seq written (or the
 * cursor's predecessor). Bounded, so a busy tree cannot keep it going. */
static uint64_t trace_backlog(struct dl_host_server *s, struct out *o,
			      uint64_t *cursor)
{
	struct dl_trace_record *recs = malloc(256 * sizeof(*recs));
	uint64_t last = *cursor ? *cursor - 1 : 0;
	size_t total = 0, n;

	if (!recs) {
		o->oom = true;
		return last;
	}
	while (total < 2 * DL_TRACE_RING &&
	       (n = dl_trace_read(s->tree, cursor, recs, 256)) > 0) {
		for (size_t i = 0; i < n; i++) {
			format_rec(o, &recs[i]);
			last = recs[i].seq;
		}
		total += n;
	}
	free(recs);
	return last;
}

void dl_host__watch_cb(struct dl_device *dev, const struct dl_trace_record *rec,
		     void *arg)
{
	struct dl_host_server *s = arg;
	static const uint64_t one = 1;

	/* Must not block: a short critical section, a non-blocking
	 * eventfd write (a full counter still wakes the reader). */
	pthread_mutex_lock(&s->follow_lock);
	for (struct conn *c = s->followers; c; c = c->fnext) {
		if (c->count == DL_HOST_FOLLOW_BUFFER) {
			c->dropped++;
		} else {
			c->ring[(c->head + c->count) % DL_HOST_FOLLOW_BUFFER] = *rec;
			c->count++;
		}
		if (write(c->evfd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, a wake-up is
			 * pending anyway */
		}
	}
	pthread_mutex_unlock(&s->follow_lock);
}

/* Stream the trace until the client goes away (or the server stops). */
static int cmd_follow(struct conn *c, struct out *o)
{
	struct dl_host_server *s = c->s;
	struct dl_trace_record *batch = NULL;
	uint64_t cursor = 0, last;
	int r = 0;

	c->ring = calloc(DL_HOST_FOLLOW_BUFFER, sizeof(*c->ring));
	batch = calloc(DL_HOST_FOLLOW_BUFFER, sizeof(*batch));
	c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!c->ring || !batch || c->evfd < 0) {
		dl_host__out_error(o, c->evfd < 0 ? errno : ENOMEM, "cannot follow the trace");
		r = dl_host__out_flush(c->fd, o, true);
		goto out;
	}
	/* Join first, then read the backlog: nothing falls in between;
	 * what both see is skipped by its sequence number. */
	pthread_mutex_lock(&s->follow_lock);
	c->fnext = s->followers;
	s->followers = c;
	pthread_mutex_unlock(&s->follow_lock);

	last = trace_backlog(s, o, &cursor);
	r = dl_host__out_flush(c->fd, o, false);
	while (r == 0) {
		struct pollfd p[2] = { { c->fd, POLLIN, 0 }, { c->evfd, POLLIN, 0 } };
		uint64_t dropped = 0, cnt;
		size_t n = 0;
		char junk[256];

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			/* Input while following is ignored; EOF or an error
			 * (the client left, or the server shut us down) ends
			 * the stream. */
			ssize_t got = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);

			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
				break;
		}
		if (!(p[1].revents & POLLIN))
			continue;
		if (read(c->evfd, &cnt, sizeof(cnt)) < 0) {
			/* EAGAIN: raced with another read; nothing to do */
		}
		pthread_mutex_lock(&s->follow_lock);
		while (c->count) {
			batch[n++] = c->ring[c->head];
			c->head = (c->head + 1) % DL_HOST_FOLLOW_BUFFER;
			c->count--;
		}
		dropped = c->dropped;
		c->dropped = 0;
		pthread_mutex_unlock(&s->follow_lock);
		if (dropped)
			dl_host__out_dataf(o, "dropped %llu events (the reader is too slow)",
				  (unsigned long long)dropped);
		for (size_t i = 0; i < n; i++) {
			/* Skip only what the backlog printed. Watchers are
			 * called after the ring's lock is dropped, so live
			 * events may come out of sequence order: skipping
			 * anything below the last one printed lost events
			 * (tests/fs/test-torture.sh found it). */
			if (batch[i].seq <= last)
				continue;
			format_rec(o, &batch[i]);
		}
		r = dl_host__out_flush(c->fd, o, false);
	}
	pthread_mutex_lock(&s->follow_lock);
	for (struct conn **pp = &s->followers; *pp; pp = &(*pp)->fnext) {
		if (*pp == c) {
			*pp = c->fnext;
			break;
		}
	}
	pthread_mutex_unlock(&s->follow_lock);
out:
	if (c->evfd >= 0)
		close(c->evfd);
	c->evfd = -1;
	free(c->ring);
	c->ring = NULL;
	free(batch);
	return -1; /* a follow ends the connection */
}

static void cmd_host(struct dl_host_server *s, const struct dl_host_req *req,
		     struct out *o)
{
	static const enum dl_pci_host_event evs[] = {
		[DL_HOST_ADD] = DL_PCI_HOST_ADD,
		[DL_HOST_EJECT] = DL_PCI_HOST_EJECT,
		[DL_HOST_SURPRISE] = DL_PCI_HOST_SURPRISE,
		[DL_HOST_RELATIONS] = DL_PCI_HOST_RELATIONS,
		[DL_HOST_ERROR] = DL_PCI_HOST_ERROR,
	};
	const struct dl_host_addr *a = &req->addr;
	const char *const *kv = (const char *const *)req->kv;
	char (*names)[DL_HOST_ADDR_SIZE] = NULL;
	const char **list = NULL;
	char msg[512] = "";
	void (*settle)(void *);
	void *settle_arg;
	int r;

	if (req->cmd == DL_HOST_RELATIONS) {
		names = calloc(req->naddrs + 1, sizeof(*names));
		list = calloc(req->naddrs + 1, sizeof(*list));
		if (!names || !list) {
			free(names);
			free(list);
			dl_host__out_error(o, ENOMEM, "out of memory");
			return;
		}
		for (unsigned int i = 0; i < req->naddrs; i++)
			list[i] = dl_host_format_addr(&req->addrs[i], names[i]);
		kv = list;
	}
	r = dl_pci_platform_host(s->plat, evs[req->cmd], a->domain, a->bus,
				 dl_pci_devfn(a->dev, a->fn), kv, msg, sizeof(msg));
	free(names);
	free(list);
	pthread_mutex_lock(&s->lock);
	settle = s->settle;
	settle_arg = s->settle_arg;
	pthread_mutex_unlock(&s->lock);
	if (settle)
		settle(settle_arg); /* the view agrees before the reply */
	if (r < 0) {
		dl_host__out_error(o, -r, msg);
		return;
	}
	if (msg[0])
		dl_host__out_data(o, msg, strlen(msg));
	dl_host__out_add(o, "ok\n", 3);
}

struct scen_out {
	struct conn *c;
	struct out *o;
	int err;
};

/* A report line of the scenario, sent at once (a runner waits for the
 * first before it starts its program). */
static void scen_emit(void *arg, const char *line)
{
	struct scen_out *so = arg;

	dl_host__out_data(so->o, line, strlen(line));
	if (so->err == 0)
		so->err = dl_host__out_flush(so->c->fd, so->o, false);
}

/* The file's text from its one-line form: "\n" a newline, "\\" a
 * backslash. -EINVAL for any other escape. */
static int unescape(const char *p, size_t n, char *out, size_t *ret)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\\') {
			out[len++] = p[i];
			continue;
		}
		if (++i == n || (p[i] != 'n' && p[i] != '\\'))
			return -EINVAL;
		out[len++] = p[i] == 'n' ? '\n' : '\\';
	}
	*ret = len;
	return 0;
}

/* scenario NAME TEXT: parse, run, stream the report (its last data line
 * "result N passed, M failed"), then "ok"; a bad file or a refusal is
 * an error reply, and nothing ran. */
static int cmd_scenario(struct conn *c, const char *args, size_t n)
{
	struct dl_host_server *s = c->s;
	struct out o = { 0 };
	struct scen_out so = { c, &o, 0 };
	char name[256], err[512] = "", *text = NULL;
	const char *sp = memchr(args, ' ', n);
	dl_host_scenario_fn fn;
	size_t len = 0;
	void *arg;
	int r;

	pthread_mutex_lock(&s->lock);
	fn = s->scenario;
	arg = s->scenario_arg;
	pthread_mutex_unlock(&s->lock);
	if (!sp || sp == args || (size_t)(sp - args) >= sizeof(name)) {
		r = -EINVAL;
		snprintf(err, sizeof(err), "usage: scenario NAME TEXT");
	} else if (!fn) {
		r = -EOPNOTSUPP;
		snprintf(err, sizeof(err), "this server runs no scenarios");
	} else if (!(text = malloc(n))) {
		r = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
	} else if (unescape(sp + 1, n - (size_t)(sp + 1 - args), text, &len) < 0) {
		r = -EINVAL;
		snprintf(err, sizeof(err), "bad escape in the text (\\n and \\\\ only)");
	} else {
		memcpy(name, args, (size_t)(sp - args));
		name[sp - args] = '\0';
		r = fn(arg, name, text, len, scen_emit, &so, err, sizeof(err));
	}
	free(text);
	if (r < 0)
		dl_host__out_error(&o, -r, err);
	else
		dl_host__out_add(&o, "ok\n", 3);
	if (so.err == 0)
		so.err = dl_host__out_flush(c->fd, &o, true);
	free(o.p);
	return so.err;
}

/* Handle one request line; a negative return closes the connection. */
int dl_host__handle_line(struct conn *c, const char *line, size_t n)
{
	struct dl_host_server *s = c->s;
	struct dl_host_req req;
	struct out o = { 0 };
	char err[256] = "";
	int r;

	/* Its text is not words: not for the request parser. */
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n > 9 && !memcmp(line, "scenario ", 9))
		return cmd_scenario(c, line + 9, n - 9);
	r = dl_host_parse(line, n, &req, err, sizeof(err));
	if (r < 0) {
		dl_host__out_error(&o, -r, err);
		r = dl_host__out_flush(c->fd, &o, true);
		free(o.p);
		return r;
	}
	switch (req.cmd) {
	case DL_HOST_HELP:
		for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++)
			dl_host__out_data(&o, help_lines[i], strlen(help_lines[i]));
		dl_host__out_add(&o, "ok\n", 3);
		break;
	case DL_HOST_TREE:
		cmd_tree(s, &o);
		break;
	case DL_HOST_STATS:
		cmd_stats(s, &o);
		break;
	case DL_HOST_TRACE:
		if (req.follow) {
			dl_host_req_clear(&req);
			r = cmd_follow(c, &o);
			free(o.p);
			return r;
		} else {
			uint64_t cursor = 0;

			(void)trace_backlog(s, &o, &cursor);
			dl_host__out_add(&o, "ok\n", 3);
		}
		break;
	case DL_HOST_MONITOR: {
		struct dl_host_monitor *mon;

		dl_host_req_clear(&req);
		pthread_mutex_lock(&s->lock);
		mon = s->monitor;
		pthread_mutex_unlock(&s->lock);
		if (!mon) {
			dl_host__out_error(&o, ENOTSUP, "no events: devlifed "
					   "runs without --events or --uevents");
			r = dl_host__out_flush(c->fd, &o, true);
			free(o.p);
			return r;
		}
		free(o.p);
		(void)dl_host_monitor_run(mon, c->fd);
		return -1; /* a monitor ends the connection */
	}
	case DL_HOST_ADD:
	case DL_HOST_EJECT:
	case DL_HOST_SURPRISE:
	case DL_HOST_RELATIONS:
	case DL_HOST_ERROR:
		cmd_host(s, &req, &o);
		break;
	default:
		dl_host__out_error(&o, EINVAL, "unknown command");
		break;
	}
	dl_host_req_clear(&req);
	r = dl_host__out_flush(c->fd, &o, true);
	free(o.p);
	return r;
}
