/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife - lifetimes for trees of hot-pluggable devices.
 *
 * The umbrella header. Concepts:
 *   tree.h    a tree: registry, topology lock, trace, worker pool
 *   device.h  lifetime references (get/put), publication (add/lookup),
 *             active references (enter/exit), removal, the device lock
 *   driver.h  drivers, bind/unbind, probe/remove, online/offline
 *   work.h    deferred work bound to devices; ordered queues
 *   claim.h   exclusive claims negotiated by removal
 *   trace.h   the ring of lifecycle events
 *
 * Functions that can fail return 0 (or a positive value) on success and a
 * negative errno on failure; output parameters come last, named ret, and
 * are written only on success.
 *
 * The library and the rest of the process:
 *   - Signal handlers: no function of this library is async-signal-safe.
 *     A handler must not enter or exit a device (see dl_device_enter()),
 *     nor call anything else here.
 *   - Thread exit: a thread may exit a device from a thread-exit
 *     destructor (a pthread key's or a C11/C++ thread_local's) that runs
 *     after the library's own; a thread that ends still holding active
 *     references keeps them for ever (removals of those devices wait) and
 *     is reported on standard error.
 *   - fork(): in the child, the active references of every thread other
 *     than the one that called fork() are dropped (those threads do not
 *     exist there), so the child can remove devices they were inside. As
 *     for any multithreaded program, the child may use the library only
 *     if no other thread was inside one of its calls at the fork (a lock
 *     of a tree, a removal in progress); a removal that was running in
 *     another thread never finishes in the child. The parent is
 *     unchanged.
 */
#ifndef DEVLIFE_DEVLIFE_H
#define DEVLIFE_DEVLIFE_H

#include <devlife/tree.h>
#include <devlife/device.h>
#include <devlife/driver.h>
#include <devlife/work.h>
#include <devlife/claim.h>
#include <devlife/trace.h>

#define DEVLIFE_VERSION_MAJOR 0
#define DEVLIFE_VERSION_MINOR 1

#endif
