/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scenario parser (src/scenario/parse.c): what a good file becomes,
 * and that each kind of mistake is refused with "NAME:LINE: message"
 * and no scenario.
 */
#include <string.h>

#include "harness.h"
#include "scenario.h"

static struct dl_scen *parse_ok(const char *text)
{
	struct dl_scen *s = NULL;
	char err[512] = "";
	int r = dl_scen_parse(text, strlen(text), "t.scen", &s, err, sizeof(err));

	if (r != 0)
		FAIL_AT("parse failed (%d): %s", r, err);
	return s;
}

/* @text must be refused with exactly @want. */
static void parse_bad(const char *text, const char *want)
{
	struct dl_scen *s = (struct dl_scen *)(uintptr_t)1;
	char err[512] = "";

	ASSERT_EQ(dl_scen_parse(text, strlen(text), "t.scen", &s, err, sizeof(err)),
		  -EINVAL);
	ASSERT_TRUE(s == (struct dl_scen *)(uintptr_t)1); /* untouched */
	ASSERT_STREQ(err, want);
}

TEST(rules_and_steps)
{
	struct dl_scen *s = parse_ok(
		"# a comment\n"
		"timeout 2s\n"
		"on read /sys/devices/*/0000:00:04.0/config comm lspci 2nd as mid: hold\n"
		"on write */sriov_numvfs pid 42 nth 3 as w : fail ENODEV\n"
		"on bind 0000:01:00.0 as b: eject 0000:01:00.0   # a tree rule\n"
		"await mid\n"
		"relations 0000:01 0000:01:00.1\n"
		"wait remove 0000:01:00.0\n"
		"release mid\n"
		"expect mid = 64\n"
		"expect w = ENODEV\n"
		"expect no dead 0000:01:00.0\n"
		"wait 250ms\n");

	ASSERT_EQ(s->timeout_ms, 2000);
	ASSERT_EQ(s->nrules, 3);
	ASSERT_EQ(s->nsteps, 8);
	ASSERT_TRUE(s->rules[0].on_fs);
	ASSERT_EQ(s->rules[0].op, DL_SCEN_READ);
	ASSERT_EQ(s->rules[0].nth, 2);
	ASSERT_STREQ(s->rules[0].comm, "lspci");
	ASSERT_EQ(s->rules[0].action.act, DL_SCEN_HOLD);
	ASSERT_EQ(s->rules[0].action.line, 3);
	ASSERT_EQ(s->rules[1].pid, 42);
	ASSERT_EQ(s->rules[1].nth, 3);
	ASSERT_STREQ(s->rules[1].label, "w");
	ASSERT_EQ(s->rules[1].action.err, ENODEV);
	ASSERT_FALSE(s->rules[2].on_fs);
	ASSERT_STREQ(s->rules[2].event, "bind");
	ASSERT_EQ(s->rules[2].action.act, DL_SCEN_EJECT);
	ASSERT_STREQ(s->rules[2].action.text, "on bind 0000:01:00.0 as b: eject 0000:01:00.0");
	ASSERT_EQ(s->steps[1].act, DL_SCEN_RELATIONS);
	ASSERT_EQ(s->steps[1].ndevs, 2);
	ASSERT_STREQ(s->steps[2].event, "remove-start");
	ASSERT_EQ(s->steps[4].res, DL_SCEN_RES_COUNT);
	ASSERT_EQ(s->steps[4].res_value, 64);
	ASSERT_EQ(s->steps[5].res_value, ENODEV);
	ASSERT_EQ(s->steps[7].act, DL_SCEN_WAIT_TIME);
	ASSERT_EQ(s->steps[7].ms, 250);
	free(s);
}

TEST(bad_files_say_where_and_why)
{
	parse_bad("", "t.scen: no rule and no step");
	parse_bad("\n# only a comment\n", "t.scen: no rule and no step");
	parse_bad("await x\nfrobnicate 1\n",
		  "t.scen:2: 'frobnicate' is not a step (on, await, release, wait, "
		  "expect, eject, surprise, remove, error, numvfs, relations, timeout)");
	parse_bad("\n\non read x as r hold\n",
		  "t.scen:3: a rule is 'on TRIGGER as LABEL: ACTION' (no ':' after the label)");
	parse_bad("on chmod x as r: hold\n",
		  "t.scen:1: 'chmod' is neither a filesystem operation (lookup, open, "
		  "read, write, release, readdir) nor a tree event (add, remove, bind, "
		  "dead, host-eject, ...)");
	parse_bad("on read x as r: fail EWHAT\n",
		  "t.scen:1: 'EWHAT' is not an errno name (EIO, ENODEV, ...)");
	parse_bad("on read x nth 0 as r: hold\n", "t.scen:1: nth counts from 1");
	parse_bad("on bind 0000:01:00.0 as b: hold\n",
		  "t.scen:1: 'hold' needs a filesystem operation to act on; a tree event "
		  "can only start eject, surprise, remove, error, numvfs or relations");
	parse_bad("on read x as r: hold\non open y as r: hold\n",
		  "t.scen:2: the label 'r' is already defined at line 1");
	parse_bad("on read x as r: hold\nrelease q\n", "t.scen:2: no rule is labelled 'q'");
	parse_bad("on read x as r: fail EIO\nrelease r\n",
		  "t.scen:2: 'r' does not hold anything to release (its action is not hold)");
	parse_bad("eject 01:00.0\n",
		  "t.scen:1: '01:00.0' is not a PCI function (DDDD:BB:DD.F)");
	parse_bad("numvfs 0000:01:00.0 many\n", "t.scen:1: 'many' is not a number");
	parse_bad("wait 3 hours\n",
		  "t.scen:1: '3' is not a tree event (add, remove, bind, dead, host-eject, ...)");
	parse_bad("wait 11m\n", "t.scen:1: '11m' is not a duration (250ms, 2s)");
	parse_bad("wait 601s\n", "t.scen:1: '601s': a duration is at most 10 minutes");
	parse_bad("on read x as r: hold\nexpect r == 4\n",
		  "t.scen:2: expect what? (present DEV, absent DEV, busy DEV, "
		  "exited LABEL, running LABEL, no EVENT DEV, LABEL = RESULT)");
	parse_bad("on bind * as b: eject 0000:00:03.0\nexpect exited b\n",
		  "t.scen:2: 'b' is a tree event: it has no process or result");
}

TEST(a_nul_byte_or_a_long_line_is_refused)
{
	struct dl_scen *s = NULL;
	char err[256], line[1200];

	ASSERT_EQ(dl_scen_parse("await x\n\0", 9, "n", &s, err, sizeof(err)), -EINVAL);
	ASSERT_STREQ(err, "n:2: a NUL byte");
	memset(line, 'a', sizeof(line));
	ASSERT_EQ(dl_scen_parse(line, sizeof(line), "n", &s, err, sizeof(err)), -EINVAL);
	ASSERT_STREQ(err, "n:1: line longer than 1023 bytes");
	ASSERT_TRUE(s == NULL);
}

TEST_MAIN(rules_and_steps, bad_files_say_where_and_why,
	  a_nul_byte_or_a_long_line_is_refused)
