/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udev's database under /run/udev (udevdb.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "udevdb.h"

int dl_udevdb_init(const char *dir)
{
	char p[PATH_MAX];
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(p, sizeof(p), "%s/data", dir);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(p, sizeof(p), "%s/control", dir);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* The properties udev adds to the kernel's, written as E: lines: none of
 * the kernel's own, nor SEQNUM and USEC_INITIALIZED (the I: line). */
static bool udev_property(const char *kv)
{
	static const char *const skip[] = {
		"ACTION=", "DEVPATH=", "SUBSYSTEM=", "DRIVER=", "SEQNUM=",
		"USEC_INITIALIZED=", "PCI_", "MODALIAS=", "MDEV_STATE=",
		"SYNTH_",
	};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (!strncmp(kv, skip[i], strlen(skip[i])))
			return false;
	return true;
}

int dl_udevdb_update(const char *dir, const struct dl_uevent *ev)
{
	const char *action = dl_uevent_get(ev, "ACTION");
	const char *devpath = dl_uevent_get(ev, "DEVPATH");
	const char *subsystem = dl_uevent_get(ev, "SUBSYSTEM");
	const char *usec = dl_uevent_get(ev, "USEC_INITIALIZED");
	const char *sysname;
	char path[PATH_MAX], tmp[PATH_MAX];
	FILE *f;

	if (!action || !devpath || !subsystem)
		return -EINVAL;
	sysname = strrchr(devpath, '/') + 1;
	snprintf(path, sizeof(path), "%s/data/+%s:%s", dir, subsystem, sysname);
	if (!strcmp(action, "remove"))
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	snprintf(tmp, sizeof(tmp), "%s/data/.#+%s:%s", dir, subsystem,
		 sysname);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (usec)
		fprintf(f, "I:%s\n", usec);
	for (size_t off = 0; off < ev->len;) {
		const char *kv = ev->buf + off;

		if (udev_property(kv))
			fprintf(f, "E:%s\n", kv);
		off += strlen(kv) + 1;
	}
	fprintf(f, "V:1\n");
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}
