/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlifed: host a virtual PCI topology and serve it as a sysfs-compatible
 * filesystem over FUSE, with a host channel for the hypervisor's side.
 *
 *   devlifed [-t FILE | --import-sysfs DIR | --import-lspci FILE]
 *            [-s SOCKET] [-f] [-d] [--allow-other] [--slow-us N]
 *            [--ready-fd FD] MOUNTPOINT
 *
 * On SIGINT or SIGTERM it stops serving, removes every device (wait mode),
 * unmounts and exits 0.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <devlife/devlife.h>
#include <urcu-bp.h>

#include "pci.h"
#include "platform.h"
#include "server.h"
#include "sysfs.h"
#include "topology.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: devlifed [options] MOUNTPOINT\n"
		"\n"
		"Serve a virtual PCI tree at MOUNTPOINT, laid out like /sys:\n"
		"  lspci -A linux-sysfs -O sysfs.path=MOUNTPOINT/bus/pci -vvv\n"
		"\n"
		"topology (the built-in default when none is given):\n"
		"  -t, --topology FILE       a topology file (docs/topology.md)\n"
		"      --import-sysfs DIR    import a sysfs tree (/sys/bus/pci)\n"
		"      --import-lspci FILE   import an `lspci -xxxx` dump (- for stdin)\n"
		"      --slow-us N           config access delay of the default\n"
		"                            topology's slow device (default 20000)\n"
		"options:\n"
		"  -s, --socket PATH         host channel socket (default %s)\n"
		"  -f, --foreground          do not daemonize\n"
		"  -d, --debug               FUSE debug output (implies -f)\n"
		"      --allow-other         let other users in (FUSE allow_other)\n"
		"      --ready-fd FD         write '0' to FD, then close it, once\n"
		"                            serving (for a parent that waits)\n"
		"  -h, --help                this text\n",
		DL_HOST_DEFAULT_SOCKET);
}

static int load_desc(const char *topo, const char *sysfs, const char *lspci,
		     unsigned long slow_us, struct dl_pci_desc **ret)
{
	struct dl_pci_error err = { 0 };
	int r;

	if (topo)
		r = dl_pci_desc_load_topology(topo, &err, ret);
	else if (sysfs)
		r = dl_pci_desc_load_sysfs(sysfs, &err, ret);
	else if (lspci)
		r = dl_pci_desc_load_lspci(lspci, &err, ret);
	else
		r = dl_pci_desc_default((uint32_t)slow_us, ret);
	if (r < 0)
		fprintf(stderr, "devlifed: %s\n",
			err.msg[0] ? err.msg : strerror(-r));
	return r;
}

static struct fuse_session *volatile signal_session;

static void on_signal(int sig)
{
	(void)sig;
	if (signal_session)
		fuse_session_exit(signal_session);
}

/*
 * Our own handlers rather than fuse_set_signal_handlers(): libfuse leaves
 * a signal alone when it is ignored, and a daemon started in the
 * background by a shell inherits SIGINT ignored.
 */
static void install_signal_handlers(struct fuse_session *se)
{
	struct sigaction sa = { .sa_handler = on_signal };

	signal_session = se;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Fork; the parent waits for one byte from the child ('0' ready, else
 * failed) and exits with it. The child becomes a session leader.
 */
static int daemonize(int *ret_fd)
{
	int fds[2];
	pid_t pid;
	char c = '1';

	if (pipe(fds) < 0) {
		perror("devlifed: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("devlifed: fork");
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			c = '1'; /* the child died before it was ready */
		_exit(c == '0' ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	*ret_fd = fds[1];
	return 0;
}

static void daemon_ready(int *fd)
{
	int null = open("/dev/null", O_RDWR);

	if (write(*fd, "0", 1) != 1)
		perror("devlifed: ready");
	close(*fd);
	*fd = -1;
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	if (chdir("/") != 0)
		return;
}

static int ensure_socket_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "devlifed: cannot create %s: %s\n", dir,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Device objects still allocated once every device is removed and the
 * filesystem's nodes are gone; reported on standard error. Deferred frees
 * run after RCU grace periods, and a child's free drops its parent's last
 * reference, so wait until the count stops falling.
 */
/* A host event's reply waits until the kernel's view agrees. */
static void settle_view(void *fs)
{
	dl_fs_sync(fs);
}

static uint64_t count_leaked(struct dl_tree *tree)
{
	struct dl_tree_stats st = { 0 };
	uint64_t prev = UINT64_MAX;

	for (;;) {
		urcu_bp_barrier();
		if (dl_tree_get_stats(tree, &st) < 0 || st.devices_allocated == prev ||
		    st.devices_allocated == 0)
			break;
		prev = st.devices_allocated;
	}
	if (st.devices_allocated)
		fprintf(stderr, "devlifed: %llu device objects still allocated at exit "
				"(a leaked reference)\n",
			(unsigned long long)st.devices_allocated);
	return st.devices_allocated;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "topology", required_argument, NULL, 't' },
		{ "import-sysfs", required_argument, NULL, 'S' },
		{ "import-lspci", required_argument, NULL, 'L' },
		{ "slow-us", required_argument, NULL, 'w' },
		{ "socket", required_argument, NULL, 's' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "allow-other", no_argument, NULL, 'a' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *topo = NULL, *sysfs = NULL, *lspci = NULL;
	const char *sock = getenv("DEVLIFE_SOCKET");
	struct dl_fs_options fo = { 0 };
	struct dl_pci_desc *desc = NULL;
	struct dl_pci_platform *plat = NULL;
	struct dl_host_server *srv = NULL;
	struct dl_pci_error perr = { 0 };
	struct dl_tree *tree = NULL;
	struct dl_fs *fs = NULL;
	unsigned long slow_us = 20000;
	bool foreground = false;
	char why[512];
	sigset_t sigs;
	int c, r, sources = 0, ready_fd = -1, notify_fd = -1;

	while ((c = getopt_long(argc, argv, "t:s:fdh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			topo = optarg;
			sources++;
			break;
		case 'S':
			sysfs = optarg;
			sources++;
			break;
		case 'L':
			lspci = optarg;
			sources++;
			break;
		case 'w': {
			char *end;

			errno = 0;
			slow_us = strtoul(optarg, &end, 10);
			if (errno || *end || slow_us > 10000000) {
				fprintf(stderr,
					"devlifed: --slow-us wants 0..10000000\n");
				return 2;
			}
			break;
		}
		case 's':
			sock = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'd':
			fo.debug = true;
			foreground = true;
			break;
		case 'a':
			fo.allow_other = true;
			break;
		case 'r': {
			char *end;

			errno = 0;
			notify_fd = (int)strtol(optarg, &end, 10);
			if (errno || *end || notify_fd < 0 ||
			    fcntl(notify_fd, F_GETFD) < 0) {
				fprintf(stderr, "devlifed: --ready-fd wants an "
						"open file descriptor\n");
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || sources > 1) {
		if (sources > 1)
			fprintf(stderr, "devlifed: give at most one of -t, "
					"--import-sysfs, --import-lspci\n");
		usage(stderr);
		return 2;
	}
	fo.mountpoint = argv[optind];
	if (!sock)
		sock = DL_HOST_DEFAULT_SOCKET;
	if (sock[0] != '/') {
		/* The daemon leaves its working directory. */
		static char abs_sock[PATH_MAX];

		if (!getcwd(abs_sock, sizeof(abs_sock)) ||
		    strlen(abs_sock) + strlen(sock) + 2 > sizeof(abs_sock)) {
			fprintf(stderr, "devlifed: socket path too long\n");
			return 2;
		}
		strcat(abs_sock, "/");
		strcat(abs_sock, sock);
		sock = abs_sock;
	}

	r = dl_fs_check_mountpoint(fo.mountpoint, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "devlifed: %s\n", why);
		return 1;
	}
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		fprintf(stderr,
			"devlifed: FUSE is not available: /dev/fuse: %s "
			"(load the fuse module, or run with access to it)\n",
			strerror(errno));
		return 1;
	}
	if (load_desc(topo, sysfs, lspci, slow_us, &desc) < 0)
		return 1;

	/*
	 * Go to the background now, before any thread exists (a fork keeps
	 * only the calling thread). The parent waits until the child has
	 * mounted and opened the host channel, and exits with its verdict;
	 * errors until then still reach the terminal.
	 */
	if (!foreground && daemonize(&ready_fd) != 0)
		return 1;

	/*
	 * SIGINT/SIGTERM/SIGHUP are handled by our handlers, which
	 * end the session loop. Block them in every thread but the FUSE
	 * ones: threads created from here on inherit the mask, and the
	 * main thread unblocks them just before it starts serving.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	r = dl_tree_new(&tree);
	if (r < 0) {
		fprintf(stderr, "devlifed: %s\n", strerror(-r));
		dl_pci_desc_free(desc);
		return 1;
	}
	r = dl_pci_platform_new(tree, desc, &perr, &plat);
	if (r < 0) {
		fprintf(stderr, "devlifed: %s\n",
			perr.msg[0] ? perr.msg : strerror(-r));
		dl_pci_desc_free(desc);
		goto out;
	}
	r = dl_fs_new(tree, plat, &fo, &fs);
	if (r < 0) {
		if (r == -ENODEV)
			fprintf(stderr, "devlifed: cannot mount %s: FUSE is "
					"not available (is fusermount3 "
					"installed, /dev/fuse usable?)\n",
				fo.mountpoint);
		else
			fprintf(stderr, "devlifed: cannot mount %s: %s\n",
				fo.mountpoint, strerror(-r));
		goto out;
	}
	if (ensure_socket_dir(sock) < 0) {
		r = -1;
		goto out;
	}
	r = dl_host_server_new(plat, sock, &srv);
	if (r < 0) {
		fprintf(stderr, "devlifed: host channel %s: %s\n", sock,
			strerror(-r));
		goto out;
	}
	dl_host_server_set_settle(srv, settle_view, fs);
	fprintf(stderr, "devlifed: serving %s, host channel %s\n",
		fo.mountpoint, sock);
	if (ready_fd >= 0)
		daemon_ready(&ready_fd);
	if (notify_fd >= 0) {
		/* Our caller waits for this byte (devlife-run does). */
		if (write(notify_fd, "0", 1) != 1)
			perror("devlifed: --ready-fd");
		close(notify_fd);
	}
	install_signal_handlers(dl_fs_session(fs));
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	r = dl_fs_run(fs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (r < 0)
		fprintf(stderr, "devlifed: serving failed: %s\n", strerror(-r));
	else
		fprintf(stderr, "devlifed: stopping: removing every device\n");
out:
	/* Stop the host side first, then take every device out (waiting
	 * for users), then unmount. */
	dl_host_server_free(srv);
	dl_pci_platform_free(plat);
	dl_fs_free(fs);
	if (tree && count_leaked(tree)) {
		/* Every device is removed and no node of the filesystem is
		 * left: a device still allocated is a reference leaked. */
		r = -1;
	}
	dl_tree_free(tree);
	return r < 0 ? 1 : 0;
}
