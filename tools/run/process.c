/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-run's processes: its signals, the daemon, COMMAND, and
 * whatever COMMAND leaves running (the runner is their subreaper).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

static const int handled_signals[3] = { SIGINT, SIGTERM, SIGHUP };

/* Restore, in a child about to exec, what the runner changed. */
void run_child_restore_signals(const struct run *r)
{
	for (int i = 0; i < 3; i++)
		sigaction(handled_signals[i], &r->orig_act[i], NULL);
	sigprocmask(SIG_SETMASK, &r->orig_mask, NULL);
}

/*
 * Take over SIGINT, SIGTERM, SIGHUP and SIGCHLD: blocked, read from a
 * signalfd. A signal ignored on entry (a background job's SIGINT) is
 * taken too: the runner must clean up whatever stops it.
 */
int run_setup_signals(struct run *r)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	sigemptyset(&set);
	for (int i = 0; i < 3; i++) {
		sigaddset(&set, handled_signals[i]);
		sigaction(handled_signals[i], &dfl, &r->orig_act[i]);
	}
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &r->orig_mask) < 0)
		return -errno;
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return r->sigfd < 0 ? -errno : 0;
}

/* The program to start as the daemon: $DEVLIFED, else the devlifed
 * beside this program, else devlifed from $PATH. */
static const char *daemon_program(char *buf, size_t len)
{
	const char *env = getenv("DEVLIFED");
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", buf, len - 16);
	if (n > 0) {
		buf[n] = '\0';
		slash = strrchr(buf, '/');
		if (slash) {
			strcpy(slash + 1, "devlifed");
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return "devlifed";
}

long run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait up to timeout_ms (-1: for ever) for one child of the runner to
 * end (pid -1: any); returns its status, or -1. Signals read meanwhile
 * are dropped: a stop request while stopping changes nothing.
 */
int run_reap(struct run *r, pid_t pid, int timeout_ms)
{
	struct pollfd p = { .fd = r->sigfd, .events = POLLIN };
	long deadline = run_now_ms() + timeout_ms;
	struct signalfd_siginfo si;
	int status, left = -1;

	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got > 0)
			return status;
		if (got < 0)
			return -1;
		if (timeout_ms >= 0) {
			left = (int)(deadline - run_now_ms());
			if (left <= 0)
				return -1;
		}
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -1;
		while (read(r->sigfd, &si, sizeof(si)) == sizeof(si))
			;
	}
}

static void start_child_common(const struct run *r, pid_t runner, int deathsig)
{
	/* Should the runner die, so does this; it may have died already. */
	prctl(PR_SET_PDEATHSIG, deathsig);
	if (getppid() != runner)
		_exit(127);
	run_child_restore_signals(r);
}

/*
 * Start devlifed in the foreground on staging/mnt and wait until it
 * serves (it writes one byte on --ready-fd) or fails.
 */
int run_start_daemon(struct run *r)
{
	const char *argv[MAX_DAEMON_ARGS + 12];
	char prog[PATH_MAX], fdarg[16];
	struct pollfd p[2];
	int fds[2], n = 0, status;
	pid_t runner;
	char c;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	argv[n++] = daemon_program(prog, sizeof(prog));
	for (int i = 0; i < r->ndaemon_args; i++)
		argv[n++] = r->daemon_args[i];
	snprintf(fdarg, sizeof(fdarg), "%d", fds[1]);
	/* the events, through this namespace's kernel (events.c) */
	argv[n++] = "--uevents";
	argv[n++] = "--udev-db";
	argv[n++] = "/run/udev";
	argv[n++] = "-f";
	argv[n++] = "--ready-fd";
	argv[n++] = fdarg;
	if (!r->socket) {
		argv[n++] = "-s";
		argv[n++] = r->sock_path;
	}
	argv[n++] = r->tree;
	argv[n] = NULL;
	runner = getpid();
	r->daemon = fork();
	if (r->daemon < 0)
		return -1;
	if (r->daemon == 0) {
		int null = open("/dev/null", O_RDONLY);

		start_child_common(r, runner, SIGTERM);
		fcntl(fds[1], F_SETFD, 0);
		if (null >= 0)
			dup2(null, 0);
		dup2(2, 1); /* COMMAND's output is COMMAND's alone */
		execvp(argv[0], (char **)argv);
		fprintf(stderr, "devlife-run: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	p[0] = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = r->sigfd, .events = POLLIN };
	for (;;) {
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			n = (int)read(fds[0], &c, 1);
			close(fds[0]);
			if (n == 1 && c == '0')
				return 0;
			break; /* it exited before it was ready */
		}
		if (read(r->sigfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD) {
			r->stop_signal = (int)si.ssi_signo;
			close(fds[0]);
			return -1;
		}
	}
	status = run_reap(r, r->daemon, -1);
	r->daemon = 0;
	fprintf(stderr, "devlife-run: devlifed did not start (%s %d)\n",
		WIFSIGNALED(status) ? "signal" : "exit status",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return -1;
}

/*
 * Until COMMAND's init ends (COMMAND has, and what it left: pid1.c): a
 * stop request is passed on to it, unless the terminal sent it (the
 * kernel did: COMMAND, in our process group, has it already).
 */
void run_wait_command(struct run *r)
{
	struct pollfd p = { .fd = r->sigfd, .events = POLLIN };
	struct signalfd_siginfo si;
	pid_t got;
	int status;

	for (;;) {
		while ((got = waitpid(-1, &status, WNOHANG)) > 0) {
			if (got == r->child) {
				r->child_status = run_command_status(r, status);
				r->child = 0;
				return;
			}
			if (got == r->daemon) {
				r->daemon = 0;
				fprintf(stderr, "devlife-run: devlifed ended while "
						"COMMAND runs (status %#x)\n", status);
			}
		}
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return;
		while (read(r->sigfd, &si, sizeof(si)) == sizeof(si))
			if (si.ssi_signo != SIGCHLD && si.ssi_code != SI_KERNEL)
				kill(r->child, (int)si.ssi_signo);
	}
}

/* SIGTERM: the daemon removes every device and unmounts. */
int run_stop_daemon(struct run *r)
{
	int status;

	if (!r->daemon)
		return 0;
	kill(r->daemon, SIGTERM);
	status = run_reap(r, r->daemon, 10 * GRACE_MS);
	if (status < 0) {
		fprintf(stderr, "devlife-run: devlifed did not stop in %d s: "
				"killed\n", 10 * GRACE_MS / 1000);
		kill(r->daemon, SIGKILL);
		status = run_reap(r, r->daemon, -1);
	}
	r->daemon = 0;
	if (status != 0) {
		fprintf(stderr, "devlife-run: devlifed ended badly (%s %d)\n",
			WIFSIGNALED(status) ? "signal" : "exit status",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

