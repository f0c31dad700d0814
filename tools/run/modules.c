/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-run's /lib/modules/$(uname -r): the tree's drivers are built in
 * there, as on a kernel built with them (CONFIG_VFIO_PCI=y, say), so that
 * `modprobe vfio-pci` (driverctl runs it) succeeds and loads nothing.
 *
 * kmod's modprobe looks a name up in the indexes of that directory
 * (kmod_module_new_from_lookup(): modules.dep.bin, modules.alias.bin,
 * modules.symbols.bin, then modules.builtin.bin through
 * kmod_lookup_alias_is_builtin()); a module it finds there is
 * KMOD_MODULE_BUILTIN (kmod_module_get_initstate()) and
 * kmod_module_probe_insert_module() returns 0 for it without inserting
 * anything. The runner writes modules.builtin and modules.builtin.modinfo
 * (the kernel's formats: one path a line; NAME.KEY=VALUE strings, each
 * ended by a NUL) naming the modules the tree serves in /sys/module, and
 * has Debian's depmod make the indexes from them. Where the host has
 * modules of its own, its directory stays visible (each entry bound in)
 * and only the built-in lists and their indexes are the union of the
 * host's and the tree's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

/* What the runner writes; the host's others stay. */
static const char *const builtin_files[] = {
	"modules.builtin", "modules.builtin.modinfo", "modules.builtin.bin",
	"modules.builtin.alias.bin",
};

static bool is_builtin_file(const char *name)
{
	for (size_t i = 0; i < sizeof(builtin_files) / sizeof(builtin_files[0]); i++)
		if (!strcmp(name, builtin_files[i]))
			return true;
	return false;
}

/* Append the host's file DIR/NAME (if any) to OUT. */
static void append_host(FILE *out, const char *dir, const char *name)
{
	char path[PATH_MAX], buf[4096];
	size_t n;
	FILE *in;

	if (!*dir || run_path_of(path, dir, name) < 0 || !(in = fopen(path, "re")))
		return;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
}

/* Whether the host's modules.builtin (in TEXT) has the module MOD. */
static bool host_has(const char *text, const char *mod)
{
	size_t len = strlen(mod);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l) {
		const char *end = strchr(l, '\n'), *base, *dot;

		end = end ? end : l + strlen(l);
		for (base = end; base > l && base[-1] != '/'; base--)
			;
		dot = memchr(base, '.', (size_t)(end - base));
		if (!dot || (size_t)(dot - base) != len)
			continue;
		bool same = true;

		/* kmod's modname_normalize(): '-' is '_' */
		for (size_t i = 0; i < len && same; i++)
			same = (base[i] == '-' ? '_' : base[i]) == mod[i];
		if (same)
			return true;
	}
	return false;
}

/* The name of the module's (first) driver ("vfio-pci" for vfio_pci:
 * module/vfio_pci/drivers/pci:vfio-pci), as its .ko is named, else the
 * module's. */
static void ko_name(const struct run *r, const char *mod, char *out, size_t len)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(out, len, "%s", mod);
	if (snprintf(path, sizeof(path), "%s/module/%s/drivers", r->tree, mod) >=
	    (int)sizeof(path) || !(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		const char *colon = strchr(e->d_name, ':');

		if (colon && colon[1]) {
			snprintf(out, len, "%s", colon + 1);
			break;
		}
	}
	closedir(d);
}

/*
 * Write DIR/modules.builtin, modules.builtin.modinfo and modules.order:
 * the host's (from HOST, "" if none) and the tree's modules.
 */
static int write_lists(const struct run *r, const char *dir, const char *host)
{
	char path[PATH_MAX], tree[PATH_MAX], ko[256], *text = NULL;
	FILE *list, *info, *order;
	struct dirent *e;
	size_t tlen = 0;
	DIR *d;
	int err = 0;

	if (run_path_of(tree, r->tree, "module") < 0 || !(d = opendir(tree)))
		return -1;
	run_path_of(path, dir, "modules.builtin");
	list = fopen(path, "we");
	run_path_of(path, dir, "modules.builtin.modinfo");
	info = fopen(path, "we");
	run_path_of(path, dir, "modules.order");
	order = fopen(path, "we");
	if (!list || !info || !order) {
		err = -1;
		goto out;
	}
	/* The host's own lists first, as they are. */
	FILE *mem = open_memstream(&text, &tlen);

	if (mem) {
		append_host(mem, host, "modules.builtin");
		fclose(mem);
	}
	append_host(list, host, "modules.builtin");
	append_host(info, host, "modules.builtin.modinfo");
	append_host(order, host, "modules.order");
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (text && host_has(text, e->d_name)))
			continue;
		ko_name(r, e->d_name, ko, sizeof(ko));
		/* as the kernel's build writes them (scripts/Makefile.vmlinux_o:
		 * modules.builtin.modinfo is the .modinfo section of vmlinux) */
		fprintf(list, "kernel/devlife/%s.ko\n", ko);
		fprintf(info, "%s.file=devlife/%s%c", e->d_name, ko, '\0');
	}
out:
	free(text);
	closedir(d);
	if (list && fclose(list))
		err = -1;
	if (info && fclose(info))
		err = -1;
	if (order && fclose(order))
		err = -1;
	return err;
}

/* depmod -b BASE RELEASE: the indexes of BASE/lib/modules/RELEASE. */
static int depmod(const char *base, const char *release)
{
	static const char *const progs[] = { "/sbin/depmod", "/usr/sbin/depmod" };
	const char *prog = "depmod";
	int status;
	pid_t pid;

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (access(progs[i], X_OK) == 0)
			prog = progs[i];
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execlp(prog, "depmod", "-b", base, release, (char *)NULL);
		fprintf(stderr, "devlife-run: cannot run depmod (Debian's kmod): "
				"%s; no /lib/modules/%s naming the tree's drivers\n",
			strerror(errno), release);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Bind the host's entries of HOST into DIR, but the built-in lists. */
static int bind_host_entries(const char *host, const char *dir)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(host);
	int err = 0;

	if (!d)
		return -1;
	while (!err && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    is_builtin_file(e->d_name))
			continue;
		if (run_path_of(from, host, e->d_name) < 0 ||
		    run_path_of(to, dir, e->d_name) < 0 || lstat(from, &st) < 0)
			continue;
		unlink(to); /* depmod's empty index: the host's instead */
		err = run_copy_entry(from, to, &st);
		if (err)
			fprintf(stderr, "devlife-run: cannot bind %s: %s\n", from,
				strerror(errno));
	}
	closedir(d);
	return err;
}

/* Where /lib/modules/RELEASE is (/lib a link to usr/lib on Debian), or
 * would be made: the deepest part that exists, resolved. */
static int modules_dir(const char *release, char *out, bool *exists)
{
	static const char *const tries[] = { "/lib/modules", "/lib", "/usr/lib" };
	char *real;

	snprintf(out, PATH_MAX, "/lib/modules/%s", release);
	if ((real = realpath(out, NULL))) {
		*exists = true;
		snprintf(out, PATH_MAX, "%s", real);
		free(real);
		return 0;
	}
	*exists = false;
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (!(real = realpath(tries[i], NULL)))
			continue;
		snprintf(out, PATH_MAX, "%s%s/%s", real, i ? "/modules" : "", release);
		free(real);
		return 0;
	}
	return -1;
}

int run_provide_modules(struct run *r)
{
	char target[PATH_MAX], base[PATH_MAX], dir[PATH_MAX];
	struct utsname u;
	bool exists;

	if (uname(&u) < 0 || modules_dir(u.release, target, &exists) < 0)
		return -1;
	if (snprintf(base, sizeof(base), "%s/work/kmod", r->staging) >= (int)sizeof(base) ||
	    snprintf(dir, sizeof(dir), "%s/lib/modules/%s", base, u.release) >=
	    (int)sizeof(dir))
		return -1;
	/* base, base/lib, base/lib/modules, dir: each a prefix of dir */
	for (char *slash = dir + strlen(base); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		int err = mkdir(dir, 0755);

		*slash = '/';
		if (err < 0)
			goto fail;
	}
	if (mkdir(dir, 0755) < 0)
		goto fail;
	if (write_lists(r, dir, exists ? target : "") < 0) {
		fprintf(stderr, "devlife-run: cannot write the tree's modules in "
				"%s\n", dir);
		return -1;
	}
	/* No depmod (kmod not installed): no modprobe either; go on. */
	if (depmod(base, u.release) < 0)
		return 0;
	if (exists && bind_host_entries(target, dir) < 0)
		return -1;
	if (run_make_place(r, "", target + 1, S_IFDIR) < 0)
		return -1;
	if (mount(dir, target, NULL, MS_BIND | MS_REC, NULL) < 0) {
		fprintf(stderr, "devlife-run: cannot bind %s on %s: %s\n", dir,
			target, strerror(errno));
		return -1;
	}
	if (r->verbose)
		fprintf(stderr, "devlife-run: %s: the tree's drivers built in%s\n",
			target, exists ? ", beside the host's modules" : "");
	return 0;
fail:
	fprintf(stderr, "devlife-run: %s: %s\n", dir, strerror(errno));
	return -1;
}
