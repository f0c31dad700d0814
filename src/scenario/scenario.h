/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Race scenarios (docs/scenarios.md): a small line-oriented language of
 * rules (a trigger on a filesystem operation or a tree event, and what to
 * do then) and of steps run in order (await a rule, release a held
 * operation, carry out a host event, wait for a tree event, assert).
 *
 * parse.c turns a file into a struct dl_scen (pure: no daemon, fuzzed
 * alone); engine.c runs one inside devlifed, through the view's hook and
 * the platform.
 */
#ifndef DEVLIFE_SCENARIO_H
#define DEVLIFE_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest label, device name, glob, message. */
#define DL_SCEN_WORD_MAX 64
#define DL_SCEN_GLOB_MAX 256
/* Most rules and steps in one scenario; devices named by one relations. */
#define DL_SCEN_RULES_MAX 32
#define DL_SCEN_STEPS_MAX 128
#define DL_SCEN_DEVS_MAX 8
/* Default deadline of each wait, milliseconds. */
#define DL_SCEN_TIMEOUT_MS 10000

/* The filesystem operations a rule can watch. */
enum dl_scen_op {
	DL_SCEN_LOOKUP,
	DL_SCEN_OPEN,
	DL_SCEN_READ,
	DL_SCEN_WRITE,
	DL_SCEN_RELEASE,
	DL_SCEN_READDIR,
	DL_SCEN_OP_MAX
};

/* What is done: by a rule when it fires, or by a step. */
enum dl_scen_act {
	DL_SCEN_HOLD = 1,    /* rule, fs trigger: wait for `release` */
	DL_SCEN_FAIL,        /* rule, fs trigger: the operation fails (err) */
	DL_SCEN_DELAY,       /* rule, fs trigger: sleep ms, then go on */
	DL_SCEN_EJECT,       /* host eject of devs[0] */
	DL_SCEN_SURPRISE,    /* host surprise removal of devs[0] */
	DL_SCEN_RELATIONS,   /* host bus relations: bus devs[0], present devs[1..] */
	DL_SCEN_ERROR,       /* host error report on devs[0] (error recovery) */
	DL_SCEN_REMOVE,      /* sysfs-style removal of devs[0] (wait mode) */
	DL_SCEN_NUMVFS,      /* sriov_numvfs of devs[0] := n */
	/* steps only */
	DL_SCEN_AWAIT,       /* until rule `label` fired */
	DL_SCEN_RELEASE_ACT, /* let rule `label`'s held operation go on */
	DL_SCEN_WAIT_EVENT,  /* until trace event `event` of devs[0], or
			      * "closed": its removal closed it to new users */
	DL_SCEN_WAIT_TIME,   /* ms */
	DL_SCEN_EXPECT_PRESENT,
	DL_SCEN_EXPECT_ABSENT,
	DL_SCEN_EXPECT_EXITED,  /* the process behind rule `label` */
	DL_SCEN_EXPECT_RUNNING,
	DL_SCEN_EXPECT_RESULT,  /* rule `label`'s operation returned result */
	DL_SCEN_EXPECT_NO_EVENT, /* no trace event `event` of devs[0] so far */
	DL_SCEN_EXPECT_BUSY,     /* devs[0] has active users now */
};

/* An expected result: any success, an errno, or a byte count. */
enum dl_scen_res { DL_SCEN_RES_OK = 1, DL_SCEN_RES_ERRNO, DL_SCEN_RES_COUNT };

/* What a rule or step does, with its operands. */
struct dl_scen_action {
	enum dl_scen_act act;
	unsigned int line;                   /* where it was written */
	int err;                             /* FAIL: positive errno */
	unsigned int ms;                     /* DELAY, WAIT_TIME, timeouts */
	unsigned int n;                      /* NUMVFS */
	unsigned int ndevs;
	char devs[DL_SCEN_DEVS_MAX][DL_SCEN_WORD_MAX];
	char label[DL_SCEN_WORD_MAX];        /* AWAIT, RELEASE, EXPECT_* */
	char event[DL_SCEN_WORD_MAX];        /* WAIT_EVENT, EXPECT_NO_EVENT */
	enum dl_scen_res res;                /* EXPECT_RESULT */
	long long res_value;                 /* errno (positive) or count */
	char text[160];                      /* the line as written */
};

/* A rule: when its trigger matches for the nth time, do its action. */
struct dl_scen_rule {
	char label[DL_SCEN_WORD_MAX];
	bool on_fs;                          /* fs operation, else tree event */
	enum dl_scen_op op;                  /* on_fs */
	char glob[DL_SCEN_GLOB_MAX];         /* on_fs: fnmatch() on the path */
	long pid;                            /* on_fs: 0 for any */
	char comm[16];                       /* on_fs: "" for any */
	char event[DL_SCEN_WORD_MAX];        /* tree: trace event name */
	char dev[DL_SCEN_WORD_MAX];          /* tree: device name ("*": any) */
	unsigned int nth;                    /* 1 = the first match */
	struct dl_scen_action action;
};

struct dl_scen {
	char name[DL_SCEN_GLOB_MAX];         /* the file's name, for messages */
	unsigned int timeout_ms;             /* deadline of each wait */
	size_t nrules, nsteps;
	struct dl_scen_rule rules[DL_SCEN_RULES_MAX];
	struct dl_scen_action steps[DL_SCEN_STEPS_MAX];
};

/**
 * dl_scen_parse() - read a scenario
 * @text: its text (need not be NUL-terminated)
 * @len: its length
 * @name: the file's name, for messages
 * @ret: where to store the scenario (free() it)
 * @err: room for "NAME:LINE: message" on failure
 * @errlen: its size
 *
 * Checks everything that can be checked without a tree: words, numbers,
 * errno names, event names, that every label is defined once and that
 * every step naming a label names a rule defined before it.
 *
 * Context: any thread; pure.
 * Return: 0; -EINVAL (a bad file: @err says where and why, *@ret is
 * untouched); -ENOMEM.
 */
int dl_scen_parse(const char *text, size_t len, const char *name,
		  struct dl_scen **ret, char *err, size_t errlen);

/* The name of an operation ("read"), an action ("hold"). */
const char *dl_scen_op_name(enum dl_scen_op op);

/* The positive errno named @name ("ENODEV"), or 0. */
int dl_scen_errno(const char *name);

/* Whether @name is a trace event a scenario may wait for or trigger on;
 * returns the trace's name for it ("remove" -> "remove-start"), or NULL. */
const char *dl_scen_event(const char *name);

#endif
