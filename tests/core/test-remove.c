/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Removal: the three modes, subtrees (deepest first), rollback on -EBUSY
 * and -ETIMEDOUT, surprise marking, concurrent removers, bad arguments,
 * remove_self, a large tree torn down by dl_tree_free().
 */
#include <urcu-bp.h>

#include "testutil.h"

/* A driver bound to everything that logs the order of its removes. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char rlog[64][64];
static int nlog;

static int rec_probe(struct dl_driver *drv, struct dl_device *dev)
{
	(void)drv;
	(void)dev;
	return 0;
}

static void rec_remove(struct dl_driver *drv, struct dl_device *dev)
{
	(void)drv;
	pthread_mutex_lock(&log_lock);
	if (nlog < 64)
		snprintf(rlog[nlog], sizeof(rlog[0]), "%s",
			 dl_device_name(dev));
	nlog++;
	pthread_mutex_unlock(&log_lock);
}

static const struct dl_driver_ops rec_ops = {
	.name = "rec", .probe = rec_probe, .remove = rec_remove,
};

static int log_index(const char *name)
{
	int found = -1;

	for (int i = 0; i < nlog && i < 64; i++) {
		if (strcmp(rlog[i], name) == 0) {
			if (found >= 0)
				FAIL_AT("%s removed twice", name);
			found = i;
		}
	}
	return found;
}

/*
 * r
 * +- r.a
 * |  +- r.a.1
 * |  +- r.a.2
 * +- r.b
 *    +- r.b.1
 */
#define FAM 6

struct fam {
	struct dl_tree *tree;
	struct dl_device *d[FAM]; /* r, r.a, r.a.1, r.a.2, r.b, r.b.1 */
	int n;
	int extra_removes; /* removals of other devices in this tree */
};

static const char *const fam_names[FAM] = { "r",     "r.a", "r.a.1",
					    "r.a.2", "r.b", "r.b.1" };
static const int fam_parent[FAM] = { -1, 0, 1, 1, 0, 4 };

static struct fam mkfam(bool children)
{
	struct fam f = { .tree = mktree() };

	nlog = 0;
	ASSERT_EQ(dl_driver_register(f.tree, &rec_ops, NULL, NULL), 0);
	f.n = children ? FAM : 1;
	for (int i = 0; i < f.n; i++) {
		f.d[i] = mkdev(f.tree,
			       fam_parent[i] < 0 ? NULL : f.d[fam_parent[i]],
			       fam_names[i]);
		ASSERT_TRUE(dl_device_driver(f.d[i]) != NULL);
	}
	return f;
}

static void put_fam(struct fam *f)
{
	for (int i = 0; i < f->n; i++)
		dl_device_put(f->d[i]);
	free_tree(f->tree);
}

/* Everything is as it was before a refused removal. */
static void check_intact(struct fam *f)
{
	for (int i = 0; i < f->n; i++) {
		struct dl_device *d = f->d[i];

		ASSERT_EQ(dl_device_state(d), DL_STATE_LIVE);
		ASSERT_TRUE(findable(f->tree, d));
		ASSERT_TRUE(enterable(d));
		ASSERT_FALSE(dl_device_is_gone(d));
		ASSERT_TRUE(dl_device_driver(d) != NULL);
		ASSERT_EQ(atomic_load(&d->gate.deact), 0);
	}
	ASSERT_EQ(nlog, 0); /* no driver remove ran */
	ASSERT_EQ(get_stats(f->tree).devices_live, f->n);
}

static void check_gone(struct fam *f, bool gone)
{
	for (int i = 0; i < f->n; i++) {
		struct dl_device *d = f->d[i];

		ASSERT_EQ(dl_device_state(d), DL_STATE_DEAD);
		ASSERT_FALSE(findable(f->tree, d));
		ASSERT_FALSE(enterable(d));
		ASSERT_EQ(dl_device_is_gone(d), gone);
		ASSERT_PTR_EQ(dl_device_driver(d), NULL);
	}
	/* deepest first: each device's remove ran after its children's */
	ASSERT_EQ(nlog, f->n);
	for (int i = 0; i < f->n; i++) {
		int me = log_index(fam_names[i]);

		ASSERT_GE(me, 0);
		if (fam_parent[i] >= 0)
			ASSERT_LT(me, log_index(fam_names[fam_parent[i]]));
	}
	ASSERT_EQ(get_stats(f->tree).devices_live, 0);
	ASSERT_EQ(get_stats(f->tree).removes, f->n + f->extra_removes);
}

/* A thread inside a device until released. */
struct holder {
	struct dl_device *dev;
	struct gate in, out;
	int ret;
};

static void *holder_thread(void *arg)
{
	struct holder *h = arg;

	h->ret = dl_device_enter(h->dev);
	gate_pass(&h->in);
	gate_pass(&h->out);
	if (h->ret == 0)
		dl_device_exit(h->dev);
	return NULL;
}

static pthread_t hold(struct holder *h, struct dl_device *dev)
{
	pthread_t t;

	h->dev = dev;
	gate_init(&h->in);
	gate_init(&h->out);
	t = spawn(holder_thread, h);
	gate_wait_entered(&h->in, 1);
	gate_open(&h->in);
	ASSERT_EQ(h->ret, 0);
	return t;
}

TEST(modes_basic)
{
	static const unsigned int modes[] = { DL_REMOVE_WAIT, DL_REMOVE_TRY,
					      DL_REMOVE_SURPRISE };

	for (int m = 0; m < 3; m++) {
		for (int kids = 0; kids < 2; kids++) {
			struct fam f = mkfam(kids);
			bool surprise = modes[m] == DL_REMOVE_SURPRISE;

			ASSERT_EQ(dl_device_remove(f.d[0], modes[m],
						   DL_NO_TIMEOUT),
				  0);
			check_gone(&f, surprise);
			ASSERT_EQ(trace_count(f.tree, DL_EV_REMOVE_START, "r"),
				  1);
			ASSERT_EQ(trace_count(f.tree, DL_EV_DEAD, NULL), f.n);
			ASSERT_EQ(trace_count(f.tree, DL_EV_SURPRISE, "r"),
				  surprise ? 1 : 0);
			/* again: already DEAD */
			ASSERT_EQ(dl_device_remove(f.d[0], modes[m], 0), 0);
			ASSERT_EQ(nlog, f.n);
			put_fam(&f);
		}
	}
}

TEST(remove_middle_of_tree)
{
	struct fam f = mkfam(true);

	ASSERT_EQ(dl_device_remove(f.d[1], DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	for (int i = 0; i < FAM; i++) {
		bool dead = i >= 1 && i <= 3; /* r.a and its children */

		ASSERT_EQ(dl_device_state(f.d[i]),
			  dead ? DL_STATE_DEAD : DL_STATE_LIVE);
		ASSERT_EQ(findable(f.tree, f.d[i]), !dead);
	}
	ASSERT_EQ(nlog, 3);
	ASSERT_LT(log_index("r.a.1"), log_index("r.a"));
	ASSERT_LT(log_index("r.a.2"), log_index("r.a"));
	/* the parent can still get children */
	struct dl_device *n = mkdev(f.tree, f.d[0], "r.c");

	dl_device_put(n);
	put_fam(&f);
}

TEST(try_busy_rolls_back)
{
	for (int where = 0; where < FAM; where++) {
		struct fam f = mkfam(true);
		struct holder h;
		pthread_t t = hold(&h, f.d[where]);
		struct dl_device *late;

		ASSERT_EQ(dl_device_remove(f.d[0], DL_REMOVE_TRY, 0), -EBUSY);
		check_intact(&f);
		ASSERT_EQ(get_stats(f.tree).remove_busy, 1);
		ASSERT_EQ(get_stats(f.tree).removes, 0);
		ASSERT_EQ(trace_count(f.tree, DL_EV_ROLLBACK, "r"), 1);
		ASSERT_EQ(dl_device_active_users(f.d[where]), 1);
		/* usable: children can be added under the subtree */
		ASSERT_EQ(dl_device_new(f.tree, &test_type, "late", 0, &late),
			  0);
		ASSERT_EQ(dl_device_add(late, f.d[where]), 0);
		ASSERT_EQ(dl_device_remove(late, DL_REMOVE_TRY, 0), 0);
		dl_device_put(late);
		f.extra_removes = 1;
		nlog = 0;
		/* busy as often as asked */
		ASSERT_EQ(dl_device_remove(f.d[0], DL_REMOVE_TRY, 0), -EBUSY);
		ASSERT_EQ(get_stats(f.tree).remove_busy, 2);
		/* once the user leaves, try succeeds */
		gate_open(&h.out);
		join(t);
		ASSERT_EQ(dl_device_remove(f.d[0], DL_REMOVE_TRY, 0), 0);
		check_gone(&f, false);
		put_fam(&f);
	}
}

TEST(deadline_times_out_and_rolls_back)
{
	struct fam f = mkfam(true);
	struct holder h;
	pthread_t t = hold(&h, f.d[4]); /* r.b */
	uint64_t t0 = test_now_ns();

	ASSERT_EQ(dl_device_remove(f.d[0], DL_REMOVE_WAIT, 20000000),
		  -ETIMEDOUT);
	ASSERT_GE(test_now_ns() - t0, 20000000);
	check_intact(&f);
	ASSERT_EQ(get_stats(f.tree).remove_timeout, 1);
	ASSERT_EQ(get_stats(f.tree).remove_busy, 0);
	ASSERT_EQ(trace_count(f.tree, DL_EV_ROLLBACK, "r"), 1);
	/* a zero timeout with a user inside: refused at once */
	ASSERT_EQ(dl_device_remove(f.d[4], DL_REMOVE_WAIT, 0), -ETIMEDOUT);
	check_intact(&f);
	ASSERT_EQ(get_stats(f.tree).remove_timeout, 2);
	/* a deadline that the user beats */
	gate_open(&h.out);
	join(t);
	ASSERT_EQ(dl_device_remove(f.d[0], DL_REMOVE_WAIT, 10000000000ll), 0);
	check_gone(&f, false);
	put_fam(&f);
}

TEST(surprise_marks_gone_before_drain)
{
	struct fam f = mkfam(true);
	struct holder h;
	pthread_t t = hold(&h, f.d[2]); /* r.a.1 */
	struct remover rm = REMOVER(f.d[0], DL_REMOVE_SURPRISE);
	pthread_t rt;

	for (int i = 0; i < FAM; i++)
		ASSERT_FALSE(dl_device_is_gone(f.d[i]));
	pause_arm(0, "drain:wait", f.d[0]);
	rt = spawn(remove_thread, &rm);
	pause_wait(0); /* about to wait for the holder */
	for (int i = 0; i < FAM; i++) {
		ASSERT_TRUE(dl_device_is_gone(f.d[i]));
		ASSERT_FALSE(enterable(f.d[i]));
	}
	/* the holder is still inside, nothing is torn down yet */
	ASSERT_EQ(nlog, 0);
	ASSERT_EQ(dl_device_state(f.d[2]), DL_STATE_LIVE);
	ASSERT_EQ(trace_count(f.tree, DL_EV_SURPRISE, "r"), 1);
	ASSERT_EQ(trace_count(f.tree, DL_EV_DRAINED, "r"), 0);
	pause_release(0);
	ASSERT_TRUE(still_running(rt, 20));
	gate_open(&h.out);
	join(t);
	join(rt);
	ASSERT_EQ(rm.ret, 0);
	check_gone(&f, true);
	put_fam(&f);
}

/* An enter on a thread of its own: ret stays 1 until it returned. */
struct enterer {
	struct dl_device *dev;
	int ret;
};

static void *enter_thread(void *arg)
{
	struct enterer *e = arg;

	e->ret = dl_device_enter(e->dev);
	if (e->ret == 0)
		dl_device_exit(e->dev);
	return NULL;
}

/*
 * A removal that is refused (try mode with a user inside; a deadline,
 * in wait or surprise mode, that passes) is invisible to every other
 * thread: while it decides, lookups find the device and an enter waits
 * for the decision instead of failing; refused, the enter succeeds and
 * nothing is marked gone. Each mode is stopped after its gates closed.
 */
TEST(refused_removal_is_invisible)
{
	static const struct {
		unsigned int flags;
		int64_t timeout;
		const char *point;
		int ret;
	} modes[] = {
		{ DL_REMOVE_TRY, DL_NO_TIMEOUT, "remove:deactivated", -EBUSY },
		{ DL_REMOVE_WAIT, 50000000, "remove:draining", -ETIMEDOUT },
		{ DL_REMOVE_SURPRISE, 50000000, "remove:draining",
		  -ETIMEDOUT },
	};

	for (int m = 0; m < 3; m++) {
		struct fam f = mkfam(true);
		struct holder h;
		pthread_t t = hold(&h, f.d[5]); /* r.b.1 */
		struct remover rm = REMOVER(f.d[0], modes[m].flags);
		struct enterer e = { f.d[2], 1 }; /* r.a.2's sibling r.a.1 */
		pthread_t rt, et;

		rm.timeout = modes[m].timeout;
		pause_arm(0, modes[m].point, f.d[0]);
		rt = spawn(remove_thread, &rm);
		pause_wait(0); /* gates closed, not yet decided */
		for (int i = 0; i < FAM; i++)
			ASSERT_TRUE(findable(f.tree, f.d[i]));
		/* an enter is held until the removal decides */
		pause_arm(1, "enter:held", f.d[2]);
		et = spawn(enter_thread, &e);
		pause_wait(1);
		pause_release(1);
		ASSERT_EQ(e.ret, 1);
		pause_release(0);
		join(rt);
		ASSERT_EQ(rm.ret, modes[m].ret);
		join(et);
		ASSERT_EQ(e.ret, 0);
		for (int i = 0; i < FAM; i++)
			ASSERT_FALSE(dl_device_is_gone(f.d[i]));
		check_intact(&f);
		gate_open(&h.out);
		join(t);
		ASSERT_EQ(dl_device_remove(f.d[0], DL_REMOVE_TRY, 0), 0);
		check_gone(&f, false);
		put_fam(&f);
	}
}

/* A user whose in-flight I/O fails fast once its device is gone. */
struct io_user {
	struct dl_device *dev;
	struct gate in;
	atomic_bool saw_gone;
	int ret;
};

static void *io_user_thread(void *arg)
{
	struct io_user *u = arg;
	uint64_t end = test_now_ns() + 20000000000ull;

	u->ret = dl_device_enter(u->dev);
	gate_pass(&u->in);
	while (!dl_device_is_gone(u->dev) && test_now_ns() < end)
		sched_yield();
	atomic_store(&u->saw_gone, dl_device_is_gone(u->dev));
	if (u->ret == 0)
		dl_device_exit(u->dev);
	return NULL;
}

/*
 * A surprise removal that arrives while a wait-mode removal drains marks
 * the subtree gone at once, so the in-flight I/O it waits for fails fast
 * and both removals finish. A surprise that is refused (its deadline
 * passes first) takes its marks back.
 */
TEST(surprise_during_wait_marks_gone)
{
	for (int refused = 0; refused < 2; refused++) {
		struct fam f = mkfam(true);
		struct io_user u = { .dev = f.d[5] }; /* r.b.1 */
		struct holder h;
		struct remover wr = REMOVER(f.d[0], DL_REMOVE_WAIT);
		pthread_t ut, wt, ht = 0;

		gate_init(&u.in);
		if (refused) /* a user that does not poll gone */
			ht = hold(&h, f.d[3]);
		ut = spawn(io_user_thread, &u);
		gate_wait_entered(&u.in, 1);
		gate_open(&u.in);
		pause_arm(0, "drain:wait", f.d[0]);
		wt = spawn(remove_thread, &wr);
		pause_wait(0); /* the wait-mode removal owns r and drains */
		pause_release(0);
		ASSERT_FALSE(dl_device_is_gone(f.d[5]));
		ASSERT_EQ(dl_device_remove(f.d[0], DL_REMOVE_SURPRISE,
					   refused ? 50000000 : 10000000000ll),
			  refused ? -ETIMEDOUT : 0);
		join(ut);
		ASSERT_TRUE(atomic_load(&u.saw_gone));
		if (refused) {
			for (int i = 0; i < FAM; i++)
				ASSERT_FALSE(dl_device_is_gone(f.d[i]));
			gate_open(&h.out);
			join(ht);
		}
		join(wt);
		ASSERT_EQ(wr.ret, 0);
		check_gone(&f, !refused);
		put_fam(&f);
	}
}

#define RACERS 8

TEST(concurrent_removers)
{
	static const unsigned int modes[RACERS] = {
		DL_REMOVE_WAIT, DL_REMOVE_TRY,	DL_REMOVE_SURPRISE,
		DL_REMOVE_WAIT, DL_REMOVE_WAIT, DL_REMOVE_TRY,
		DL_REMOVE_WAIT, DL_REMOVE_SURPRISE,
	};
	struct fam f = mkfam(true);
	struct remover rm[RACERS];
	pthread_t t[RACERS];

	/* the first to win stops after draining; the others must wait */
	pause_arm(0, "remove:drained", f.d[0]);
	for (int i = 0; i < RACERS; i++) {
		rm[i] = REMOVER(f.d[0], modes[i]);
		t[i] = spawn(remove_thread, &rm[i]);
	}
	pause_wait(0);
	ASSERT_EQ(dl_device_state(f.d[0]), DL_STATE_REMOVING);
	for (int i = 0; i < RACERS; i++)
		ASSERT_TRUE(still_running(t[i], i == 0 ? 50 : 0));
	/* a waiter with a deadline gives up without changing anything */
	ASSERT_EQ(dl_device_remove(f.d[0], DL_REMOVE_WAIT, 1000000),
		  -ETIMEDOUT);
	ASSERT_EQ(dl_device_state(f.d[0]), DL_STATE_REMOVING);
	pause_release(0);
	for (int i = 0; i < RACERS; i++) {
		join(t[i]);
		ASSERT_EQ(rm[i].ret, 0);
	}
	ASSERT_EQ(trace_count(f.tree, DL_EV_REMOVE_START, "r"), 1);
	ASSERT_EQ(get_stats(f.tree).remove_timeout, 0);
	/* which mode won decides is_gone: check the rest */
	for (int i = 0; i < FAM; i++) {
		ASSERT_EQ(dl_device_state(f.d[i]), DL_STATE_DEAD);
		ASSERT_EQ(log_index(fam_names[i]) >= 0, 1); /* once */
	}
	ASSERT_EQ(nlog, FAM);
	put_fam(&f);
}

/* Concurrent removers of a parent and its child (one removal each). */
TEST(concurrent_parent_and_child)
{
	for (int round = 0; round < 2; round++) {
		struct fam f = mkfam(true);
		struct remover rp = REMOVER(f.d[0], DL_REMOVE_WAIT);
		struct remover rc = REMOVER(f.d[1], DL_REMOVE_WAIT);
		pthread_t tp, tc;

		/* round 0: the child's remover goes first and is held after
		 * draining; round 1: the parent's goes first */
		if (round == 0) {
			pause_arm(0, "remove:drained", f.d[1]);
			tc = spawn(remove_thread, &rc);
			pause_wait(0);
			tp = spawn(remove_thread, &rp);
			ASSERT_TRUE(still_running(tp, 50));
		} else {
			pause_arm(0, "remove:drained", f.d[0]);
			tp = spawn(remove_thread, &rp);
			pause_wait(0);
			/* the parent's remover is committed but has not
			 * reached its children: the child's own remover
			 * removes it, while the parent's driver is bound */
			tc = spawn(remove_thread, &rc);
			join(tc);
			ASSERT_EQ(rc.ret, 0);
			ASSERT_EQ(dl_device_state(f.d[1]), DL_STATE_DEAD);
			ASSERT_EQ(dl_device_state(f.d[0]), DL_STATE_REMOVING);
			ASSERT_EQ(nlog, 3);
			ASSERT_EQ(log_index("r"), -1);
			ASSERT_TRUE(still_running(tp, 20));
		}
		pause_release(0);
		join(tp);
		join(tc);
		ASSERT_EQ(rp.ret, 0);
		ASSERT_EQ(rc.ret, 0);
		check_gone(&f, false);
		put_fam(&f);
	}
}

TEST(bad_arguments)
{
	struct dl_tree *tree = mktree();
	struct dl_device *n, *d = mkdev(tree, NULL, "d");

	ASSERT_EQ(dl_device_new(tree, &test_type, "new", 0, &n), 0);
	ASSERT_EQ(dl_device_remove(n, DL_REMOVE_WAIT, DL_NO_TIMEOUT), -EINVAL);
	ASSERT_EQ(dl_device_remove(n, DL_REMOVE_TRY, 0), -EINVAL);
	ASSERT_EQ(dl_device_state(n), DL_STATE_NEW);
	ASSERT_EQ(dl_device_remove(d, 3, DL_NO_TIMEOUT), -EINVAL);
	ASSERT_EQ(dl_device_remove(d, 0x100, DL_NO_TIMEOUT), -EINVAL);
	ASSERT_EQ(dl_device_remove(d, ~0u, DL_NO_TIMEOUT), -EINVAL);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, -2), -EINVAL);
	ASSERT_EQ(dl_device_remove(NULL, DL_REMOVE_WAIT, -1), -EINVAL);
	ASSERT_EQ(dl_device_remove_self(d, 7), -EINVAL);
	ASSERT_EQ(dl_device_remove_self(NULL, 0), -EINVAL);
	ASSERT_EQ(dl_device_state(d), DL_STATE_LIVE);
	ASSERT_TRUE(findable(tree, d));
	ASSERT_EQ(get_stats(tree).removes, 0);
	ASSERT_EQ(trace_count(tree, DL_EV_REMOVE_START, NULL), 0);
	/* a NEW device can still be added and removed afterwards */
	ASSERT_EQ(dl_device_add(n, d), 0);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_WAIT, DL_NO_TIMEOUT), 0);
	ASSERT_EQ(dl_device_state(n), DL_STATE_DEAD);
	dl_device_put(n);
	dl_device_put(d);
	free_tree(tree);
}

TEST(remove_self_basics)
{
	struct dl_tree *tree = mktree();
	struct dl_device *p = mkdev(tree, NULL, "self");
	struct dl_device *c = mkdev(tree, p, "self.c");

	/* not entered */
	ASSERT_EQ(dl_device_remove_self(p, DL_REMOVE_WAIT), -EINVAL);
	/* entered a child only: that is not "self" */
	ASSERT_EQ(dl_device_enter(c), 0);
	ASSERT_EQ(dl_device_remove_self(p, DL_REMOVE_WAIT), -EINVAL);
	dl_device_exit(c);
	ASSERT_EQ(dl_device_state(p), DL_STATE_LIVE);

	/* try mode does not count the caller */
	ASSERT_EQ(dl_device_enter(c), 0);
	ASSERT_EQ(dl_device_remove_self(c, DL_REMOVE_TRY), 0);
	ASSERT_EQ(dl_device_state(c), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_active_users(c), 0);

	ASSERT_EQ(dl_device_enter_tagged(p, "remove-attr"), 0);
	ASSERT_EQ(dl_device_remove_self(p, DL_REMOVE_WAIT), 0);
	ASSERT_EQ(dl_device_state(p), DL_STATE_DEAD);
	ASSERT_EQ(dl_device_active_users(p), 0);
	ASSERT_FALSE(dl__self_holds_active_in(p, true));
	dl_device_put(p);
	dl_device_put(c);
	free_tree(tree);
}

struct selfrm {
	struct dl_device *dev;
	struct gate *both_in;
	int ret;
};

static void *self_remove_thread(void *arg)
{
	struct selfrm *s = arg;

	if (dl_device_enter(s->dev) != 0)
		FAIL_AT("enter");
	gate_pass(s->both_in);
	s->ret = dl_device_remove_self(s->dev, DL_REMOVE_WAIT);
	if (dl_device_state(s->dev) != DL_STATE_DEAD)
		FAIL_AT("remove_self returned before the device was DEAD");
	return NULL;
}

TEST(two_self_removals)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "twice");
	struct gate both = GATE_INIT;
	struct selfrm s[2] = { { d, &both, 1 }, { d, &both, 1 } };
	pthread_t t[2];

	nlog = 0;
	t[0] = spawn(self_remove_thread, &s[0]);
	t[1] = spawn(self_remove_thread, &s[1]);
	gate_wait_entered(&both, 2);
	gate_open(&both);
	join(t[0]);
	join(t[1]);
	ASSERT_EQ(s[0].ret, 0);
	ASSERT_EQ(s[1].ret, 0);
	ASSERT_EQ(trace_count(tree, DL_EV_REMOVE_START, "twice"), 1);
	ASSERT_EQ(trace_count(tree, DL_EV_DEAD, "twice"), 1);
	dl_device_put(d);
	free_tree(tree);
}

/* 1 root, 256 children, 255 grandchildren each: torn down by free. */
static atomic_long big_released;

static void big_release(struct dl_device *dev)
{
	(void)dev;
	atomic_fetch_add(&big_released, 1);
}

static const struct dl_device_type big_type = { .name = "big",
						.release = big_release };

TEST(big_tree_free)
{
	enum { KIDS = 256, GRAND = 255 };
	struct dl_tree *tree = mktree();
	struct dl_device *root;
	long total = 1;

	ASSERT_EQ(dl_device_new(tree, &big_type, "root", 0, &root), 0);
	ASSERT_EQ(dl_device_add(root, NULL), 0);
	for (int i = 0; i < KIDS; i++) {
		struct dl_device *k;
		char name[32];

		snprintf(name, sizeof(name), "k%d", i);
		ASSERT_EQ(dl_device_new(tree, &big_type, name, 0, &k), 0);
		ASSERT_EQ(dl_device_add(k, root), 0);
		total++;
		for (int j = 0; j < GRAND; j++) {
			struct dl_device *g;

			snprintf(name, sizeof(name), "k%d.%d", i, j);
			ASSERT_EQ(dl_device_new(tree, &big_type, name, 0, &g),
				  0);
			ASSERT_EQ(dl_device_add(g, k), 0);
			dl_device_put(g);
			total++;
		}
		dl_device_put(k);
	}
	ASSERT_EQ(total, 1 + KIDS + KIDS * GRAND);
	ASSERT_EQ((long)get_stats(tree).devices_live, total);
	dl_device_put(root);
	dl_tree_free(tree);
	ASSERT_EQ(atomic_load(&big_released), total);
	leak_check();
}

TEST_MAIN(modes_basic, refused_removal_is_invisible,
	  surprise_during_wait_marks_gone, remove_middle_of_tree, try_busy_rolls_back,
	  deadline_times_out_and_rolls_back, surprise_marks_gone_before_drain,
	  concurrent_removers, concurrent_parent_and_child, bad_arguments,
	  remove_self_basics, two_self_removals, big_tree_free)
