/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-run's parts: the namespaces (namespaces.c), /sys with the
 * tree grafted in (sysfs.c), /lib/modules naming the tree's drivers as
 * built in (modules.c), the daemon (process.c), COMMAND under an init
 * of its own PID namespace (pid1.c); the
 * options and the order of things are in ../devlife-run.c.
 */
#ifndef DEVLIFE_RUN_H
#define DEVLIFE_RUN_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SYS "/sys"
#define MAX_DAEMON_ARGS 64
#define MAX_SHADOWS 64
/* How long what COMMAND left behind, then the daemon, get after SIGTERM
 * before SIGKILL. */
#define GRACE_MS 3000

struct run {
	/* options */
	const char *daemon_args[MAX_DAEMON_ARGS];
	int ndaemon_args;
	const char *attach;       /* --attach MOUNTPOINT, or NULL */
	const char *socket;       /* the daemon's -s, or NULL: in staging */
	char **command;
	bool verbose;
	const char *scenario;     /* --scenario FILE, or NULL */
	/* state */
	char staging[PATH_MAX];   /* a directory of the host: mnt/, work/,
				   * the socket */
	char tree[PATH_MAX];      /* where the tree is mounted */
	char sock_path[PATH_MAX]; /* the daemon's socket (own daemon only) */
	struct {
		char *path;       /* absolute */
		bool mount;       /* a tmpfs rebuilt from the host's, or a
				   * directory made in one */
	} shadows[MAX_SHADOWS];
	int nshadows;
	pid_t daemon;
	pid_t child;              /* COMMAND's init (pid1.c) */
	int child_status;         /* COMMAND's */
	int status_pipe[2];       /* the init hands COMMAND's status */
	int alive_fd;             /* open while the runner lives */
	int sigfd;
	int stop_signal;          /* the signal that stopped setup, or 0 */
	sigset_t orig_mask;
	struct sigaction orig_act[3];
};


/*
 * The namespaces COMMAND and the daemon live in. One place decides them:
 * a namespace that the runner needs later (a network namespace for
 * events, say) is one more flag here.
 */
struct ns_plan {
	bool user;      /* not root: a user namespace mapping us to root */
	int extra_flags; /* further CLONE_NEW* flags (CLONE_NEWNET: a
			  * network namespace of its own) */
};

/* namespaces.c */
int run_enter_namespaces(const struct ns_plan *plan);

/* sysfs.c */
int run_path_of(char *buf, const char *root, const char *rel);
int run_copy_entry(const char *from, const char *to, const struct stat *st);
int run_make_place(struct run *r, const char *root, const char *rel, mode_t kind);
int run_graft_sys(struct run *r);
int run_seal_shadows(struct run *r);

/* modules.c */
int run_provide_modules(struct run *r);

/* events.c */
int run_private_netns(void);
int run_private_udev(struct run *r);

/* process.c */
int run_setup_signals(struct run *r);
long run_now_ms(void);
int run_reap(struct run *r, pid_t pid, int timeout_ms);
void run_child_restore_signals(const struct run *r);
int run_start_daemon(struct run *r);
void run_wait_command(struct run *r);
int run_stop_daemon(struct run *r);

/* pid1.c */
int run_command(struct run *r);
int run_command_status(struct run *r, int init_status);

#endif
