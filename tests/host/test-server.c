/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel end to end: a platform on the default topology and the
 * server in this process, the real devlifectl binary (its path is the
 * first argument) and raw socket clients that send garbage.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <devlife/devlife.h>
#include <urcu-bp.h>

#include "harness.h"
#include "pci.h"
#include "platform.h"
#include "proto.h"
#include "server.h"
#include "topology.h"

static const char *ctl_path;

struct fixture {
	char dir[64];
	char sock[128];
	struct dl_tree *tree;
	struct dl_pci_platform *plat;
	struct dl_host_server *srv;
};

static void setup(struct fixture *fx)
{
	struct dl_pci_error err = { 0, "" };
	struct dl_pci_desc *d;
	int r;

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/dl-host-XXXXXX");
	if (!mkdtemp(fx->dir))
		FAIL_AT("mkdtemp: %s", strerror(errno));
	snprintf(fx->sock, sizeof(fx->sock), "%s/devlifed.sock", fx->dir);
	ASSERT_EQ(dl_tree_new(&fx->tree), 0);
	ASSERT_EQ(dl_pci_desc_default(1000, &d), 0);
	if (dl_pci_platform_new(fx->tree, d, &err, &fx->plat) < 0)
		FAIL_AT("platform: %s", err.msg);
	r = dl_host_server_new(fx->plat, fx->sock, &fx->srv);
	ASSERT_EQ(r, 0);
}

static void teardown(struct fixture *fx)
{
	dl_host_server_free(fx->srv);
	dl_pci_platform_free(fx->plat);
	dl_tree_free(fx->tree);
	for (int i = 0; i < 8; i++)
		urcu_bp_barrier();
	rmdir(fx->dir);
}

/* ------------------------------------------------------------------ */
/* Running devlifectl                                                  */

struct ctl {
	int status;      /* exit status, or 128 + signal */
	char out[65536];
	char err[4096];
};

static void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* Run devlifectl with -s SOCK (unless sock is NULL) and the arguments. */
static void run_ctl_v(struct ctl *c, const char *sock, const char *const *args)
{
	char outp[] = "/tmp/dl-ctl-out-XXXXXX", errp[] = "/tmp/dl-ctl-err-XXXXXX";
	int ofd = mkstemp(outp), efd = mkstemp(errp), status;
	const char *argv[64];
	int n = 0;
	pid_t pid;

	ASSERT_GE(ofd, 0);
	ASSERT_GE(efd, 0);
	argv[n++] = ctl_path;
	if (sock) {
		argv[n++] = "-s";
		argv[n++] = sock;
	}
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(ctl_path, (char *const *)argv);
		_exit(127);
	}
	close(ofd);
	close(efd);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	c->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	slurp(outp, c->out, sizeof(c->out));
	slurp(errp, c->err, sizeof(c->err));
}

#define run_ctl(c, sock, ...)                                                  \
	run_ctl_v((c), (sock), (const char *const[]){ __VA_ARGS__, NULL })

/* ------------------------------------------------------------------ */
/* Raw clients                                                         */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_GE(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		FAIL_AT("connect %s: %s", path, strerror(errno));
	return fd;
}

static void send_bytes(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* the server may have closed on us */
		}
		s += w;
		n -= (size_t)w;
	}
}

/*
 * Read one reply: up to and including a final "ok" or "error ..." line,
 * or to EOF. Returns the reply (static buffer); fails after 10 s.
 */
static char *read_reply(int fd)
{
	static char buf[1 << 20];
	size_t len = 0;
	uint64_t t0 = test_now_ns();

	buf[0] = '\0';
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		char *line = buf;
		ssize_t n;

		/* is the last complete line final? */
		for (char *nl; (nl = strchr(line, '\n')); line = nl + 1) {
			if (!strncmp(line, "ok\n", 3) || !strncmp(line, "error ", 6))
				return buf;
		}
		if (test_now_ns() - t0 > 10000000000ull)
			FAIL_AT("no complete reply after 10 s; got:\n%s", buf);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			return buf; /* EOF (or reset): what we have */
		len += (size_t)n;
		buf[len] = '\0';
		ASSERT_LT(len, sizeof(buf) - 1);
	}
}

static char *request(int fd, const char *line)
{
	send_bytes(fd, line, strlen(line));
	return read_reply(fd);
}

/* Whether the server closed @fd (EOF within 5 s). */
static bool closed_by_peer(int fd)
{
	char c;
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, 5000) <= 0)
		return false;
	return recv(fd, &c, 1, 0) <= 0;
}

/* Read from @fd until @needle shows up in what was read (10 s). */
static void wait_for(int fd, char *buf, size_t cap, size_t *len, const char *needle)
{
	uint64_t t0 = test_now_ns();

	while (!strstr(buf, needle)) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (test_now_ns() - t0 > 10000000000ull)
			FAIL_AT("no '%s' after 10 s", needle);
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (*len + 4096 > cap) {
			/* keep the tail only */
			memmove(buf, buf + *len - 1024, 1024);
			*len = 1024;
		}
		n = recv(fd, buf + *len, cap - 1 - *len, 0);
		if (n <= 0)
			FAIL_AT("EOF while waiting for '%s'", needle);
		*len += (size_t)n;
		buf[*len] = '\0';
	}
}

/* ------------------------------------------------------------------ */

TEST(socket_is_owner_only)
{
	struct fixture fx;
	struct dl_host_server *other;
	struct stat st;
	char path[160];
	int fd;

	setup(&fx);
	ASSERT_EQ(lstat(fx.sock, &st), 0);
	ASSERT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	/* a live server is not replaced */
	ASSERT_EQ(dl_host_server_new(fx.plat, fx.sock, &other), -EADDRINUSE);
	/* nor is something that is not a socket */
	snprintf(path, sizeof(path), "%s/file", fx.dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(dl_host_server_new(fx.plat, path, &other), -EEXIST);
	unlink(path);
	/* a stale socket is */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(path, sizeof(path), "%s/stale", fx.dir);
		ASSERT_LT(strlen(path), sizeof(sa.sun_path));
		memcpy(sa.sun_path, path, strlen(path) + 1);
		ASSERT_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(s);
		ASSERT_EQ(dl_host_server_new(fx.plat, path, &other), 0);
		ASSERT_EQ(lstat(path, &st), 0);
		ASSERT_EQ(st.st_mode & 07777, 0600);
		dl_host_server_free(other);
		ASSERT_NE(lstat(path, &st), 0); /* unlinked */
	}
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	ASSERT_EQ(dl_host_server_new(fx.plat, path, &other), -ENAMETOOLONG);
	teardown(&fx);
	ASSERT_NE(lstat(fx.sock, &st), 0);
}

TEST(devlifectl_end_to_end)
{
	struct fixture fx;
	struct ctl *c = malloc(sizeof(*c));

	setup(&fx);
	run_ctl(c, fx.sock, "tree");
	ASSERT_EQ(c->status, 0);
	ASSERT_CONTAINS(c->out, "pci0000:00 LIVE drv=pci-root users=0\n");
	ASSERT_CONTAINS(c->out, "    0000:01:00.0 [8086:10fb] LIVE");
	ASSERT_CONTAINS(c->out, "  0000:00:03.0 [1af4:1041] LIVE drv=virtio-pci users=0\n");
	ASSERT_TRUE(!strstr(c->out, ". ")); /* prefixes are stripped */

	run_ctl(c, fx.sock, "eject", "0000:00:04.0");
	ASSERT_EQ(c->status, 0);
	ASSERT_STREQ(c->out, "ejected 0000:00:04.0\n");
	run_ctl(c, fx.sock, "tree");
	ASSERT_TRUE(!strstr(c->out, "0000:00:04.0"));
	run_ctl(c, fx.sock, "eject", "00:04.0");
	ASSERT_EQ(c->status, 1);
	ASSERT_STREQ(c->err, "devlifectl: ENODEV 0000:00:04.0 is not present\n");

	run_ctl(c, fx.sock, "add", "0000:00:06.0", "vendor=0x1af4", "device=0x1041",
		"class=0x020000", "bar1=4K");
	ASSERT_EQ(c->status, 0);
	ASSERT_CONTAINS(c->out, "added 0000:00:06.0");
	run_ctl(c, fx.sock, "tree");
	ASSERT_CONTAINS(c->out, "  0000:00:06.0 [1af4:1041] LIVE drv=virtio-pci users=0\n");
	run_ctl(c, fx.sock, "add", "0000:00:07.0", "vendor=0x1af4", "bogus=1");
	ASSERT_EQ(c->status, 1);
	ASSERT_CONTAINS(c->err, "devlifectl: EINVAL ");
	ASSERT_CONTAINS(c->err, "bogus");
	ASSERT_STREQ(c->out, "");

	run_ctl(c, fx.sock, "relations", "0000:01", "0000:01:00.0");
	ASSERT_EQ(c->status, 0);
	ASSERT_CONTAINS(c->out, "ejected 0000:01:00.1");
	run_ctl(c, fx.sock, "tree");
	ASSERT_TRUE(!strstr(c->out, "0000:01:00.1"));
	ASSERT_CONTAINS(c->out, "0000:01:00.0");

	run_ctl(c, fx.sock, "surprise", "0000:00:02.0");
	ASSERT_EQ(c->status, 0);
	run_ctl(c, fx.sock, "error", "0000:00:03.0");
	ASSERT_EQ(c->status, 0);
	ASSERT_CONTAINS(c->out, "no error handlers");

	run_ctl(c, fx.sock, "stats");
	ASSERT_EQ(c->status, 0);
	ASSERT_CONTAINS(c->out, "devices_live ");
	ASSERT_CONTAINS(c->out, "\nadds ");
	ASSERT_CONTAINS(c->out, "\nwork_run ");

	/* the text view: seconds since the first record, decoded */
	run_ctl(c, fx.sock, "trace");
	ASSERT_EQ(c->status, 0);
	ASSERT_CONTAINS(c->out, "0.000000  pci0000:00     add\n");
	ASSERT_CONTAINS(c->out, "  0000:00:02.0   remove-start  mode=surprise\n");
	ASSERT_CONTAINS(c->out, "  0000:00:04.0   remove-start  mode=wait\n");

	run_ctl(c, fx.sock, "trace", "--raw");
	ASSERT_EQ(c->status, 0);
	ASSERT_CONTAINS(c->out, " add 0000:00:06.0 0\n");
	ASSERT_CONTAINS(c->out, " dead 0000:00:04.0 0\n");
	ASSERT_CONTAINS(c->out, " surprise 0000:00:02.0 0\n");
	/* "1 <ts> add pci0000:00 0" or later seqs: each line has 5 fields */
	{
		unsigned long long seq, ts;
		char ev[32], name[64];
		int arg;

		ASSERT_EQ(sscanf(c->out, "%llu %llu %31s %63s %d", &seq, &ts, ev, name,
				 &arg), 5);
	}

	run_ctl(c, fx.sock, "help");
	ASSERT_EQ(c->status, 0);
	ASSERT_CONTAINS(c->out, "relations BUS");
	run_ctl(c, fx.sock, "frobnicate");
	ASSERT_EQ(c->status, 1);
	ASSERT_CONTAINS(c->err, "devlifectl: EINVAL unknown command 'frobnicate'");
	run_ctl(c, fx.sock, "eject");
	ASSERT_EQ(c->status, 1);
	ASSERT_CONTAINS(c->err, "EINVAL eject takes 1 to 1 arguments");
	free(c);
	teardown(&fx);
}

TEST(devlifectl_without_daemon)
{
	struct ctl *c = malloc(sizeof(*c));

	run_ctl(c, "/nonexistent/devlifed.sock", "tree");
	ASSERT_EQ(c->status, 2);
	ASSERT_CONTAINS(c->err, "cannot connect to /nonexistent/devlifed.sock");
	ASSERT_CONTAINS(c->err, "is devlifed running?");
	setenv("DEVLIFE_SOCKET", "/nonexistent/env.sock", 1);
	run_ctl(c, NULL, "tree");
	ASSERT_EQ(c->status, 2);
	ASSERT_CONTAINS(c->err, "/nonexistent/env.sock");
	unsetenv("DEVLIFE_SOCKET");
	run_ctl_v(c, NULL, (const char *const[]){ NULL });
	ASSERT_EQ(c->status, 2);
	ASSERT_CONTAINS(c->err, "Usage:");
	run_ctl(c, "/x", "add", "0000:00:06.0", "vendor=1 device=2");
	ASSERT_EQ(c->status, 2);
	ASSERT_CONTAINS(c->err, "white space");
	free(c);
}

TEST(garbage_gets_errors_and_others_are_served)
{
	struct fixture fx;
	int fd, bystander, fd2;
	char *big, *r;

	setup(&fx);
	bystander = connect_to(fx.sock);
	fd = connect_to(fx.sock);

	send_bytes(fd, "tree\0x\n", 7);
	r = read_reply(fd);
	ASSERT_CONTAINS(r, "error EINVAL invalid byte 0x00 at column 5\n");
	r = request(fd, "stats\n");
	ASSERT_CONTAINS(r, "ok\n");
	r = request(fd, "frobnicate now\n");
	ASSERT_CONTAINS(r, "error EINVAL unknown command 'frobnicate'");
	r = request(fd, "\n");
	ASSERT_CONTAINS(r, "error EINVAL empty request");
	r = request(fd, "\x01\x02\xff\xfe garbage \x7f\n");
	ASSERT_CONTAINS(r, "error EINVAL invalid byte");
	r = request(fd, "eject 0000:zz:00.0\r\n");
	ASSERT_CONTAINS(r, "error EINVAL '0000:zz:00.0' is not a PCI address");
	r = request(fd, "relations 0000:01 0000:02:00.0\n");
	ASSERT_CONTAINS(r, "error EINVAL 0000:02:00.0 is not on bus 0000:01");
	/* 2000 arguments (short enough a line) */
	big = malloc(200000);
	strcpy(big, "tree");
	for (int i = 0; i < 2000; i++)
		memcpy(big + 4 + 2 * i, " x", 3);
	strcat(big, "\n");
	r = request(fd, big);
	ASSERT_CONTAINS(r, "error E2BIG more than 1024 arguments");
	/* the connection is still good */
	r = request(fd, "help\n");
	ASSERT_CONTAINS(r, "ok\n");

	/* the bystander saw none of it and is served */
	r = request(bystander, "stats\n");
	ASSERT_CONTAINS(r, ". devices_live ");
	ASSERT_TRUE(!strstr(r, "error"));

	/* a 100 KiB line: one error, then the connection is closed */
	memset(big, 'a', 100 * 1024);
	big[100 * 1024] = '\0';
	send_bytes(fd, big, strlen(big));
	r = read_reply(fd);
	ASSERT_CONTAINS(r, "error E2BIG request longer than 8191 bytes\n");
	ASSERT_TRUE(closed_by_peer(fd));
	close(fd);

	/* a client that leaves mid-request */
	fd = connect_to(fx.sock);
	send_bytes(fd, "ejec", 4);
	close(fd);
	/* one that sends a NUL-only line and more on the same write */
	fd2 = connect_to(fx.sock);
	send_bytes(fd2, "\0\nhelp\n", 7);
	{
		size_t len = 0;

		big[0] = '\0';
		wait_for(fd2, big, 200000, &len, "\nok\n");
		ASSERT_EQ(strncmp(big, "error EINVAL invalid byte 0x00 at column 1\n. help ",
				  50), 0);
	}
	close(fd2);

	r = request(bystander, "tree\n");
	ASSERT_CONTAINS(r, ". pci0000:00 LIVE");
	ASSERT_CONTAINS(r, "ok\n");
	close(bystander);
	free(big);
	teardown(&fx);
}

TEST(peers_are_checked)
{
	struct fixture fx;
	int fd;
	char *r;

	setup(&fx);
	dl_host__server_set_peer_policy(fx.srv, 4242, false);
	fd = connect_to(fx.sock);
	r = read_reply(fd);
	ASSERT_CONTAINS(r, "error EACCES uid ");
	ASSERT_CONTAINS(r, " may not use this socket\n");
	ASSERT_TRUE(closed_by_peer(fd));
	close(fd);
	dl_host__server_set_peer_policy(fx.srv, geteuid(), true);
	fd = connect_to(fx.sock);
	r = request(fd, "help\n");
	ASSERT_CONTAINS(r, "ok\n");
	close(fd);
	teardown(&fx);
}

TEST(at_most_32_clients)
{
	struct fixture fx;
	int fds[DL_HOST_MAX_CLIENTS], extra;
	uint64_t t0;
	char *r;

	setup(&fx);
	for (int i = 0; i < DL_HOST_MAX_CLIENTS; i++) {
		fds[i] = connect_to(fx.sock);
		r = request(fds[i], "help\n");
		ASSERT_CONTAINS(r, "ok\n");
	}
	extra = connect_to(fx.sock);
	r = read_reply(extra);
	ASSERT_STREQ(r, "error EBUSY too many clients\n");
	ASSERT_TRUE(closed_by_peer(extra));
	close(extra);
	/* one leaves: room again (once its thread has noticed) */
	close(fds[0]);
	t0 = test_now_ns();
	for (;;) {
		extra = connect_to(fx.sock);
		r = request(extra, "help\n");
		if (strstr(r, "ok\n"))
			break;
		ASSERT_CONTAINS(r, "EBUSY");
		close(extra);
		if (test_now_ns() - t0 > 10000000000ull)
			FAIL_AT("no room after a client left");
		test_sleep_ms(10);
	}
	fds[0] = extra;
	/* the server shuts down with every client still connected */
	teardown(&fx);
	for (int i = 0; i < DL_HOST_MAX_CLIENTS; i++) {
		ASSERT_TRUE(closed_by_peer(fds[i]));
		close(fds[i]);
	}
}

TEST(trace_follow_streams_and_drops)
{
	struct fixture fx;
	size_t cap = 1 << 22, len = 0;
	char *buf = calloc(1, cap), msg[256];
	struct dl_device *dev;
	int fd;

	setup(&fx);
	fd = connect_to(fx.sock);
	send_bytes(fd, "trace --follow\n", 15);
	/* the backlog first */
	wait_for(fd, buf, cap, &len, " add pci0000:00 0\n");
	ASSERT_EQ(strncmp(buf, ". 1 ", 4), 0);
	/* then what happens */
	ASSERT_EQ(dl_pci_platform_host(fx.plat, DL_PCI_HOST_EJECT, 0, 0, 0x18, NULL, msg,
				       sizeof(msg)),
		  0);
	wait_for(fd, buf, cap, &len, " remove-start 0000:00:03.0 0\n");
	wait_for(fd, buf, cap, &len, " dead 0000:00:03.0 0\n");

	/* a follower that does not read loses events, and is told */
	for (int i = 0; i < 2000; i++) {
		ASSERT_EQ(dl_device_lookup(fx.tree, "0000:00:04.0", &dev), 0);
		ASSERT_EQ(dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
		dl_device_put(dev);
		ASSERT_EQ(dl_pci_platform_rescan(fx.plat, NULL), 1);
	}
	wait_for(fd, buf, cap, &len, " events (the reader is too slow)\n");
	ASSERT_CONTAINS(buf, ". dropped ");
	/* and goes on afterwards */
	ASSERT_EQ(dl_pci_platform_host(fx.plat, DL_PCI_HOST_EJECT, 0, 0, 0x20, NULL, msg,
				       sizeof(msg)),
		  0);
	wait_for(fd, buf, cap, &len, " dead 0000:00:04.0 0\n");
	/* the other connections are not held up meanwhile */
	{
		int other = connect_to(fx.sock);

		ASSERT_CONTAINS(request(other, "stats\n"), "ok\n");
		close(other);
	}
	close(fd);
	free(buf);
	teardown(&fx);
}

/* devlifectl trace --follow streams until the daemon goes away. */
TEST(devlifectl_follow)
{
	struct fixture fx;
	char outp[] = "/tmp/dl-follow-XXXXXX", buf[65536];
	int ofd, status;
	uint64_t t0;
	pid_t pid;

	setup(&fx);
	ofd = mkstemp(outp);
	ASSERT_GE(ofd, 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(ofd, 2);
		execl(ctl_path, ctl_path, "-s", fx.sock, "trace", "--raw", "--follow", (char *)NULL);
		_exit(127);
	}
	t0 = test_now_ns();
	for (;;) {
		int fd = open(outp, O_RDONLY);
		ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (strstr(buf, " add pci0000:00 0\n"))
			break;
		if (test_now_ns() - t0 > 10000000000ull)
			FAIL_AT("devlifectl printed no backlog:\n%s", buf);
		test_sleep_ms(10);
	}
	ASSERT_TRUE(!strstr(buf, ". ")); /* prefixes stripped */
	/* the server goes away: devlifectl says so and fails */
	dl_host_server_free(fx.srv);
	fx.srv = NULL;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 1);
	slurp(outp, buf, sizeof(buf));
	ASSERT_CONTAINS(buf, "devlifectl: devlifed closed the connection");
	close(ofd);
	teardown(&fx);
}

int main(int argc, char **argv)
{
	struct test_case tests[] = { TEST_MAP__(
		socket_is_owner_only, devlifectl_end_to_end, devlifectl_without_daemon,
		garbage_gets_errors_and_others_are_served, peers_are_checked,
		at_most_32_clients, trace_follow_streams_and_drops, devlifectl_follow) };

	ctl_path = argc > 1 ? argv[1] : getenv("DEVLIFECTL");
	if (!ctl_path || access(ctl_path, X_OK) != 0) {
		fprintf(stderr, "usage: %s PATH-TO-DEVLIFECTL\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	return test_run_all(argv[0], tests, sizeof(tests) / sizeof(tests[0]));
}
