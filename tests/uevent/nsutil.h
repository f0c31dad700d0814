/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entering a private user + network + mount namespace for a uevent test:
 * root inside, a network namespace of our own (the kernel's uevent socket
 * of that namespace hears only us), a private /run/udev with the
 * `control` file sd-device looks for before it listens on udev's group.
 */
#ifndef DEVLIFE_TESTS_UEVENT_NSUTIL_H
#define DEVLIFE_TESTS_UEVENT_NSUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int ns_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* 0, or -1 with errno (the caller skips: namespaces not allowed here). */
static inline int ns_enter(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	int fd;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) < 0)
		return -1;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (ns_write("/proc/self/uid_map", map) < 0)
		return -1;
	ns_write("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (ns_write("/proc/self/gid_map", map) < 0)
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	/* A tmpfs over /run: nothing of the host's /run is touched. */
	if (mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
	    mkdir("/run/udev", 0755) < 0)
		return -1;
	fd = open("/run/udev/control", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * Enter, or exit 77 (skip) saying why. unshare(CLONE_NEWUSER) fails with
 * EINVAL in a process with more than one thread (kernel/fork.c
 * ksys_unshare() -> check_unshare_flags(): a new user namespace needs a
 * single-threaded caller); ThreadSanitizer's runtime starts a thread of
 * its own, so under TSan these tests cannot run at all.
 */
static inline void enter_or_skip_ns(void)
{
	if (ns_enter() < 0) {
		int e = errno;

		printf("# no user+network namespace here: %s%s\n",
		       strerror(e),
		       e == EINVAL ? " (unshare(CLONE_NEWUSER) refuses a "
				     "multithreaded process; ThreadSanitizer "
				     "runs a thread of its own)" : "");
		_exit(77);
	}
}

#endif
