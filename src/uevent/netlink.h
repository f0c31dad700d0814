/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sending uevents through the kernel, and listening to them.
 *
 * A process with CAP_SYS_ADMIN over its network namespace's owning user
 * namespace may send a message to the kernel's NETLINK_KOBJECT_UEVENT
 * socket: lib/kobject_uevent.c uevent_net_rcv_skb() checks that
 * capability, and uevent_net_broadcast() appends "SEQNUM=N" from the
 * kernel's own counter and broadcasts the message on group 1 of that
 * namespace only, from port 0 — exactly as it sends its own events, so
 * libudev and sd-device (which accept kernel-group messages only from
 * port 0 with uid 0 credentials) take it for the kernel's. The message
 * travels in a netlink message of a type >= NLMSG_MIN_TYPE with
 * NLM_F_REQUEST (netlink_rcv_skb() acknowledges and drops the others).
 *
 * udev then sends its own copy on group 2; sending to a multicast group
 * needs CAP_NET_ADMIN over the namespace (net/netlink/af_netlink.c
 * netlink_sendmsg(): NETLINK_KOBJECT_UEVENT allows non-root receivers
 * only).
 *
 * Both hold in a private network namespace made with a user namespace
 * (unshare -Urn): the sender is root there. A private network namespace
 * hears no uevent of the host's devices.
 */
#ifndef DEVLIFE_UEVENT_NETLINK_H
#define DEVLIFE_UEVENT_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "uevent.h"

struct dl_uevent_sock;

/**
 * dl_uevent_sock_open() - a sender in the caller's network namespace
 * @ret: where to store it
 * Context: any thread.
 * Return: 0, or a negative errno from socket()/bind().
 */
int dl_uevent_sock_open(struct dl_uevent_sock **ret);

/**
 * dl_uevent_sock_close() - close and free
 * @s: the sender, or NULL
 */
void dl_uevent_sock_close(struct dl_uevent_sock *s);

/**
 * dl_uevent_send_kernel() - have the kernel broadcast @ev on group 1
 * @s: the sender
 * @ev: the event (without SEQNUM)
 * @ret_seqnum: the SEQNUM the kernel stamped, read back from the
 *              broadcast itself
 *
 * Context: one thread at a time per sender; blocks only in the sendmsg
 * (the kernel broadcasts inside it).
 * Return: 0; -EPERM (no CAP_SYS_ADMIN over the namespace); -EINVAL (the
 * kernel refused it, e.g. too big); -EIO (no broadcast came back).
 */
int dl_uevent_send_kernel(struct dl_uevent_sock *s, const struct dl_uevent *ev,
			  uint64_t *ret_seqnum);

/**
 * dl_uevent_send_udev() - broadcast udev's copy on group 2
 * @s: the sender
 * @ev: the event with the properties udev adds (SEQNUM,
 *      USEC_INITIALIZED, ...)
 * Context: one thread at a time per sender.
 * Return: 0 (no listener is not an error), or a negative errno (-EPERM
 * without CAP_NET_ADMIN over the namespace).
 */
int dl_uevent_send_udev(struct dl_uevent_sock *s, const struct dl_uevent *ev);

/**
 * dl_uevent_send() - both, as on Linux: the kernel's then udev's
 * @s: the sender
 * @ev: the event; SEQNUM from the kernel and USEC_INITIALIZED are added
 *      to udev's copy, then @extra (a "KEY=VALUE\0..." block of udev's
 *      own properties, may be NULL)
 * @usec_initialized: udev's USEC_INITIALIZED for the device (the
 *                    CLOCK_MONOTONIC microsecond it was first seen)
 * @extra: see above
 * @extra_len: its length
 * @ret_seqnum: the kernel's SEQNUM, or NULL
 * Context: one thread at a time per sender.
 * Return: 0 or a negative errno as the two above.
 */
int dl_uevent_send(struct dl_uevent_sock *s, const struct dl_uevent *ev,
		   uint64_t usec_initialized, const char *extra,
		   size_t extra_len, uint64_t *ret_seqnum);

/**
 * dl_uevent_listen() - a listener socket on @group, credentials on
 * @group: DL_UEVENT_GROUP_KERNEL or DL_UEVENT_GROUP_UDEV
 * Context: any thread.
 * Return: the fd (close it), or a negative errno.
 */
int dl_uevent_listen(unsigned int group);

/**
 * struct dl_uevent_from - who sent a received message
 * @port: the sender's netlink port (0: the kernel)
 * @group: the multicast group it came on
 * @uid: the sender's uid, as seen in this user namespace (-1: none)
 */
struct dl_uevent_from {
	uint32_t port;
	uint32_t group;
	int64_t uid;
};

/**
 * dl_uevent_recv() - receive and decode one message
 * @fd: from dl_uevent_listen()
 * @ev: the decoded event
 * @ret_udev: whether it was udev's format
 * @from: the sender, or NULL
 * @timeout_ms: how long to wait, -1 for ever
 * Context: any thread.
 * Return: 0; -ETIMEDOUT; -EINVAL (malformed); or a negative errno.
 */
int dl_uevent_recv(int fd, struct dl_uevent *ev, bool *ret_udev,
		   struct dl_uevent_from *from, int timeout_ms);

#endif
