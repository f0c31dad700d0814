/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel server: a Unix socket, an accept thread, one thread
 * per connection, requests parsed by proto.c and carried out through the
 * PCI platform.
 *
 * Nothing a client sends can disturb another client: each connection has
 * its own thread and its own bounded line buffer; a bad request gets an
 * error reply; an over-long line gets one and the connection is closed.
 * Trace followers receive events through one tree watcher that copies
 * each event into every follower's bounded ring and pokes its eventfd;
 * the watcher never blocks (a full ring counts a drop instead).
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
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <devlife/devlife.h>

#include "platform.h"
#include "proto.h"
#include "server.h"

struct conn {
	struct conn *next;               /* s->lock */
	struct dl_host_server *s;        /* written once */
	int fd;                          /* s->lock to close (set to -1)
					  * or to shut down */
	pthread_t thread;                /* written once */
	bool done;                       /* s->lock: the thread is finishing */

	/* trace following */
	struct conn *fnext;              /* s->follow_lock */
	int evfd;                        /* written before joining followers */
	struct dl_trace_record *ring;    /* s->follow_lock */
	size_t head, count;              /* s->follow_lock */
	uint64_t dropped;                /* s->follow_lock */
};

struct dl_host_server {
	struct dl_pci_platform *plat;    /* written once */
	struct dl_tree *tree;            /* written once */
	char *path;                      /* written once */
	dev_t sock_dev;                  /* written once: the socket file */
	ino_t sock_ino;                  /* we made, to unlink only it */
	int lfd;                         /* written once */
	int wakefd;                      /* eventfd: stop the accept thread */
	pthread_t accept_thread;         /* written once */
	bool watching;                   /* written once */

	pthread_mutex_t lock;
	struct conn *conns;              /* lock */
	unsigned int nactive;            /* lock: conns not done */
	bool stopping;                   /* lock */
	uid_t uid;                       /* lock */
	bool allow_root;                 /* lock */
	void (*settle)(void *);          /* lock */
	void *settle_arg;                /* lock */

	pthread_mutex_t follow_lock;
	struct conn *followers;          /* follow_lock */
};

/* ------------------------------------------------------------------ */
/* Output                                                              */

struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static void out_add(struct out *o, const char *s, size_t n)
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
		out_add(o, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);

	if (!big) {
		o->oom = true;
		return;
	}
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	out_add(o, big, (size_t)n);
	free(big);
}

static void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
}

/* A data line: ". " and the text with anything that could break the
 * framing (newlines, control bytes) replaced by '?'. */
static void out_data(struct out *o, const char *s, size_t n)
{
	out_add(o, ". ", 2);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if ((unsigned char)c < ' ' && c != '\t')
			c = '?';
		out_add(o, &c, 1);
	}
	out_add(o, "\n", 1);
}

static void out_dataf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_dataf(struct out *o, const char *fmt, ...)
{
	struct out line = { 0 };
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(&line, fmt, ap);
	va_end(ap);
	if (line.oom)
		o->oom = true;
	else
		out_data(o, line.p ? line.p : "", line.len);
	free(line.p);
}

/* The final line of an error reply; @msg is made one line. */
static void out_error(struct out *o, int err, const char *msg)
{
	out_printf(o, "error %s ", dl_host_errno_name(err));
	for (const char *p = msg && *msg ? msg : strerror(err); *p; p++) {
		char c = (unsigned char)*p < ' ' ? ' ' : *p;

		out_add(o, &c, 1);
	}
	out_add(o, "\n", 1);
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Send and reset @o. A reply that could not be built in memory becomes
 * an ENOMEM error (its data lines are lost, the framing is kept). */
static int out_flush(int fd, struct out *o, bool final)
{
	int r;

	if (o->oom) {
		static const char enomem[] = "error ENOMEM out of memory\n";

		r = send_all(fd, enomem, sizeof(enomem) - 1);
		if (r == 0 && !final)
			r = -ENOMEM; /* a stream cannot go on after that */
	} else {
		r = send_all(fd, o->p ? o->p : "", o->len);
	}
	o->len = 0;
	o->oom = false;
	if (o->p)
		o->p[0] = '\0';
	return r;
}

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
};

static void format_rec(struct out *o, const struct dl_trace_record *rec)
{
	out_dataf(o, "%llu %llu %s %s %d", (unsigned long long)rec->seq,
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
		out_error(o, ENOMEM, "out of memory");
		return;
	}
	r = dl_pci_platform_print_tree(s->plat, f);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0) {
		out_error(o, -r, "cannot print the tree");
	} else {
		for (char *p = text, *nl; p && *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl) {
				out_data(o, p, strlen(p));
				break;
			}
			out_data(o, p, (size_t)(nl - p));
		}
		out_add(o, "ok\n", 3);
	}
	free(text);
}

static void cmd_stats(struct dl_host_server *s, struct out *o)
{
	struct dl_tree_stats st;
	int r = dl_tree_get_stats(s->tree, &st);

	if (r < 0) {
		out_error(o, -r, "cannot read the statistics");
		return;
	}
	out_dataf(o, "devices_live %llu", (unsigned long long)st.devices_live);
	out_dataf(o, "devices_allocated %llu", (unsigned long long)st.devices_allocated);
	out_dataf(o, "adds %llu", (unsigned long long)st.adds);
	out_dataf(o, "removes %llu", (unsigned long long)st.removes);
	out_dataf(o, "remove_busy %llu", (unsigned long long)st.remove_busy);
	out_dataf(o, "remove_timeout %llu", (unsigned long long)st.remove_timeout);
	out_dataf(o, "work_run %llu", (unsigned long long)st.work_run);
	out_dataf(o, "work_cancelled %llu", (unsigned long long)st.work_cancelled);
	{
		struct dl_pci_platform_stats ps;

		if (dl_pci_platform_get_stats(s->plat, &ps) == 0)
			out_dataf(o, "violations %llu", (unsigned long long)ps.violations);
	}
	out_add(o, "ok\n", 3);
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

static void watch_cb(struct dl_device *dev, const struct dl_trace_record *rec,
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
		out_error(o, c->evfd < 0 ? errno : ENOMEM, "cannot follow the trace");
		r = out_flush(c->fd, o, true);
		goto out;
	}
	/* Join first, then read the backlog: nothing falls in between;
	 * what both see is skipped by its sequence number. */
	pthread_mutex_lock(&s->follow_lock);
	c->fnext = s->followers;
	s->followers = c;
	pthread_mutex_unlock(&s->follow_lock);

	last = trace_backlog(s, o, &cursor);
	r = out_flush(c->fd, o, false);
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
			out_dataf(o, "dropped %llu events (the reader is too slow)",
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
		r = out_flush(c->fd, o, false);
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
			out_error(o, ENOMEM, "out of memory");
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
		out_error(o, -r, msg);
		return;
	}
	if (msg[0])
		out_data(o, msg, strlen(msg));
	out_add(o, "ok\n", 3);
}

/* Handle one request line; a negative return closes the connection. */
static int handle_line(struct conn *c, const char *line, size_t n)
{
	struct dl_host_server *s = c->s;
	struct dl_host_req req;
	struct out o = { 0 };
	char err[256] = "";
	int r;

	r = dl_host_parse(line, n, &req, err, sizeof(err));
	if (r < 0) {
		out_error(&o, -r, err);
		r = out_flush(c->fd, &o, true);
		free(o.p);
		return r;
	}
	switch (req.cmd) {
	case DL_HOST_HELP:
		for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++)
			out_data(&o, help_lines[i], strlen(help_lines[i]));
		out_add(&o, "ok\n", 3);
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
			out_add(&o, "ok\n", 3);
		}
		break;
	case DL_HOST_ADD:
	case DL_HOST_EJECT:
	case DL_HOST_SURPRISE:
	case DL_HOST_RELATIONS:
	case DL_HOST_ERROR:
		cmd_host(s, &req, &o);
		break;
	default:
		out_error(&o, EINVAL, "unknown command");
		break;
	}
	dl_host_req_clear(&req);
	r = out_flush(c->fd, &o, true);
	free(o.p);
	return r;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct dl_host_server *s = c->s;
	char *buf = malloc(DL_HOST_LINE_MAX);
	size_t len = 0;

	while (buf) {
		char *nl = memchr(buf, '\n', len);

		if (nl) {
			size_t n = (size_t)(nl - buf) + 1;
			int r = handle_line(c, buf, n);

			memmove(buf, buf + n, len - n);
			len -= n;
			if (r < 0)
				break;
			continue;
		}
		if (len == DL_HOST_LINE_MAX) {
			char reply[96];

			snprintf(reply, sizeof(reply),
				 "error E2BIG request longer than %d bytes\n",
				 DL_HOST_LINE_MAX - 1);
			(void)send_all(c->fd, reply, strlen(reply));
			break;
		}
		ssize_t got = recv(c->fd, buf + len, DL_HOST_LINE_MAX - len, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break; /* gone, perhaps mid-request: nothing to answer */
		len += (size_t)got;
	}
	free(buf);
	pthread_mutex_lock(&s->lock);
	close(c->fd);
	c->fd = -1;
	c->done = true;
	s->nactive--;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Join connection threads that have finished. */
static void reap(struct dl_host_server *s, bool all)
{
	struct conn *dead = NULL;

	pthread_mutex_lock(&s->lock);
	for (struct conn **pp = &s->conns; *pp;) {
		struct conn *c = *pp;

		if (all || c->done) {
			*pp = c->next;
			c->next = dead;
			dead = c;
		} else {
			pp = &c->next;
		}
	}
	pthread_mutex_unlock(&s->lock);
	while (dead) {
		struct conn *c = dead;

		dead = c->next;
		pthread_join(c->thread, NULL);
		free(c);
	}
}

static void refuse(int fd, const char *line)
{
	(void)!send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static bool peer_allowed(struct dl_host_server *s, int fd, uid_t *ret_uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	bool ok;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*ret_uid = cred.uid;
	pthread_mutex_lock(&s->lock);
	ok = (cred.uid == 0 && s->allow_root) || cred.uid == s->uid;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static void *accept_main(void *arg)
{
	struct dl_host_server *s = arg;

	for (;;) {
		struct pollfd p[2] = { { s->lfd, POLLIN, 0 }, { s->wakefd, POLLIN, 0 } };
		struct conn *c;
		uid_t uid = (uid_t)-1;
		int fd, r;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				poll(NULL, 0, 100); /* let descriptors come back */
			continue;
		}
		reap(s, false);
		if (!peer_allowed(s, fd, &uid)) {
			char line[128];

			snprintf(line, sizeof(line),
				 "error EACCES uid %ld may not use this socket\n",
				 uid == (uid_t)-1 ? -1L : (long)uid);
			refuse(fd, line);
			continue;
		}
		pthread_mutex_lock(&s->lock);
		if (s->stopping || s->nactive >= DL_HOST_MAX_CLIENTS) {
			pthread_mutex_unlock(&s->lock);
			refuse(fd, "error EBUSY too many clients\n");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			pthread_mutex_unlock(&s->lock);
			refuse(fd, "error ENOMEM out of memory\n");
			continue;
		}
		c->s = s;
		c->fd = fd;
		c->evfd = -1;
		r = pthread_create(&c->thread, NULL, conn_main, c);
		if (r != 0) {
			pthread_mutex_unlock(&s->lock);
			free(c);
			refuse(fd, "error EAGAIN cannot start a thread\n");
			continue;
		}
		c->next = s->conns;
		s->conns = c;
		s->nactive++;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The socket                                                          */

/* Make way for a new socket at @path: refuse anything but a stale
 * socket, which is removed. */
static int clear_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return errno == EACCES ? -EACCES : -EADDRINUSE;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int dl_host_server_new(struct dl_pci_platform *plat, const char *path,
		       struct dl_host_server **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct dl_host_server *s;
	struct stat st;
	mode_t old;
	int r;

	if (!plat || !path || !path[0] || !ret)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->plat = plat;
	s->tree = dl_pci_platform_tree(plat);
	s->lfd = s->wakefd = -1;
	s->uid = geteuid();
	s->allow_root = true;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->follow_lock, NULL);
	s->path = strdup(path);
	if (!s->path) {
		r = -ENOMEM;
		goto fail;
	}
	r = clear_path(path, &sa);
	if (r < 0)
		goto fail;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		r = -errno;
		goto fail;
	}
	/* Never visible with a wider mode: narrow the umask around bind()
	 * (the socket file's mode comes from it), then set it explicitly in
	 * case the file system ignores the umask. */
	old = umask(0177);
	r = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		r = -errno;
		goto fail;
	}
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0) {
		r = -errno;
		unlink(path);
		goto fail;
	}
	s->sock_dev = st.st_dev;
	s->sock_ino = st.st_ino;
	if (listen(s->lfd, 64) < 0) {
		r = -errno;
		unlink(path);
		goto fail;
	}
	s->wakefd = eventfd(0, EFD_CLOEXEC);
	if (s->wakefd < 0) {
		r = -errno;
		unlink(path);
		goto fail;
	}
	r = dl_tree_watch(s->tree, watch_cb, s);
	if (r < 0) {
		unlink(path);
		goto fail;
	}
	s->watching = true;
	r = -pthread_create(&s->accept_thread, NULL, accept_main, s);
	if (r < 0) {
		dl_tree_unwatch(s->tree, watch_cb, s);
		unlink(path);
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->wakefd >= 0)
		close(s->wakefd);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->follow_lock);
	free(s->path);
	free(s);
	return r;
}

void dl_host_server_set_settle(struct dl_host_server *s, void (*fn)(void *),
			       void *arg)
{
	pthread_mutex_lock(&s->lock);
	s->settle = fn;
	s->settle_arg = arg;
	pthread_mutex_unlock(&s->lock);
}

void dl_host__server_set_peer_policy(struct dl_host_server *s, uid_t uid,
				     bool allow_root)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->uid = uid;
	s->allow_root = allow_root;
	pthread_mutex_unlock(&s->lock);
}

void dl_host_server_free(struct dl_host_server *s)
{
	static const uint64_t one = 1;
	struct stat st;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->lock);
	if (write(s->wakefd, &one, sizeof(one)) < 0) {
		/* cannot fail for a fresh eventfd; the poll would see it */
	}
	pthread_join(s->accept_thread, NULL);
	close(s->lfd);
	/* Unlink only the socket we made, not one a successor put there. */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->sock_dev &&
	    st.st_ino == s->sock_ino)
		unlink(s->path);

	/* Wake every connection: blocked reads return EOF, blocked writes
	 * fail; a request in progress finishes first. The fd is closed
	 * under the same lock, so it cannot have been reused. */
	pthread_mutex_lock(&s->lock);
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
	reap(s, true);

	if (s->watching)
		dl_tree_unwatch(s->tree, watch_cb, s);
	close(s->wakefd);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->follow_lock);
	free(s->path);
	free(s);
}
