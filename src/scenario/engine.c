/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scenario engine (docs/scenarios.md). Rules are armed before the
 * first step runs; filesystem rules see operations through the view's
 * hook (inside the operation's active section: a held read keeps its
 * device busy exactly as a slow one would), tree rules through a trace
 * watcher. Steps run in order in the caller's thread; each wait has a
 * deadline. Everything the scenario does is noted in the trace
 * (DL_EV_SCEN_*), so that the timeline shows it beside what the tree did.
 */
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <devlife/devlife.h>

#include "engine-internal.h"
#include "platform.h"
#include "sysfs.h"

#define NSEC_PER_MSEC 1000000ull

/* One scenario at a time: the view has one hook. */
static atomic_bool running;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* 0, or ETIMEDOUT once @deadline (CLOCK_MONOTONIC) has passed. */
int cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline)
{
	struct timespec ts;

	if (now_ns() >= deadline)
		return ETIMEDOUT;
	ts.tv_sec = (time_t)(deadline / 1000000000ull);
	ts.tv_nsec = (long)(deadline % 1000000000ull);
	pthread_cond_timedwait(c, m, &ts);
	return 0;
}

static void cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

void emitf(struct engine *e, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	e->emit(e->emit_arg, line);
}

/* ------------------------------------------------------------------ */
/* Filesystem rules: the view's hook                                    */

static const enum dl_scen_op op_of_fs[] = {
	[DL_FS_LOOKUP] = DL_SCEN_LOOKUP, [DL_FS_OPEN] = DL_SCEN_OPEN,
	[DL_FS_READ] = DL_SCEN_READ, [DL_FS_WRITE] = DL_SCEN_WRITE,
	[DL_FS_RELEASE] = DL_SCEN_RELEASE, [DL_FS_READDIR] = DL_SCEN_READDIR,
};

/* A glob as written ("/sys/devices/..." or "devices/...") against a
 * path under the mount ("devices/..."). '*' crosses '/'. */
static bool glob_matches(const char *glob, const char *path)
{
	if (!strncmp(glob, "/sys/", 5))
		glob += 5;
	else if (glob[0] == '/')
		glob++;
	return fnmatch(glob, path, 0) == 0;
}

static void comm_of(int pid, char *buf, size_t len)
{
	char p[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(p, sizeof(p), "/proc/%d/comm", pid);
	f = fopen(p, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static bool rule_matches(const struct dl_scen_rule *r,
			 const struct dl_fs_opinfo *op, const char *comm)
{
	return r->on_fs && r->op == op_of_fs[op->op] &&
	       (!r->pid || r->pid == op->pid) &&
	       (!r->comm[0] || !strcmp(r->comm, comm)) &&
	       glob_matches(r->glob, op->path);
}

/* What a fired rule does to the operation; @lock held (dropped while a
 * delay sleeps). Returns 0 or the errno to fail it with. */
static int apply(struct engine *e, size_t i, const struct dl_fs_opinfo *op)
{
	const struct dl_scen_rule *r = &e->s->rules[i];
	const char *who = op->dev ? dl_device_name(op->dev) : r->label;
	uint64_t until;

	switch (r->action.act) {
	case DL_SCEN_HOLD:
		(void)dl_trace_note(e->env.tree, who, DL_EV_SCEN_HOLD,
				    (int32_t)r->action.line);
		while (!e->fs_rs[i].released && !e->finished)
			pthread_cond_wait(&e->cond, &e->lock);
		(void)dl_trace_note(e->env.tree, who, DL_EV_SCEN_UNHOLD,
				    (int32_t)r->action.line);
		return 0;
	case DL_SCEN_FAIL:
		return -r->action.err;
	case DL_SCEN_DELAY:
		until = now_ns() + r->action.ms * NSEC_PER_MSEC;
		while (!e->finished &&
		       cond_wait_until(&e->cond, &e->lock, until) == 0)
			;
		return 0;
	default:
		act_start(e, &r->action, r->label);
		return 0;
	}
}

static int hook_begin_cb(void *arg, const struct dl_fs_opinfo *op,
			 void **token)
{
	struct engine *e = arg;
	uint64_t mine = 0;
	char comm[16] = "";
	int r = 0;

	if (e->need_comm)
		comm_of(op->pid, comm, sizeof(comm));
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->s->nrules && !e->finished; i++) {
		const struct dl_scen_rule *ru = &e->s->rules[i];
		struct rstate *rs = &e->fs_rs[i];

		if (rs->fired || !rule_matches(ru, op, comm) ||
		    ++rs->seen != ru->nth)
			continue;
		rs->fired = true;
		rs->pid = op->pid;
		mine |= 1ull << i;
		(void)dl_trace_note(e->env.tree, op->dev ? dl_device_name(op->dev)
							  : ru->label,
				    DL_EV_SCEN_FIRE, (int32_t)ru->action.line);
		pthread_cond_broadcast(&e->cond);
		if (r == 0)
			r = apply(e, i, op);
	}
	pthread_mutex_unlock(&e->lock);
	*token = (void *)(uintptr_t)mine;
	return r;
}

static void hook_end_cb(void *arg, const struct dl_fs_opinfo *op,
			void *token, int result)
{
	struct engine *e = arg;
	uint64_t mine = (uint64_t)(uintptr_t)token;

	(void)op;
	if (!mine)
		return;
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->s->nrules; i++) {
		if (!(mine & (1ull << i)))
			continue;
		e->fs_rs[i].have_result = true;
		e->fs_rs[i].result = result;
	}
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

/* ------------------------------------------------------------------ */
/* Tree rules and waits: the trace watcher                              */

static void ev_name(const struct dl_trace_record *rec, char *buf, size_t len)
{
	static const char *const host[] = {
		[DL_PCI_HOST_ADD] = "host-add", [DL_PCI_HOST_EJECT] = "host-eject",
		[DL_PCI_HOST_SURPRISE] = "host-surprise",
		[DL_PCI_HOST_RELATIONS] = "host-relations",
		[DL_PCI_HOST_ERROR] = "host-error",
	};

	if (rec->event == DL_EV_HOST && rec->arg >= DL_PCI_HOST_ADD &&
	    rec->arg <= DL_PCI_HOST_ERROR)
		snprintf(buf, len, "%s", host[rec->arg]);
	else
		snprintf(buf, len, "%s", dl_trace_event_name(rec->event));
}

/* Must not block: records the event, starts what tree rules say. */
static void on_trace(struct dl_device *dev, const struct dl_trace_record *rec,
		     void *arg)
{
	struct engine *e = arg;
	const struct dl_scen_action *start[DL_SCEN_RULES_MAX];
	const char *by[DL_SCEN_RULES_MAX];
	size_t nstart = 0;
	struct seen_ev ev;

	if (rec->event >= DL_EV_SCEN_STEP && rec->event <= DL_EV_SCEN_FAIL)
		return;
	ev_name(rec, ev.event, sizeof(ev.event));
	snprintf(ev.name, sizeof(ev.name), "%s", rec->name);
	ev.dev = NULL;
	pthread_mutex_lock(&e->evlock);
	/* (a reference only once the event is stored, so none leaks) */
	if (dev && rec->event == DL_EV_REMOVE_START)
		ev.dev = dev;
	if (e->nevs == e->evcap) {
		size_t cap = e->evcap ? 2 * e->evcap : 256;
		struct seen_ev *p = realloc(e->evs, cap * sizeof(*p));

		if (p) {
			e->evs = p;
			e->evcap = cap;
		}
	}
	if (e->nevs < e->evcap) {
		if (ev.dev)
			dl_device_get(ev.dev);
		e->evs[e->nevs++] = ev;
	} else {
		e->ev_oom = true;
	}
	for (size_t i = 0; i < e->s->nrules; i++) {
		const struct dl_scen_rule *r = &e->s->rules[i];
		struct rstate *rs = &e->tree_rs[i];

		if (r->on_fs || rs->fired || strcmp(r->event, ev.event) ||
		    (strcmp(r->dev, "*") && strcmp(r->dev, ev.name)) ||
		    ++rs->seen != r->nth)
			continue;
		rs->fired = true;
		start[nstart] = &r->action;
		by[nstart++] = r->label;
	}
	pthread_cond_broadcast(&e->evcond);
	pthread_mutex_unlock(&e->evlock);
	for (size_t i = 0; i < nstart; i++)
		act_start(e, start[i], by[i]);
}

static bool seen_locked(struct engine *e, const char *event, const char *name)
{
	for (size_t i = 0; i < e->nevs; i++)
		if (!strcmp(e->evs[i].event, event) && !strcmp(e->evs[i].name, name))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */

static const struct dl_scen_rule *rule_of(struct engine *e, const char *label,
					  size_t *ret)
{
	for (size_t i = 0; i < e->s->nrules; i++)
		if (!strcmp(e->s->rules[i].label, label)) {
			*ret = i;
			return &e->s->rules[i];
		}
	return NULL;
}

/* Until rule @i fired (and, with @result, its operation ended). */
static bool wait_rule(struct engine *e, size_t i, bool result, uint64_t until)
{
	bool ok;

	if (!e->s->rules[i].on_fs) {
		pthread_mutex_lock(&e->evlock);
		while (!e->tree_rs[i].fired &&
		       cond_wait_until(&e->evcond, &e->evlock, until) == 0)
			;
		ok = e->tree_rs[i].fired;
		pthread_mutex_unlock(&e->evlock);
		return ok;
	}
	pthread_mutex_lock(&e->lock);
	while (!(e->fs_rs[i].fired && (!result || e->fs_rs[i].have_result)) &&
	       cond_wait_until(&e->cond, &e->lock, until) == 0)
		;
	ok = e->fs_rs[i].fired && (!result || e->fs_rs[i].have_result);
	pthread_mutex_unlock(&e->lock);
	return ok;
}

static const char *res_text(int r, char *buf, size_t len)
{
	if (r < 0)
		snprintf(buf, len, "%s", strerrorname_np(-r) ? strerrorname_np(-r) : "?");
	else
		snprintf(buf, len, "%d (ok)", r);
	return buf;
}

/* An expectation about rule @i's operation: pass (1) or fail (0), with
 * what was seen in @why. */
static int expect_rule(struct engine *e, const struct dl_scen_action *a,
		       size_t i, uint64_t until, char *why, size_t len)
{
	struct rstate rs;
	char got[32];
	int r;

	if (!wait_rule(e, i, a->act == DL_SCEN_EXPECT_RESULT, until)) {
		snprintf(why, len, "the rule '%s' %s", a->label,
			 e->fs_rs[i].fired ? "fired but its operation never ended"
					   : "never fired");
		return 0;
	}
	pthread_mutex_lock(&e->lock);
	rs = e->fs_rs[i];
	pthread_mutex_unlock(&e->lock);
	switch (a->act) {
	case DL_SCEN_EXPECT_EXITED:
		r = wait_exit(rs.pid, until);
		snprintf(why, len, "pid %d %s", rs.pid,
			 r == 0 ? "exited" : "is still running");
		return r == 0;
	case DL_SCEN_EXPECT_RUNNING:
		r = wait_exit(rs.pid, 0) == -ETIMEDOUT;
		snprintf(why, len, "pid %d %s", rs.pid, r ? "runs" : "has exited");
		return r;
	default:
		res_text(rs.result, got, sizeof(got));
		snprintf(why, len, "got %s", got);
		if (a->res == DL_SCEN_RES_OK)
			return rs.result >= 0;
		if (a->res == DL_SCEN_RES_ERRNO)
			return rs.result == -(int)a->res_value;
		return rs.result == a->res_value;
	}
}

/* @name's device: a lifetime reference, also once its removal began
 * (from its remove-start), or NULL. */
static struct dl_device *device_of(struct engine *e, const char *name)
{
	struct dl_device *dev = NULL;

	if (dl_device_lookup(e->env.tree, name, &dev) == 0)
		return dev;
	pthread_mutex_lock(&e->evlock);
	for (size_t i = 0; i < e->nevs && !dev; i++)
		if (e->evs[i].dev && !strcmp(e->evs[i].name, name))
			dev = dl_device_get(e->evs[i].dev);
	pthread_mutex_unlock(&e->evlock);
	return dev;
}

static int expect(struct engine *e, const struct dl_scen_action *a,
		  uint64_t until, char *why, size_t len)
{
	struct dl_device *dev;
	size_t i;
	bool seen;

	switch (a->act) {
	case DL_SCEN_EXPECT_PRESENT:
	case DL_SCEN_EXPECT_ABSENT:
		seen = dl_device_lookup(e->env.tree, a->devs[0], &dev) == 0;
		if (seen)
			dl_device_put(dev);
		snprintf(why, len, "%s is %s", a->devs[0], seen ? "present" : "absent");
		return seen == (a->act == DL_SCEN_EXPECT_PRESENT);
	case DL_SCEN_EXPECT_BUSY: {
		long users = -1;

		dev = device_of(e, a->devs[0]);
		if (dev)
			users = dl_device_active_users(dev);
		dl_device_put(dev);
		snprintf(why, len, "%s: %ld active users", a->devs[0], users);
		return users > 0;
	}
	case DL_SCEN_EXPECT_NO_EVENT:
		pthread_mutex_lock(&e->evlock);
		seen = seen_locked(e, a->event, a->devs[0]);
		pthread_mutex_unlock(&e->evlock);
		snprintf(why, len, "%s %s %s", a->event, a->devs[0],
			 seen ? "happened" : "did not happen");
		return !seen;
	default:
		if (!rule_of(e, a->label, &i))
			return 0;
		return expect_rule(e, a, i, until, why, len);
	}
}

/*
 * `wait closed DEV`: until DEV's removal has closed it to new users (an
 * enter now fails; a removal that waits for a held operation is then in
 * its drain). The core announces remove-start before it closes the
 * gate, and nothing when it has: after remove-start, try to enter, and
 * leave at once, until that fails. A poll bounded by the deadline, over
 * microseconds: the removal closes its gate right after remove-start.
 */
static int wait_closed(struct engine *e, const char *name, uint64_t until)
{
	struct dl_device *dev = NULL;

	pthread_mutex_lock(&e->evlock);
	for (;;) {
		for (size_t i = 0; i < e->nevs && !dev; i++)
			if (e->evs[i].dev && !strcmp(e->evs[i].name, name))
				dev = dl_device_get(e->evs[i].dev);
		if (dev || cond_wait_until(&e->evcond, &e->evlock, until))
			break;
	}
	pthread_mutex_unlock(&e->evlock);
	/* (its remove-start's reference: the name may be reused since) */
	if (!dev)
		return -ETIMEDOUT;
	while (dl_device_enter_tagged(dev, "scenario: closed?") == 0) {
		struct timespec ms = { 0, 1000000 };

		dl_device_exit(dev);
		if (now_ns() >= until) {
			dl_device_put(dev);
			return -ETIMEDOUT;
		}
		nanosleep(&ms, NULL);
	}
	dl_device_put(dev);
	return 0;
}

/* Await, release, waits: 0, or -ETIMEDOUT (@why says what). */
static int wait_step(struct engine *e, const struct dl_scen_action *a,
		     uint64_t until, char *why, size_t len)
{
	size_t i;
	bool ok;

	switch (a->act) {
	case DL_SCEN_AWAIT:
	case DL_SCEN_RELEASE_ACT:
		if (!rule_of(e, a->label, &i) || !wait_rule(e, i, false, until)) {
			snprintf(why, len, "the rule '%s' never fired", a->label);
			return -ETIMEDOUT;
		}
		if (a->act == DL_SCEN_RELEASE_ACT) {
			pthread_mutex_lock(&e->lock);
			e->fs_rs[i].released = true;
			pthread_cond_broadcast(&e->cond);
			pthread_mutex_unlock(&e->lock);
		}
		return 0;
	case DL_SCEN_WAIT_EVENT:
		if (!strcmp(a->event, "closed")) {
			if (wait_closed(e, a->devs[0], until) == 0)
				return 0;
			snprintf(why, len, "%s's removal never closed it", a->devs[0]);
			return -ETIMEDOUT;
		}
		pthread_mutex_lock(&e->evlock);
		while (!(ok = seen_locked(e, a->event, a->devs[0])) &&
		       cond_wait_until(&e->evcond, &e->evlock, until) == 0)
			;
		pthread_mutex_unlock(&e->evlock);
		if (!ok)
			snprintf(why, len, "no %s of %s", a->event, a->devs[0]);
		return ok ? 0 : -ETIMEDOUT;
	default: /* DL_SCEN_WAIT_TIME */
		until = now_ns() + a->ms * NSEC_PER_MSEC;
		pthread_mutex_lock(&e->lock);
		while (cond_wait_until(&e->cond, &e->lock, until) == 0)
			;
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
}

/* Runs the steps; returns the number of failed assertions. */
static unsigned int run_steps(struct engine *e, unsigned int *passed)
{
	const struct dl_scen *s = e->s;
	unsigned int failed = 0;
	bool aborted = false;
	char why[256];

	for (size_t k = 0; k < s->nsteps; k++) {
		const struct dl_scen_action *a = &s->steps[k];
		uint64_t until = now_ns() + s->timeout_ms * NSEC_PER_MSEC;
		bool is_expect = a->act >= DL_SCEN_EXPECT_PRESENT;
		int ok;

		if (aborted) {
			if (is_expect) {
				failed++;
				emitf(e, "FAIL %s:%u: %s: not run", s->name, a->line, a->text);
			}
			continue;
		}
		(void)dl_trace_note(e->env.tree, "scenario", DL_EV_SCEN_STEP,
				    (int32_t)a->line);
		why[0] = '\0';
		if (is_expect) {
			ok = expect(e, a, until, why, sizeof(why));
			(void)dl_trace_note(e->env.tree, a->label[0] ? a->label : a->devs[0],
					    ok ? DL_EV_SCEN_PASS : DL_EV_SCEN_FAIL,
					    (int32_t)a->line);
			emitf(e, "%s %s:%u: %s (%s)", ok ? "pass" : "FAIL", s->name,
			      a->line, a->text, why);
			*passed += ok ? 1 : 0;
			failed += ok ? 0 : 1;
		} else if (a->act >= DL_SCEN_AWAIT) {
			if (wait_step(e, a, until, why, sizeof(why)) < 0) {
				(void)dl_trace_note(e->env.tree, "scenario",
						    DL_EV_SCEN_FAIL, (int32_t)a->line);
				emitf(e, "FAIL %s:%u: %s: timed out after %u ms (%s)",
				      s->name, a->line, a->text, s->timeout_ms, why);
				failed++;
				aborted = true;
			}
		} else {
			act_start(e, a, NULL);
		}
	}
	return failed;
}

static void engine_free(struct engine *e)
{
	for (size_t i = 0; i < e->nevs; i++)
		dl_device_put(e->evs[i].dev);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->evlock);
	pthread_cond_destroy(&e->evcond);
	free(e->evs);
	free(e);
}

int dl_scen_run(const struct dl_scen_env *env, const struct dl_scen *s,
		dl_scen_emit_fn emit, void *arg)
{
	struct dl_fs_hook hook;
	unsigned int failed, passed = 0;
	struct engine *e;
	bool expected = false;
	int r;

	if (atomic_exchange(&running, true))
		return -EBUSY;
	e = calloc(1, sizeof(*e));
	if (!e) {
		atomic_store(&running, false);
		return -ENOMEM;
	}
	e->env = *env;
	e->s = s;
	e->emit = emit;
	e->emit_arg = arg;
	for (size_t i = 0; i < s->nrules; i++)
		e->need_comm |= s->rules[i].on_fs && s->rules[i].comm[0];
	pthread_mutex_init(&e->lock, NULL);
	cond_init(&e->cond);
	pthread_mutex_init(&e->evlock, NULL);
	cond_init(&e->evcond);
	r = dl_tree_watch(env->tree, on_trace, e);
	if (r < 0) {
		engine_free(e);
		atomic_store(&running, false);
		return r;
	}
	hook = (struct dl_fs_hook){ hook_begin_cb, hook_end_cb, e };
	dl_fs_set_hook(env->fs, &hook);
	emitf(e, "loaded %s: %zu rules, %zu steps", s->name, s->nrules, s->nsteps);

	failed = run_steps(e, &passed);

	/* Let every held operation go on, and stop seeing new ones; then
	 * wait for what was started. */
	pthread_mutex_lock(&e->lock);
	e->finished = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	dl_fs_set_hook(env->fs, NULL);
	act_join_all(e);
	dl_tree_unwatch(env->tree, on_trace, e);
	for (size_t k = 0; k < s->nsteps; k++)
		expected |= s->steps[k].act >= DL_SCEN_EXPECT_PRESENT;
	if (e->ev_oom) {
		emitf(e, "FAIL %s: out of memory recording the trace", s->name);
		failed++;
	}
	emitf(e, "result %u passed, %u failed%s", passed, failed,
	      expected ? "" : " (the scenario asserts nothing)");
	engine_free(e);
	atomic_store(&running, false);
	return (int)failed;
}

int dl_scen_host_run(void *env, const char *name, const char *text,
		     size_t len, dl_scen_emit_fn emit, void *emit_arg,
		     char *err, size_t errlen)
{
	struct dl_scen *s;
	int r = dl_scen_parse(text, len, name, &s, err, errlen);

	if (r < 0)
		return r;
	r = dl_scen_run(env, s, emit, emit_arg);
	if (r == -EBUSY)
		snprintf(err, errlen, "another scenario is running");
	free(s);
	return r;
}
