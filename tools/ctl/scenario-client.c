/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"
#include "sendall.h"
#include "scenario-client.h"

int scen_request(const char *prog, const char *path, char **ret)
{
	FILE *f = fopen(path, "re");
	size_t len, need;
	char *req = NULL;
	int c;

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return SCEN_ERROR;
	}
	req = malloc(DL_HOST_LINE_MAX);
	if (!req) {
		fclose(f);
		fprintf(stderr, "%s: out of memory\n", prog);
		return SCEN_ERROR;
	}
	len = (size_t)snprintf(req, DL_HOST_LINE_MAX, "scenario ");
	for (const char *p = path; *p && len < 200; p++)
		req[len++] = strchr(" \t\r\n\\", *p) ? '_' : *p;
	req[len++] = ' ';
	while ((c = getc(f)) != EOF) {
		need = (c == '\n' || c == '\\') ? 2 : 1;
		if (len + need + 2 > DL_HOST_LINE_MAX) {
			fprintf(stderr, "%s: %s: a scenario is at most about %d bytes "
				"(the host channel's line)\n", prog, path,
				DL_HOST_LINE_MAX - 600);
			free(req);
			fclose(f);
			return SCEN_ERROR;
		}
		if (need == 2) {
			req[len++] = '\\';
			req[len++] = c == '\n' ? 'n' : '\\';
		} else {
			req[len++] = (char)c;
		}
	}
	fclose(f);
	req[len++] = '\n';
	req[len] = '\0';
	*ret = req;
	return 0;
}

int scen_connect(const char *prog, const char *sock, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(req);
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: socket path too long: %s\n", prog, sock);
		return -1;
	}
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s (is devlifed running?)\n",
			prog, sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* A failed send is a refusal: its reply is still there to read. */
	(void)dl_host_send_all(fd, req, n);
	return fd;
}

/* One line of the reply: 0 go on, 1 "loaded", 2 "ok", -1 an error. */
static int line(const char *prog, const char *l, FILE *out, unsigned *failed)
{
	unsigned int p, fl;

	if (l[0] == '.' && (l[1] == ' ' || !l[1])) {
		l += l[1] ? 2 : 1;
		fprintf(out, "%s\n", l);
		fflush(out);
		if (sscanf(l, "result %u passed, %u failed", &p, &fl) == 2)
			*failed = fl;
		return !strncmp(l, "loaded ", 7);
	}
	if (!strcmp(l, "ok"))
		return 2;
	if (!strncmp(l, "error ", 6))
		fprintf(stderr, "%s: %s\n", prog, l + 6);
	else
		fprintf(stderr, "%s: unexpected reply line: %.200s\n", prog, l);
	return -1;
}

int scen_report(const char *prog, int fd, FILE *out, int until_loaded)
{
	static char buf[DL_HOST_LINE_MAX];
	static size_t len;
	unsigned int failed = ~0u;

	for (;;) {
		char *nl;
		ssize_t got;

		while ((nl = memchr(buf, '\n', len))) {
			int r;

			*nl = '\0';
			r = line(prog, buf, out, &failed);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			if (r < 0)
				return SCEN_ERROR;
			if (r == 1 && until_loaded)
				return -1;
			if (r == 2)
				return failed == 0 ? SCEN_PASSED :
				       failed == ~0u ? SCEN_ERROR : SCEN_FAILED;
		}
		if (len == sizeof(buf)) {
			fprintf(stderr, "%s: reply line too long\n", prog);
			return SCEN_ERROR;
		}
		got = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			fprintf(stderr, "%s: devlifed closed the connection before "
				"the scenario's end\n", prog);
			return SCEN_ERROR;
		}
		len += (size_t)got;
	}
}
