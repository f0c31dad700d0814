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
 * wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: devlifectl [-s SOCKET] COMMAND [ARGS...]\n"
		"\n"
		"Commands (see 'devlifectl help' and docs/host-protocol.md):\n"
		"  help | tree | stats | trace [--follow]\n"
		"  add DBDF key=value... | eject DBDF | surprise DBDF\n"
		"  relations BUS [DBDF...] | error DBDF\n"
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
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Handle one reply line; 0 to go on, 1 for ok, -1 for error, -2 for a
 * line that is not the protocol. */
static int reply_line(const char *line)
{
	if (line[0] == '.' && (line[1] == ' ' || line[1] == '\0')) {
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("DEVLIFE_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *req = NULL, *buf = NULL;
	size_t reqlen = 0, len = 0, cap = 65536;
	int c, fd = -1, status = -3;

	if (!sock || !sock[0])
		sock = DL_HOST_DEFAULT_SOCKET;
	/* '+': options end at the command (its arguments are its own) */
	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
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
	for (int i = optind; i < argc; i++) {
		const char *a = argv[i];

		if (!a[0] || strpbrk(a, " \t\r\n")) {
			fprintf(stderr,
				"devlifectl: argument %d ('%s') is empty or contains "
				"white space\n",
				i - optind + 1, a);
			return 2;
		}
		if (i > optind && !strcmp(argv[optind], "trace") &&
		    !strcmp(a, "--follow"))
			a = "follow";
		reqlen += strlen(a) + 1;
	}
	req = malloc(reqlen + 1);
	buf = malloc(cap);
	if (!req || !buf) {
		fprintf(stderr, "devlifectl: out of memory\n");
		status = 2;
		goto out;
	}
	req[0] = '\0';
	for (int i = optind; i < argc; i++) {
		const char *a = argv[i];

		if (i > optind && !strcmp(argv[optind], "trace") && !strcmp(a, "--follow"))
			a = "follow";
		if (i > optind)
			strcat(req, " ");
		strcat(req, a);
	}
	strcat(req, "\n");

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "devlifectl: socket path too long: %s\n", sock);
		status = 2;
		goto out;
	}
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "devlifectl: cannot connect to %s: %s (is devlifed running?)\n",
			sock, strerror(errno));
		status = 2;
		goto out;
	}
	/* A refused write still leaves the daemon's reply to read. */
	(void)write_all(fd, req, strlen(req));
	setvbuf(stdout, NULL, _IOLBF, 0);

	while (status == -3) {
		char *nl;
		ssize_t got;

		while (status == -3 && (nl = memchr(buf, '\n', len))) {
			int r;

			*nl = '\0';
			r = reply_line(buf);
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
		}
		else {
			len += (size_t)got;
		}
	}
out:
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
