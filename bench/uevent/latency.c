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
 *
 * The daemon also logs, per "remove", when each stage of its path was
 * reached (DEVLIFE_UEVENT_STAGES, src/uevent/emit.c); printed here as
 * the p50 and p99 of each stage's share, and the slowest rounds whole.
 *
 *   devlife-bench-uevent-latency DEVLIFED [ROUNDS] [--json FILE]
 *                                [-- DEVLIFED-OPTIONS...]
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

/* The daemon's stages (emit.c's enum stage), then the listener's. */
#define NSTAGE 10
static const char *const stage_names[NSTAGE + 1] = {
	"request -> bus queue runs it", "-> removal starts",
	"-> remove queued (dead)", "-> its sender takes it",
	"(inval thread woke)", "(last notify returned)",
	"-> inval wait returns", "-> kernel copy + SEQNUM",
	"-> udev db written", "-> udev copy sent",
	"-> listener receives",
};

struct round {
	uint64_t t0, t1;       /* the eject's send, the remove's receipt */
	uint64_t st[NSTAGE];   /* the daemon's, 0 if not logged */
};

static int cmp_round(const void *a, const void *b)
{
	const struct round *x = a, *y = b;
	uint64_t dx = x->t1 - x->t0, dy = y->t1 - y->t0;

	return dx < dy ? -1 : dx > dy;
}

/* Stage @s's share of a round: from the stage before it (the inval
 * thread's two times are from the emitter's take). */
static int64_t share(const struct round *r, int s)
{
	uint64_t prev = s == 0 ? r->t0 : r->st[s - 1];
	uint64_t cur = s == NSTAGE ? r->t1 : r->st[s];

	if (s == 4 || s == 5 || s == 6)
		prev = r->st[3];
	if (s == 7)
		prev = r->st[6];
	return (int64_t)(cur - prev);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_stages(const char *log, struct round *r, int rounds)
{
	FILE *f = fopen(log, "r");
	int64_t *v = calloc((size_t)rounds, sizeof(*v));
	char line[512];
	int n = 0;

	if (!f || !v)
		die("cannot read the stage log");
	while (n < rounds && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ' ');

		for (int s = 0; p && s < NSTAGE; s++)
			r[n].st[s] = strtoull(p, &p, 10);
		n++;
	}
	fclose(f);
	if (n != rounds) {
		printf("stage log: %d lines for %d rounds; no breakdown\n", n,
		       rounds);
		free(v);
		return;
	}
	printf("per stage (us)                      p50      p99      max\n");
	for (int s = 0; s <= NSTAGE; s++) {
		for (int i = 0; i < rounds; i++)
			v[i] = share(&r[i], s);
		qsort(v, (size_t)rounds, sizeof(*v), cmp_i64);
		printf("  %-30s %8.1f %8.1f %8.1f\n", stage_names[s],
		       v[rounds / 2] / 1000.0,
		       v[(size_t)rounds * 99 / 100] / 1000.0,
		       v[rounds - 1] / 1000.0);
	}
	qsort(r, (size_t)rounds, sizeof(*r), cmp_round);
	printf("slowest rounds, each stage's share (us):\n");
	for (int i = rounds - 1; i >= 0 && i >= rounds - 12; i--) {
		printf("  %7.1f (at %.6f s):", (r[i].t1 - r[i].t0) / 1000.0,
		       r[i].t0 / 1e9);
		for (int s = 0; s <= NSTAGE; s++)
			printf(" %.0f", share(&r[i], s) / 1000.0);
		printf("\n");
	}
	free(v);
}

static void print_load(const char *when)
{
	char buf[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	printf("load average %s: %s", when, buf);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/devlife-bench-ue.XXXXXX", mnt[256], sock[256];
	char stages[256], *dargv[32];
	int dargc = 0, a;
	struct round *rs;
	const char *json = NULL;
	int rounds = 1000, ufd, hfd;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t *lat;
	pid_t pid;

	if (argc < 2)
		die("usage: devlife-bench-uevent-latency DEVLIFED [ROUNDS] "
		    "[--json FILE] [-- DEVLIFED-OPTIONS...]");
	for (a = 2; a < argc; a++) {
		if (!strcmp(argv[a], "--")) {
			a++;
			break;
		}
		if (!strcmp(argv[a], "--json") && a + 1 < argc)
			json = argv[++a];
		else if (!strcmp(argv[a], "--quick"))
			rounds = 100;
		else
			rounds = atoi(argv[a]);
	}
	dargv[dargc++] = argv[1];
	for (; a < argc && dargc < 24; a++)
		dargv[dargc++] = argv[a];
	dargv[dargc++] = (char *)"-f";
	dargv[dargc++] = (char *)"--uevents";
	dargv[dargc++] = (char *)"-s";
	dargv[dargc++] = sock;
	dargv[dargc++] = mnt;
	dargv[dargc] = NULL;
	if (rounds < 1 || !(lat = calloc((size_t)rounds, sizeof(*lat))) ||
	    !(rs = calloc((size_t)rounds, sizeof(*rs))))
		die("bad round count");
	print_load("before");
	if (ns_enter() < 0)
		die("cannot make a user+network namespace here");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(mnt, sizeof(mnt), "%s/sys", dir);
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(stages, sizeof(stages), "%s/stages", dir);
	mkdir(mnt, 0755);
	ufd = dl_uevent_listen(DL_UEVENT_GROUP_UDEV);
	if (ufd < 0)
		die("listen");
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv("DEVLIFE_UEVENT_STAGES", stages, 1);
		execv(argv[1], dargv);
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
		rs[i].t1 = now_ns();
		rs[i].t0 = t0;
		lat[i] = rs[i].t1 - t0;
		/* the reply to the eject, then the function back */
		request(hfd, "");
		request(hfd, "add " FN " vendor=0x1af4 device=0x1042 "
			     "class=0x010000 bar1=4K\n");
		wait_event(ufd, "bind");
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	print_load("after");
	print_stages(stages, rs, rounds);
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
	free(rs);
	return 0;
}
