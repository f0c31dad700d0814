/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client side of the host channel's `scenario` command, shared by
 * devlifectl and devlife-run: the request line from a file, the report
 * read back, the exit status (docs/scenarios.md).
 */
#ifndef DEVLIFE_CTL_SCENARIO_CLIENT_H
#define DEVLIFE_CTL_SCENARIO_CLIENT_H

#include <stdio.h>

/* Exit statuses: all passed, an assertion failed, a bad file or error. */
enum { SCEN_PASSED = 0, SCEN_FAILED = 1, SCEN_ERROR = 2 };

/*
 * "scenario NAME TEXT\n" for the file at @path (NAME: its path, white
 * space made '_'; TEXT: the file, "\n" and "\\" escaped) in *@ret.
 * Returns 0, or SCEN_ERROR with the reason on stderr after "@prog: ".
 */
int scen_request(const char *prog, const char *path, char **ret);

/*
 * Connect to @sock and send @req. Returns the connection, or -1 (said
 * why on stderr).
 */
int scen_connect(const char *prog, const char *sock, const char *req);

/*
 * Read the report from @fd, each line (without ". ") to @out, until
 * "loaded ..." (when @until_loaded; returns -1 then, the report goes on)
 * or the end. Returns SCEN_PASSED, SCEN_FAILED (the "result" line
 * counts failures) or SCEN_ERROR (an error reply, said on stderr: a bad
 * file's "NAME:LINE: message"; or the connection lost).
 */
int scen_report(const char *prog, int fd, FILE *out, int until_loaded);

#endif
