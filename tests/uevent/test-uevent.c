/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uevent module: the two wire formats, and the real receivers as the
 * oracle — the kernel's own broadcast (SEQNUM, port 0, uid 0), libudev's
 * monitors (their in-kernel BPF filters check our subsystem hash and tag
 * bloom), and `udevadm monitor --kernel --udev --property`.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <libudev.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"
#include "netlink.h"
#include "nsutil.h"
#include "uevent.h"

#define DEVPATH "/devices/pci0000:00/0000:00:03.0"

/* The variables pci_uevent() gives an Intel 82599 VF-capable NIC. */
static void pci_event(struct dl_uevent *ev, const char *action,
		      const char *devpath)
{
	ASSERT_EQ(dl_uevent_init(ev, action, devpath, "pci"), 0);
	ASSERT_EQ(dl_uevent_add(ev, "PCI_CLASS=%04X", 0x020000u), 0);
	ASSERT_EQ(dl_uevent_add(ev, "PCI_ID=%04X:%04X", 0x8086u, 0x10fbu), 0);
	ASSERT_EQ(dl_uevent_add(ev, "PCI_SUBSYS_ID=%04X:%04X", 0x8086u,
				0x0003u), 0);
	ASSERT_EQ(dl_uevent_add(ev, "PCI_SLOT_NAME=%s", "0000:00:03.0"), 0);
	ASSERT_EQ(dl_uevent_add(ev, "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02X"
				"sc%02Xi%02X", 0x8086u, 0x10fbu, 0x8086u, 3u,
				2u, 0u, 0u), 0);
}

TEST(kernel_message_is_the_kernels)
{
	static const char want[] =
		"add@" DEVPATH "\0ACTION=add\0DEVPATH=" DEVPATH
		"\0SUBSYSTEM=pci\0PCI_CLASS=20000\0PCI_ID=8086:10FB\0"
		"PCI_SUBSYS_ID=8086:0003\0PCI_SLOT_NAME=0000:00:03.0\0"
		"MODALIAS=pci:v00008086d000010FBsv00008086sd00000003bc02sc00i00";
	struct dl_uevent ev;
	char buf[4096];
	int n;

	pci_event(&ev, "add", DEVPATH);
	n = dl_uevent_kernel_msg(&ev, buf, sizeof(buf));
	ASSERT_EQ(n, sizeof(want));
	ASSERT_EQ(memcmp(buf, want, sizeof(want)), 0);
	ASSERT_STREQ(dl_uevent_get(&ev, "PCI_SLOT_NAME"), "0000:00:03.0");
	ASSERT_TRUE(dl_uevent_get(&ev, "DRIVER") == NULL);
	ASSERT_EQ(dl_uevent_kernel_msg(&ev, buf, 20), -ENOBUFS);
}

TEST(bad_input_changes_nothing)
{
	struct dl_uevent ev;
	char big[DL_UEVENT_BUFFER_SIZE];
	size_t len;

	ASSERT_EQ(dl_uevent_init(&ev, "plug", DEVPATH, "pci"), -EINVAL);
	ASSERT_EQ(dl_uevent_init(&ev, "add", "devices/x", "pci"), -EINVAL);
	ASSERT_EQ(dl_uevent_init(&ev, "add", DEVPATH, ""), -EINVAL);
	ASSERT_TRUE(dl_uevent_action_valid("unbind", 6));
	ASSERT_FALSE(dl_uevent_action_valid("unbin", 5));
	pci_event(&ev, "change", DEVPATH);
	len = ev.len;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_EQ(dl_uevent_add(&ev, "BIG=%s", big), -ENOMEM);
	ASSERT_EQ(ev.len, len);
	ASSERT_TRUE(dl_uevent_get(&ev, "BIG") == NULL);
}

/* lib/kobject_uevent.c kobject_synth_uevent(): what a `uevent` write
 * may say, and what it adds. */
TEST(synth_parse_as_the_kernel)
{
	static const char u[] = "8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5b";
	static const char *const bad[] = {
		"", "\n", "plug", "add ", "add 1234", "addx",
		"change 8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5", /* short UUID */
		"change 8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5b A",
		"change 8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5b A=",
		"change 8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5b =b",
		"change 8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5b A_B=c",
		"change 8a4f2c1e-3b5d-4e6f-8a9b-0c1d2e3f4a5bX",
	};
	struct dl_uevent v;
	char action[9], buf[128];

	ASSERT_EQ(dl_uevent_synth_parse("change\n", 7, action, &v), 0);
	ASSERT_STREQ(action, "change");
	ASSERT_STREQ(dl_uevent_get(&v, "SYNTH_UUID"), "0");
	snprintf(buf, sizeof(buf), "add %s A=1 bc=Z9\n", u);
	ASSERT_EQ(dl_uevent_synth_parse(buf, strlen(buf), action, &v), 0);
	ASSERT_STREQ(action, "add");
	ASSERT_STREQ(dl_uevent_get(&v, "SYNTH_UUID"), u);
	ASSERT_STREQ(dl_uevent_get(&v, "SYNTH_ARG_A"), "1");
	ASSERT_STREQ(dl_uevent_get(&v, "SYNTH_ARG_bc"), "Z9");
	ASSERT_EQ(v.nvars, 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dl_uevent_synth_parse(bad[i], strlen(bad[i]), action,
					  &v) != -EINVAL)
			FAIL_AT("accepted \"%s\"", bad[i]);
}

TEST(udev_message_header_and_round_trip)
{
	struct dl_uevent ev, back;
	unsigned char buf[4096];
	uint32_t v;
	bool udev = false;
	int n;

	pci_event(&ev, "bind", DEVPATH);
	ASSERT_EQ(dl_uevent_add(&ev, "DRIVER=ixgbe"), 0);
	ASSERT_EQ(dl_uevent_add(&ev, "TAGS=:seat:"), 0);
	n = dl_uevent_udev_msg(&ev, buf, sizeof(buf));
	ASSERT_EQ(n, DL_UEVENT_UDEV_HEADER_SIZE + ev.len);
	ASSERT_EQ(memcmp(buf, "libudev\0", 8), 0);
	ASSERT_EQ(buf[8], 0xfe);
	ASSERT_EQ(buf[11], 0xfe);
	memcpy(&v, buf + 16, 4);
	ASSERT_EQ(v, DL_UEVENT_UDEV_HEADER_SIZE);
	memcpy(&v, buf + 24, 4);
	ASSERT_EQ(be32toh(v), dl_uevent_hash32("pci"));
	memcpy(&v, buf + 28, 4);
	ASSERT_EQ(v, 0); /* no DEVTYPE */
	ASSERT_EQ(dl_uevent_parse(buf, (size_t)n, &back, &udev), 0);
	ASSERT_TRUE(udev);
	ASSERT_EQ(back.len, ev.len);
	ASSERT_EQ(memcmp(back.buf, ev.buf, ev.len), 0);
	buf[9] ^= 1;
	ASSERT_EQ(dl_uevent_parse(buf, (size_t)n, &back, &udev), -EINVAL);
	ASSERT_EQ(dl_uevent_parse("add@/d\0ACTION=add", 17, &back, &udev),
		  -EINVAL);
	/* 4 bits at most per tag, none for no tags */
	ASSERT_LE(__builtin_popcountll(dl_uevent_bloom64("seat")), 4);
	ASSERT_GE(__builtin_popcountll(dl_uevent_bloom64("seat")), 1);
}

TEST(kernel_stamps_seqnum_and_sends_from_port_0)
{
	struct dl_uevent_sock *s;
	struct dl_uevent ev, got;
	struct dl_uevent_from from;
	uint64_t seq1 = 0, seq2 = 0;
	bool udev = true;
	int fd;

	enter_or_skip_ns();
	fd = dl_uevent_listen(DL_UEVENT_GROUP_KERNEL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(dl_uevent_sock_open(&s), 0);
	pci_event(&ev, "add", DEVPATH);
	ASSERT_EQ(dl_uevent_send_kernel(s, &ev, &seq1), 0);
	ASSERT_EQ(dl_uevent_send_kernel(s, &ev, &seq2), 0);
	ASSERT_GT(seq1, 0);
	ASSERT_GT(seq2, seq1);
	ASSERT_EQ(dl_uevent_recv(fd, &got, &udev, &from, 5000), 0);
	ASSERT_FALSE(udev);
	ASSERT_EQ(from.port, 0);
	ASSERT_EQ(from.group, DL_UEVENT_GROUP_KERNEL);
	ASSERT_EQ(from.uid, 0);
	ASSERT_EQ(strtoull(dl_uevent_get(&got, "SEQNUM"), NULL, 10), seq1);
	ASSERT_STREQ(dl_uevent_get(&got, "MODALIAS"),
		     dl_uevent_get(&ev, "MODALIAS"));
	/* Too big for the kernel: refused, nothing broadcast. */
	while (dl_uevent_add(&ev, "P=1") == 0)
		;
	ASSERT_EQ(dl_uevent_send_kernel(s, &ev, &seq1), -EINVAL);
	ASSERT_EQ(dl_uevent_recv(fd, &got, &udev, &from, 5000), 0);
	ASSERT_EQ(strtoull(dl_uevent_get(&got, "SEQNUM"), NULL, 10), seq2);
	ASSERT_EQ(dl_uevent_recv(fd, &got, &udev, &from, 0), -ETIMEDOUT);
	dl_uevent_sock_close(s);
	close(fd);
}

/* The next device a libudev monitor delivers, within 5 s. */
static struct udev_device *mon_next(struct udev_monitor *m)
{
	uint64_t end = test_now_ns() + 5000000000ull;

	for (;;) {
		struct pollfd p = { udev_monitor_get_fd(m), POLLIN, 0 };
		struct udev_device *d;
		int64_t left = (int64_t)(end - test_now_ns()) / 1000000;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return NULL;
		d = udev_monitor_receive_device(m);
		if (d)
			return d;
	}
}

static struct udev_monitor *mon_new(struct udev *u, const char *name,
				    const char *subsystem, const char *tag)
{
	struct udev_monitor *m = udev_monitor_new_from_netlink(u, name);

	ASSERT_TRUE(m != NULL);
	if (subsystem)
		ASSERT_EQ(udev_monitor_filter_add_match_subsystem_devtype(
				  m, subsystem, NULL), 0);
	if (tag)
		ASSERT_EQ(udev_monitor_filter_add_match_tag(m, tag), 0);
	ASSERT_EQ(udev_monitor_enable_receiving(m), 0);
	return m;
}

TEST(libudev_takes_both_for_real)
{
	struct udev *u;
	struct udev_monitor *mk, *mu;
	struct udev_device *d;
	struct dl_uevent_sock *s;
	struct dl_uevent ev;
	uint64_t seq = 0;
	char want[32];

	enter_or_skip_ns();
	u = udev_new();
	mk = mon_new(u, "kernel", NULL, NULL);
	mu = mon_new(u, "udev", NULL, NULL);
	ASSERT_EQ(dl_uevent_sock_open(&s), 0);
	pci_event(&ev, "add", DEVPATH);
	ASSERT_EQ(dl_uevent_send(s, &ev, 1234567, "ID_X=1", 7, &seq), 0);
	snprintf(want, sizeof(want), "%" PRIu64, seq);

	d = mon_next(mk);
	ASSERT_TRUE(d != NULL);
	ASSERT_STREQ(udev_device_get_action(d), "add");
	ASSERT_STREQ(udev_device_get_subsystem(d), "pci");
	ASSERT_EQ(udev_device_get_seqnum(d), seq);
	ASSERT_STREQ(udev_device_get_property_value(d, "PCI_ID"),
		     "8086:10FB");
	ASSERT_FALSE(udev_device_get_is_initialized(d));
	udev_device_unref(d);

	d = mon_next(mu);
	ASSERT_TRUE(d != NULL);
	ASSERT_STREQ(udev_device_get_action(d), "add");
	ASSERT_EQ(udev_device_get_seqnum(d), seq);
	ASSERT_STREQ(udev_device_get_property_value(d, "SEQNUM"), want);
	ASSERT_STREQ(udev_device_get_property_value(d, "USEC_INITIALIZED"),
		     "1234567");
	ASSERT_STREQ(udev_device_get_property_value(d, "ID_X"), "1");
	ASSERT_TRUE(udev_device_get_is_initialized(d));
	udev_device_unref(d);
	dl_uevent_sock_close(s);
	udev_monitor_unref(mk);
	udev_monitor_unref(mu);
	udev_unref(u);
}

/* libudev's filters run in the kernel on the header's hashes: an event
 * whose subsystem hash or tag bloom is wrong never reaches the monitor. */
TEST(libudev_filters_match_our_hashes)
{
	struct udev *u;
	struct udev_monitor *ms, *mt;
	struct udev_device *d;
	struct dl_uevent_sock *s;
	struct dl_uevent ev;

	enter_or_skip_ns();
	u = udev_new();
	ms = mon_new(u, "udev", "pci", NULL);
	mt = mon_new(u, "udev", NULL, "seat");
	ASSERT_EQ(dl_uevent_sock_open(&s), 0);
	ASSERT_EQ(dl_uevent_init(&ev, "add", DEVPATH "/x", "mdev"), 0);
	ASSERT_EQ(dl_uevent_send(s, &ev, 1, NULL, 0, NULL), 0);
	pci_event(&ev, "add", DEVPATH);
	ASSERT_EQ(dl_uevent_send(s, &ev, 1, NULL, 0, NULL), 0);
	ASSERT_EQ(dl_uevent_add(&ev, "TAGS=:seat:uaccess:"), 0);
	ASSERT_EQ(dl_uevent_send(s, &ev, 1, NULL, 0, NULL), 0);

	d = mon_next(ms);
	ASSERT_TRUE(d != NULL);
	ASSERT_STREQ(udev_device_get_subsystem(d), "pci");
	udev_device_unref(d);
	d = mon_next(mt);
	ASSERT_TRUE(d != NULL);
	ASSERT_TRUE(udev_device_has_tag(d, "seat"));
	ASSERT_TRUE(udev_device_has_tag(d, "uaccess"));
	udev_device_unref(d);
	dl_uevent_sock_close(s);
	udev_monitor_unref(ms);
	udev_monitor_unref(mt);
	udev_unref(u);
}

/* Read what udevadm printed so far (non-blocking) into out. */
static void drain(int fd, char *out, size_t len, size_t *used)
{
	ssize_t n;

	while (*used + 1 < len &&
	       (n = read(fd, out + *used, len - 1 - *used)) > 0)
		*used += (size_t)n;
	out[*used] = '\0';
}

TEST(udevadm_monitor_prints_both)
{
	static char out[1 << 16];
	struct dl_uevent_sock *s;
	struct dl_uevent ev;
	uint64_t seq = 0, end;
	size_t used = 0;
	char want[128];
	int pfd[2], status;
	pid_t pid;

	enter_or_skip_ns();
	if (access("/usr/bin/udevadm", X_OK) != 0 &&
	    access("/bin/udevadm", X_OK) != 0)
		FAIL_AT("udevadm is missing: scripts/deps.sh installs udev");
	ASSERT_EQ(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		execlp("udevadm", "udevadm", "monitor", "--kernel", "--udev",
		       "--property", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	ASSERT_EQ(dl_uevent_sock_open(&s), 0);
	/* Until udevadm listens, events are lost: send a marker until it
	 * prints one (with a deadline), then the event under test. */
	ASSERT_EQ(dl_uevent_init(&ev, "change", "/devices/marker", "pci"), 0);
	end = test_now_ns() + 10000000000ull;
	while (!strstr(out, "UDEV  [") || !strstr(out, "KERNEL[")) {
		if (test_now_ns() > end)
			FAIL_AT("udevadm printed no event:\n%s", out);
		ASSERT_EQ(dl_uevent_send(s, &ev, 1, NULL, 0, NULL), 0);
		test_sleep_ms(20);
		drain(pfd[0], out, sizeof(out), &used);
	}
	pci_event(&ev, "remove", DEVPATH);
	ASSERT_EQ(dl_uevent_send(s, &ev, 42, NULL, 0, &seq), 0);
	snprintf(want, sizeof(want), "SEQNUM=%" PRIu64 "\n", seq);
	end = test_now_ns() + 10000000000ull;
	for (;;) {
		const char *k = strstr(out, "remove   " DEVPATH " (pci)");
		const char *u = k ? strstr(k + 1, "remove   " DEVPATH) : NULL;

		if (u && strstr(u, want) && strstr(u, "USEC_INITIALIZED=42")) {
			ASSERT_CONTAINS(k, want);
			ASSERT_TRUE(memcmp(k - 22, "KERNEL[", 7) == 0 ||
				    strstr(k - 40, "KERNEL[") != NULL);
			break;
		}
		if (test_now_ns() > end)
			FAIL_AT("udevadm did not print both removes:\n%s", out);
		test_sleep_ms(10);
		drain(pfd[0], out, sizeof(out), &used);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	dl_uevent_sock_close(s);
	close(pfd[0]);
}

int main(int argc, char **argv)
{
	struct test_case tests[] = {
		TEST_ENTRY(kernel_message_is_the_kernels)
		TEST_ENTRY(bad_input_changes_nothing)
		TEST_ENTRY(synth_parse_as_the_kernel)
		TEST_ENTRY(udev_message_header_and_round_trip)
		TEST_ENTRY(kernel_stamps_seqnum_and_sends_from_port_0)
		TEST_ENTRY(libudev_takes_both_for_real)
		TEST_ENTRY(libudev_filters_match_our_hashes)
		TEST_ENTRY(udevadm_monitor_prints_both)
	};

	return test_run_all(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
