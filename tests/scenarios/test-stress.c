/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * S12: a random concurrent mix of everything, for a bounded time, with
 * invariants checked while it runs and after (docs/reliability.md):
 *  - no enter succeeds on a device whose removal has committed. The
 *    exact rule: a removal may still be overtaken by an enter between
 *    LIVE -> REMOVING and the barrier that follows the gate's closing
 *    (that user is drained, or a try removal rolls back); once the
 *    removal has passed its drain ("remove:drained", the point of no
 *    return) nobody is inside the device or its subtree and no enter
 *    succeeds on them again. Checked both ways: the remover counts the
 *    users at that point, each user looks for the mark after entering
 *    (and for DEAD);
 *  - nobody is ever inside a device whose driver has been torn down;
 *  - no work body runs on a device whose teardown has begun;
 *  - a successful removal returns with the device DEAD;
 *  - a child is never linked under a DEAD parent (no orphans);
 *  - online/offline/remove never overlap on a device;
 *  - every lifetime and active reference returns to zero, every device
 *    ever built is released, nothing leaks (LeakSanitizer);
 *  - each device's trace events, all of them (a watcher sees every one;
 *    they are checked in sequence order as the run goes), follow the
 *    lifecycle grammar of trace_step() below.
 *
 * DL_STRESS_SECONDS sets the duration (default: the build's
 * stress_seconds); DL_STRESS_SEED the random seed.
 */
#include <urcu-bp.h>

#include "pause.h"

#ifndef STRESS_SECONDS
#define STRESS_SECONDS 3
#endif

#define NTHREADS 6
#define MAXNAME 64

struct priv {
	atomic_int torn;       /* driver remove ran */
	atomic_int in_cb;      /* in online/offline/remove */
	atomic_int depth;
	atomic_int users;      /* this test's enters, inside their section */
	atomic_bool committed; /* a removal passed its drain */
};

static atomic_long built, released_count;
static atomic_long violations;
static atomic_long ops_enter, ops_enter_removing, ops_remove_ok, ops_busy,
	ops_add, ops_work, ops_claim, ops_commit_checks;
static atomic_bool stop;
static struct dl_tree *tree;

#define VIOLATION(...)                                                         \
	do {                                                                   \
		fprintf(stderr, "invariant violated: " __VA_ARGS__);           \
		fputc('\n', stderr);                                           \
		atomic_fetch_add(&violations, 1);                              \
	} while (0)

static void release(struct dl_device *dev);
static const struct dl_device_type stype = { .name = "stress",
					     .release = release };

static struct priv *priv_of(struct dl_device *dev)
{
	return dl_device_type(dev) == &stype ? dl_device_priv(dev) : NULL;
}

static int commit_one(struct dl_device *dev, void *arg)
{
	struct priv *p = priv_of(dev);
	int users;

	if (!p)
		return 0;
	atomic_store(&p->committed, true);
	users = atomic_load(&p->users);
	atomic_fetch_add(&ops_commit_checks, 1);
	if (users != 0)
		VIOLATION("%d users inside %s after its removal drained "
			  "(%s)",
			  users, dl_device_name(dev), (const char *)arg);
	return dl_device_for_each_child(dev, commit_one, arg);
}

/*
 * The removal's points of no return. At "remove:drained" the whole
 * subtree has been deactivated and drained: mark it committed and check
 * that nobody is inside. At "remove:driver-remove" the same must hold,
 * and from then on the driver is torn down.
 */
static void observe(const char *point, struct dl_device *dev)
{
	struct priv *p;

	/* Only these points: at others (lookup:found) the device may be
	 * one that this thread cannot read yet. */
	if (strcmp(point, "remove:drained") == 0) {
		commit_one(dev, (void *)point);
	} else if (strcmp(point, "remove:driver-remove") == 0) {
		p = priv_of(dev);
		if (!p)
			return;
		if (atomic_load(&p->users) != 0)
			VIOLATION("users inside %s at its driver's remove",
				  dl_device_name(dev));
		atomic_store(&p->torn, 1);
	}
}

static void release(struct dl_device *dev)
{
	atomic_fetch_add(&released_count, 1);
}

/* ------------------------------------------------------------------ */
/* Users                                                               */

/*
 * Enter as a user, with the checks of the first invariant. Returns the
 * enter's result; on success the caller ends with user_exit() (or hands
 * the reference to dl_device_remove_self() after user_leave()).
 */
static int user_enter(struct dl_device *dev)
{
	struct priv *p = priv_of(dev);
	int r = dl_device_enter(dev);
	enum dl_device_state st;

	if (r != 0)
		return r;
	atomic_fetch_add(&p->users, 1);
	atomic_fetch_add(&ops_enter, 1);
	if (atomic_load(&p->committed))
		VIOLATION("enter succeeded on %s after its removal drained",
			  dl_device_name(dev));
	st = dl_device_state(dev);
	if (st == DL_STATE_DEAD)
		VIOLATION("enter succeeded on DEAD %s", dl_device_name(dev));
	else if (st == DL_STATE_REMOVING)
		/* The window before the gate closes: legal, drained. */
		atomic_fetch_add(&ops_enter_removing, 1);
	if (atomic_load(&p->torn))
		VIOLATION("inside torn-down %s", dl_device_name(dev));
	return 0;
}

/* The user is done, but keeps the active reference (remove_self). */
static void user_leave(struct dl_device *dev)
{
	struct priv *p = priv_of(dev);

	if (atomic_load(&p->committed))
		VIOLATION("still inside %s after its removal drained",
			  dl_device_name(dev));
	if (atomic_load(&p->torn))
		VIOLATION("inside torn-down %s", dl_device_name(dev));
	atomic_fetch_sub(&p->users, 1);
}

static void user_exit(struct dl_device *dev)
{
	user_leave(dev);
	dl_device_exit(dev);
}

/* ------------------------------------------------------------------ */
/* A driver that adds and removes children from its callbacks          */

static void cb_enter(struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);

	if (atomic_fetch_add(&p->in_cb, 1) != 0)
		VIOLATION("callbacks overlap on %s", dl_device_name(dev));
}

static void cb_leave(struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);

	atomic_fetch_sub(&p->in_cb, 1);
}

static int add_child(struct dl_device *parent, unsigned int *seed);

static int drv_probe(struct dl_driver *drv, struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);
	unsigned int seed = (unsigned int)dl_device_id(dev);

	/* Like an SR-IOV PF: add children from probe, sometimes. */
	if (atomic_load(&p->depth) < 2 && rand_r(&seed) % 3 == 0)
		add_child(dev, &seed);
	return rand_r(&seed) % 17 == 0 ? -EIO : 0;
}

static int remove_child_cb(struct dl_device *child, void *arg)
{
	int r = dl_device_remove(child, DL_REMOVE_WAIT, DL_NO_TIMEOUT);

	if (r != 0)
		VIOLATION("child removal from driver remove: %d", r);
	return 0;
}

static void drv_remove(struct dl_driver *drv, struct dl_device *dev)
{
	cb_enter(dev);
	/* Like a PF disabling its VFs: remove children from remove. */
	dl_device_for_each_child(dev, remove_child_cb, NULL);
	cb_leave(dev);
}

static int drv_online(struct dl_driver *drv, struct dl_device *dev)
{
	struct priv *p = dl_device_priv(dev);

	cb_enter(dev);
	if (atomic_load(&p->torn))
		VIOLATION("online on torn-down %s", dl_device_name(dev));
	cb_leave(dev);
	return 0;
}

static int drv_offline(struct dl_driver *drv, struct dl_device *dev)
{
	cb_enter(dev);
	cb_leave(dev);
	return 0;
}

static const struct dl_driver_ops drv_ops = {
	.name = "stress", .type = &stype, .probe = drv_probe,
	.remove = drv_remove, .online = drv_online, .offline = drv_offline };

static atomic_long next_name;

static int add_child(struct dl_device *parent, unsigned int *seed)
{
	struct dl_device *dev;
	struct priv *p;
	char name[MAXNAME];
	int r;

	snprintf(name, sizeof(name), "d%ld",
		 atomic_fetch_add(&next_name, 1) % 400);
	r = dl_device_new(tree, &stype, name, sizeof(struct priv), &dev);
	if (r < 0)
		return r;
	atomic_fetch_add(&built, 1);
	p = dl_device_priv(dev);
	if (parent)
		atomic_store(&p->depth,
			     atomic_load(&((struct priv *)dl_device_priv(
						   parent))->depth) + 1);
	r = dl_device_add(dev, parent);
	if (r == 0) {
		atomic_fetch_add(&ops_add, 1);
		if (parent && dl_device_state(parent) == DL_STATE_DEAD &&
		    dl_device_state(dev) == DL_STATE_LIVE)
			VIOLATION("child %s live under dead parent", name);
	} else if (r != -EEXIST && r != -ENODEV) {
		VIOLATION("add returned %d", r);
	}
	dl_device_put(dev);
	return r;
}

static void work_fn(struct dl_device *dev, void *arg)
{
	struct priv *p = dl_device_priv(dev);

	if (atomic_load(&p->torn))
		VIOLATION("work ran on torn-down %s", dl_device_name(dev));
	if (atomic_load(&p->committed))
		VIOLATION("work ran on %s after its removal drained",
			  dl_device_name(dev));
	if ((long)arg & 1)
		(void)dl_device_online(dev);
	atomic_fetch_add(&ops_work, 1);
}

static void claim_release(struct dl_device *dev, void *arg)
{
	dl_device_unclaim(dev);
}

static struct dl_device *random_device(unsigned int *seed)
{
	struct dl_device *dev;
	char name[MAXNAME];

	snprintf(name, sizeof(name), "d%u", rand_r(seed) % 400);
	if (dl_device_lookup(tree, name, &dev) < 0)
		return NULL;
	return dev;
}

static int enter_child_cb(struct dl_device *child, void *arg)
{
	/* Nested: inside the parent, briefly inside one child too. */
	if (user_enter(child) == 0)
		user_exit(child);
	return 1; /* one is enough */
}

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	struct dl_workqueue *wq = dl_tree_workqueue(tree);

	while (!atomic_load(&stop)) {
		struct dl_device *dev = random_device(&seed);
		unsigned int op = rand_r(&seed) % 100;
		int r;

		if (!dev) {
			if (op < 50)
				add_child(NULL, &seed);
			continue;
		}
		if (op < 45) {
			/* a user: enter, check, maybe nest into a child */
			if (user_enter(dev) == 0) {
				if (op < 5)
					sched_yield();
				else if (op < 10)
					dl_device_for_each_child(
						dev, enter_child_cb, NULL);
				user_exit(dev);
			}
		} else if (op < 58) {
			if (atomic_load(&((struct priv *)dl_device_priv(dev))
						 ->depth) < 3)
				add_child(dev, &seed);
		} else if (op < 68) {
			unsigned int mode = rand_r(&seed) % 3;
			int64_t to = rand_r(&seed) % 2 ? DL_NO_TIMEOUT
						       : 2000000;

			r = dl_device_remove(dev, mode, to);
			if (r == 0) {
				atomic_fetch_add(&ops_remove_ok, 1);
				if (dl_device_state(dev) != DL_STATE_DEAD)
					VIOLATION("remove returned before DEAD");
				if (dl_device_driver(dev))
					VIOLATION("driver still bound");
				if (dl_device_enter(dev) == 0) {
					VIOLATION("enter succeeded after "
						  "remove returned");
					dl_device_exit(dev);
				}
			} else if (r == -EBUSY || r == -ETIMEDOUT) {
				atomic_fetch_add(&ops_busy, 1);
			} else {
				VIOLATION("remove returned %d", r);
			}
		} else if (op < 76) {
			r = dl_work_queue(wq, dev, work_fn, NULL,
					  (void *)(long)op);
			if (r != 0 && r != -ENODEV)
				VIOLATION("queue returned %d", r);
		} else if (op < 82) {
			r = op & 1 ? dl_device_online(dev)
				   : dl_device_offline(dev);
			if (r != 0 && r != -ENODEV && r != -EOPNOTSUPP)
				VIOLATION("online/offline returned %d", r);
		} else if (op < 88) {
			if (dl_device_claim(dev, "stress", claim_release,
					    NULL) == 0) {
				atomic_fetch_add(&ops_claim, 1);
				if (op & 1)
					dl_device_unclaim(dev);
			}
		} else if (op < 94) {
			r = op & 1 ? dl_device_unbind(dev)
				   : dl_device_bind(dev, NULL);
			(void)r;
		} else {
			/* the sysfs "remove" attribute */
			if (user_enter(dev) == 0) {
				user_leave(dev);
				r = dl_device_remove_self(dev, DL_REMOVE_WAIT);
				if (r != 0)
					VIOLATION("remove_self returned %d", r);
				else if (dl_device_state(dev) != DL_STATE_DEAD)
					VIOLATION("remove_self returned "
						  "before DEAD");
			}
		}
		dl_device_put(dev);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The trace, every event of it, checked in sequence order             */

/*
 * Per device, in the ring's order (the order of the state changes):
 *
 *   (never added)  release
 *   add  LIVE*  ( remove-start REMOVING* ( rollback LIVE* | drained
 *                 DRAINED* dead ) )*  release
 *
 * LIVE events: bind / probe-fail (unbound only), unbind, online, offline
 * (bound only), claim (unclaimed only), unclaim (claimed only).
 * REMOVING events before drained: as LIVE except claim (a removal that
 * has started refuses new claims), plus surprise; a bind or an online
 * may still land here (its caller entered before the gate closed; the
 * drain waits for it). claim-request comes before drained, also while
 * LIVE (an ancestor's removal asks every claimant of its subtree).
 * drained needs no claim left.
 * DRAINED events: unbind (the driver's remove), work-cancel; then dead,
 * with no driver bound. Nothing but release after dead; nothing after
 * release.
 */
enum tstate { T_NONE, T_LIVE, T_REMOVING, T_DRAINED, T_DEAD, T_RELEASED };

struct tdev {
	uint8_t st;
	bool bound, claimed;
	bool early;        /* an event came before "add" (see below) */
};

struct tev {
	uint64_t seq, dev_id;
	uint32_t event;
	char name[16];
};

static struct {
	pthread_mutex_t lock;
	struct tev *in;          /* from the watcher, any order */
	size_t nin, capin;
	struct tev *pend;        /* taken by the checker, sorted */
	size_t npend, cappend;
	uint64_t next_seq;       /* the next event to check */
	struct tdev *dev;        /* by id */
	size_t ndev;             /* allocated entries */
	uint64_t max_id;
	bool strict;             /* unless DL_STRESS_STRICT=0 */
	uint64_t early_events, late_requests;
	uint64_t checked, releases;
	struct tev hist[8192];   /* the last events checked, to explain */
} tr = { .lock = PTHREAD_MUTEX_INITIALIZER, .next_seq = 1 };

static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return v;
	size_t ncap = *cap ? *cap : 1024;

	while (ncap < need)
		ncap *= 2;
	v = realloc(v, ncap * size);
	if (!v)
		FAIL_AT("out of memory");
	*cap = ncap;
	return v;
}

static void on_event(struct dl_device *dev, const struct dl_trace_record *rec,
		     void *arg)
{
	struct tev *e;

	pthread_mutex_lock(&tr.lock);
	tr.in = grow(tr.in, &tr.capin, tr.nin + 1, sizeof(*tr.in));
	e = &tr.in[tr.nin++];
	e->seq = rec->seq;
	e->dev_id = rec->dev_id;
	e->event = rec->event;
	memcpy(e->name, rec->name, sizeof(e->name) - 1);
	e->name[sizeof(e->name) - 1] = '\0';
	pthread_mutex_unlock(&tr.lock);
}

static int cmp_tev(const void *a, const void *b)
{
	const struct tev *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *const tstate_name[] = { "new", "live", "removing",
					   "drained", "dead", "released" };

static void trace_step(const struct tev *e)
{
	struct tdev *d, was;
	bool ok = true;
	bool live, pre;  /* pre: not yet drained */

	if (e->dev_id == 0)
		return;
	if (e->dev_id >= tr.ndev) {
		size_t n = tr.ndev;

		tr.dev = grow(tr.dev, &n, (size_t)e->dev_id + 1,
			      sizeof(*tr.dev));
		memset(tr.dev + tr.ndev, 0, (n - tr.ndev) * sizeof(*tr.dev));
		tr.ndev = n;
	}
	d = &tr.dev[e->dev_id];
	if (e->dev_id > tr.max_id)
		tr.max_id = e->dev_id;
	was = *d;
	if (d->st == T_NONE && e->event != DL_EV_ADD &&
	    e->event != DL_EV_RELEASE && !tr.strict) {
		/*
		 * A fixed core bug, tolerated only with DL_STRESS_STRICT=0
		 * (for bisecting): dl_device_add() made the device LIVE and
		 * published before it recorded "add", so a thread that
		 * found it at once (a remover, a claimant) could record its
		 * event first. The device counts as added, and its "add"
		 * must still come before it is drained.
		 */
		d->st = T_LIVE;
		d->early = true;
		tr.early_events++;
		live = pre = true;
	} else {
		live = d->st == T_LIVE;
		pre = live || d->st == T_REMOVING;
	}
	switch (e->event) {
	case DL_EV_ADD:
		if (d->early) {
			/* the late "add" of a device already seen */
			ok = d->st == T_LIVE || d->st == T_REMOVING;
			d->early = false;
			break;
		}
		ok = d->st == T_NONE;
		d->st = T_LIVE;
		break;
	case DL_EV_REMOVE_START:
		ok = live;
		d->st = T_REMOVING;
		break;
	case DL_EV_SURPRISE:
		ok = d->st == T_REMOVING;
		break;
	case DL_EV_CLAIM_REQUEST:
		/* also to a claimant below the device being removed */
		ok = pre;
		if (!ok && !tr.strict &&
		    (d->st == T_DRAINED || d->st == T_DEAD)) {
			/*
			 * A fixed core bug, tolerated only with
			 * DL_STRESS_STRICT=0: an ancestor's removal read
			 * the claim, let go of wait_lock, then recorded the
			 * request; meanwhile the claim could end and the
			 * device's own removal finish (test-faults.c,
			 * claim_request_after_unclaim). Counted.
			 */
			ok = true;
			tr.late_requests++;
		}
		break;
	case DL_EV_ROLLBACK:
		ok = d->st == T_REMOVING;
		d->st = T_LIVE;
		break;
	case DL_EV_DRAINED:
		ok = d->st == T_REMOVING && !d->claimed && !d->early;
		d->st = T_DRAINED;
		break;
	case DL_EV_DEAD:
		ok = d->st == T_DRAINED && !d->bound && !d->claimed;
		d->st = T_DEAD;
		break;
	case DL_EV_RELEASE:
		ok = d->st == T_NONE || d->st == T_DEAD;
		d->st = T_RELEASED;
		tr.releases++;
		break;
	case DL_EV_BIND:
		ok = pre && !d->bound;
		d->bound = true;
		break;
	case DL_EV_PROBE_FAIL:
		ok = pre && !d->bound;
		break;
	case DL_EV_UNBIND:
		ok = (pre || d->st == T_DRAINED) && d->bound;
		d->bound = false;
		break;
	case DL_EV_ONLINE:
	case DL_EV_OFFLINE:
		ok = pre && d->bound;
		break;
	case DL_EV_CLAIM:
		ok = live && !d->claimed;
		d->claimed = true;
		break;
	case DL_EV_UNCLAIM:
		ok = pre && d->claimed;
		d->claimed = false;
		break;
	case DL_EV_WORK_CANCEL:
		ok = d->st == T_DRAINED;
		break;
	case DL_EV_DRAIN_SLOW:
		ok = d->st == T_REMOVING;
		break;
	default:
		ok = false;
	}
	if (!ok) {
		VIOLATION("trace: %s of %s (id %" PRIu64 ", seq %" PRIu64
			  ") when it was %s%s%s; its last events:",
			  dl_trace_event_name(e->event), e->name, e->dev_id,
			  e->seq, tstate_name[was.st],
			  was.bound ? ", bound" : "",
			  was.claimed ? ", claimed" : "");
		for (uint64_t i = tr.checked > 8192 ? tr.checked - 8192 : 0;
		     i < tr.checked; i++)
			if (tr.hist[i % 8192].dev_id == e->dev_id)
				fprintf(stderr, "  seq %" PRIu64 " %s\n",
					tr.hist[i % 8192].seq,
					dl_trace_event_name(
						tr.hist[i % 8192].event));
	}
	tr.hist[tr.checked++ % 8192] = *e;
}

/* Check every event whose predecessors have all arrived. */
static void trace_check_pending(void)
{
	size_t i;

	pthread_mutex_lock(&tr.lock);
	tr.pend = grow(tr.pend, &tr.cappend, tr.npend + tr.nin,
		       sizeof(*tr.pend));
	memcpy(tr.pend + tr.npend, tr.in, tr.nin * sizeof(*tr.in));
	tr.npend += tr.nin;
	tr.nin = 0;
	pthread_mutex_unlock(&tr.lock);
	qsort(tr.pend, tr.npend, sizeof(*tr.pend), cmp_tev);
	for (i = 0; i < tr.npend && tr.pend[i].seq == tr.next_seq; i++) {
		trace_step(&tr.pend[i]);
		tr.next_seq++;
	}
	memmove(tr.pend, tr.pend + i, (tr.npend - i) * sizeof(*tr.pend));
	tr.npend -= i;
}

/* ------------------------------------------------------------------ */
/* After the run                                                       */

static int check_quiet(struct dl_device *dev, void *arg)
{
	struct priv *p = priv_of(dev);
	long users = dl_device_active_users(dev);

	if (users != 0)
		VIOLATION("%s: %ld active users after the run",
			  dl_device_name(dev), users);
	if (p && atomic_load(&p->users) != 0)
		VIOLATION("%s: test users left", dl_device_name(dev));
	if (p && atomic_load(&p->in_cb) != 0)
		VIOLATION("%s: still in a callback", dl_device_name(dev));
	(*(long *)arg)++;
	return dl_device_for_each_child(dev, check_quiet, arg);
}

TEST(s12_random_concurrent_mix)
{
	pthread_t t[NTHREADS];
	const char *env = getenv("DL_STRESS_SECONDS");
	const char *senv = getenv("DL_STRESS_SEED");
	long seconds = env ? atol(env) : STRESS_SECONDS;
	unsigned int seed0 = senv ? (unsigned int)atol(senv)
				  : (unsigned int)time(NULL);
	struct dl_tree_stats st;
	long live = 0;

	fprintf(stderr, "s12: %ld s, seed %u (DL_STRESS_SEED to replay)\n",
		seconds, seed0);
	/* The harness's deadlock alarm, stretched for a long run. */
	if (seconds > 30)
		alarm((unsigned int)seconds * 2 + 120);
	pause_observer = observe;
	dl__test_set_hook(pause_hook);
	tree = mktree();
	/* Strict unless DL_STRESS_STRICT=0, which tolerates (and counts)
	 * the disorders of two fixed core bugs, for bisecting. */
	tr.strict = !getenv("DL_STRESS_STRICT") ||
		    atoi(getenv("DL_STRESS_STRICT")) > 0;
	ASSERT_EQ(dl_tree_watch(tree, on_event, NULL), 0);
	ASSERT_EQ(dl_driver_register(tree, &drv_ops, NULL, NULL), 0);
	for (int i = 0; i < NTHREADS; i++)
		t[i] = spawn(worker, (void *)(uintptr_t)(seed0 + (unsigned)i));
	for (long ms = 0; ms < seconds * 1000; ms += 100) {
		test_sleep_ms(100);
		trace_check_pending();
		ASSERT_EQ(atomic_load(&violations), 0);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NTHREADS; i++)
		join(t[i]);
	ASSERT_EQ(dl_workqueue_flush(dl_tree_workqueue(tree)), 0);

	/* Quiet now: every active reference is back to zero. */
	ASSERT_EQ(dl_tree_for_each_root(tree, check_quiet, &live), 0);
	ASSERT_EQ(dl_tree_get_stats(tree, &st), 0);
	ASSERT_EQ((long)st.devices_live, live);
	fprintf(stderr,
		"s12: enters %ld (%ld while REMOVING, before the gate "
		"closed), adds %ld, removes %ld, busy/timeout %ld, work %ld, "
		"claims %ld, commit checks %ld, %ld devices left\n",
		atomic_load(&ops_enter), atomic_load(&ops_enter_removing),
		atomic_load(&ops_add), atomic_load(&ops_remove_ok),
		atomic_load(&ops_busy), atomic_load(&ops_work),
		atomic_load(&ops_claim), atomic_load(&ops_commit_checks), live);
	ASSERT_GT(atomic_load(&ops_enter), 0);
	ASSERT_GT(atomic_load(&ops_remove_ok), 0);
	ASSERT_GT(atomic_load(&ops_commit_checks), 0);
	dl_tree_free(tree);
	/* Deferred frees run after a grace period; a child's free queues
	 * its parent's: repeat until every release has been seen. */
	for (int i = 0; i < 64 && atomic_load(&released_count) !=
					  atomic_load(&built); i++)
		urcu_bp_barrier();
	trace_check_pending();
	ASSERT_EQ(atomic_load(&violations), 0);
	/* Every device built was released: no reference leaked. */
	ASSERT_EQ(atomic_load(&released_count), atomic_load(&built));
	/* ... and every event was seen and checked, in order. */
	ASSERT_EQ(tr.npend, 0);
	ASSERT_EQ(tr.releases, (uint64_t)atomic_load(&built));
	ASSERT_EQ(tr.max_id, (uint64_t)atomic_load(&built));
	for (size_t id = 1; id <= tr.max_id; id++)
		if (tr.dev[id].st != T_RELEASED)
			FAIL_AT("device id %zu ended %s, not released", id,
				tstate_name[tr.dev[id].st]);
	fprintf(stderr,
		"s12: %" PRIu64 " trace events checked in order; tolerated "
		"(DL_STRESS_STRICT=0 only): %" PRIu64
		" recorded before their device's add, %" PRIu64
		" claim-request after the claimant's device was drained\n",
		tr.checked, tr.early_events, tr.late_requests);
	free(tr.in);
	free(tr.pend);
	free(tr.dev);
}

TEST_MAIN(s12_random_concurrent_mix)
