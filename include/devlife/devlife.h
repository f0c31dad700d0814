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
