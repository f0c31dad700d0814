/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel's event stream (`monitor`): the uevents the daemon
 * sends, for clients that cannot listen on netlink (no namespace of
 * their own). Each event comes as one data line per copy, the kernel's
 * then udev's:
 *
 *   . uevent KERNEL KEY=VALUE KEY=VALUE ...
 *   . uevent UDEV KEY=VALUE ...
 *
 * A monitor that does not keep up loses events rather than slowing the
 * daemon: up to DL_HOST_MONITOR_BUFFER lines wait per client, then
 * ". dropped N events (the reader is too slow)".
 */
#ifndef DEVLIFE_HOST_MONITOR_H
#define DEVLIFE_HOST_MONITOR_H

#include <stddef.h>

#define DL_HOST_MONITOR_BUFFER 4096

struct dl_host_monitor;

/**
 * dl_host_monitor_new() - an empty set of monitoring clients
 * @ret: where to store it
 * Context: any thread.
 * Return: 0 or -ENOMEM.
 */
int dl_host_monitor_new(struct dl_host_monitor **ret);

/**
 * dl_host_monitor_free() - free it (no client may be running)
 * @m: the set, or NULL
 * Context: after every dl_host_monitor_run() returned.
 */
void dl_host_monitor_free(struct dl_host_monitor *m);

/**
 * dl_host_monitor_publish() - queue one copy of an event for every client
 * @m: the set
 * @source: "KERNEL" or "UDEV"
 * @vars: "KEY=VALUE\0..." as the event carries them
 * @len: length of @vars
 * Context: any thread; never blocks (a full client counts a drop).
 */
void dl_host_monitor_publish(struct dl_host_monitor *m, const char *source,
			     const char *vars, size_t len);

/**
 * dl_host_monitor_run() - stream events to a client until it leaves
 * @m: the set
 * @fd: the client's connection
 * Context: the connection's thread; blocks until the client closes or
 * the connection is shut down.
 * Return: 0 when the client left, or a negative errno.
 */
int dl_host_monitor_run(struct dl_host_monitor *m, int fd);

#endif
