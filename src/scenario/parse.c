/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scenario parser (docs/scenarios.md). Line by line: words split on
 * white space, '#' to the end of the line a comment. A bad file is
 * refused whole, with "NAME:LINE: message" as the topology parser's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

#define WORDS_MAX 24

struct pctx {
	struct dl_scen *s;
	unsigned int line;
	char *err;
	size_t errlen;
	char *w[WORDS_MAX];
	int nw;
};

static int fail(struct pctx *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct pctx *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->errlen)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->s->name, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *const op_names[DL_SCEN_OP_MAX] = {
	[DL_SCEN_LOOKUP] = "lookup", [DL_SCEN_OPEN] = "open",
	[DL_SCEN_READ] = "read", [DL_SCEN_WRITE] = "write",
	[DL_SCEN_RELEASE] = "release", [DL_SCEN_READDIR] = "readdir",
};

const char *dl_scen_op_name(enum dl_scen_op op)
{
	return (unsigned int)op < DL_SCEN_OP_MAX ? op_names[op] : "?";
}

static int op_of(const char *w)
{
	for (int i = 0; i < DL_SCEN_OP_MAX; i++)
		if (!strcmp(w, op_names[i]))
			return i;
	return -1;
}

/* The trace's events (dl_trace_event_name()) a scenario may name, and
 * the host events (the trace's "host" records, by their argument). */
const char *dl_scen_event(const char *name)
{
	static const char *const events[] = {
		"add", "remove-start", "surprise", "drained", "rollback",
		"dead", "release", "bind", "probe-fail", "unbind", "online",
		"offline", "claim", "unclaim", "work-cancel",
		"host-add", "host-eject", "host-surprise", "host-relations",
		"host-error",
	};

	if (!strcmp(name, "remove"))
		return "remove-start";
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(name, events[i]))
			return events[i];
	return NULL;
}

int dl_scen_errno(const char *name)
{
	static const struct { const char *name; int err; } errs[] = {
		{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EINTR", EINTR },
		{ "EIO", EIO }, { "ENXIO", ENXIO }, { "E2BIG", E2BIG },
		{ "EBADF", EBADF }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM },
		{ "EACCES", EACCES }, { "EFAULT", EFAULT }, { "EBUSY", EBUSY },
		{ "EEXIST", EEXIST }, { "ENODEV", ENODEV }, { "ENOTDIR", ENOTDIR },
		{ "EISDIR", EISDIR }, { "EINVAL", EINVAL }, { "ENOSPC", ENOSPC },
		{ "ERANGE", ERANGE }, { "ENOSYS", ENOSYS },
		{ "ENOTEMPTY", ENOTEMPTY }, { "ETIMEDOUT", ETIMEDOUT },
		{ "EOPNOTSUPP", EOPNOTSUPP }, { "ECANCELED", ECANCELED },
		{ "ESHUTDOWN", ESHUTDOWN }, { "EPROTO", EPROTO },
	};

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (!strcmp(name, errs[i].name))
			return errs[i].err;
	return 0;
}

/* A decimal number in [0, max]. */
static int number(struct pctx *p, const char *w, unsigned long max,
		  unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)w[0]))
		return fail(p, "'%s' is not a number", w);
	errno = 0;
	v = strtoul(w, &end, 10);
	if (*end || errno || v > max)
		return fail(p, "'%s' is not a number up to %lu", w, max);
	*ret = v;
	return 0;
}

/* "250ms", "2s" or a bare number of milliseconds; at most 10 minutes. */
static int duration(struct pctx *p, const char *w, unsigned int *ret)
{
	char num[32];
	unsigned long v, mul = 1;
	size_t n = strlen(w);

	if (n >= sizeof(num))
		return fail(p, "'%s' is not a duration", w);
	memcpy(num, w, n + 1);
	if (n > 2 && !strcmp(num + n - 2, "ms")) {
		num[n - 2] = '\0';
	} else if (n > 1 && num[n - 1] == 's') {
		num[n - 1] = '\0';
		mul = 1000;
	}
	if (!isdigit((unsigned char)num[0]) || number(p, num, 600000, &v) < 0)
		return fail(p, "'%s' is not a duration (250ms, 2s)", w);
	if (v * mul > 600000)
		return fail(p, "'%s': a duration is at most 10 minutes", w);
	*ret = (unsigned int)(v * mul);
	return 0;
}

static int word(struct pctx *p, const char *w, char *dst, size_t len,
		const char *what)
{
	if (strlen(w) >= len)
		return fail(p, "%s '%.32s...' is longer than %zu bytes", what, w,
			    len - 1);
	memcpy(dst, w, strlen(w) + 1);
	return 0;
}

/* A PCI function's address, DDDD:BB:DD.F (hex). */
static bool is_dbdf(const char *w)
{
	unsigned int d, b, s, f;
	char tail;

	return strlen(w) == 12 &&
	       sscanf(w, "%4x:%2x:%2x.%1x%c", &d, &b, &s, &f, &tail) == 4 &&
	       s < 32 && f < 8;
}

static bool is_bus(const char *w)
{
	unsigned int d, b;
	char tail;

	return strlen(w) == 7 && sscanf(w, "%4x:%2x%c", &d, &b, &tail) == 2;
}

static int dev_arg(struct pctx *p, struct dl_scen_action *a, const char *w,
		   bool pci)
{
	if (a->ndevs == DL_SCEN_DEVS_MAX)
		return fail(p, "more than %d devices", DL_SCEN_DEVS_MAX);
	if (pci && !is_dbdf(w))
		return fail(p, "'%s' is not a PCI function (DDDD:BB:DD.F)", w);
	return word(p, w, a->devs[a->ndevs++], DL_SCEN_WORD_MAX, "a device name");
}

/*
 * A tree action from words @w[0..@n): eject DEV, surprise DEV, error DEV,
 * remove DEV, numvfs DEV N, relations BUS [DEV...]. 1 if @w[0] is none of
 * them, 0 or -EINVAL.
 */
static int tree_action(struct pctx *p, char **w, int n,
		       struct dl_scen_action *a)
{
	static const struct { const char *name; enum dl_scen_act act; } one[] = {
		{ "eject", DL_SCEN_EJECT }, { "surprise", DL_SCEN_SURPRISE },
		{ "error", DL_SCEN_ERROR }, { "remove", DL_SCEN_REMOVE },
	};
	unsigned long v;

	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		if (strcmp(w[0], one[i].name))
			continue;
		if (n != 2)
			return fail(p, "%s takes one device", w[0]);
		a->act = one[i].act;
		return dev_arg(p, a, w[1], a->act != DL_SCEN_REMOVE);
	}
	if (!strcmp(w[0], "numvfs")) {
		if (n != 3)
			return fail(p, "numvfs takes a PF and a number of VFs");
		a->act = DL_SCEN_NUMVFS;
		if (dev_arg(p, a, w[1], true) < 0 || number(p, w[2], 65535, &v) < 0)
			return -EINVAL;
		a->n = (unsigned int)v;
		return 0;
	}
	if (!strcmp(w[0], "relations")) {
		if (n < 2 || !is_bus(w[1]))
			return fail(p, "relations takes a bus (DDDD:BB) and the functions still present");
		a->act = DL_SCEN_RELATIONS;
		for (int i = 1; i < n; i++)
			if (word(p, w[i], a->devs[a->ndevs++], DL_SCEN_WORD_MAX,
				 "a device name") < 0 ||
			    (i > 1 && !is_dbdf(w[i])))
				return fail(p, "'%s' is not a PCI function (DDDD:BB:DD.F)", w[i]);
			else if (a->ndevs == DL_SCEN_DEVS_MAX && i + 1 < n)
				return fail(p, "more than %d devices", DL_SCEN_DEVS_MAX - 1);
		return 0;
	}
	return 1;
}

/* "1st", "2nd", "3rd", "4th", ... */
static bool ordinal(const char *w, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)w[0]))
		return false;
	v = strtoul(w, &end, 10);
	if (v == 0 || v > 1000000 || (strcmp(end, "st") && strcmp(end, "nd") &&
				      strcmp(end, "rd") && strcmp(end, "th")))
		return false;
	*ret = v;
	return true;
}

/* The words between the trigger and "as": pid N, comm NAME, nth N. */
static int filters(struct pctx *p, struct dl_scen_rule *r, int from, int to)
{
	unsigned long v;

	for (int i = from; i < to; i++) {
		const char *w = p->w[i];

		if (ordinal(w, &v)) {
			r->nth = (unsigned int)v;
			continue;
		}
		if (i + 1 >= to)
			return fail(p, "'%s' is not a filter (pid N, comm NAME, nth N)", w);
		if (!strcmp(w, "nth")) {
			if (number(p, p->w[++i], 1000000, &v) < 0)
				return -EINVAL;
			if (!v)
				return fail(p, "nth counts from 1");
			r->nth = (unsigned int)v;
		} else if (!strcmp(w, "pid") && r->on_fs) {
			if (number(p, p->w[++i], 4194304, &v) < 0)
				return -EINVAL;
			r->pid = (long)v;
		} else if (!strcmp(w, "comm") && r->on_fs) {
			if (word(p, p->w[++i], r->comm, sizeof(r->comm),
				 "a command name") < 0)
				return -EINVAL;
		} else {
			return fail(p, "'%s' is not a filter (pid N, comm NAME, nth N)", w);
		}
	}
	return 0;
}

/* The action after "as LABEL:". */
static int rule_action(struct pctx *p, struct dl_scen_rule *r, int at)
{
	struct dl_scen_action *a = &r->action;
	char **w = p->w + at;
	int n = p->nw - at, t;

	if (n < 1)
		return fail(p, "the rule '%s' has no action after ':'", r->label);
	t = tree_action(p, w, n, a);
	if (t <= 0)
		return t;
	if (!r->on_fs)
		return fail(p, "'%s' needs a filesystem operation to act on; a tree "
			    "event can only start eject, surprise, remove, error, "
			    "numvfs or relations", w[0]);
	if (!strcmp(w[0], "hold") && n == 1) {
		a->act = DL_SCEN_HOLD;
	} else if (!strcmp(w[0], "fail") && n == 2) {
		a->act = DL_SCEN_FAIL;
		a->err = dl_scen_errno(w[1]);
		if (!a->err)
			return fail(p, "'%s' is not an errno name (EIO, ENODEV, ...)", w[1]);
	} else if (!strcmp(w[0], "delay") && n == 2) {
		a->act = DL_SCEN_DELAY;
		return duration(p, w[1], &a->ms);
	} else {
		return fail(p, "'%s' is not an action (hold, fail ERRNO, delay "
			    "DURATION, eject, surprise, remove, error, numvfs, relations)",
			    w[0]);
	}
	return 0;
}

/* on OP GLOB [filters] as LABEL: ACTION, or on EVENT DEV [nth N] as LABEL: ACTION */
static int parse_rule(struct pctx *p)
{
	struct dl_scen *s = p->s;
	struct dl_scen_rule *r;
	int as = -1, op, at;
	size_t ll;

	if (s->nrules == DL_SCEN_RULES_MAX)
		return fail(p, "more than %d rules", DL_SCEN_RULES_MAX);
	r = &s->rules[s->nrules];
	memset(r, 0, sizeof(*r));
	r->nth = 1;
	for (int i = 1; i < p->nw; i++)
		if (!strcmp(p->w[i], "as")) {
			as = i;
			break;
		}
	if (p->nw < 3 || as < 3 || as + 1 >= p->nw)
		return fail(p, "a rule is 'on TRIGGER as LABEL: ACTION'");
	op = op_of(p->w[1]);
	if (op >= 0) {
		r->on_fs = true;
		r->op = (enum dl_scen_op)op;
		if (word(p, p->w[2], r->glob, sizeof(r->glob), "a path glob") < 0)
			return -EINVAL;
	} else {
		const char *ev = dl_scen_event(p->w[1]);

		if (!ev)
			return fail(p, "'%s' is neither a filesystem operation "
				    "(lookup, open, read, write, release, readdir) "
				    "nor a tree event (add, remove, bind, dead, "
				    "host-eject, ...)", p->w[1]);
		snprintf(r->event, sizeof(r->event), "%s", ev);
		if (word(p, p->w[2], r->dev, sizeof(r->dev), "a device name") < 0)
			return -EINVAL;
	}
	if (filters(p, r, 3, as) < 0)
		return -EINVAL;
	/* LABEL: or LABEL : */
	ll = strlen(p->w[as + 1]);
	at = as + 2;
	if (ll > 1 && p->w[as + 1][ll - 1] == ':') {
		p->w[as + 1][ll - 1] = '\0';
	} else if (at < p->nw && !strcmp(p->w[at], ":")) {
		at++;
	} else {
		return fail(p, "a rule is 'on TRIGGER as LABEL: ACTION' (no ':' after the label)");
	}
	if (word(p, p->w[as + 1], r->label, sizeof(r->label), "a label") < 0)
		return -EINVAL;
	for (const char *c = r->label; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return fail(p, "label '%s': letters, digits, '-' and '_' only", r->label);
	for (size_t i = 0; i < s->nrules; i++)
		if (!strcmp(s->rules[i].label, r->label))
			return fail(p, "the label '%s' is already defined at line %u",
				    r->label, s->rules[i].action.line);
	r->action.line = p->line;
	if (rule_action(p, r, at) < 0)
		return -EINVAL;
	s->nrules++;
	return 0;
}

static const struct dl_scen_rule *rule_of(const struct dl_scen *s,
					  const char *label)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (!strcmp(s->rules[i].label, label))
			return &s->rules[i];
	return NULL;
}

/* A result: ok, an errno name, or a byte count. */
static int result(struct pctx *p, const char *w, struct dl_scen_action *a)
{
	unsigned long v;

	if (!strcmp(w, "ok")) {
		a->res = DL_SCEN_RES_OK;
	} else if (w[0] == 'E') {
		a->res = DL_SCEN_RES_ERRNO;
		a->res_value = dl_scen_errno(w);
		if (!a->res_value)
			return fail(p, "'%s' is not an errno name (EIO, ENODEV, ...)", w);
	} else {
		a->res = DL_SCEN_RES_COUNT;
		if (number(p, w, 1UL << 30, &v) < 0)
			return fail(p, "'%s' is not a result (ok, an errno name, a byte count)", w);
		a->res_value = (long long)v;
	}
	return 0;
}

/* expect present|absent DEV, exited|running LABEL, no EVENT DEV, LABEL = RESULT */
static int parse_expect(struct pctx *p, struct dl_scen_action *a)
{
	char **w = p->w;

	if (p->nw == 3 && !strcmp(w[1], "busy")) {
		a->act = DL_SCEN_EXPECT_BUSY;
		return dev_arg(p, a, w[2], false);
	}
	if (p->nw == 3 && (!strcmp(w[1], "present") || !strcmp(w[1], "absent"))) {
		a->act = w[1][0] == 'p' ? DL_SCEN_EXPECT_PRESENT : DL_SCEN_EXPECT_ABSENT;
		return dev_arg(p, a, w[2], false);
	}
	if (p->nw == 3 && (!strcmp(w[1], "exited") || !strcmp(w[1], "running"))) {
		a->act = w[1][0] == 'e' ? DL_SCEN_EXPECT_EXITED : DL_SCEN_EXPECT_RUNNING;
		return word(p, w[2], a->label, sizeof(a->label), "a label");
	}
	if (p->nw == 4 && !strcmp(w[1], "no")) {
		const char *ev = dl_scen_event(w[2]);

		if (!ev)
			return fail(p, "'%s' is not a tree event", w[2]);
		a->act = DL_SCEN_EXPECT_NO_EVENT;
		snprintf(a->event, sizeof(a->event), "%s", ev);
		return dev_arg(p, a, w[3], false);
	}
	if (p->nw == 4 && !strcmp(w[2], "=")) {
		a->act = DL_SCEN_EXPECT_RESULT;
		if (word(p, w[1], a->label, sizeof(a->label), "a label") < 0)
			return -EINVAL;
		return result(p, w[3], a);
	}
	return fail(p, "expect what? (present DEV, absent DEV, busy DEV, "
		    "exited LABEL, running LABEL, no EVENT DEV, LABEL = RESULT)");
}

/* wait EVENT DEV, or wait DURATION */
static int parse_wait(struct pctx *p, struct dl_scen_action *a)
{
	if (p->nw == 2) {
		a->act = DL_SCEN_WAIT_TIME;
		return duration(p, p->w[1], &a->ms);
	}
	if (p->nw == 3) {
		/* "closed": not an event of the trace; see the engine */
		const char *ev = strcmp(p->w[1], "closed") ? dl_scen_event(p->w[1])
							   : "closed";

		if (!ev)
			return fail(p, "'%s' is not a tree event (add, remove, bind, "
				    "dead, host-eject, ...)", p->w[1]);
		a->act = DL_SCEN_WAIT_EVENT;
		snprintf(a->event, sizeof(a->event), "%s", ev);
		return dev_arg(p, a, p->w[2], false);
	}
	return fail(p, "wait takes an event and a device, or a duration");
}

static int parse_step(struct pctx *p)
{
	struct dl_scen *s = p->s;
	struct dl_scen_action *a;
	const char *w0 = p->w[0];
	int t;

	if (s->nsteps == DL_SCEN_STEPS_MAX)
		return fail(p, "more than %d steps", DL_SCEN_STEPS_MAX);
	a = &s->steps[s->nsteps];
	memset(a, 0, sizeof(*a));
	a->line = p->line;
	if (!strcmp(w0, "await") || !strcmp(w0, "release")) {
		if (p->nw != 2)
			return fail(p, "%s takes a label", w0);
		a->act = w0[0] == 'a' ? DL_SCEN_AWAIT : DL_SCEN_RELEASE_ACT;
		if (word(p, p->w[1], a->label, sizeof(a->label), "a label") < 0)
			return -EINVAL;
	} else if (!strcmp(w0, "wait")) {
		if (parse_wait(p, a) < 0)
			return -EINVAL;
	} else if (!strcmp(w0, "expect")) {
		if (parse_expect(p, a) < 0)
			return -EINVAL;
	} else {
		t = tree_action(p, p->w, p->nw, a);
		if (t < 0)
			return -EINVAL;
		if (t > 0)
			return fail(p, "'%s' is not a step (on, await, release, wait, "
				    "expect, eject, surprise, remove, error, numvfs, "
				    "relations, timeout)", w0);
	}
	s->nsteps++;
	return 0;
}

/* Labels named by steps: defined by a rule that fits the step. */
static int check_labels(struct pctx *p)
{
	for (size_t i = 0; i < p->s->nsteps; i++) {
		const struct dl_scen_action *a = &p->s->steps[i];
		const struct dl_scen_rule *r;

		if (!a->label[0])
			continue;
		p->line = a->line;
		r = rule_of(p->s, a->label);
		if (!r)
			return fail(p, "no rule is labelled '%s'", a->label);
		if (a->act == DL_SCEN_RELEASE_ACT && r->action.act != DL_SCEN_HOLD)
			return fail(p, "'%s' does not hold anything to release "
				    "(its action is not hold)", a->label);
		if (a->act != DL_SCEN_AWAIT && !r->on_fs)
			return fail(p, "'%s' is a tree event: it has no process or result",
				    a->label);
	}
	return 0;
}

/* Split the line at @p->w; strips the comment. */
static int split(struct pctx *p, char *line)
{
	char *c = strchr(line, '#'), *save = NULL;

	if (c)
		*c = '\0';
	p->nw = 0;
	for (char *w = strtok_r(line, " \t\r\f\v", &save); w;
	     w = strtok_r(NULL, " \t\r\f\v", &save)) {
		if (p->nw == WORDS_MAX)
			return fail(p, "more than %d words", WORDS_MAX);
		p->w[p->nw++] = w;
	}
	return 0;
}

/* The line as written, for reports: without its comment and outer
 * white space, cut to @len - 1 bytes. */
static void line_text(char *dst, size_t len, const char *line)
{
	size_t n;

	line += strspn(line, " \t");
	n = strcspn(line, "#");
	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, line, n);
	dst[n] = '\0';
}

static int parse_line(struct pctx *p, char *line)
{
	char text[sizeof(p->s->steps[0].text)];
	int r;

	line_text(text, sizeof(text), line);
	if (split(p, line) < 0)
		return -EINVAL;
	if (!p->nw)
		return 0;
	if (!strcmp(p->w[0], "timeout")) {
		if (p->nw != 2)
			return fail(p, "timeout takes a duration");
		return duration(p, p->w[1], &p->s->timeout_ms);
	}
	if (!strcmp(p->w[0], "on")) {
		r = parse_rule(p);
		if (r == 0)
			snprintf(p->s->rules[p->s->nrules - 1].action.text,
				 sizeof(text), "%s", text);
		return r;
	}
	r = parse_step(p);
	if (r == 0)
		snprintf(p->s->steps[p->s->nsteps - 1].text, sizeof(text), "%s", text);
	return r;
}

int dl_scen_parse(const char *text, size_t len, const char *name,
		  struct dl_scen **ret, char *err, size_t errlen)
{
	struct pctx p = { .err = err, .errlen = errlen };
	char line[1024];
	size_t i = 0;
	int r = 0;

	if (!text || !ret)
		return -EINVAL;
	p.s = calloc(1, sizeof(*p.s));
	if (!p.s)
		return -ENOMEM;
	snprintf(p.s->name, sizeof(p.s->name), "%s", name ? name : "<scenario>");
	p.s->timeout_ms = DL_SCEN_TIMEOUT_MS;
	while (i < len && r == 0) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		p.line++;
		if (n >= sizeof(line))
			r = fail(&p, "line longer than %zu bytes", sizeof(line) - 1);
		else if (memchr(text + i, '\0', n))
			r = fail(&p, "a NUL byte");
		else {
			memcpy(line, text + i, n);
			line[n] = '\0';
			r = parse_line(&p, line);
		}
		i += n + 1;
	}
	if (r == 0 && p.s->nrules + p.s->nsteps == 0) {
		p.line = 0;
		r = -EINVAL;
		snprintf(err, errlen, "%s: no rule and no step", p.s->name);
	}
	if (r == 0)
		r = check_labels(&p);
	if (r < 0) {
		free(p.s);
		return r;
	}
	*ret = p.s;
	return 0;
}
