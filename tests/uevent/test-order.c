/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Order of the daemon's uevents as a listener sees them against the view
 * (docs/uevents.md): a real devlifed --uevents in a private user+network
 * +mount namespace, changes of every kind done one at a time through the
 * mount and the host channel, and a listener on both groups that, as
 * each event arrives, looks the path up in the mount: present for add,
 * bind, change and online; gone (the device's directory and its
 * bus/pci/devices link) for remove; no remove of a device while a device
 * below it is still there; a bind only after its add; udev's copy after
 * the kernel's with the kernel's SEQNUM. Each operation runs in a child
 * while its events are checked as they arrive (the write has not
 * returned yet, so only the daemon orders them against the view); the
 * next starts once it returned and its last event is in, so nothing else
 * changes the tree while an event is checked. The daemon's cache
 * invalidations are made slow (DEVLIFE_TEST_INVAL_DELAY_US) so that an
 * event sent before them would find the old view.
 *
 *   test-order DEVLIFED DEVLIFECTL [ITERATIONS]
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "netlink.h"
#include "nsutil.h"

#define MAXDEV 256
#define PF "0000:01:00.0"
#define BRIDGE "/devices/pci0000:00/0000:00:01.0"
#define MPARENT "/devices/pci0000:00/0000:00:02.0"
#define UUID "8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5b"

static char mnt[256], sock[256];
static char dir[] = "/tmp/devlife-order.XXXXXX";
static const char *devlifed, *devlifectl;
static int kfd, ufd;
static unsigned long nevents, violations;
static unsigned long by_action[8];
static char live[MAXDEV][160]; /* devpaths present */
static uint64_t last_seq;
static char waiting[128];

static const char *const actions[] = { "add", "remove", "change", "bind",
				       "unbind", "online", "offline", "move" };

static void violation(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void violation(const char *fmt, ...)
{
	va_list ap;

	violations++;
	printf("# violation: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static bool exists(const char *devpath)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", mnt, devpath);
	return stat(p, &st) == 0;
}

static bool bus_link_exists(const char *devpath, const char *subsystem)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/bus/%s/devices/%s", mnt, subsystem,
		 strrchr(devpath, '/') + 1);
	return lstat(p, &st) == 0;
}

static int live_find(const char *devpath)
{
	for (int i = 0; i < MAXDEV; i++)
		if (!strcmp(live[i], devpath))
			return i;
	return -1;
}

static void live_set(const char *devpath, bool on)
{
	int i = live_find(devpath);

	if (on && i < 0) {
		i = live_find("");
		ASSERT_GE(i, 0);
		snprintf(live[i], sizeof(live[i]), "%s", devpath);
	} else if (!on && i >= 0) {
		live[i][0] = '\0';
	}
}

/*
 * The PF's change (drivers/pci/iov.c sriov_enable()) comes once VFs are
 * enabled, after every VF's add: sriov_numvfs reads the new count, and
 * each virtfnN link leads to a VF whose add came before. sriov_disable()
 * sends none.
 */
static unsigned long pf_changes;

static void check_pf_change(const char *devpath)
{
	char p[512], t[512], vf[200];
	unsigned int n = 0;
	ssize_t len;
	FILE *f;

	pf_changes++;
	snprintf(p, sizeof(p), "%s%s/sriov_numvfs", mnt, devpath);
	f = fopen(p, "re");
	if (!f || fscanf(f, "%u", &n) != 1)
		violation("change of %s: sriov_numvfs unreadable", devpath);
	if (f)
		fclose(f);
	if (n == 0)
		violation("change of %s with no VF enabled", devpath);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s%s/virtfn%u", mnt, devpath, i);
		len = readlink(p, t, sizeof(t) - 1);
		if (len < 0) {
			violation("change of %s: no virtfn%u", devpath, i);
			continue;
		}
		t[len] = '\0';
		snprintf(vf, sizeof(vf), BRIDGE "/%s", strrchr(t, '/') + 1);
		if (live_find(vf) < 0)
			violation("change of %s before the add of %s", devpath,
				  vf);
	}
}

/* What the event must find in the view, and the tree's shape. */
static void check(const struct dl_uevent *ev)
{
	const char *a = dl_uevent_get(ev, "ACTION");
	const char *p = dl_uevent_get(ev, "DEVPATH");
	const char *sub = dl_uevent_get(ev, "SUBSYSTEM");
	size_t plen = strlen(p);

	nevents++;
	if (getenv("DL_ORDER_VERBOSE"))
		printf("# %s %s\n", a, p);
	for (int i = 0; i < 8; i++)
		if (!strcmp(a, actions[i]))
			by_action[i]++;
	const char *st = dl_uevent_get(ev, "MDEV_STATE");

	if (!strcmp(a, "add") || !strcmp(a, "bind") || !strcmp(a, "online") ||
	    (!strcmp(a, "change") && (!st || !strcmp(st, "registered")))) {
		if (!exists(p))
			violation("%s of %s: not in the view", a, p);
		if (!strcmp(sub, "pci") && !bus_link_exists(p, sub))
			violation("%s of %s: no bus/pci/devices link", a, p);
	}
	if (!strcmp(a, "change") && !st && !strcmp(p, BRIDGE "/" PF))
		check_pf_change(p);
	if (!strcmp(a, "add"))
		live_set(p, true);
	if (!strcmp(a, "bind") && live_find(p) < 0)
		violation("%s of %s before its add", a, p);
	if (!strcmp(a, "remove")) {
		if (exists(p))
			violation("%s of %s: still in the view", a, p);
		if (!strcmp(sub, "pci") && bus_link_exists(p, sub))
			violation("%s of %s: bus/pci/devices link left", a, p);
		for (int i = 0; i < MAXDEV; i++)
			if (!strncmp(live[i], p, plen) && live[i][plen] == '/')
				violation("remove of %s before its child %s",
					  p, live[i]);
		live_set(p, false);
	}
}

/* The udev-group event; its kernel copy must be the next on group 1. */
static void next_pair(struct dl_uevent *u)
{
	struct dl_uevent k;
	struct dl_uevent_from from;
	bool udev;
	uint64_t ks, us;

	if (dl_uevent_recv(ufd, u, &udev, &from, 10000) != 0)
		FAIL_AT("no event within 10 s while waiting for %s", waiting);
	ASSERT_TRUE(udev);
	ASSERT_EQ(from.uid, 0);
	ASSERT_EQ(dl_uevent_recv(kfd, &k, &udev, &from, 0), 0);
	ASSERT_FALSE(udev);
	ASSERT_EQ(from.port, 0);
	ks = strtoull(dl_uevent_get(&k, "SEQNUM"), NULL, 10);
	us = strtoull(dl_uevent_get(u, "SEQNUM"), NULL, 10);
	ASSERT_EQ(ks, us);
	ASSERT_GT(us, last_seq);
	last_seq = us;
	ASSERT_STREQ(dl_uevent_get(&k, "DEVPATH"), dl_uevent_get(u, "DEVPATH"));
	ASSERT_STREQ(dl_uevent_get(&k, "ACTION"), dl_uevent_get(u, "ACTION"));
	ASSERT_TRUE(dl_uevent_get(u, "USEC_INITIALIZED") != NULL);
	check(&k);
	check(u);
	nevents--; /* one event, two copies */
}

static void reap_pending(void);

/* Read pairs until ACTION of a DEVPATH ending in @tail has come @n times. */
static void until(const char *action, const char *tail, int n)
{
	struct dl_uevent u;

	snprintf(waiting, sizeof(waiting), "%s of *%s", action, tail);
	while (n > 0) {
		const char *p;

		next_pair(&u);
		p = dl_uevent_get(&u, "DEVPATH");
		if (!strcmp(dl_uevent_get(&u, "ACTION"), action) &&
		    strlen(p) >= strlen(tail) &&
		    !strcmp(p + strlen(p) - strlen(tail), tail))
			n--;
	}
	reap_pending();
}

/*
 * The operation runs in a child while the listener reads its events: an
 * event is checked as it arrives, while the write (or the host channel's
 * request) has not returned yet, so the events must be ordered against
 * the view by the daemon itself, not by the operation's end.
 */
static pid_t pending;
static char pending_what[700];

static void reap_pending(void)
{
	int st;

	if (!pending)
		return;
	ASSERT_EQ(waitpid(pending, &st, 0), pending);
	pending = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		FAIL_AT("%s failed", pending_what);
}

static void put(const char *rel, const char *val)
{
	char p[512];
	pid_t pid;

	reap_pending();
	snprintf(p, sizeof(p), "%s%s", mnt, rel);
	snprintf(pending_what, sizeof(pending_what), "write %s to %s", val, p);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open(p, O_WRONLY);

		if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val)) {
			printf("# %s: %s\n", pending_what, strerror(errno));
			_exit(1);
		}
		_exit(0);
	}
	pending = pid;
}

/* devlifectl -s SOCK ARGS... (NULL-terminated, at most 8) */
static void ctl(const char *a, ...)
{
	const char *argv[12] = { devlifectl, "-s", sock, a };
	va_list ap;
	int n = 4;

	va_start(ap, a);
	while (n < 11 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	reap_pending();
	snprintf(pending_what, sizeof(pending_what), "devlifectl %s %s", a,
		 argv[4]);
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execv(devlifectl, (char *const *)argv);
		_exit(127);
	}
	pending = pid;
}

static pid_t start_daemon(void)
{
	pid_t pid;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(mnt, sizeof(mnt), "%s/sys", dir);
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	ASSERT_EQ(mkdir(mnt, 0755), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		/* every cache invalidation made slow (fault injection,
		 * src/fs/inval.c): an event sent before its invalidations
		 * reached the kernel would find the old view */
		setenv("DEVLIFE_TEST_INVAL_DELAY_US", "1000", 0);
		execl(devlifed, devlifed, "-f", "--uevents", "--udev-db",
		      "/run/udev", "-s", sock, mnt, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		char p[512];

		snprintf(p, sizeof(p), "%s/bus/pci/devices", mnt);
		if (access(sock, F_OK) == 0 && access(p, F_OK) == 0)
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			FAIL_AT("devlifed exited early");
		test_sleep_ms(25);
	}
	FAIL_AT("devlifed did not come up");
}

/* Devices present at start: as if added before we listened. */
static void seed_live(void)
{
	static const char *const start[] = {
		"/devices/pci0000:00/0000:00:00.0", BRIDGE,
		BRIDGE "/0000:01:00.0", BRIDGE "/0000:01:00.1", MPARENT,
		"/devices/pci0000:00/0000:00:03.0",
		"/devices/pci0000:00/0000:00:04.0",
		"/devices/pci0000:00/0000:00:05.0",
	};

	for (size_t i = 0; i < sizeof(start) / sizeof(start[0]); i++) {
		if (!exists(start[i]))
			FAIL_AT("the default topology changed: no %s", start[i]);
		live_set(start[i], true);
	}
}

static void one_round(void)
{
	/* SR-IOV: 4 VFs added, then the PF's change; the VFs removed */
	put(BRIDGE "/" PF "/sriov_numvfs", "4");
	until("change", PF, 1);
	put(BRIDGE "/" PF "/sriov_numvfs", "0");
	until("remove", "", 4);
	/* an mdev created (bound to vfio_mdev) and removed */
	put(MPARENT "/mdev_supported_types/i915-GVTg_V5_4/create", UUID);
	until("bind", UUID, 1);
	put(MPARENT "/" UUID "/remove", "1");
	until("remove", UUID, 1);
	/* the mdev parent's driver unbound (MDEV_STATE=unregistered, then
	 * unbind) and bound again (registered, then bind) */
	put("/bus/pci/drivers/mdev-parent/unbind", "0000:00:02.0");
	until("unbind", "0000:00:02.0", 1);
	put("/bus/pci/drivers/mdev-parent/bind", "0000:00:02.0");
	until("bind", "0000:00:02.0", 1);
	/* unbind and bind again */
	put("/bus/pci/drivers/virtio-pci/unbind", "0000:00:03.0");
	until("unbind", "0000:00:03.0", 1);
	put("/bus/pci/drivers/virtio-pci/bind", "0000:00:03.0");
	until("bind", "0000:00:03.0", 1);
	/* a bridge with two functions behind it removed, then rescanned */
	put(BRIDGE "/remove", "1");
	until("remove", "0000:00:01.0", 1);
	put("/bus/pci/rescan", "1");
	until("bind", "0000:01:00.1", 1);
	/* the host ejects a function and adds it back */
	ctl("eject", "0000:00:04.0", NULL);
	until("remove", "0000:00:04.0", 1);
	ctl("add", "0000:00:04.0", "vendor=0x1af4", "device=0x1042",
	    "class=0x010000", "bar1=4K", NULL);
	until("add", "0000:00:04.0", 1);
}

TEST(events_follow_the_view)
{
	const char *iters = getenv("DL_ORDER_ROUNDS");
	int rounds = iters ? atoi(iters) : 40, st;
	pid_t pid;

	enter_or_skip_ns();
	kfd = dl_uevent_listen(DL_UEVENT_GROUP_KERNEL);
	ufd = dl_uevent_listen(DL_UEVENT_GROUP_UDEV);
	ASSERT_GE(kfd, 0);
	ASSERT_GE(ufd, 0);
	pid = start_daemon();
	seed_live();
	for (int i = 0; i < rounds; i++)
		one_round();
	/* a surprise removal of the bridge with its two functions */
	ctl("surprise", "0000:00:01.0", NULL);
	until("remove", "0000:00:01.0", 1);
	printf("# events %lu (each checked twice): add %lu remove %lu "
	       "change %lu (%lu of the PF) bind %lu unbind %lu; "
	       "violations %lu\n",
	       nevents, by_action[0], by_action[1], by_action[2],
	       pf_changes / 2, by_action[3], by_action[4], violations);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	/* the daemon unmounted and removed its socket; what is left is ours */
	(void)unlink(sock);
	(void)rmdir(mnt);
	(void)rmdir(dir);
	ASSERT_EQ(violations, 0);
	ASSERT_EQ(pf_changes / 2, (unsigned long)rounds);
	if (!iters)
		ASSERT_GE(nevents, 1000);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
	struct test_case tests[] = { TEST_ENTRY(events_follow_the_view) };

	if (argc < 3) {
		fprintf(stderr, "usage: %s DEVLIFED DEVLIFECTL\n", argv[0]);
		return 2;
	}
	devlifed = argv[1];
	devlifectl = argv[2];
	return test_run_all(argv[0], tests, 1);
}
