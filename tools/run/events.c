/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runner's part of the events (docs/uevents.md): inside its own
 * network namespace the daemon sends every change through the kernel's
 * NETLINK_KOBJECT_UEVENT socket of that namespace, which no host device
 * shares; a private /run/udev holds the database libudev reads and the
 * `control` file without which sd-device does not listen on udev's
 * group. The loopback interface is brought up, as in a fresh container.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

#define UDEV_DIR "/run/udev"

/* lo up: a private network namespace starts with it down. */
static void loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		(void)ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/*
 * A network namespace owned by a user namespace of its own, joined with
 * setns() so that the runner keeps its credentials. The owner matters:
 * the kernel broadcasts the events of devices that belong to no network
 * namespace (a FUSE mount's bdi, say) to every namespace owned by the
 * initial user namespace (lib/kobject_uevent.c uevent_net_init() lists
 * only those in uevent_sock_list, which
 * uevent_net_broadcast_untagged() walks), so a plain CLONE_NEWNET made
 * by root would still hear the host's events. A helper process makes
 * the pair; we join its network namespace (CAP_SYS_ADMIN over the
 * helper's user namespace: ours, as its creator's), then it exits.
 *
 * The helper is born in the new namespaces (clone()) rather than
 * unsharing them: unshare(CLONE_NEWUSER) refuses a process with more
 * than one thread (EINVAL), and a forked child of a sanitized runner has
 * its sanitizer's thread, while clone() makes the namespaces for the new
 * process alone whatever the caller runs.
 */
int run_private_netns(void)
{
	char path[64], c = 0;
	int go[2], ready[2], fd, err = 0;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ready, O_CLOEXEC) < 0) {
		err = -errno;
		close(go[0]);
		close(go[1]);
		return err;
	}
	/* as fork(): no new stack, the child returns here with 0 */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD,
			     NULL, NULL, NULL, NULL);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		c = 'R';
		(void)!write(ready[1], &c, 1);
		(void)!read(go[0], &c, 1); /* until the parent has joined */
		_exit(0);
	}
	if (pid < 0)
		err = -errno;
	close(go[0]);
	close(ready[1]);
	if (pid > 0 && (read(ready[0], &c, 1) != 1 || c != 'R')) {
		err = -EPROTO;
	} else if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			err = -errno;
		if (fd >= 0)
			close(fd);
	}
	close(go[1]); /* the helper's read returns: it exits */
	close(ready[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (err)
		fprintf(stderr, "devlife-run: cannot make a private network "
				"namespace for the events: %s\n", strerror(-err));
	return err;
}

int run_private_udev(struct run *r)
{
	struct stat st;

	loopback_up();
	/* Where the host has /run/udev, a tmpfs over it; where it has none
	 * (a container without udev), a tmpfs over /run, which the
	 * namespace's mounts hide from nobody but COMMAND. */
	if (stat(UDEV_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", UDEV_DIR, "tmpfs", MS_NOSUID | MS_NODEV,
			  "mode=0755") < 0)
			goto fail;
	} else if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV,
			 "mode=0755") < 0 ||
		   mkdir(UDEV_DIR, 0755) < 0) {
		goto fail;
	}
	if (r->verbose)
		fprintf(stderr, "devlife-run: a private %s for udev's "
				"database\n", UDEV_DIR);
	/* sd-device refuses devices whose directory is not on sysfs
	 * (device_set_syspath(): fd_is_fs_type(SYSFS_MAGIC)) unless told
	 * not to check; the tree is a FUSE filesystem. */
	setenv("SYSTEMD_DEVICE_VERIFY_SYSFS", "0", 1);
	return 0;
fail:
	fprintf(stderr, "devlife-run: cannot make a private %s: %s\n",
		UDEV_DIR, strerror(errno));
	return -1;
}
