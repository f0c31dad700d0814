/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel server (docs/host-protocol.md): a Unix stream socket,
 * owner-only, over which the hypervisor side adds, ejects and
 * surprise-removes functions, announces bus relations, injects errors and
 * reads the tree, the statistics and the trace.
 *
 * One accept thread and one thread per connection (at most
 * DL_HOST_MAX_CLIENTS at once). Each request line gets zero or more data
 * lines starting with ". " and a final "ok" or "error ENAME message".
 * Hot-plug requests go through dl_pci_platform_host(), so the events of
 * one bus run in order on that bus's queue.
 */
#ifndef DEVLIFE_HOST_SERVER_H
#define DEVLIFE_HOST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct dl_pci_platform;
struct dl_host_server;

/** Where devlifed listens and devlifectl connects unless told otherwise
 * ($DEVLIFE_SOCKET overrides it for devlifectl). */
#define DL_HOST_DEFAULT_SOCKET "/run/devlife/devlifed.sock"

/** Most connections served at once; more are told "error EBUSY". */
#define DL_HOST_MAX_CLIENTS 32

/** Trace events a following connection may have waiting before new ones
 * are dropped (and counted). */
#define DL_HOST_FOLLOW_BUFFER 1024

/**
 * dl_host_server_new() - listen on a Unix socket and serve the protocol
 * @plat: the platform to drive; must outlive the server
 * @path: the socket's path (at most 107 bytes). Its directory must exist.
 *        An existing socket nobody listens on is replaced; anything else
 *        at @path is refused.
 * @ret: where to store the server
 *
 * The socket is created with mode 0600 (the umask is narrowed around
 * bind(), then the mode is set again with chmod()). Peers are checked
 * with SO_PEERCRED: only root and the server's own effective uid are
 * served; others get one "error EACCES ..." line and are closed.
 *
 * Context: any thread; starts the accept thread and registers one trace
 * watcher on the platform's tree. Changes the process umask for the
 * duration of bind().
 * Ownership: on success the caller owns the server (dl_host_server_free()).
 * On failure nothing is left behind (no thread, no socket file).
 * Return: 0; -EINVAL; -ENAMETOOLONG; -EEXIST (@path exists and is not a
 * socket); -EADDRINUSE (a server is listening there); -ENOMEM; or the
 * negative errno of socket(), bind(), listen() or thread creation.
 */
int dl_host_server_new(struct dl_pci_platform *plat, const char *path,
		       struct dl_host_server **ret);

/**
 * dl_host_server_free() - stop serving and release everything
 * @s: the server, or NULL
 *
 * Stops accepting, shuts every connection down (a request already being
 * handled, such as an eject waiting for a reader, is finished first),
 * joins every thread, removes the trace watcher and unlinks the socket.
 *
 * Context: any thread but the server's own; blocks until the threads are
 * gone.
 */
void dl_host_server_free(struct dl_host_server *s);

/**
 * dl_host_server_set_settle() - what a host event waits for before its reply
 * @s: the server
 * @fn: called after each host event (add, eject, surprise, relations,
 *      error), whether it succeeded or not, before the reply is sent;
 *      NULL for none
 * @arg: its argument
 *
 * devlifed passes dl_fs_sync(), so that `devlifectl eject` returns once
 * no process can see the function any more, as a sysfs write does.
 *
 * Context: any thread; applies to the requests handled afterwards.
 */
void dl_host_server_set_settle(struct dl_host_server *s, void (*fn)(void *),
			       void *arg);

/**
 * typedef dl_host_scenario_fn - runs a scenario for the `scenario` command
 * @arg: as given to dl_host_server_set_scenario()
 * @name: the file's name the client gave, for messages
 * @text: the scenario's text, @len bytes
 * @emit: call with each report line; it reaches the client at once
 * @emit_arg: its argument
 * @err: where to put a bad file's "NAME:LINE: message"
 * @errlen: its size
 * Return: failed assertions (0 or more), or a negative errno (@err set).
 */
typedef int (*dl_host_scenario_fn)(void *arg, const char *name,
				   const char *text, size_t len,
				   void (*emit)(void *, const char *),
				   void *emit_arg, char *err, size_t errlen);

/**
 * dl_host_server_set_scenario() - who runs `scenario` requests
 * @s: the server
 * @fn: the runner (devlifed: dl_scen_host_run()), or NULL (the command
 *      is then refused with EOPNOTSUPP)
 * @arg: its argument
 *
 * Context: any thread; applies to the requests handled afterwards.
 */
void dl_host_server_set_scenario(struct dl_host_server *s,
				 dl_host_scenario_fn fn, void *arg);

/**
 * dl_host__server_set_peer_policy() - change who may connect (tests)
 * @s: the server
 * @uid: the uid served besides root
 * @allow_root: whether root is served
 *
 * Context: any thread; applies to connections accepted afterwards.
 */
void dl_host__server_set_peer_policy(struct dl_host_server *s, uid_t uid,
				     bool allow_root);

struct dl_host_monitor;

/**
 * dl_host_server_set_monitor() - serve `monitor` from this event stream
 * @s: the server
 * @m: the stream (monitor.h), which must outlive the server
 *
 * Without it `monitor` answers ENOTSUP.
 *
 * Context: any thread; takes the server's lock.
 */
void dl_host_server_set_monitor(struct dl_host_server *s,
				struct dl_host_monitor *m);

#endif
