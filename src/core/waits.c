/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wait-for checks of builds with debug checks.
 *
 * The lock-order checks (lock.c) reject an acquisition that could close a
 * cycle of device locks and active references. Deadlocks through the
 * library's other waits are not an order between two locks: a thread
 * inside C flushing a queue whose running item removes C; a drain under
 * an unrelated device's lock that a user of the drained device wants; two
 * users each removing the other's device. So every blocking wait of the
 * library is recorded on its thread before it blocks (struct dl__wait),
 * with whom it waits for:
 *
 *   device lock       the thread that holds it
 *   drain             the threads holding an active reference on one of
 *                     the drained devices
 *   flush / close     the threads running an item of the queue (its body
 *                     or its done callback) numbered up to what the flush
 *                     waits for
 *   another removal   the thread running that removal (or the device's
 *                     online callback it waits for)
 *   unclaim           the threads running the claim's release callback
 *
 * and, under dl__threads_lock, the waits are followed from thread to
 * thread. The thread whose wait closes a cycle (the last of its threads
 * to block, whichever it is) finds it, and aborts with the report of
 * every thread of the cycle: what it waits for, in which public call and
 * from where, what it holds. A cycle is a deadlock whatever the deadlines
 * of its waits: a deadline only turns it into a timeout.
 *
 * Not modelled: a removal waiting for a claimant to unclaim (a claim is
 * let go by whichever thread the claimant chooses, not by a thread the
 * checker could name), and an enter held by a removal that may still be
 * refused (bounded: such a removal decides by its deadline).
 */
#include <string.h>
#include <unistd.h>

#include "core.h"

#define DL_WAIT_DEPTH 16
#define DL_WAIT_FANOUT 64

static __thread struct dl__api_call api_call;

struct dl__api_call dl__api_begin(const char *fn, void *site)
{
	struct dl__api_call saved = api_call;

	api_call = (struct dl__api_call){ fn, site };
	return saved;
}

void dl__api_end(struct dl__api_call saved)
{
	api_call = saved;
}

static struct dl__thread *thread_by_tid_locked(pid_t tid)
{
	struct dl__thread *t;

	if (!tid)
		return NULL;
	cds_list_for_each_entry(t, &dl__threads, node)
		if (t->tid == tid)
			return t;
	return NULL;
}

/* Whether t holds an active reference on dev (slots or overflow). */
static bool holds_active(struct dl__thread *t, const struct dl_device *dev)
{
	for (int i = 0; i < DL_SLOTS; i++)
		if (atomic_load(&t->abi.slots[i].count) > 0 &&
		    atomic_load(&t->abi.slots[i].dev) == dev)
			return true;
	for (int i = 0; i < DL_OVERFLOW; i++)
		if (atomic_load(&t->over[i].count) > 0 &&
		    atomic_load(&t->over[i].dev) == dev)
			return true;
	return false;
}

/* The threads the wait w waits for, into out[]; threads_lock held. */
static size_t waited_for_locked(const struct dl__wait *w,
				struct dl__thread **out)
{
	struct dl__thread *t;
	size_t n = 0;

	switch (w->kind) {
	case DL_WAIT_LOCK: {
		pid_t owner = atomic_load(&w->dev->lock_owner);

		cds_list_for_each_entry(t, &dl__threads, node)
			if (owner && atomic_load(&t->lock_tid) == owner) {
				out[n++] = t;
				break;
			}
		break;
	}
	case DL_WAIT_REMOVAL:
		/* Still that thread's? It may have finished, and woken
		 * the waiter, which has not yet said it no longer waits. */
		if (atomic_load(w->online ? &w->dev->onlining_tid
					  : &w->dev->remover_tid) != w->owner)
			break;
		t = thread_by_tid_locked(w->owner);
		if (t)
			out[n++] = t;
		break;
	case DL_WAIT_DRAIN:
		cds_list_for_each_entry(t, &dl__threads, node) {
			for (size_t i = 0; i < w->n; i++) {
				if (holds_active(t, w->devs[i])) {
					if (n < DL_WAIT_FANOUT)
						out[n++] = t;
					break;
				}
			}
		}
		break;
	case DL_WAIT_CLAIM:
		cds_list_for_each_entry(t, &dl__threads, node)
			if (t->claim_cb == w->claim && n < DL_WAIT_FANOUT)
				out[n++] = t;
		break;
	case DL_WAIT_FLUSH:
		cds_list_for_each_entry(t, &dl__threads, node)
			if (t->work_wq == w->wq && t->work_seq <= w->seq &&
			    n < DL_WAIT_FANOUT)
				out[n++] = t;
		break;
	}
	return n;
}

struct cycle {
	struct dl__thread *t[DL_WAIT_DEPTH];
	int n;
};

static bool on_path(const struct cycle *c, const struct dl__thread *t)
{
	for (int i = 0; i < c->n; i++)
		if (c->t[i] == t)
			return true;
	return false;
}

/* Depth first from c->t[c->n - 1] back to c->t[0]; threads_lock held. */
static bool find_cycle_locked(struct cycle *c)
{
	struct dl__thread *out[DL_WAIT_FANOUT];
	size_t n = waited_for_locked(&c->t[c->n - 1]->wait, out);

	for (size_t i = 0; i < n; i++) {
		if (out[i] == c->t[0])
			return true;
		if (out[i]->wait.kind == DL_WAIT_NONE || on_path(c, out[i]) ||
		    c->n == DL_WAIT_DEPTH)
			continue;
		c->t[c->n++] = out[i];
		if (find_cycle_locked(c))
			return true;
		c->n--;
	}
	return false;
}

static void print_site(FILE *f, const char *what, void *site)
{
	char buf[512];

	dl__describe_site(buf, sizeof(buf), site);
	fprintf(f, "%s%s", what, buf);
}

static void print_wait(FILE *f, const struct dl__wait *w)
{
	fprintf(f, "in %s() called at ", w->fn ? w->fn : "?");
	print_site(f, "", w->site);
	fprintf(f, ", waits for ");
	switch (w->kind) {
	case DL_WAIT_LOCK:
		fprintf(f, "device_lock(%s)", w->dev->name);
		break;
	case DL_WAIT_DRAIN:
		fprintf(f, "the active users of %s to leave (its removal's "
			   "drain",
			w->devs[0]->name);
		if (w->n > 1)
			fprintf(f, ", and of %zu devices below it", w->n - 1);
		fputc(')', f);
		break;
	case DL_WAIT_FLUSH:
		fprintf(f, "the items of work queue \"%s\" (flush or close)",
			w->wq_name);
		break;
	case DL_WAIT_CLAIM:
		fprintf(f, "the release callback of the claim on %s to return",
			w->dev->name);
		break;
	case DL_WAIT_REMOVAL:
		fprintf(f, "%s of %s",
			w->online ? "the online/offline callback"
				  : "the removal",
			w->dev->name);
		break;
	}
}

/* What t holds: device locks, active references with their call sites,
 * the queue item it runs. t is waiting (its records are stable) or is
 * the calling thread. */
static void print_holdings(FILE *f, struct dl__thread *t)
{
	int n = 0;

	fprintf(f, "    holds:");
	for (int i = 0; i < t->nheld; i++, n++)
		fprintf(f, " device_lock(%s);", t->held[i]->name);
	for (int i = 0; i < DL_SLOTS; i++) {
		struct dl__slot_abi *s = &t->abi.slots[i];
		long c = atomic_load(&s->count);

		if (c <= 0)
			continue;
		fprintf(f, " active(%s)x%ld", atomic_load(&s->dev)->name, c);
		if (s->tag)
			fprintf(f, " tag %s", s->tag);
		print_site(f, " entered at ", s->site);
		fputc(';', f);
		n++;
	}
	for (int i = 0; i < DL_OVERFLOW; i++) {
		if (atomic_load(&t->over[i].count) <= 0)
			continue;
		fprintf(f, " active(%s)x%ld (no call site: slots full);",
			atomic_load(&t->over[i].dev)->name,
			atomic_load(&t->over[i].count));
		n++;
	}
	if (t->claim_cb && ++n)
		fprintf(f, " a claim release callback it runs;");
	if (t->work_wq && ++n)
		fprintf(f, " an item of work queue \"%s\" it runs;",
			t->work_wq_name);
	if (t->topology_held && ++n)
		fprintf(f, " the topology lock;");
	fprintf(f, "%s\n", n ? "" : " nothing of the library's");
}

static void print_thread(FILE *f, struct dl__thread *t)
{
	fprintf(f, "  thread %d (%s) ", (int)t->tid, t->name);
	print_wait(f, &t->wait);
	fputc('\n', f);
	print_holdings(f, t);
}

static _Noreturn void report_cycle(struct cycle *c)
{
	flockfile(stderr);
	fprintf(stderr,
		"devlife: deadlock: %d thread%s wait%s for each other, for "
		"ever (each waits for the next, the last for the first):\n",
		c->n, c->n == 1 ? "" : "s", c->n == 1 ? "s" : "");
	for (int i = 0; i < c->n; i++)
		print_thread(stderr, c->t[i]);
	funlockfile(stderr);
	dl__die("deadlock through waits in thread %d (%s)", (int)c->t[0]->tid,
		c->t[0]->name);
}

void dl__wait_begin(const struct dl__wait *w)
{
	struct dl__thread *t = dl__thread_self();
	struct cycle c = { .t = { t }, .n = 1 };

	pthread_mutex_lock(&dl__threads_lock);
	t->wait = *w;
	t->wait.fn = api_call.fn;
	t->wait.site = api_call.site;
	if (find_cycle_locked(&c))
		report_cycle(&c);
	pthread_mutex_unlock(&dl__threads_lock);
}

void dl__wait_end(void)
{
	struct dl__thread *t = dl__thread_self();

	pthread_mutex_lock(&dl__threads_lock);
	t->wait.kind = DL_WAIT_NONE;
	pthread_mutex_unlock(&dl__threads_lock);
}

void dl__claim_callback_running(const void *claim)
{
	struct dl__thread *t = dl__thread_self();

	pthread_mutex_lock(&dl__threads_lock);
	t->claim_cb = claim;
	pthread_mutex_unlock(&dl__threads_lock);
}

void dl__work_running(const void *wq, const char *name, uint64_t seq)
{
	struct dl__thread *t = dl__thread_self();

	pthread_mutex_lock(&dl__threads_lock);
	t->work_wq = wq;
	t->work_wq_name = name;
	t->work_seq = seq;
	pthread_mutex_unlock(&dl__threads_lock);
}

void dl__wait_self_report(struct dl_device *dev)
{
	struct dl__thread *t;

	if (!DL_DEBUG)
		return;
	t = dl__thread_self();
	pthread_mutex_lock(&dl__threads_lock);
	flockfile(stderr);
	fprintf(stderr,
		"devlife: deadlock avoided: thread %d (%s) in %s() called at ",
		(int)t->tid, t->name, api_call.fn ? api_call.fn : "?");
	print_site(stderr, "", api_call.site);
	fprintf(stderr,
		" would wait for the removal of %s, which this same thread "
		"is running (a callback of that removal removes its device "
		"or an ancestor): -EDEADLK\n",
		dev->name);
	print_holdings(stderr, t);
	funlockfile(stderr);
	pthread_mutex_unlock(&dl__threads_lock);
}
