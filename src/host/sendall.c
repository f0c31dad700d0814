// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <sys/socket.h>

#include "sendall.h"

int dl_host_send_all(int fd, const char *p, size_t n)
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
