/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Event latency: from the host channel's eject to a udev-group listener
 * receiving the remove. A real devlifed --uevents in a private user +
 * network + mount namespace; the listener is this program, on a
 * NETLINK_KOBJECT_UEVENT socket bound to group 2, as libudev's is. Each
 * round ejects 0000:00:04.0 (a virtio block function with its driver
 * bound), times until udev's "remove" arrives, then adds it back and
 * waits for its events, so rounds do not overlap.
 *
 *   devlife-bench-uevent-latency DEVLIFED [ROUNDS] [--json FILE]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netlink.h"
#include "nsutil.h"

#define FN "0000:00:04.0"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "devlife-bench-uevent-latency: %s\n", what);
	exit(1);
}

/* One request, then read until its final line. */
static void request(int fd, const char *req)
{
	char buf[4096];
	size_t len = 0;

	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		die("host channel: send failed");
	for (;;) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		char *line;

		if (n <= 0)
			die("host channel closed");
		len += (size_t)n;
		buf[len] = '\0';
		for (line = buf; (line = strstr(line, "\n")); line++) {
			char *start = line;

			while (start > buf && start[-1] != '\n')
				start--;
			if (!strncmp(start, "ok", 2))
				return;
			if (!strncmp(start, "error", 5))
				die(start);
		}
		if (len > sizeof(buf) / 2)
			len = 0;
	}
}

/* Wait for udev's ACTION of DEVPATH ending in FN. */
static void wait_event(int ufd, const char *action)
{
	for (;;) {
		struct dl_uevent ev;
		bool udev;
		const char *p;

		if (dl_uevent_recv(ufd, &ev, &udev, NULL, 10000) != 0)
			die("no event within 10 s");
		p = dl_uevent_get(&ev, "DEVPATH");
		if (!strcmp(dl_uevent_get(&ev, "ACTION"), action) &&
		    strlen(p) > strlen(FN) &&
		    !strcmp(p + strlen(p) - strlen(FN), FN))
			return;
	}
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/devlife-bench-ue.XXXXXX", mnt[256], sock[256];
	const char *json = NULL;
	int rounds = 1000, ufd, hfd;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t *lat;
	pid_t pid;

	if (argc < 2)
		die("usage: devlife-bench-uevent-latency DEVLIFED [ROUNDS] "
		    "[--json FILE]");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else if (!strcmp(argv[i], "--quick"))
			rounds = 100;
		else
			rounds = atoi(argv[i]);
	}
	if (rounds < 1 || !(lat = calloc((size_t)rounds, sizeof(*lat))))
		die("bad round count");
	if (ns_enter() < 0)
		die("cannot make a user+network namespace here");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(mnt, sizeof(mnt), "%s/sys", dir);
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	mkdir(mnt, 0755);
	ufd = dl_uevent_listen(DL_UEVENT_GROUP_UDEV);
	if (ufd < 0)
		die("listen");
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(argv[1], argv[1], "-f", "--uevents", "-s", sock, mnt,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400 && access(sock, F_OK); i++)
		usleep(25000);
	hfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, sock, strlen(sock));
	if (connect(hfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot reach devlifed");
	for (int i = 0; i < rounds; i++) {
		uint64_t t0 = now_ns();

		if (send(hfd, "eject " FN "\n", sizeof("eject " FN "\n") - 1,
			 MSG_NOSIGNAL) < 0)
			die("send");
		wait_event(ufd, "remove");
		lat[i] = now_ns() - t0;
		/* the reply to the eject, then the function back */
		request(hfd, "");
		request(hfd, "add " FN " vendor=0x1af4 device=0x1042 "
			     "class=0x010000 bar1=4K\n");
		wait_event(ufd, "bind");
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp);
	{
		double p50 = lat[rounds / 2] / 1000.0;
		double p99 = lat[(size_t)rounds * 99 / 100] / 1000.0;

		printf("uevent latency, host eject -> udev-group remove, %d "
		       "events: p50 %.1f us, p99 %.1f us (target p99 <= "
		       "1000 us: %s)\n", rounds, p50, p99,
		       p99 <= 1000 ? "met" : "MISSED");
		if (json) {
			FILE *f = fopen(json, "w");

			if (!f)
				die("cannot write the json");
			fprintf(f, "{\"uevent_latency_us\": {\"p50\": %.1f, "
				   "\"p99\": %.1f, \"events\": %d}}\n",
				p50, p99, rounds);
			fclose(f);
		}
	}
	free(lat);
	return 0;
}
