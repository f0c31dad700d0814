/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scenario engine's state, shared by engine.c (rules, the hook, the
 * watcher, the steps) and actions.c (what the tree is made to do).
 *
 * Locks. @lock guards the filesystem rules' state and is held while a
 * held operation waits (on @cond); @evlock guards what the trace showed
 * (events, tree rules) and the action threads, and is the only lock the
 * trace watcher takes. Order: lock, then evlock. Trace notes are made
 * with @lock held or with none, never with @evlock held (the note calls
 * the watcher, which takes it).
 */
#ifndef DEVLIFE_SCENARIO_ENGINE_INTERNAL_H
#define DEVLIFE_SCENARIO_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

/* What became of one rule. */
struct rstate {
	unsigned int seen;       /* matches so far */
	bool fired;              /* the nth matched */
	bool released;           /* hold: a step let it go */
	bool have_result;        /* the operation ended */
	int result;
	int pid;                 /* of the operation that fired it */
};

/* One event the trace showed since the scenario began. */
struct seen_ev {
	char event[32];
	char name[64];
	struct dl_device *dev;   /* remove-start: a reference, for `closed` */
};

/* A host event or removal running in a thread of its own. */
struct act_thread {
	pthread_t thread;
	struct engine *e;
	const struct dl_scen_action *a;
	const char *by;          /* the rule's label, or NULL for a step */
	int result;
	char msg[256];
};

#define ACT_THREADS_MAX (DL_SCEN_RULES_MAX + DL_SCEN_STEPS_MAX)

struct engine {
	struct dl_scen_env env;
	const struct dl_scen *s;
	dl_scen_emit_fn emit;
	void *emit_arg;
	bool need_comm;          /* written once: a rule filters by comm */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rstate fs_rs[DL_SCEN_RULES_MAX];  /* lock (fs rules) */
	bool finished;                           /* lock: let everything go */

	pthread_mutex_t evlock;
	pthread_cond_t evcond;
	struct rstate tree_rs[DL_SCEN_RULES_MAX]; /* evlock (tree rules) */
	struct seen_ev *evs;                      /* evlock */
	size_t nevs, evcap;                       /* evlock */
	bool ev_oom;                              /* evlock */
	struct act_thread *acts[ACT_THREADS_MAX]; /* evlock */
	size_t nacts;                             /* evlock */
	bool no_more_acts;                        /* evlock */
	/* actions that could not start, reported at the end (an operation
	 * or a watcher cannot write the report) */
	char act_errors[4][512];                  /* evlock */
	unsigned int nact_errors;                 /* evlock */
};

/* actions.c */
void act_start(struct engine *e, const struct dl_scen_action *a,
	       const char *by);
void act_join_all(struct engine *e);
int wait_exit(int pid, uint64_t deadline_ns);

/* engine.c */
void emitf(struct engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint64_t now_ns(void);
int cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline);

#endif
