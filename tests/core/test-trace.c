/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The trace ring: order, sequence numbers, timestamps, cursors, overflow.
 */
#include <urcu-bp.h>

#include "testutil.h"

static size_t read_all(struct dl_tree *tree, uint64_t *cursor,
		       struct dl_trace_record *buf, size_t cap)
{
	size_t n, got = 0;

	while (got < cap &&
	       (n = dl_trace_read(tree, cursor, buf + got, cap - got)) > 0)
		got += n;
	return got;
}

TEST(lifecycle_events_in_order)
{
	static const uint32_t expect[] = {
		DL_EV_ADD,	     DL_EV_CLAIM,   DL_EV_UNCLAIM,
		DL_EV_REMOVE_START, DL_EV_DRAINED, DL_EV_DEAD,
		DL_EV_RELEASE,
	};
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "traced");
	struct dl_trace_record rec[32];
	uint64_t cursor = 0, id = dl_device_id(d);
	uint64_t t0 = test_now_ns();
	size_t n;

	ASSERT_EQ(dl_device_claim(d, "x", NULL, NULL), 0);
	ASSERT_EQ(dl_device_unclaim(d), 0);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), 0);
	dl_device_put(d);
	urcu_bp_barrier();
	n = read_all(tree, &cursor, rec, 32);
	ASSERT_EQ(n, sizeof(expect) / sizeof(expect[0]));
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(rec[i].event, expect[i]);
		ASSERT_EQ(rec[i].seq, i + 1);
		ASSERT_EQ(rec[i].dev_id, id);
		ASSERT_STREQ(rec[i].name, "traced");
		if (i > 0)
			ASSERT_GE(rec[i].ts_ns, rec[i - 1].ts_ns);
		ASSERT_LE(rec[i].ts_ns, test_now_ns());
	}
	/* timestamps are CLOCK_MONOTONIC */
	ASSERT_GE(rec[0].ts_ns + 1000000000ull, t0);
	ASSERT_LE(rec[0].ts_ns, t0 + 60000000000ull);
	ASSERT_EQ(rec[3].arg, DL_REMOVE_TRY);
	ASSERT_EQ(rec[4].arg, 1); /* devices drained */
	ASSERT_EQ(cursor, n + 1);
	free_tree(tree);
}

TEST(rollback_and_surprise_events)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "sr");
	struct dl_trace_record rec[32];
	uint64_t cursor;
	size_t n;

	ASSERT_EQ(dl_device_claim(d, "x", NULL, NULL), 0);
	cursor = 3; /* after ADD, CLAIM */
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_TRY, 0), -EBUSY);
	n = read_all(tree, &cursor, rec, 32);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(rec[0].event, DL_EV_REMOVE_START);
	ASSERT_EQ(rec[1].event, DL_EV_ROLLBACK);
	ASSERT_EQ(rec[1].arg, -EBUSY);
	ASSERT_EQ(dl_device_unclaim(d), 0);
	ASSERT_EQ(dl_device_remove(d, DL_REMOVE_SURPRISE, 0), 0);
	n = read_all(tree, &cursor, rec, 32);
	ASSERT_EQ(n, 5);
	ASSERT_EQ(rec[0].event, DL_EV_UNCLAIM);
	ASSERT_EQ(rec[1].event, DL_EV_REMOVE_START);
	ASSERT_EQ(rec[1].arg, DL_REMOVE_SURPRISE);
	ASSERT_EQ(rec[2].event, DL_EV_SURPRISE);
	ASSERT_EQ(rec[3].event, DL_EV_DRAINED);
	ASSERT_EQ(rec[4].event, DL_EV_DEAD);
	dl_device_put(d);
	free_tree(tree);
}

TEST(cursor_semantics)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "c");
	struct dl_trace_record rec[8];
	uint64_t cursor = 0;

	for (int i = 0; i < 9; i++) { /* 1 + 18 events */
		ASSERT_EQ(dl_device_claim(d, "x", NULL, NULL), 0);
		ASSERT_EQ(dl_device_unclaim(d), 0);
	}
	/* a small buffer: chunks, the cursor advances by what was read */
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 2), 2);
	ASSERT_EQ(rec[0].seq, 1);
	ASSERT_EQ(rec[1].seq, 2);
	ASSERT_EQ(cursor, 3);
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 8), 8);
	ASSERT_EQ(rec[0].seq, 3);
	ASSERT_EQ(rec[7].seq, 10);
	ASSERT_EQ(cursor, 11);
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 8), 8);
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 8), 1);
	ASSERT_EQ(rec[0].seq, 19);
	ASSERT_EQ(cursor, 20);
	/* caught up: nothing, cursor unchanged */
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 8), 0);
	ASSERT_EQ(cursor, 20);
	/* new events continue from the cursor */
	ASSERT_EQ(dl_device_claim(d, "x", NULL, NULL), 0);
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 8), 1);
	ASSERT_EQ(rec[0].seq, 20);
	ASSERT_EQ(rec[0].event, DL_EV_CLAIM);
	ASSERT_EQ(cursor, 21);
	/* 0 and 1 both mean "the oldest kept"; re-reading is allowed */
	cursor = 1;
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 1), 1);
	ASSERT_EQ(rec[0].seq, 1);
	ASSERT_EQ(rec[0].event, DL_EV_ADD);
	cursor = 15;
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 8), 6);
	ASSERT_EQ(rec[0].seq, 15);
	/* a cursor in the future returns nothing and stays */
	cursor = 1000;
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 8), 0);
	ASSERT_EQ(cursor, 1000);
	/* n == 0 reads nothing */
	cursor = 0;
	ASSERT_EQ(dl_trace_read(tree, &cursor, rec, 0), 0);
	/* bad arguments */
	ASSERT_EQ(dl_trace_read(NULL, &cursor, rec, 8), 0);
	ASSERT_EQ(dl_trace_read(tree, NULL, rec, 8), 0);
	ASSERT_EQ(dl_trace_read(tree, &cursor, NULL, 8), 0);
	ASSERT_EQ(dl_device_unclaim(d), 0);
	dl_device_put(d);
	free_tree(tree);
}

TEST(overflow_keeps_newest)
{
	enum { PAIRS = DL_TRACE_RING };
	struct dl_tree *tree = mktree();
	struct dl_device *d = mkdev(tree, NULL, "busy");
	struct dl_trace_record *rec = calloc(DL_TRACE_RING + 16, sizeof(*rec));
	uint64_t old_cursor = 5, cursor = 0, total = 1 + 2 * PAIRS;
	size_t n;

	ASSERT_TRUE(rec);
	for (int i = 0; i < PAIRS; i++) {
		ASSERT_EQ(dl_device_claim(d, "x", NULL, NULL), 0);
		ASSERT_EQ(dl_device_unclaim(d), 0);
	}
	n = read_all(tree, &cursor, rec, DL_TRACE_RING + 16);
	ASSERT_EQ(n, DL_TRACE_RING);
	ASSERT_EQ(rec[0].seq, total - DL_TRACE_RING + 1);
	ASSERT_EQ(rec[n - 1].seq, total);
	ASSERT_EQ(rec[n - 1].event, DL_EV_UNCLAIM);
	for (size_t i = 1; i < n; i++) {
		ASSERT_EQ(rec[i].seq, rec[i - 1].seq + 1);
		ASSERT_GE(rec[i].ts_ns, rec[i - 1].ts_ns);
		ASSERT_EQ(rec[i].event, rec[i - 1].event == DL_EV_CLAIM
						? DL_EV_UNCLAIM
						: DL_EV_CLAIM);
	}
	ASSERT_EQ(cursor, total + 1);
	/* a reader that fell behind skips what was lost */
	n = dl_trace_read(tree, &old_cursor, rec, 4);
	ASSERT_EQ(n, 4);
	ASSERT_EQ(rec[0].seq, total - DL_TRACE_RING + 1);
	ASSERT_GT(rec[0].seq, 5); /* lost = rec[0].seq - 5 */
	ASSERT_EQ(old_cursor, rec[0].seq + 4);
	free(rec);
	dl_device_put(d);
	free_tree(tree);
}

TEST(event_names)
{
	const char *seen[DL_EV_HOST + 1] = { 0 };

	ASSERT_STREQ(dl_trace_event_name(DL_EV_ADD), "add");
	ASSERT_STREQ(dl_trace_event_name(DL_EV_DEAD), "dead");
	ASSERT_STREQ(dl_trace_event_name(DL_EV_REMOVE_START), "remove-start");
	ASSERT_STREQ(dl_trace_event_name(DL_EV_DRAIN_SLOW), "drain-slow");
	for (uint32_t e = DL_EV_ADD; e <= DL_EV_HOST; e++) {
		const char *name = dl_trace_event_name(e);

		ASSERT_TRUE(name != NULL);
		if (strcmp(name, "?") == 0)
			FAIL_AT("event %u has no name", e);
		for (uint32_t k = DL_EV_ADD; k < e; k++)
			ASSERT_TRUE(strcmp(seen[k], name) != 0);
		seen[e] = name;
	}
	ASSERT_STREQ(dl_trace_event_name(0), "?");
	ASSERT_STREQ(dl_trace_event_name(DL_EV_SCEN_HOLD), "scen-hold");
	ASSERT_STREQ(dl_trace_event_name(DL_EV_HOST), "host");
	ASSERT_STREQ(dl_trace_event_name(DL_EV_HOST + 1), "?");
	ASSERT_STREQ(dl_trace_event_name(0xffffffffu), "?");
}

/* Writers on several threads: every event once, seq dense. */
static struct dl_tree *mt_tree;

static void *claimer(void *arg)
{
	struct dl_device *d = arg;

	for (int i = 0; i < 500; i++) {
		if (dl_device_claim(d, "t", NULL, NULL) != 0)
			FAIL_AT("claim");
		if (dl_device_unclaim(d) != 0)
			FAIL_AT("unclaim");
	}
	return NULL;
}

TEST(concurrent_writers)
{
	struct dl_tree *tree = mktree();
	struct dl_device *d[3];
	struct dl_trace_record *rec = calloc(DL_TRACE_RING, sizeof(*rec));
	pthread_t t[3];
	uint64_t cursor = 0;
	size_t n;
	int per[3] = { 0 };

	mt_tree = tree;
	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "w%d", i);
		d[i] = mkdev(tree, NULL, name);
	}
	for (int i = 0; i < 3; i++)
		t[i] = spawn(claimer, d[i]);
	for (int i = 0; i < 3; i++)
		join(t[i]);
	n = read_all(tree, &cursor, rec, DL_TRACE_RING);
	ASSERT_EQ(n, 3 + 3 * 1000);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(rec[i].seq, i + 1);
		if (i > 0)
			ASSERT_GE(rec[i].ts_ns, rec[i - 1].ts_ns);
		if (rec[i].event != DL_EV_ADD)
			per[rec[i].name[1] - '0']++;
	}
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(per[i], 1000);
		dl_device_put(d[i]);
	}
	free(rec);
	free_tree(tree);
}

TEST_MAIN(lifecycle_events_in_order, rollback_and_surprise_events,
	  cursor_semantics, overflow_keeps_newest, event_names,
	  concurrent_writers)
