/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel's event stream (monitor.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor.h"
#include "sendall.h"

struct client {
	struct client *next;             /* m->lock */
	int fd;                          /* written before joining */
	int evfd;                        /* written before joining */
	char *ring[DL_HOST_MONITOR_BUFFER]; /* m->lock */
	size_t head, count;              /* m->lock */
	uint64_t dropped;                /* m->lock */
};

struct dl_host_monitor {
	pthread_mutex_t lock;
	struct client *clients;          /* lock */
};

int dl_host_monitor_new(struct dl_host_monitor **ret)
{
	struct dl_host_monitor *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	*ret = m;
	return 0;
}

void dl_host_monitor_free(struct dl_host_monitor *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* ". uevent SOURCE K=V K=V\n": the framing allows printable ASCII only,
 * anything else (and a space inside a value) becomes '?'. */
static char *format_line(const char *source, const char *vars, size_t len)
{
	size_t cap = len + strlen(source) + 16, n;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	n = (size_t)snprintf(s, cap, ". uevent %s", source);
	for (size_t off = 0; off < len;) {
		size_t vlen = strnlen(vars + off, len - off);

		s[n++] = ' ';
		for (size_t i = 0; i < vlen; i++) {
			char ch = vars[off + i];

			s[n++] = ch > ' ' && ch < 0x7f ? ch : '?';
		}
		off += vlen + 1;
	}
	s[n++] = '\n';
	s[n] = '\0';
	return s;
}

void dl_host_monitor_publish(struct dl_host_monitor *m, const char *source,
			     const char *vars, size_t len)
{
	static const uint64_t one = 1;

	pthread_mutex_lock(&m->lock);
	for (struct client *c = m->clients; c; c = c->next) {
		char *line = NULL;

		if (c->count < DL_HOST_MONITOR_BUFFER)
			line = format_line(source, vars, len);
		if (!line) {
			c->dropped++;
		} else {
			c->ring[(c->head + c->count) % DL_HOST_MONITOR_BUFFER] =
				line;
			c->count++;
		}
		if (write(c->evfd, &one, sizeof(one)) < 0) {
			/* EAGAIN: a wake-up is pending anyway */
		}
	}
	pthread_mutex_unlock(&m->lock);
}

/* Send what is queued; 0 or a negative errno. */
static int drain(struct dl_host_monitor *m, struct client *c)
{
	char *batch[DL_HOST_MONITOR_BUFFER];
	uint64_t dropped;
	size_t n = 0;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	while (c->count) {
		batch[n++] = c->ring[c->head];
		c->head = (c->head + 1) % DL_HOST_MONITOR_BUFFER;
		c->count--;
	}
	dropped = c->dropped;
	c->dropped = 0;
	pthread_mutex_unlock(&m->lock);
	if (dropped) {
		char msg[96];
		int len = snprintf(msg, sizeof(msg),
				   ". dropped %llu events (the reader is too "
				   "slow)\n", (unsigned long long)dropped);

		r = dl_host_send_all(c->fd, msg, (size_t)len);
	}
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = dl_host_send_all(c->fd, batch[i], strlen(batch[i]));
		free(batch[i]);
	}
	return r;
}

int dl_host_monitor_run(struct dl_host_monitor *m, int fd)
{
	struct client *c = calloc(1, sizeof(*c));
	int r = 0;

	if (!c)
		return -ENOMEM;
	c->fd = fd;
	c->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->evfd < 0) {
		r = -errno;
		free(c);
		return r;
	}
	pthread_mutex_lock(&m->lock);
	c->next = m->clients;
	m->clients = c;
	pthread_mutex_unlock(&m->lock);
	while (r == 0) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { c->evfd, POLLIN, 0 } };
		uint64_t cnt;
		char junk[256];

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (p[0].revents) {
			/* Input is ignored; EOF or an error (the client left,
			 * or the server shut the connection down) ends it. */
			ssize_t got = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);

			if (got == 0 || (got < 0 && errno != EAGAIN &&
					 errno != EINTR))
				break;
		}
		if (!(p[1].revents & POLLIN))
			continue;
		if (read(c->evfd, &cnt, sizeof(cnt)) < 0) {
			/* EAGAIN: nothing new */
		}
		r = drain(m, c);
	}
	pthread_mutex_lock(&m->lock);
	for (struct client **pp = &m->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&m->lock);
	while (c->count) {
		free(c->ring[c->head]);
		c->head = (c->head + 1) % DL_HOST_MONITOR_BUFFER;
		c->count--;
	}
	close(c->evfd);
	free(c);
	return r;
}
