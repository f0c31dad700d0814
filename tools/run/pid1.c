/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-run's init: the first process of COMMAND's PID namespace.
 *
 * When a PID namespace's init ends, the kernel kills every other process
 * in it (zap_pid_ns_processes(), from exit_notify() through
 * forget_original_parent()/find_child_reaper()), and nothing in it can
 * escape to an outer reaper: an orphan is reparented to the namespace's
 * init. The init is the runner's child with PR_SET_PDEATHSIG(SIGKILL), so
 * whatever COMMAND started dies with the runner, even when the runner is
 * killed outright. PR_SET_PDEATHSIG fires when the thread that forked
 * the child ends: the runner forks it from its main thread, which lives
 * until the runner exits.
 *
 * It also has a mount namespace of its own (a copy of the runner's) in
 * which /proc is the new namespace's, so that COMMAND's ps, kill and
 * /proc/self agree with its PIDs; the runner's and the daemon's /proc
 * stay the host's.
 *
 * COMMAND finds the init's PID as the runner's caller sees it in
 * $DEVLIFE_NS_PID: `nsenter -t $DEVLIFE_NS_PID -m -p` enters its
 * namespaces, /proc/$DEVLIFE_NS_PID/root/sys is its /sys.
 *
 * The init runs COMMAND, passes on the stop signals the runner passes to
 * it (the init of a PID namespace gets no signal it has no handler for:
 * it reads them, blocked, with sigtimedwait()), and, once COMMAND has
 * ended, ends what it left as the runner did before: SIGTERM and SIGCONT
 * to every process of the namespace (kill(-1): all but the init), SIGKILL
 * to those still there GRACE_MS later. Then it hands COMMAND's wait
 * status to the runner through a pipe and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* Reap what has ended; COMMAND's status into *cmd_status (cmd then 0). */
static void reap(pid_t *cmd, int *cmd_status)
{
	pid_t got;
	int status;

	while ((got = waitpid(-1, &status, WNOHANG)) > 0)
		if (got == *cmd) {
			*cmd_status = status;
			*cmd = 0;
		}
}

/* Wait for a signal of SET up to MS milliseconds (-1: for ever). */
static int wait_signal(const sigset_t *set, siginfo_t *si, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	return ms < 0 ? sigwaitinfo(set, si) : sigtimedwait(set, si, &ts);
}

/* SIGTERM, SIGCONT, then SIGKILL after the grace period, to all of the
 * namespace but the init, until none is left. */
static void end_leftovers(const sigset_t *set)
{
	long deadline = run_now_ms() + GRACE_MS;
	bool killed = false;
	siginfo_t si;

	kill(-1, SIGTERM);
	kill(-1, SIGCONT);
	for (;;) {
		pid_t got;

		while ((got = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (got < 0 && errno == ECHILD)
			return;
		if (!killed && run_now_ms() >= deadline) {
			kill(-1, SIGKILL);
			killed = true;
		}
		wait_signal(set, &si, killed ? 100 : deadline - run_now_ms());
	}
}

static _Noreturn void pid1(const struct run *r, int alive_fd, int status_fd,
			   int err_fd)
{
	static const int stop[3] = { SIGINT, SIGTERM, SIGHUP };
	struct pollfd p = { .fd = alive_fd, .events = POLLIN };
	int cmd_status = 0, err;
	char outside[32];
	ssize_t n;
	pid_t cmd;
	sigset_t set;
	siginfo_t si;

	/* Should the runner die, so does this, and the namespace with it;
	 * it may have died already (its end of the pipe closed). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (poll(&p, 1, 0) != 0)
		_exit(127);
	/* Our PID outside, while /proc is still the outside's: for COMMAND,
	 * to reach its namespaces from outside (nsenter -t, /proc/PID/root). */
	n = readlink("/proc/self", outside, sizeof(outside) - 1);
	if (n > 0) {
		outside[n] = '\0';
		setenv("DEVLIFE_NS_PID", outside, 1);
	}
	/* (propagation private: a copy of the runner's namespace) */
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		fprintf(stderr, "devlife-run: cannot mount COMMAND's /proc (%s): "
				"it sees the host's\n", strerror(errno));
	sigemptyset(&set);
	for (int i = 0; i < 3; i++)
		sigaddset(&set, stop[i]);
	sigaddset(&set, SIGCHLD);
	cmd = fork();
	if (cmd < 0)
		_exit(126);
	if (cmd == 0) {
		run_child_restore_signals(r);
		if (!r->attach && !r->socket)
			setenv("DEVLIFE_SOCKET", r->sock_path, 1);
		execvp(r->command[0], r->command);
		err = errno;
		if (write(err_fd, &err, sizeof(err)) < 0)
			_exit(127);
		_exit(err == ENOENT ? 127 : 126);
	}
	close(err_fd);
	for (;;) {
		reap(&cmd, &cmd_status);
		if (!cmd)
			break;
		/* from the runner (SI_USER): for COMMAND; from the terminal
		 * (SI_KERNEL): COMMAND, in the same process group, has it */
		if (wait_signal(&set, &si, -1) > 0 && si.si_signo != SIGCHLD &&
		    si.si_code != SI_KERNEL)
			kill(cmd, si.si_signo);
	}
	end_leftovers(&set);
	if (write(status_fd, &cmd_status, sizeof(cmd_status)) < 0)
		_exit(125);
	_exit(0);
}

/*
 * Start COMMAND under an init of its own in a new PID namespace (and a
 * mount namespace, for its /proc); r->child is the init. clone() rather
 * than unshare(): the namespaces are the new process's alone, whatever
 * threads the runner has (a sanitizer's).
 */
int run_command(struct run *r)
{
	int errpipe[2], alive[2], err = 0;
	pid_t pid;

	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(alive, O_CLOEXEC) < 0 || pipe2(r->status_pipe, O_CLOEXEC) < 0) {
		fprintf(stderr, "devlife-run: pipe: %s\n", strerror(errno));
		return -1;
	}
	/* as fork(): no new stack, the child returns here with 0 */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD,
			     NULL, NULL, NULL, NULL);
	if (pid < 0) {
		fprintf(stderr, "devlife-run: cannot make a PID namespace for "
				"COMMAND: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(alive[1]);
		close(errpipe[0]);
		close(r->status_pipe[0]);
		pid1(r, alive[0], r->status_pipe[1], errpipe[1]);
	}
	r->child = pid;
	r->alive_fd = alive[1]; /* closed when the runner ends */
	close(alive[0]);
	close(errpipe[1]);
	close(r->status_pipe[1]);
	/* The exec closed the pipe; or COMMAND says why it failed. */
	if (read(errpipe[0], &err, sizeof(err)) == sizeof(err))
		fprintf(stderr, "devlife-run: %s: %s\n", r->command[0],
			strerror(err));
	close(errpipe[0]);
	return 0;
}

/* COMMAND's wait status, from the init that has ended with INIT_STATUS:
 * as the init handed it, or the init's own if it could not (killed). */
int run_command_status(struct run *r, int init_status)
{
	int status;

	if (read(r->status_pipe[0], &status, sizeof(status)) != sizeof(status))
		status = init_status;
	close(r->status_pipe[0]);
	close(r->alive_fd);
	return status;
}
