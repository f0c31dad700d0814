/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udev's database, as udev keeps it under /run/udev for libudev and
 * sd-device readers (systemd src/libsystemd/sd-device/device-private.c
 * device_update_db(); read back by device_read_db_internal()): one file
 * per device, data/+SUBSYSTEM:SYSNAME for devices without a device
 * number (device_get_device_id()), with "I:USEC_INITIALIZED", an "E:"
 * line per property udev added, "V:1" (the database version). A device
 * with a file is "initialized" for sd_device_get_is_initialized() and
 * udevadm info prints its I: and E: lines.
 */
#ifndef DEVLIFE_UEVENT_UDEVDB_H
#define DEVLIFE_UEVENT_UDEVDB_H

#include "uevent.h"

/**
 * dl_udevdb_init() - create DIR/data, and DIR/control (sd-device listens
 * on udev's group only when it exists, device_monitor_new_full())
 * @dir: the database's directory ("/run/udev")
 * Context: any thread.
 * Return: 0, or a negative errno.
 */
int dl_udevdb_init(const char *dir);

/**
 * dl_udevdb_update() - what udev does to the database for an event
 * @dir: the database's directory
 * @ev: udev's copy of the event (USEC_INITIALIZED in it)
 *
 * "remove" deletes the device's file; any other action writes it anew
 * (through a temporary file and a rename, as udev does, so a reader
 * never sees half of it).
 *
 * Context: one thread at a time per device.
 * Return: 0, or a negative errno.
 */
int dl_udevdb_update(const char *dir, const struct dl_uevent *ev);

#endif
