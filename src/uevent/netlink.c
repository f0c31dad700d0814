/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sending uevents through the kernel, and listening to them (netlink.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"

/* Room for one message of either format. */
#define MSG_MAX (DL_UEVENT_BUFFER_SIZE + 1024)

struct dl_uevent_sock {
	int fd; /* bound to group 1: reads back the kernel's broadcast */
	char tx[NLMSG_HDRLEN + MSG_MAX];
	char rx[MSG_MAX];
};

int dl_uevent_sock_open(struct dl_uevent_sock **ret)
{
	struct dl_uevent_sock *s = calloc(1, sizeof(*s));
	int fd;

	if (!s)
		return -ENOMEM;
	fd = dl_uevent_listen(DL_UEVENT_GROUP_KERNEL);
	if (fd < 0) {
		free(s);
		return fd;
	}
	s->fd = fd;
	*ret = s;
	return 0;
}

void dl_uevent_sock_close(struct dl_uevent_sock *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

int dl_uevent_listen(unsigned int group)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = group };
	int one = 1, fd, size = 4 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	/* Credentials: sd-device drops messages without them. A big
	 * receive buffer, as udevd's (a burst of VFs is thousands of
	 * events); SO_RCVBUFFORCE needs CAP_NET_ADMIN, plain is capped. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) <
		     0 &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* One datagram, with the sender's address and credentials. */
static ssize_t recv_one(int fd, void *buf, size_t len,
			struct dl_uevent_from *from, int flags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct sockaddr_nl sa = { 0 };
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = &ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(fd, &mh, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	from->port = sa.nl_pid;
	from->group = sa.nl_groups;
	from->uid = -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_CREDENTIALS) {
		struct ucred cr;

		memcpy(&cr, CMSG_DATA(c), sizeof(cr));
		from->uid = cr.uid;
	}
	return n;
}

/*
 * After the sendmsg, the kernel has already broadcast the message (to
 * this socket too) and queued its acknowledgement: netlink_rcv_skb()
 * calls uevent_net_rcv_skb() and then netlink_ack() inside the send.
 * Read until the acknowledgement; the broadcast carrying our message
 * gives the SEQNUM.
 */
static int read_back(struct dl_uevent_sock *s, const char *msg, size_t len,
		     uint64_t *ret_seqnum)
{
	bool seen = false;

	for (;;) {
		struct dl_uevent_from from;
		ssize_t n = recv_one(s->fd, s->rx, sizeof(s->rx), &from,
				     MSG_DONTWAIT);

		if (n == -EAGAIN)
			return seen ? 0 : -EIO;
		if (n < 0)
			return (int)n;
		if (from.port != 0)
			continue;
		if (from.group == 0 && (size_t)n >= NLMSG_HDRLEN) {
			struct nlmsghdr nh;
			struct nlmsgerr e;

			memcpy(&nh, s->rx, sizeof(nh));
			if (nh.nlmsg_type != NLMSG_ERROR ||
			    (size_t)n < NLMSG_HDRLEN + sizeof(e))
				continue;
			memcpy(&e, s->rx + NLMSG_HDRLEN, sizeof(e));
			if (e.error)
				return e.error;
			return seen ? 0 : -EIO;
		}
		/* Ours: the same bytes, then "SEQNUM=N\0". */
		if (!seen && (size_t)n > len + 7 && !memcmp(s->rx, msg, len) &&
		    !memcmp(s->rx + len, "SEQNUM=", 7) && s->rx[n - 1] == '\0') {
			*ret_seqnum = strtoull(s->rx + len + 7, NULL, 10);
			seen = true;
		}
	}
}

int dl_uevent_send_kernel(struct dl_uevent_sock *s, const struct dl_uevent *ev,
			  uint64_t *ret_seqnum)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsghdr nh = { 0 };
	char *msg = s->tx + NLMSG_HDRLEN;
	int len = dl_uevent_kernel_msg(ev, msg, MSG_MAX);
	uint64_t seq = 0;
	ssize_t n;
	int r;

	if (len < 0)
		return len;
	nh.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + (size_t)len);
	nh.nlmsg_type = NLMSG_MIN_TYPE;
	nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	memcpy(s->tx, &nh, sizeof(nh));
	do
		n = sendto(s->fd, s->tx, nh.nlmsg_len, 0,
			   (struct sockaddr *)&kernel, sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r = read_back(s, msg, (size_t)len, &seq);
	if (r < 0)
		return r;
	if (ret_seqnum)
		*ret_seqnum = seq;
	return 0;
}

int dl_uevent_send_udev(struct dl_uevent_sock *s, const struct dl_uevent *ev)
{
	struct sockaddr_nl udev = { .nl_family = AF_NETLINK,
				    .nl_groups = DL_UEVENT_GROUP_UDEV };
	int len = dl_uevent_udev_msg(ev, s->tx, sizeof(s->tx));
	ssize_t n;

	if (len < 0)
		return len;
	do
		n = sendto(s->fd, s->tx, (size_t)len, 0,
			   (struct sockaddr *)&udev, sizeof(udev));
	while (n < 0 && errno == EINTR);
	/* As device_monitor_send_device(): a multicast with no listener
	 * may report ECONNREFUSED. */
	if (n < 0 && errno != ECONNREFUSED)
		return -errno;
	return 0;
}

int dl_uevent_send(struct dl_uevent_sock *s, const struct dl_uevent *ev,
		   uint64_t usec_initialized, const char *extra,
		   size_t extra_len, uint64_t *ret_seqnum)
{
	struct dl_uevent u;
	uint64_t seq;
	int r = dl_uevent_send_kernel(s, ev, &seq);

	if (r < 0)
		return r;
	if (ret_seqnum)
		*ret_seqnum = seq;
	/* udev's properties: the kernel's, SEQNUM, then what udev adds
	 * (udev_event_execute_rules() keeps the kernel's order). */
	u = *ev;
	if (dl_uevent_add(&u, "SEQNUM=%" PRIu64, seq) ||
	    dl_uevent_add(&u, "USEC_INITIALIZED=%" PRIu64, usec_initialized))
		return -ENOMEM;
	if (extra_len) {
		if (extra_len > sizeof(u.buf) - u.len)
			return -ENOMEM;
		memcpy(u.buf + u.len, extra, extra_len);
		u.len += extra_len;
	}
	return dl_uevent_send_udev(s, &u);
}

int dl_uevent_recv(int fd, struct dl_uevent *ev, bool *ret_udev,
		   struct dl_uevent_from *from, int timeout_ms)
{
	struct dl_uevent_from f;
	char buf[MSG_MAX];
	ssize_t n;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		break;
	}
	n = recv_one(fd, buf, sizeof(buf), &f, 0);
	if (n < 0)
		return (int)n;
	if (from)
		*from = f;
	return dl_uevent_parse(buf, (size_t)n, ev, ret_udev);
}
