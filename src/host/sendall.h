/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing a whole buffer to the host channel's stream socket, for the
 * server and its clients alike.
 */
#ifndef DEVLIFE_HOST_SENDALL_H
#define DEVLIFE_HOST_SENDALL_H

#include <stddef.h>

/* Send all @n bytes of @p on the stream socket @fd, retrying short sends
 * and EINTR, never raising SIGPIPE (MSG_NOSIGNAL). 0, or the negative
 * errno of the send that failed (-EPIPE once the peer is gone). */
int dl_host_send_all(int fd, const char *p, size_t n);

#endif
