/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlifectl's views of the trace (docs/timeline.md): the daemon sends
 * "SEQ TS_NS EVENT NAME ARG" lines; a reader wants relative times and
 * decoded arguments (text), or a timeline (the Trace Event format that
 * Perfetto and chrome://tracing open).
 */
#ifndef DEVLIFECTL_TRACE_FMT_H
#define DEVLIFECTL_TRACE_FMT_H

#include <stdbool.h>
#include <stdio.h>

enum trace_format { TRACE_RAW, TRACE_TEXT, TRACE_JSON };

struct trace_fmt;

/* A formatter writing to @out; NULL when out of memory. */
struct trace_fmt *trace_fmt_new(enum trace_format fmt, FILE *out);

/* One data line of the daemon's reply. Text is written at once (a
 * follower streams); JSON is kept for trace_fmt_end(). Lines that are
 * not records ("dropped N events") are passed through (text) or kept
 * as a marker (JSON). Return: 0, or -ENOMEM. */
int trace_fmt_line(struct trace_fmt *t, const char *line);

/* Write what is kept (the JSON document) if @write, and free @t (NULL:
 * nothing). Return: 0, or -ENOMEM. */
int trace_fmt_end(struct trace_fmt *t, bool write);

/* "remove-start" + its argument -> "mode=surprise" etc. into @buf
 * ("" for an event without an argument worth showing). */
void trace_fmt_arg(const char *event, long arg, char *buf, size_t size);

#endif
