/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlifed: host a virtual PCI topology and serve it as a sysfs-compatible
 * filesystem over FUSE, with a host channel for the hypervisor's side.
 *
 *   devlifed [-t FILE | --import-sysfs DIR | --import-lspci FILE]
 *            [-s SOCKET] [-f] [-d] [--allow-other] [--slow-us N]
 *            [--slice-us N]
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
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <devlife/devlife.h>
#include <urcu-bp.h>

#include "pci.h"
#include "engine.h"
#include "platform.h"
#include "server.h"
#include "emit.h"
#include "monitor.h"
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
		"      --uevents             send every change as the kernel's and\n"
		"                            udev's uevents, through the kernel's\n"
		"                            netlink socket of this (private) network\n"
		"                            namespace (docs/uevents.md)\n"
		"      --udev-db DIR         keep udev's database there (/run/udev\n"
		"                            in devlife-run's namespace)\n"
		"      --events              build the events for the host channel's\n"
		"                            monitor only (implied by the two above)\n"
		"      --ready-fd FD         write '0' to FD, then close it, once\n"
		"                            serving (for a parent that waits)\n"
		"      --slice-us N          the threads' scheduler slice, 100 to\n"
		"                            100000 us, or 0 for the kernel's\n"
		"                            (default 100: docs/performance.md)\n"
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
	if (r < 0) {
		fprintf(stderr, "devlifed: %s\n",
			err.msg[0] ? err.msg : strerror(-r));
		return r;
	}
	/* where the source was ambiguous, what the import chose, once */
	for (const char *p = (*ret)->notes; p && *p;) {
		const char *nl = strchr(p, '\n');
		int k = nl ? (int)(nl - p) : (int)strlen(p);

		fprintf(stderr, "devlifed: note: %.*s\n", k, p);
		p += k + (nl != NULL);
	}
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

/* A host event's reply waits until the kernel's view agrees. */
static void settle_view(void *fs)
{
	dl_fs_sync(fs);
}

/*
 * Device objects still allocated once every device is removed and the
 * filesystem's nodes are gone; reported on standard error. Deferred frees
 * run after RCU grace periods, and a child's free drops its parent's last
 * reference, so wait until the count stops falling.
 */
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

/* What the command line asks for. */
struct opts {
	const char *topo, *sysfs, *lspci; /* at most one: the topology's source */
	const char *sock;                 /* the host channel, made absolute */
	struct dl_fs_options fo;
	unsigned long slow_us;
	bool foreground;
	int notify_fd;                    /* --ready-fd, or -1 */
	bool uevents, events;             /* --uevents, --events */
	const char *udev_db;              /* --udev-db, or NULL */
	unsigned long slice_us;           /* --slice-us */
};

/* Parse the command line into @o. Returns -1 to go on, else the exit
 * status (0 after --help, 2 for a bad command line). */
static int parse_args(int argc, char **argv, struct opts *o)
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
		{ "uevents", no_argument, NULL, 'U' },
		{ "udev-db", required_argument, NULL, 'D' },
		{ "events", no_argument, NULL, 'E' },
		{ "slice-us", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, sources = 0;

	while ((c = getopt_long(argc, argv, "t:s:fdh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->topo = optarg;
			sources++;
			break;
		case 'S':
			o->sysfs = optarg;
			sources++;
			break;
		case 'L':
			o->lspci = optarg;
			sources++;
			break;
		case 'w': {
			char *end;

			errno = 0;
			o->slow_us = strtoul(optarg, &end, 10);
			if (errno || *end || o->slow_us > 10000000) {
				fprintf(stderr,
					"devlifed: --slow-us wants 0..10000000\n");
				return 2;
			}
			break;
		}
		case 's':
			o->sock = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'd':
			o->fo.debug = true;
			o->foreground = true;
			break;
		case 'a':
			o->fo.allow_other = true;
			break;
		case 'r': {
			char *end;

			errno = 0;
			o->notify_fd = (int)strtol(optarg, &end, 10);
			if (errno || *end || o->notify_fd < 0 ||
			    fcntl(o->notify_fd, F_GETFD) < 0) {
				fprintf(stderr, "devlifed: --ready-fd wants an "
						"open file descriptor\n");
				return 2;
			}
			break;
		}
		case 'U':
			o->uevents = true;
			break;
		case 'D':
			o->udev_db = optarg;
			break;
		case 'E':
			o->events = true;
			break;
		case 'l': {
			char *end;

			errno = 0;
			o->slice_us = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg ||
			    (o->slice_us &&
			     (o->slice_us < 100 || o->slice_us > 100000))) {
				fprintf(stderr, "devlifed: --slice-us wants 0 or "
						"100..100000\n");
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
	o->fo.mountpoint = argv[optind];
	return -1;
}

/* The socket path, absolute: the daemon leaves its working directory. */
static const char *absolute_socket(const char *sock)
{
	static char abs_sock[PATH_MAX];

	if (!sock)
		sock = DL_HOST_DEFAULT_SOCKET;
	if (sock[0] == '/')
		return sock;
	if (!getcwd(abs_sock, sizeof(abs_sock)) ||
	    strlen(abs_sock) + strlen(sock) + 2 > sizeof(abs_sock)) {
		fprintf(stderr, "devlifed: socket path too long\n");
		return NULL;
	}
	strcat(abs_sock, "/");
	strcat(abs_sock, sock);
	return abs_sock;
}

/* What can be checked before anything starts: the mountpoint and
 * /dev/fuse. */
static int preflight(const struct opts *o)
{
	char why[512];

	if (dl_fs_check_mountpoint(o->fo.mountpoint, why, sizeof(why)) < 0) {
		fprintf(stderr, "devlifed: %s\n", why);
		return -1;
	}
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		fprintf(stderr,
			"devlifed: FUSE is not available: /dev/fuse: %s "
			"(load the fuse module, or run with access to it)\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* What runs, in the order it starts. */
struct daemon {
	struct dl_tree *tree;
	struct dl_pci_platform *plat;
	struct dl_fs *fs;
	struct dl_host_monitor *mon;
	struct dl_uevent_emitter *em;
	struct dl_host_server *srv;
	struct dl_scen_env scen;  /* what `scenario` requests act on */
};

/* Whether this is the host's network namespace (init's). */
static bool in_init_netns(void)
{
	struct stat a, b;

	if (stat("/proc/self/ns/net", &a) < 0 || stat("/proc/1/ns/net", &b) < 0)
		return false; /* cannot tell: pid 1 is not ours to see */
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The emitter waits for the view's invalidations of the same change. */
static uint64_t fs_mark(void *arg)
{
	return dl_fs_inval_mark(arg);
}

static void fs_wait(void *arg, uint64_t mark)
{
	dl_fs_inval_wait(arg, mark);
}

static int fs_defer(void *arg, void (*fn)(void *), void *fn_arg)
{
	return dl_fs_inval_call(arg, fn, fn_arg);
}

static void fs_times(void *arg, uint64_t ret[2])
{
	dl_fs_inval_times(arg, ret);
}

/* A change returns once its events are sent, as Linux's stores return
 * after kobject_uevent() broadcast them. */
static void flush_events(void *arg)
{
	dl_uevent_emitter_flush(arg);
}

/* A write to a device's `uevent`. */
static int synth(void *arg, struct dl_device *dev, const char *buf, size_t len)
{
	return dl_uevent_emitter_synth(arg, dev, buf, len);
}

/* Each event as sent, to the host channel's monitors. */
static void tap(void *arg, const struct dl_uevent *kernel,
		const struct dl_uevent *udev)
{
	dl_host_monitor_publish(arg, "KERNEL", kernel->buf, kernel->len);
	dl_host_monitor_publish(arg, "UDEV", udev->buf, udev->len);
}

/* The events (docs/uevents.md), when asked for: after the view's
 * watcher, so that each event can wait for the view's invalidations. */
static int start_events(struct daemon *d, const struct opts *o)
{
	struct dl_uevent_emitter_opts eo = {
		.netlink = o->uevents, .mark = fs_mark, .wait = fs_wait,
		.inval_times = fs_times, .defer = fs_defer,
		.fence_arg = d->fs, .udev_db = o->udev_db, .tap = tap,
	};
	int r;

	if (!o->uevents && !o->udev_db && !o->events)
		return 0;
	r = dl_host_monitor_new(&d->mon);
	eo.tap_arg = d->mon;
	if (r == 0)
		r = dl_uevent_emitter_new(d->tree, &eo, &d->em);
	if (r < 0) {
		fprintf(stderr, "devlifed: uevents: %s\n", strerror(-r));
		return r;
	}
	dl_fs_set_uevent_synth(d->fs, synth, d->em);
	dl_fs_set_settle(d->fs, flush_events, d->em);
	return 0;
}

/* Build the tree and the platform from @desc (which it takes), mount
 * the filesystem and open the host channel. On failure what started is
 * left in @d for stop(). */
static int start(struct daemon *d, const struct opts *o, struct dl_pci_desc *desc)
{
	struct dl_pci_error perr = { 0 };
	int r;

	r = dl_tree_new(&d->tree);
	if (r < 0) {
		fprintf(stderr, "devlifed: %s\n", strerror(-r));
		dl_pci_desc_free(desc);
		return r;
	}
	r = dl_pci_platform_new(d->tree, desc, &perr, &d->plat);
	if (r < 0) {
		fprintf(stderr, "devlifed: %s\n",
			perr.msg[0] ? perr.msg : strerror(-r));
		dl_pci_desc_free(desc);
		return r;
	}
	r = dl_fs_new(d->tree, d->plat, &o->fo, &d->fs);
	if (r < 0) {
		if (r == -ENODEV)
			fprintf(stderr, "devlifed: cannot mount %s: FUSE is "
					"not available (is fusermount3 "
					"installed, /dev/fuse usable?)\n",
				o->fo.mountpoint);
		else
			fprintf(stderr, "devlifed: cannot mount %s: %s\n",
				o->fo.mountpoint, strerror(-r));
		return r;
	}
	r = start_events(d, o);
	if (r < 0)
		return r;
	if (ensure_socket_dir(o->sock) < 0)
		return -1;
	r = dl_host_server_new(d->plat, o->sock, &d->srv);
	if (r < 0) {
		fprintf(stderr, "devlifed: host channel %s: %s\n", o->sock,
			strerror(-r));
		return r;
	}
	dl_host_server_set_monitor(d->srv, d->mon);
	dl_host_server_set_settle(d->srv, settle_view, d->fs);
	d->scen = (struct dl_scen_env){ d->tree, d->plat, d->fs };
	dl_host_server_set_scenario(d->srv, dl_scen_host_run, &d->scen);
	return 0;
}

/* Serve until a signal ends the session loop. @sigs are blocked in
 * every thread and unblocked in this one only while it serves. */
static int serve(struct daemon *d, const sigset_t *sigs)
{
	int r;

	install_signal_handlers(dl_fs_session(d->fs));
	pthread_sigmask(SIG_UNBLOCK, sigs, NULL);
	r = dl_fs_run(d->fs);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	if (r < 0)
		fprintf(stderr, "devlifed: serving failed: %s\n", strerror(-r));
	else
		fprintf(stderr, "devlifed: stopping: removing every device\n");
	return r;
}

/* Stop the host side first, then take every device out (waiting for
 * users), then unmount. Returns -1 if a device object leaked. */
static int stop(struct daemon *d)
{
	int r = 0;

	dl_host_server_free(d->srv);
	dl_pci_platform_free(d->plat);
	dl_uevent_emitter_free(d->em);
	dl_host_monitor_free(d->mon);
	dl_fs_free(d->fs);
	if (d->tree && count_leaked(d->tree)) {
		/* Every device is removed and no node of the filesystem is
		 * left: a device still allocated is a reference leaked. */
		r = -1;
	}
	dl_tree_free(d->tree);
	return r;
}

/*
 * The allocator's policy for a daemon that serves for days (docs/view.md,
 * "Memory does not follow history"). glibc gives each thread that
 * allocates under contention an arena of its own (up to 8 per CPU), and
 * the FUSE worker threads come and go with the bursts of requests; the
 * nodes and devices they allocate are freed by the RCU callbacks' thread
 * into those arenas, whose free pages stay resident between trims and
 * whose partly used pages stay for good. One arena keeps the free memory
 * in one place, where malloc_trim() returns it (the churn benchmark:
 * 14.5 MB at most and +3.8 MB after 2 s idle with the default, 9.7 MB and
 * +1.4 MB with one arena). A fixed mmap threshold: each worker's 1 MiB
 * request buffer (libfuse's bufsize) is then always its own mapping,
 * given back when the worker exits; with glibc's sliding threshold the
 * first such free raises it and the next buffers come from the heap.
 * The daemon's work is the kernel's round trips, not malloc: one arena
 * costs nothing measurable on the benchmarks.
 */
static void malloc_policy(void)
{
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

/*
 * A short scheduler slice for every thread (created from here on, they
 * inherit it: kernel/sched/core.c sched_fork() resets it only for
 * SCHED_RESET_ON_FORK).
 * Each of the daemon's threads runs for tens of microseconds per
 * request and then sleeps; an event crosses four of them (docs/
 * performance.md, "Event latency"). With the default slice, a thread
 * woken while another process runs waits until that one's slice ends,
 * milliseconds on a busy machine. EEVDF takes sched_attr::sched_runtime
 * of a SCHED_OTHER thread as its requested slice (kernel/sched/
 * syscalls.c __setscheduler_params() or __setparam_fair(), clamped to
 * 0.1..100 ms, no privilege needed), and a waking thread with a shorter
 * slice preempts a longer one (kernel/sched/fair.c
 * check_preempt_wakeup_fair(), feature PREEMPT_SHORT). Its share of the
 * CPU is unchanged. Kernels before 6.12 ignore it; a failure is not
 * fatal.
 */
struct sched_attr_v1 {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

static void sched_slice(unsigned long us)
{
	struct sched_attr_v1 a = { .size = sizeof(a),
				   .sched_policy = SCHED_OTHER,
				   .sched_nice = getpriority(PRIO_PROCESS, 0),
				   .sched_runtime = (uint64_t)us * 1000 };

	if (us && syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		fprintf(stderr, "devlifed: scheduler slice of %lu us: %s\n",
			us, strerror(errno));
}

int main(int argc, char **argv)
{
	struct opts o = { .sock = getenv("DEVLIFE_SOCKET"), .slow_us = 20000,
			  .notify_fd = -1, .slice_us = 100 };
	struct dl_pci_desc *desc = NULL;
	struct daemon d = { 0 };
	int r, ready_fd = -1;
	sigset_t sigs;

	malloc_policy();
	r = parse_args(argc, argv, &o);
	if (r >= 0)
		return r;
	o.sock = absolute_socket(o.sock);
	if (!o.sock)
		return 2;
	if (o.uevents && in_init_netns()) {
		fprintf(stderr,
			"devlifed: --uevents sends through the kernel of this "
			"network namespace, which is the host's: its udev would "
			"take the events for real devices. Run it in a private "
			"network namespace (devlife-run, unshare -Urn).\n");
		return 2;
	}
	if (preflight(&o) < 0)
		return 1;
	if (load_desc(o.topo, o.sysfs, o.lspci, o.slow_us, &desc) < 0)
		return 1;

	/*
	 * Go to the background now, before any thread exists (a fork keeps
	 * only the calling thread). The parent waits until the child has
	 * mounted and opened the host channel, and exits with its verdict;
	 * errors until then still reach the terminal.
	 */
	if (!o.foreground && daemonize(&ready_fd) != 0)
		return 1;
	sched_slice(o.slice_us);

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

	r = start(&d, &o, desc);
	if (r == 0) {
		fprintf(stderr, "devlifed: serving %s, host channel %s\n",
			o.fo.mountpoint, o.sock);
		if (ready_fd >= 0)
			daemon_ready(&ready_fd);
		if (o.notify_fd >= 0) {
			/* Our caller waits for this byte (devlife-run does). */
			if (write(o.notify_fd, "0", 1) != 1)
				perror("devlifed: --ready-fd");
			close(o.notify_fd);
		}
		r = serve(&d, &sigs);
	}
	if (stop(&d) < 0)
		r = -1;
	return r < 0 ? 1 : 0;
}
