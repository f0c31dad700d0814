/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlifectl - talk to devlifed over its host channel
 * (docs/host-protocol.md).
 *
 *   devlifectl [-s SOCKET] CMD [ARGS...]
 *
 * Sends one request line, prints the reply's data lines (without their
 * ". " prefix) on standard output and exits 0 on "ok"; on "error ENAME
 * message" prints "devlifectl: ENAME message" on standard error and exits
 * 1; exits 2 when the socket cannot be reached or the command line is
 * wrong. `scenario FILE` sends a race scenario (docs/scenarios.md) and
 * prints its report; it exits 0 when every assertion passed, 1 when one
 * failed, 2 for a bad file or an error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/scenario-client.h"
#include "ctl/trace-fmt.h"
#include "proto.h"
#include "sendall.h"
#include "server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: devlifectl [-s SOCKET] COMMAND [ARGS...]\n"
		"\n"
		"Commands (see 'devlifectl help' and docs/host-protocol.md):\n"
		"  help | tree | stats | trace [--follow] [--format=text|json|raw]\n"
		"  monitor [--property]\n"
		"  add DBDF key=value... | eject DBDF | surprise DBDF\n"
		"  relations BUS [DBDF...] | error DBDF\n"
		"  scenario FILE        run a race scenario (docs/scenarios.md);\n"
		"                       exits 0 all passed, 1 one failed, 2 a bad file\n"
		"\n"
		"Options:\n"
		"  -s, --socket SOCKET  the host channel (default: $DEVLIFE_SOCKET,\n"
		"                       else %s)\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit status: 0 ok, 1 the daemon refused the request, 2 the daemon\n"
		"cannot be reached or the command line is wrong.\n",
		DL_HOST_DEFAULT_SOCKET);
}

/* Write all of @p; the daemon may close early (a refused request). */
static bool monitor_props = false;

/*
 * ". uevent SOURCE K=V K=V..." as `udevadm monitor` prints an event
 * (systemd src/udev/udevadm-monitor.c print_device()): the source padded
 * to 6, the CLOCK_MONOTONIC time of printing, the action padded to 8,
 * DEVPATH and (SUBSYSTEM); with --property each KEY=VALUE, then a blank
 * line.
 */
static void print_uevent(char *line)
{
	const char *action = "", *devpath = "", *subsystem = "";
	char *source = strtok(line, " "), *kv;
	char *vars[256];
	size_t n = 0;
	struct timespec ts;

	while ((kv = strtok(NULL, " ")) && n < 256) {
		vars[n++] = kv;
		if (!strncmp(kv, "ACTION=", 7))
			action = kv + 7;
		else if (!strncmp(kv, "DEVPATH=", 8))
			devpath = kv + 8;
		else if (!strncmp(kv, "SUBSYSTEM=", 10))
			subsystem = kv + 10;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%-6s[%lld.%06ld] %-8s %s (%s)\n", source ? source : "?",
	       (long long)ts.tv_sec, ts.tv_nsec / 1000, action, devpath,
	       subsystem);
	if (monitor_props) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", vars[i]);
		printf("\n");
	}
}

/* Handle one reply line; 0 to go on, 1 for ok, -1 for error, -2 for a
 * line that is not the protocol. */
static int reply_line(char *line, struct trace_fmt *tf)
{
	if (!strncmp(line, ". uevent ", 9)) {
		print_uevent(line + 9);
		return 0;
	}
	if (line[0] == '.' && (line[1] == ' ' || line[1] == '\0')) {
		if (tf)
			return trace_fmt_line(tf, line[1] ? line + 2 : "") ? -1 : 0;
		fputs(line[1] ? line + 2 : "", stdout);
		fputc('\n', stdout);
		return 0;
	}
	if (strcmp(line, "ok") == 0)
		return 1;
	if (strncmp(line, "error ", 6) == 0) {
		fprintf(stderr, "devlifectl: %s\n", line + 6);
		return -1;
	}
	fprintf(stderr, "devlifectl: unexpected reply line: %.200s\n", line);
	return -2;
}

/* The longest reply line devlifectl reads. */
#define REPLY_LINE_MAX 65536

/* Parse the options into *@sock. Returns -1 to go on, else the exit
 * status (0 after --help, 2 for a bad command line). */
static int parse_args(int argc, char **argv, const char **sock)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*sock = getenv("DEVLIFE_SOCKET");
	if (!*sock || !(*sock)[0])
		*sock = DL_HOST_DEFAULT_SOCKET;
	/* '+': options end at the command (its arguments are its own) */
	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			*sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/*
 * trace's own options, taken out of @argv (from @cmd on; returns the new
 * @argc, or -2 for a bad one, said why): --format=text (the default),
 * json or raw (the protocol's lines), and --raw for --format=raw.
 */
static int trace_options(int argc, char **argv, int cmd,
			 enum trace_format *fmt)
{
	bool follow = false;
	int n = cmd + 1;

	*fmt = TRACE_TEXT;
	for (int i = cmd + 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--raw") || !strcmp(a, "--format=raw")) {
			*fmt = TRACE_RAW;
		} else if (!strcmp(a, "--format=text")) {
			*fmt = TRACE_TEXT;
		} else if (!strcmp(a, "--format=json")) {
			*fmt = TRACE_JSON;
		} else if (!strncmp(a, "--format", 8)) {
			fprintf(stderr, "devlifectl: trace: unknown format '%s' "
				"(text, json or raw)\n", a);
			return -2;
		} else {
			follow |= !strcmp(a, "--follow") || !strcmp(a, "follow");
			argv[n++] = argv[i];
		}
	}
	if (follow && *fmt == TRACE_JSON) {
		fprintf(stderr, "devlifectl: trace: --format=json is a whole "
			"document: it cannot --follow\n");
		return -2;
	}
	return n;
}

/* Argument @i of the command @cmd as the protocol spells it. */
static const char *protocol_word(char **argv, int cmd, int i)
{
	if (i > cmd && !strcmp(argv[cmd], "trace") && !strcmp(argv[i], "--follow"))
		return "follow";
	return argv[i];
}

/* The request line of the command at argv[@cmd..@argc-1], newline
 * included, in *@ret. Returns 0, or the exit status 2 (said why). */
static int build_request(int argc, char **argv, int cmd, char **ret)
{
	size_t reqlen = 0;
	char *req;

	for (int i = cmd; i < argc; i++) {
		const char *a = argv[i];

		if (!a[0] || strpbrk(a, " \t\r\n")) {
			fprintf(stderr,
				"devlifectl: argument %d ('%s') is empty or contains "
				"white space\n",
				i - cmd + 1, a);
			return 2;
		}
		reqlen += strlen(protocol_word(argv, cmd, i)) + 1;
	}
	req = malloc(reqlen + 1);
	if (!req) {
		fprintf(stderr, "devlifectl: out of memory\n");
		return 2;
	}
	req[0] = '\0';
	for (int i = cmd; i < argc; i++) {
		if (i > cmd)
			strcat(req, " ");
		strcat(req, protocol_word(argv, cmd, i));
	}
	strcat(req, "\n");
	*ret = req;
	return 0;
}

/* A connection to the daemon at @sock, or -1 (said why). */
static int connect_daemon(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "devlifectl: socket path too long: %s\n", sock);
		return -1;
	}
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "devlifectl: cannot connect to %s: %s (is devlifed running?)\n",
			sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read and print the reply until "ok" (0) or "error" (1). Also 1 when
 * the daemon closes early, a line is too long or is not the protocol. */
static int read_reply(int fd, char *buf, size_t cap, struct trace_fmt *tf)
{
	size_t len = 0;
	int status = -3;

	while (status == -3) {
		char *nl;
		ssize_t got;

		while (status == -3 && (nl = memchr(buf, '\n', len))) {
			int r;

			*nl = '\0';
			r = reply_line(buf, tf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			if (r == 1)
				status = 0;
			else if (r < 0)
				status = 1;
		}
		if (status != -3)
			break;
		if (len == cap) {
			fprintf(stderr, "devlifectl: reply line too long\n");
			status = 1;
			break;
		}
		got = recv(fd, buf + len, cap - len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			fprintf(stderr, "devlifectl: devlifed closed the connection %s\n",
				got < 0 ? strerror(errno) : "before the reply ended");
			status = 1;
		} else {
			len += (size_t)got;
		}
	}
	return status;
}

/* scenario FILE: the report on standard output; 0 all passed, 1 an
 * assertion failed, 2 a bad file (nothing ran) or an error. */
static int scenario(int argc, char **argv, const char *sock)
{
	char *req = NULL;
	int fd, status;

	if (argc != 2) {
		fprintf(stderr, "devlifectl: usage: scenario FILE\n");
		return SCEN_ERROR;
	}
	status = scen_request("devlifectl", argv[1], &req);
	if (status)
		return status;
	fd = scen_connect("devlifectl", sock, req);
	free(req);
	if (fd < 0)
		return SCEN_ERROR;
	status = scen_report("devlifectl", fd, stdout, 0);
	close(fd);
	return status;
}

int main(int argc, char **argv)
{
	const char *sock;
	char *req = NULL, *buf = NULL;
	int fd = -1, status;
	enum trace_format fmt = TRACE_RAW;
	struct trace_fmt *tf = NULL;

	status = parse_args(argc, argv, &sock);
	if (status >= 0)
		return status;
	if (!strcmp(argv[optind], "scenario"))
		return scenario(argc - optind, argv + optind, sock);
	if (!strcmp(argv[optind], "trace")) {
		argc = trace_options(argc, argv, optind, &fmt);
		if (argc < 0)
			return 2;
		if (fmt != TRACE_RAW && !(tf = trace_fmt_new(fmt, stdout))) {
			fprintf(stderr, "devlifectl: out of memory\n");
			return 2;
		}
	} else if (!strcmp(argv[optind], "monitor")) {
		/* udevadm monitor's option that makes sense here */
		for (int i = optind + 1; i < argc; i++) {
			if (strcmp(argv[i], "--property") &&
			    strcmp(argv[i], "-p")) {
				fprintf(stderr, "devlifectl: monitor takes only "
						"--property\n");
				return 2;
			}
			monitor_props = true;
		}
		argc = optind + 1;
	}
	status = build_request(argc, argv, optind, &req);
	if (status) {
		(void)trace_fmt_end(tf, false);
		return status;
	}
	buf = malloc(REPLY_LINE_MAX);
	if (!buf) {
		fprintf(stderr, "devlifectl: out of memory\n");
		status = 2;
		goto out;
	}
	fd = connect_daemon(sock);
	if (fd < 0) {
		status = 2;
		goto out;
	}
	/* A refused write still leaves the daemon's reply to read. */
	(void)dl_host_send_all(fd, req, strlen(req));
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[optind], "monitor"))
		printf("monitor will print the received events for:\n"
		       "UDEV - the event which udev sends out after rule "
		       "processing\nKERNEL - the kernel uevent\n\n");
	status = read_reply(fd, buf, REPLY_LINE_MAX, tf);
out:
	/* JSON: the document, once the whole trace came */
	if (trace_fmt_end(tf, status == 0) < 0 && status == 0) {
		fprintf(stderr, "devlifectl: out of memory\n");
		status = 1;
	}
	if (fd >= 0)
		close(fd);
	free(req);
	free(buf);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "devlifectl: write error: %s\n", strerror(errno));
		return 1;
	}
	return status;
}
