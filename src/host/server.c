/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel server: a Unix socket, an accept thread, one thread
 * per connection, requests parsed by proto.c and carried out through the
 * PCI platform (commands.c), replies built by reply.c.
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
#include "sendall.h"
#include "server-internal.h"
#include "server.h"

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
			int r = dl_host__handle_line(c, buf, n);

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
			(void)dl_host_send_all(c->fd, reply, strlen(reply));
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
	r = dl_tree_watch(s->tree, dl_host__watch_cb, s);
	if (r < 0) {
		unlink(path);
		goto fail;
	}
	s->watching = true;
	r = -pthread_create(&s->accept_thread, NULL, accept_main, s);
	if (r < 0) {
		dl_tree_unwatch(s->tree, dl_host__watch_cb, s);
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

void dl_host_server_set_scenario(struct dl_host_server *s,
				 dl_host_scenario_fn fn, void *arg)
{
	pthread_mutex_lock(&s->lock);
	s->scenario = fn;
	s->scenario_arg = arg;
	pthread_mutex_unlock(&s->lock);
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
		dl_tree_unwatch(s->tree, dl_host__watch_cb, s);
	close(s->wakefd);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->follow_lock);
	free(s->path);
	free(s);
}

void dl_host_server_set_monitor(struct dl_host_server *s,
				struct dl_host_monitor *m)
{
	pthread_mutex_lock(&s->lock);
	s->monitor = m;
	pthread_mutex_unlock(&s->lock);
}
