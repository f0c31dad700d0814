/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-run's /sys: the host's sysfs with the tree's second-level
 * entries (bus/pci, devices/pciDDDD:BB, bus/mdev, ...) bound over it.
 * Where the tree has an entry the host lacks, the parent directory is
 * rebuilt as a tmpfs of bind mounts (sysfs has no mkdir), only as deep as
 * needed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

/* The path of REL under ROOT ("" is ROOT itself) into a PATH_MAX
 * buffer; -1 (with a message) when it does not fit. */
int run_path_of(char *buf, const char *root, const char *rel)
{
	int n = snprintf(buf, PATH_MAX, "%s%s%s", root, *rel ? "/" : "", rel);

	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "devlife-run: path too long: %s/%s\n", root, rel);
		return -1;
	}
	return 0;
}

/* Whether the directory PATH is one of a tmpfs of ours. */
static bool is_shadowed(const struct run *r, const char *path)
{
	for (int i = 0; i < r->nshadows; i++)
		if (!strcmp(r->shadows[i].path, path))
			return true;
	return false;
}

/* Note the directory PATH as ours: the root of a rebuilt directory
 * (MOUNT), or a directory made in one. */
static int record_shadow(struct run *r, const char *path, bool mount)
{
	if (r->nshadows >= MAX_SHADOWS ||
	    !(r->shadows[r->nshadows].path = strdup(path))) {
		fprintf(stderr, "devlife-run: too many directories to rebuild\n");
		return -1;
	}
	r->shadows[r->nshadows++].mount = mount;
	return 0;
}

/* One entry of a directory being rebuilt: a link is copied, anything
 * else is a bind mount of the host's (recursive: it keeps the mounts
 * under it, debugfs under kernel/ say). */
int run_copy_entry(const char *from, const char *to, const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t n;
	int fd;

	if (S_ISLNK(st->st_mode)) {
		n = readlink(from, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		return symlink(target, to);
	}
	if (S_ISDIR(st->st_mode)) {
		if (mkdir(to, st->st_mode & 07777) < 0)
			return -1;
	} else {
		fd = open(to, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, st->st_mode & 0777);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return mount(from, to, NULL, MS_BIND | MS_REC, NULL);
}

/*
 * Replace the directory ROOT/REL (which exists) by a tmpfs holding what
 * it held, so that entries the host lacks can be made in it: sysfs has
 * no mkdir, and what is made elsewhere must not show outside. Built aside
 * in the staging area, then moved into place.
 */
static int shadow_dir(struct run *r, const char *root, const char *rel)
{
	char host[PATH_MAX], aside[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int err = 0;

	if (run_path_of(host, root, rel) < 0)
		return -1;
	if (is_shadowed(r, host))
		return 0;
	if (snprintf(aside, sizeof(aside), "%s/work/%d", r->staging,
		     r->nshadows) >= (int)sizeof(aside))
		return -1;
	if (mkdir(aside, 0755) < 0 ||
	    mount("tmpfs", aside, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755") < 0 || !(d = opendir(host))) {
		fprintf(stderr, "devlife-run: cannot rebuild %s: %s\n", host,
			strerror(errno));
		return -1;
	}
	while (!err && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (run_path_of(from, host, e->d_name) < 0 ||
		    run_path_of(to, aside, e->d_name) < 0) {
			err = -1;
			break;
		}
		if (lstat(from, &st) < 0)
			continue; /* gone meanwhile */
		err = run_copy_entry(from, to, &st);
		if (err)
			fprintf(stderr, "devlife-run: cannot bind %s: %s\n",
				from, strerror(errno));
	}
	closedir(d);
	if (!err && mount(aside, host, NULL, MS_MOVE, NULL) < 0) {
		fprintf(stderr, "devlife-run: cannot mount over %s: %s\n", host,
			strerror(errno));
		err = -1;
	}
	if (!err && r->verbose)
		fprintf(stderr, "devlife-run: %s: the host's entries, on a tmpfs\n",
			host);
	return err ? -1 : record_shadow(r, host, true);
}

/*
 * Make ROOT/REL (ROOT "/sys", or "" for REL an absolute path without its
 * first slash) an entry of the given kind (directory or file), on which
 * another can be bound, rebuilding the directories above it that must
 * gain an entry: only as deep as needed.
 */
int run_make_place(struct run *r, const char *root, const char *rel, mode_t kind)
{
	char host[PATH_MAX], parent[PATH_MAX];
	struct stat st;
	char *slash;
	int fd;

	if (run_path_of(host, root, rel) < 0)
		return -1;
	if (lstat(host, &st) == 0 && (st.st_mode & S_IFMT) == kind)
		return 0;
	if (!*rel) {
		fprintf(stderr, "devlife-run: %s/ is not a directory\n", root);
		return -1;
	}
	snprintf(parent, sizeof(parent), "%s", rel); /* no longer than host */
	slash = strrchr(parent, '/');
	*(slash ? slash : parent) = '\0';
	if (run_make_place(r, root, parent, S_IFDIR) < 0 ||
	    shadow_dir(r, root, parent) < 0)
		return -1;
	if (lstat(host, &st) == 0) {
		/* The host has a different kind of entry there. */
		umount2(host, MNT_DETACH);
		if ((S_ISDIR(st.st_mode) ? rmdir(host) : unlink(host)) < 0)
			goto fail;
	}
	if (kind == S_IFDIR) {
		if (mkdir(host, 0755) < 0 || record_shadow(r, host, false) < 0)
			goto fail;
	} else {
		fd = open(host, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			goto fail;
		close(fd);
	}
	return 0;
fail:
	fprintf(stderr, "devlife-run: cannot make %s: %s\n", host, strerror(errno));
	return -1;
}

/* The tree's entries at the second level (bus/pci, devices/pci0000:00,
 * ...), in pass 0 given a place in /sys, in pass 1 bound there. */
static int graft_pass(struct run *r, int pass)
{
	char dir[PATH_MAX], rel[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	struct dirent *top, *e;
	DIR *td, *d;
	struct stat st;
	int err = 0;

	if (!(td = opendir(r->tree)))
		return -1;
	while (!err && (top = readdir(td))) {
		if (top->d_name[0] == '.')
			continue;
		if (run_path_of(dir, r->tree, top->d_name) < 0 || !(d = opendir(dir)))
			continue; /* a file at the top: none today */
		while (!err && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (run_path_of(rel, top->d_name, e->d_name) < 0 ||
			    run_path_of(src, r->tree, rel) < 0 ||
			    run_path_of(dst, SYS, rel) < 0) {
				err = -1;
				break;
			}
			if (lstat(src, &st) < 0)
				continue;
			if (pass == 0) {
				err = run_make_place(r, SYS, rel, st.st_mode & S_IFMT);
			} else if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
				fprintf(stderr, "devlife-run: cannot bind %s on %s: %s\n",
					src, dst, strerror(errno));
				err = -1;
			} else if (r->verbose) {
				fprintf(stderr, "devlife-run: %s: the tree's\n", dst);
			}
		}
		closedir(d);
	}
	closedir(td);
	return err;
}

/* Graft the tree into /sys. */
int run_graft_sys(struct run *r)
{
	char host[PATH_MAX];
	struct stat st;

	if (run_path_of(host, r->tree, "bus/pci/devices") < 0)
		return -1;
	if (stat(host, &st) < 0) {
		fprintf(stderr, "devlife-run: %s is not a devlife tree (no "
				"bus/pci/devices)\n", r->tree);
		return -1;
	}
	return graft_pass(r, 0) < 0 || graft_pass(r, 1) < 0 ? -1 : 0;
}

/*
 * The rebuilt directories become read-only, as sysfs refuses to create
 * entries (their bind mounts stay what they were).
 */
int run_seal_shadows(struct run *r)
{
	for (int i = 0; i < r->nshadows; i++) {
		const char *host = r->shadows[i].path;

		if (!r->shadows[i].mount)
			continue; /* a directory made in one, the tree's now */
		if (mount(NULL, host, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
			fprintf(stderr, "devlife-run: cannot make %s read-only: %s\n",
				host, strerror(errno));
			return -1;
		}
	}
	return 0;
}

