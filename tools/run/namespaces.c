/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-run's namespaces: a mount namespace of its own, inside a user
 * namespace mapping the caller to root when the caller is not root, and
 * a clear word when the system forbids one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "run.h"

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	err = n < 0 ? -errno : n == (ssize_t)strlen(text) ? 0 : -EIO;
	close(fd);
	return err;
}

/* The first line of a sysctl's file, or "" when it is absent. */
static const char *read_sysctl(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/*
 * Why the system refused an unprivileged user namespace: the knobs that
 * forbid one (Debian's and Ubuntu's), else the error itself.
 */
static void explain_userns(const char *step, int err)
{
	char v[32];

	fprintf(stderr, "devlife-run: cannot %s: %s\n", step, strerror(err));
	if (!strcmp(read_sysctl("/proc/sys/kernel/unprivileged_userns_clone",
				v, sizeof(v)), "0"))
		fprintf(stderr, "devlife-run: this system forbids unprivileged "
				"user namespaces (kernel.unprivileged_userns_clone"
				" = 0): run as root, or allow them with\n"
				"  sysctl -w kernel.unprivileged_userns_clone=1\n");
	else if (!strcmp(read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
				     v, sizeof(v)), "1"))
		fprintf(stderr, "devlife-run: AppArmor restricts unprivileged "
				"user namespaces (kernel.apparmor_restrict_"
				"unprivileged_userns = 1): run as root, or give "
				"devlife-run an AppArmor profile that allows "
				"`userns,`\n");
	else if (err == ENOSPC)
		fprintf(stderr, "devlife-run: no user namespace may be created "
				"(user.max_user_namespaces = %s here): run as root, "
				"or raise that limit\n",
			read_sysctl("/proc/sys/user/max_user_namespaces", v, sizeof(v)));
	else if (err == EINVAL)
		fprintf(stderr, "devlife-run: this kernel has no user "
				"namespaces (CONFIG_USER_NS): run as root\n");
	else
		fprintf(stderr, "devlife-run: a user namespace is needed to "
				"mount without root (a security policy or seccomp "
				"filter may forbid it): run as root\n");
}

/*
 * Map the caller to root in a user namespace of its own: it may then
 * mount in the mount namespace it owns, and what the daemon serves as
 * root's is the caller's.
 */
static int map_caller_to_root(uid_t uid, gid_t gid)
{
	char map[64];
	int r;

	r = write_file("/proc/self/setgroups", "deny");
	if (r < 0 && r != -ENOENT) {
		explain_userns("deny setgroups in the user namespace", -r);
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	r = write_file("/proc/self/uid_map", map);
	if (r < 0) {
		explain_userns("map the caller to root (uid_map)", -r);
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	r = write_file("/proc/self/gid_map", map);
	if (r < 0) {
		explain_userns("map the caller's group (gid_map)", -r);
		return -1;
	}
	return 0;
}

int run_enter_namespaces(const struct ns_plan *plan)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int flags = CLONE_NEWNS | plan->extra_flags;

	if (plan->user)
		flags |= CLONE_NEWUSER;
	if (unshare(flags) < 0) {
		if (plan->user && (errno == EPERM || errno == ENOSPC ||
				   errno == EINVAL || errno == EACCES))
			explain_userns("create a user namespace", errno);
		else
			fprintf(stderr, "devlife-run: cannot create a mount "
					"namespace: %s\n", strerror(errno));
		return -1;
	}
	if (plan->user && map_caller_to_root(uid, gid) < 0)
		return -1;
	/* Nothing mounted here may show outside, nor the reverse. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		if (plan->user)
			explain_userns("make the mount namespace private", errno);
		else
			fprintf(stderr, "devlife-run: cannot make the mount "
					"namespace private: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

