/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel server's private state, shared by server.c
 * (listening, connections, lifecycle), commands.c (carrying requests
 * out) and reply.c (building and sending replies). Not part of any API.
 */
#ifndef DEVLIFE_HOST_SERVER_INTERNAL_H
#define DEVLIFE_HOST_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <devlife/devlife.h>

#include "platform.h"
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
	dl_host_scenario_fn scenario;    /* lock */
	void *scenario_arg;              /* lock */

	pthread_mutex_t follow_lock;
	struct conn *followers;          /* follow_lock */

	struct dl_host_monitor *monitor; /* lock: the `monitor` stream */
};

/* A reply being built; @oom once memory ran out (reply.c). */
struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

/* reply.c */

/* Append @n bytes of @s to @o. */
void dl_host__out_add(struct out *o, const char *s, size_t n);
/* Append formatted text to @o. */
void dl_host__out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append a data line: ". " and the text with anything that could break
 * the framing (newlines, control bytes) replaced by '?'. */
void dl_host__out_data(struct out *o, const char *s, size_t n);
/* Append a formatted data line. */
void dl_host__out_dataf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append the final line of an error reply; @msg is made one line. */
void dl_host__out_error(struct out *o, int err, const char *msg);
/* Send and reset @o; a reply that could not be built in memory becomes
 * an ENOMEM error, and with !@final fails the stream. */
int dl_host__out_flush(int fd, struct out *o, bool final);

/* commands.c */

/* Handle one request line of @c; a negative return closes the
 * connection. */
int dl_host__handle_line(struct conn *c, const char *line, size_t n);
/* The tree watcher that feeds every trace follower's ring; never
 * blocks. */
void dl_host__watch_cb(struct dl_device *dev, const struct dl_trace_record *rec,
		       void *arg);

#endif
