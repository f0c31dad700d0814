/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The trace as people read it (docs/timeline.md).
 *
 * Text: one line per event, "SECONDS  DEVICE  EVENT  DECODED-ARGUMENT",
 * seconds since the first event shown.
 *
 * JSON: the Trace Event format (a JSON object with "traceEvents" and
 * "displayTimeUnit"; "ts" in microseconds). One process (the tree), one
 * track (tid) per device name, named by a "thread_name" metadata event.
 * Every record is an instant ("ph":"i", thread scope); a removal is a
 * "B"/"E" span from remove-start to dead (or rollback), and inside it the
 * drain, from remove-start to drained (or rollback, or dead when the
 * drain belonged to an ancestor's removal). A span still open when the
 * trace ends is closed there, with "unfinished": true in its end's args.
 * An operation a scenario held is a complete event ("ph":"X", named
 * "held") from scen-hold to scen-unhold on its device's track: it
 * overlaps the removal it holds up, which B/E spans could not show.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace-fmt.h"

struct rec {
	uint64_t seq, ts;
	char event[32];
	char name[64];
	long arg;
};

struct track {
	char name[64];
	int depth;           /* 0 none, 1 removal open, 2 and drain open */
	const char *mode;
	bool holding;        /* a scenario holds an operation: since hold_ts */
	double hold_ts;
	long hold_line;
};

struct trace_fmt {
	enum trace_format fmt;
	FILE *out;
	bool have_t0;
	uint64_t t0;
	struct rec *recs;
	size_t n, cap;
	unsigned dropped;
};

struct trace_fmt *trace_fmt_new(enum trace_format fmt, FILE *out)
{
	struct trace_fmt *t = calloc(1, sizeof(*t));

	if (t) {
		t->fmt = fmt;
		t->out = out;
	}
	return t;
}

static const char *errno_name(long e)
{
	const char *s = e < 0 ? strerrorname_np((int)-e) : NULL;

	return s ? s : "?";
}

void trace_fmt_arg(const char *ev, long arg, char *buf, size_t size)
{
	static const char *const modes[] = { "wait", "try", "surprise" };
	/* enum dl_pci_host_event, from 1 */
	static const char *const host_evs[] = {
		"add", "eject", "surprise", "relations", "error",
	};

	buf[0] = '\0';
	if (!strcmp(ev, "remove-start"))
		snprintf(buf, size, "mode=%s", arg >= 0 && arg < 3 ?
			 modes[arg] : "?");
	else if (!strcmp(ev, "drained"))
		snprintf(buf, size, "devices=%ld", arg);
	else if (!strcmp(ev, "rollback") || !strcmp(ev, "probe-fail"))
		snprintf(buf, size, "error=-%s (%ld)", errno_name(arg), arg);
	else if (!strcmp(ev, "work-cancel"))
		snprintf(buf, size, "items=%ld", arg);
	else if (!strncmp(ev, "scen-", 5))
		snprintf(buf, size, "line=%ld", arg);
	else if (!strcmp(ev, "host"))
		snprintf(buf, size, "event=%s", arg >= 1 && arg <= 5 ?
			 host_evs[arg - 1] : "?");
	else if (arg)
		snprintf(buf, size, "arg=%ld", arg);
}

/* "SEQ TS EVENT NAME ARG" -> @r; false for any other line. */
static bool parse(const char *line, struct rec *r)
{
	char tail;

	memset(r, 0, sizeof(*r));
	return sscanf(line, "%" SCNu64 " %" SCNu64 " %31s %63s %ld %c",
		      &r->seq, &r->ts, r->event, r->name, &r->arg,
		      &tail) == 5;
}

static void text_line(struct trace_fmt *t, const struct rec *r)
{
	char arg[96];

	if (!t->have_t0) {
		t->have_t0 = true;
		t->t0 = r->ts;
	}
	trace_fmt_arg(r->event, r->arg, arg, sizeof(arg));
	if (arg[0])
		fprintf(t->out, "%12.6f  %-14s %-13s %s\n",
			(double)(r->ts - t->t0) / 1e9, r->name, r->event, arg);
	else
		fprintf(t->out, "%12.6f  %-14s %s\n",
			(double)(r->ts - t->t0) / 1e9, r->name, r->event);
}

int trace_fmt_line(struct trace_fmt *t, const char *line)
{
	struct rec r;

	if (t->fmt == TRACE_RAW) {
		fprintf(t->out, "%s\n", line);
		return 0;
	}
	if (!parse(line, &r)) {
		if (t->fmt == TRACE_TEXT)
			fprintf(t->out, "%s\n", line);
		else
			t->dropped++;
		return 0;
	}
	if (t->fmt == TRACE_TEXT) {
		text_line(t, &r);
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct rec *p = realloc(t->recs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->recs = p;
		t->cap = cap;
	}
	t->recs[t->n++] = r;
	return 0;
}

/* A JSON string of a device name or event (no quotes or controls in
 * them: the daemon's names are DBDFs and UUIDs; escaped anyway). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int track_of(struct track **tracks, size_t *ntracks, const char *name)
{
	struct track *p;

	for (size_t i = 0; i < *ntracks; i++)
		if (!strcmp((*tracks)[i].name, name))
			return (int)i;
	p = realloc(*tracks, (*ntracks + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*tracks = p;
	memset(&p[*ntracks], 0, sizeof(*p));
	snprintf(p[*ntracks].name, sizeof(p->name), "%s", name);
	return (int)(*ntracks)++;
}

/* One event object; @ph "B", "E" or "i". */
static void json_ev(FILE *f, bool *first, const char *ph, const char *name,
		    int tid, double ts, const char *args)
{
	fprintf(f, "%s\n{\"ph\":\"%s\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"name\":",
		*first ? "" : ",", ph, tid + 1, ts);
	json_str(f, name);
	if (!strcmp(ph, "i"))
		fputs(",\"s\":\"t\"", f);
	fprintf(f, ",\"cat\":\"devlife\",\"args\":{%s}}", args);
	*first = false;
}

/* The span of an operation a scenario held, from its start to @ts. */
static void held_span(FILE *f, bool *first, struct track *tr, int tid,
		      double ts, bool unfinished)
{
	fprintf(f, "%s\n{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,"
		"\"dur\":%.3f,\"name\":\"held\",\"cat\":\"devlife\","
		"\"args\":{\"line\":%ld%s}}", *first ? "" : ",", tid + 1,
		tr->hold_ts, ts - tr->hold_ts, tr->hold_line,
		unfinished ? ",\"unfinished\":true" : "");
	*first = false;
	tr->holding = false;
}

/* Close @tr's open spans at @ts, innermost first. */
static void close_spans(FILE *f, bool *first, struct track *tr, int tid,
			double ts, int to_depth, bool unfinished)
{
	const char *args = unfinished ? "\"unfinished\":true" : "";

	if (tr->depth == 2 && to_depth < 2)
		json_ev(f, first, "E", "drain", tid, ts, args);
	if (tr->depth >= 1 && to_depth < 1)
		json_ev(f, first, "E", "removal", tid, ts, args);
	if (tr->depth > to_depth)
		tr->depth = to_depth;
}

static int json_write(struct trace_fmt *t)
{
	struct track *tracks = NULL;
	size_t ntracks = 0;
	bool first = true;
	FILE *f = t->out;
	double end = 0;
	int r = 0;

	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", f);
	fputs("\n{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\","
	      "\"args\":{\"name\":\"devlife tree\"}}", f);
	first = false;
	for (size_t i = 0; i < t->n; i++) {
		const struct rec *e = &t->recs[i];
		double ts = (double)(e->ts - t->recs[0].ts) / 1e3;
		char arg[96], args[160];
		struct track *tr;
		int tid = track_of(&tracks, &ntracks, e->name);

		if (tid < 0) {
			r = tid;
			break;
		}
		tr = &tracks[tid];
		if (tid + 1 == (int)ntracks && !tr->depth && !tr->mode) {
			fprintf(f, ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":%d,"
				"\"name\":\"thread_name\",\"args\":{\"name\":",
				tid + 1);
			json_str(f, e->name);
			fputs("}}", f);
			tr->mode = "";
		}
		end = ts;
		trace_fmt_arg(e->event, e->arg, arg, sizeof(arg));
		snprintf(args, sizeof(args), "\"seq\":%" PRIu64 ",\"arg\":%ld%s%s%s",
			 e->seq, e->arg, arg[0] ? ",\"decoded\":\"" : "", arg,
			 arg[0] ? "\"" : "");
		if (!strcmp(e->event, "remove-start") && !tr->depth) {
			json_ev(f, &first, "B", "removal", tid, ts, args);
			json_ev(f, &first, "B", "drain", tid, ts, args);
			tr->depth = 2;
		}
		else if (!strcmp(e->event, "drained")) {
			close_spans(f, &first, tr, tid, ts, 1, false);
		}
		else if (!strcmp(e->event, "rollback") ||
			 !strcmp(e->event, "dead")) {
			close_spans(f, &first, tr, tid, ts, 0, false);
		}
		else if (!strcmp(e->event, "scen-hold")) {
			tr->holding = true;
			tr->hold_ts = ts;
			tr->hold_line = e->arg;
		}
		else if (!strcmp(e->event, "scen-unhold") && tr->holding) {
			held_span(f, &first, tr, tid, ts, false);
		}
		json_ev(f, &first, "i", e->event, tid, ts, args);
	}
	for (size_t i = 0; i < ntracks; i++) {
		if (tracks[i].holding)
			held_span(f, &first, &tracks[i], (int)i, end, true);
		close_spans(f, &first, &tracks[i], (int)i, end, 0, true);
	}
	fprintf(f, "\n],\"otherData\":{\"records\":%zu,\"dropped_notices\":%u}}\n",
		t->n, t->dropped);
	free(tracks);
	return r;
}

int trace_fmt_end(struct trace_fmt *t, bool write)
{
	int r = 0;

	if (!t)
		return 0;
	if (t->fmt == TRACE_JSON && write)
		r = json_write(t);
	free(t->recs);
	free(t);
	return r;
}
