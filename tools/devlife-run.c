/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-run: run an unmodified program against a devlife tree at /sys.
 *
 *   devlife-run [devlifed options] [--attach MOUNTPOINT] [--scenario FILE]
 *               -- COMMAND [ARGS]
 *
 * COMMAND runs in a private mount namespace (inside a user namespace that
 * maps the caller to root when the caller is not root) in which /sys is
 * the host's sysfs with the tree's parts bound over it: bus/pci,
 * devices/pciDDDD:BB, bus/mdev and whatever else the tree serves at the
 * second level of its layout. Where the tree has an entry the host lacks
 * (sysfs has no mkdir), the parent directory is replaced by a tmpfs whose
 * children are bind mounts of the host's entries plus the tree's.
 *
 * The runner starts its own devlifed inside the namespace (so that its
 * FUSE mount exists nowhere else), or binds a running daemon's mount
 * (--attach). It exits with COMMAND's status (128+N when a signal N
 * killed it). Whatever way COMMAND ends, or the runner is asked to stop
 * (SIGINT, SIGTERM, SIGHUP: passed on to COMMAND), it ends what COMMAND
 * left running (COMMAND has a PID namespace of its own), stops the daemon
 * and removes its staging directory; the namespace, and every mount in
 * it, goes with the last process in it. If the runner itself is killed
 * outright, the daemon gets SIGTERM and COMMAND's init SIGKILL
 * (PR_SET_PDEATHSIG), which kills all of COMMAND's namespace; only the
 * empty staging directory remains.
 *
 * With --scenario FILE, the daemon loads the scenario (every rule armed)
 * before COMMAND starts; its report goes to standard error and the exit
 * status is the scenario's (docs/scenarios.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/scenario-client.h"
#include "run/run.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: devlife-run [devlifed options] [--attach MOUNTPOINT] "
		"-- COMMAND [ARGS]\n"
		"\n"
		"Run COMMAND with /sys showing a devlife tree in place of the "
		"host's PCI parts\n"
		"(bus/pci, devices/pci*, bus/mdev, ...); the rest of the host's "
		"/sys stays.\n"
		"\n"
		"  devlifed options   -t FILE, --import-sysfs DIR, --import-lspci "
		"FILE,\n"
		"                     --slow-us N, -s SOCKET (default: in a "
		"private directory,\n"
		"                     given to COMMAND as $DEVLIFE_SOCKET)\n"
		"  --attach MOUNTPOINT  use a running devlifed's tree instead "
		"of starting one\n"
		"  --scenario FILE    run a race scenario against COMMAND "
		"(docs/scenarios.md):\n"
		"                     armed before COMMAND starts, its report on "
		"stderr; exits\n"
		"                     0 all passed, 1 one failed, 2 a bad file\n"
		"  -v, --verbose      say what is mounted where\n"
		"  -h, --help         this text\n"
		"\n"
		"Exits with COMMAND's status (128+N if signal N killed it).\n");
}

/* The devlifed options that take a value in the next argument. */
static bool takes_value(const char *opt)
{
	static const char *const with_value[] = {
		"-t", "--topology", "--import-sysfs", "--import-lspci",
		"--slow-us", "-s", "--socket",
	};

	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (!strcmp(opt, with_value[i]))
			return true;
	return false;
}

static int add_daemon_arg(struct run *r, const char *arg)
{
	if (r->ndaemon_args >= MAX_DAEMON_ARGS - 6) {
		fprintf(stderr, "devlife-run: too many devlifed options\n");
		return -1;
	}
	r->daemon_args[r->ndaemon_args++] = arg;
	return 0;
}

/* Returns 0, 1 (--help: exit 0) or -1 (usage error: exit 2). */
static int parse_args(int argc, char **argv, struct run *r)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			r->verbose = true;
		} else if (!strcmp(a, "--scenario")) {
			if (i + 1 >= argc)
				goto missing;
			r->scenario = argv[++i];
		} else if (!strcmp(a, "--attach") || !strncmp(a, "--attach=", 9)) {
			if (a[8] == '=')
				r->attach = a + 9;
			else if (i + 1 < argc)
				r->attach = argv[++i];
			else
				goto missing;
		} else if (a[0] != '-') {
			fprintf(stderr, "devlife-run: unexpected '%s' (the "
					"runner chooses the mount point; "
					"COMMAND goes after --)\n", a);
			return -1;
		} else if (takes_value(a)) {
			if (i + 1 >= argc)
				goto missing;
			if (!strcmp(a, "-s") || !strcmp(a, "--socket"))
				r->socket = argv[i + 1];
			if (add_daemon_arg(r, a) || add_daemon_arg(r, argv[++i]))
				return -1;
		} else {
			if (!strncmp(a, "--socket=", 9))
				r->socket = a + 9;
			if (add_daemon_arg(r, a))
				return -1;
		}
	}
	if (i >= argc || i + 1 >= argc) {
		fprintf(stderr, "devlife-run: no COMMAND (it goes after --)\n");
		return -1;
	}
	if (r->attach && r->ndaemon_args) {
		fprintf(stderr, "devlife-run: --attach uses a running daemon: "
				"devlifed options make no sense with it\n");
		return -1;
	}
	r->command = argv + i + 1;
	return 0;
missing:
	fprintf(stderr, "devlife-run: %s needs a value\n", argv[i]);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Staging                                                             */

/* A directory of the host's: the FUSE mount point (mounted in our
 * namespace only), the socket (reachable from outside, for devlifectl)
 * and work/, a tmpfs of ours where rebuilt directories are made. */
static int make_staging(struct run *r)
{
	const char *tmp = getenv("TMPDIR");
	char sub[PATH_MAX];

	if (run_path_of(r->staging, tmp && *tmp ? tmp : "/tmp",
			"devlife-run.XXXXXX") < 0)
		return -1;
	if (!mkdtemp(r->staging)) {
		fprintf(stderr, "devlife-run: %s: %s\n", r->staging, strerror(errno));
		r->staging[0] = '\0';
		return -1;
	}
	/* The staging directory's name is short: these fit. */
	run_path_of(sub, r->staging, "work");
	run_path_of(r->sock_path, r->staging, "devlifed.sock");
	if (!r->attach)
		run_path_of(r->tree, r->staging, "mnt");
	if (mkdir(sub, 0700) < 0)
		return -1;
	return r->attach ? 0 : mkdir(r->tree, 0700);
}

/* Inside the namespace: the work area. */
static int mount_work(struct run *r)
{
	char work[PATH_MAX];

	run_path_of(work, r->staging, "work");
	if (mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0700") < 0) {
		fprintf(stderr, "devlife-run: cannot mount a tmpfs on %s: %s\n",
			work, strerror(errno));
		return -1;
	}
	return 0;
}

static void remove_staging(struct run *r)
{
	char p[PATH_MAX];
	struct stat st;

	if (!r->staging[0])
		return;
	run_path_of(p, r->staging, "work");
	umount2(p, MNT_DETACH);
	rmdir(p);
	/* A daemon that was killed left its mount and socket. */
	if (!r->attach) {
		umount2(r->tree, MNT_DETACH);
		rmdir(r->tree);
	}
	if (lstat(r->sock_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(r->sock_path);
	if (rmdir(r->staging) < 0)
		fprintf(stderr, "devlife-run: cannot remove %s: %s\n", r->staging,
			strerror(errno));
}

/* ------------------------------------------------------------------ */

static int exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Everything up to COMMAND's start; -1 when it cannot start. */
static int prepare(struct run *r)
{
	struct ns_plan plan = { .user = geteuid() != 0 };

	if (!r->attach && plan.user && access("/dev/fuse", R_OK | W_OK) < 0) {
		fprintf(stderr, "devlife-run: /dev/fuse: %s\n"
				"devlife-run: a user who is not root needs /dev/fuse "
				"open to users (mode 0666, as Debian's fuse3 sets "
				"it), or must run this as root\n", strerror(errno));
		return -1;
	}
	if (make_staging(r) < 0 || run_enter_namespaces(&plan) < 0 ||
	    mount_work(r) < 0)
		return -1;
	/* A network namespace of its own: the daemon's uevents go through
	 * its kernel socket, and no host device's reach COMMAND. */
	if (run_private_netns() < 0 || run_private_udev(r) < 0)
		return -1;
	if (r->attach) {
		char *real = realpath(r->attach, NULL);

		if (!real) {
			fprintf(stderr, "devlife-run: %s: %s\n", r->attach,
				strerror(errno));
			return -1;
		}
		snprintf(r->tree, sizeof(r->tree), "%s", real);
		free(real);
	} else if (run_start_daemon(r) < 0) {
		return -1;
	}
	if (run_graft_sys(r) < 0 || run_provide_modules(r) < 0)
		return -1;
	return run_seal_shadows(r);
}

/*
 * --scenario: load it into the daemon and wait until it is armed.
 * Returns the connection (its report goes on), or -1: a bad file or an
 * error, said on stderr, and COMMAND must not start.
 */
static int scenario_load(struct run *r, const char *req)
{
	const char *sock = r->socket ? r->socket : r->sock_path;
	int fd;

	if (r->attach) {
		sock = getenv("DEVLIFE_SOCKET");
		if (!sock || !*sock)
			sock = "/run/devlife/devlifed.sock";
	}
	fd = scen_connect("devlife-run", sock, req);
	if (fd >= 0 && scen_report("devlife-run", fd, stderr, 1) != -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct run r = { .sigfd = -1 };
	int code = 1, status, scen_fd = -1;
	char *scen_req = NULL;
	bool prepared;

	status = parse_args(argc, argv, &r);
	if (status) {
		usage(status > 0 ? stdout : stderr);
		return status > 0 ? 0 : 2;
	}
	if (r.scenario && scen_request("devlife-run", r.scenario, &scen_req))
		return SCEN_ERROR;
	if (run_setup_signals(&r) < 0) {
		perror("devlife-run: signals");
		return 1;
	}
	prepared = prepare(&r) == 0;
	if (prepared && scen_req && (scen_fd = scenario_load(&r, scen_req)) < 0) {
		code = SCEN_ERROR; /* a bad scenario: COMMAND does not run */
	} else if (prepared && run_command(&r) == 0) {
		run_wait_command(&r);
		code = exit_code(r.child_status);
		if (scen_fd >= 0) {
			fprintf(stderr, "devlife-run: COMMAND exited with status %d\n",
				code);
			code = scen_report("devlife-run", scen_fd, stderr, 0);
		}
	} else if (r.stop_signal) {
		code = 128 + r.stop_signal;
	}
	if (scen_fd >= 0)
		close(scen_fd);
	free(scen_req);
	run_stop_daemon(&r);
	remove_staging(&r);
	for (int i = 0; i < r.nshadows; i++)
		free(r.shadows[i].path);
	return code;
}

