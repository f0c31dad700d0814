/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Uevents as the kernel and udev send them.
 *
 * A struct dl_uevent is one event's environment, built as the kernel's
 * kobject_uevent_env() builds it (lib/kobject_uevent.c): ACTION, DEVPATH,
 * SUBSYSTEM first, then what the device core and the bus add
 * (drivers/base/core.c dev_uevent(): DRIVER; drivers/pci/pci-driver.c
 * pci_uevent(): PCI_CLASS ... MODALIAS), then the caller's extra
 * variables. SEQNUM is not part of it: the kernel stamps it.
 *
 * Two wire formats:
 *  - the kernel's: "ACTION@DEVPATH\0" then "KEY=VALUE\0" for each
 *    variable; sent to the kernel through NETLINK_KOBJECT_UEVENT (see
 *    netlink.c), which appends SEQNUM and broadcasts it on group 1 from
 *    port 0 (uevent_net_rcv_skb(), uevent_net_broadcast());
 *  - udev's (systemd src/libsystemd/sd-device/device-monitor.c,
 *    device_monitor_send_device()): a 40-byte header ("libudev\0", the
 *    magic 0xfeedcafe, header size, properties offset and length,
 *    MurmurHash2 of SUBSYSTEM and DEVTYPE and a 64-bit bloom filter of
 *    the tags, all big-endian) followed by the properties, on group 2.
 *
 * Everything here is pure (no I/O): the builders, the two encoders and a
 * decoder of either format (for listeners and tests).
 */
#ifndef DEVLIFE_UEVENT_UEVENT_H
#define DEVLIFE_UEVENT_UEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's limit for one event's environment (include/linux/kobject.h
 * UEVENT_BUFFER_SIZE), which uevent_net_broadcast() also applies to an
 * injected message. */
#define DL_UEVENT_BUFFER_SIZE 2048

/* Netlink multicast groups of NETLINK_KOBJECT_UEVENT as sd-device names
 * them (MONITOR_GROUP_KERNEL, MONITOR_GROUP_UDEV). */
#define DL_UEVENT_GROUP_KERNEL 1
#define DL_UEVENT_GROUP_UDEV 2

/* systemd's UDEV_MONITOR_MAGIC. */
#define DL_UEVENT_UDEV_MAGIC 0xfeedcafeu

/* Size of udev's header (struct monitor_netlink_header). */
#define DL_UEVENT_UDEV_HEADER_SIZE 40

/**
 * struct dl_uevent - one event's environment
 * @buf: "KEY=VALUE\0" strings, in the order they were added
 * @len: bytes used in @buf
 * @nvars: number of variables
 */
struct dl_uevent {
	char buf[DL_UEVENT_BUFFER_SIZE];
	size_t len;
	unsigned int nvars;
};

/**
 * dl_uevent_init() - start an event: ACTION, DEVPATH, SUBSYSTEM
 * @ev: the event to fill
 * @action: "add", "remove", "change", "bind", "unbind", "online",
 *          "offline", "move" (kobject_action_type()'s names)
 * @devpath: the path under /sys, starting with '/' ("/devices/...")
 * @subsystem: "pci", "mdev", ...
 *
 * Context: any thread.
 * Return: 0, -EINVAL (unknown action, devpath not starting with '/'), or
 * -ENOMEM when the buffer is full (as add_uevent_var()).
 */
int dl_uevent_init(struct dl_uevent *ev, const char *action,
		   const char *devpath, const char *subsystem);

/**
 * dl_uevent_add() - append a variable "KEY=VALUE"
 * @ev: the event
 * @fmt: printf format of the whole "KEY=VALUE" string
 *
 * Context: any thread.
 * Return: 0, or -ENOMEM when it does not fit (nothing is added).
 */
int dl_uevent_add(struct dl_uevent *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * dl_uevent_get() - the value of a variable
 * @ev: the event
 * @key: its name, without '='
 * Context: any thread.
 * Return: a pointer into @ev, or NULL if absent.
 */
const char *dl_uevent_get(const struct dl_uevent *ev, const char *key);

/**
 * dl_uevent_action_valid() - whether @action is one of the kernel's
 * @action: the word, not NUL-terminated
 * @len: its length
 * Context: any thread.
 * Return: true for add, remove, change, move, online, offline, bind,
 * unbind (lib/kobject_uevent.c kobject_actions[]).
 */
bool dl_uevent_action_valid(const char *action, size_t len);

/**
 * dl_uevent_synth_parse() - parse a write to a `uevent` file
 * @buf: "ACTION[ UUID[ KEY=VALUE...]]", a trailing newline or NUL allowed
 * @len: its length
 * @action: where to store the action (at least 8 bytes + NUL)
 * @vars: the variables to add after SUBSYSTEM: "SYNTH_UUID=0" without a
 *        UUID, else "SYNTH_UUID=UUID" and "SYNTH_ARG_KEY=VALUE" for
 *        each pair (keys and values alphanumeric)
 *
 * As lib/kobject_uevent.c kobject_synth_uevent(), kobject_action_type()
 * and kobject_action_args().
 *
 * Context: any thread.
 * Return: 0, or -EINVAL (unknown action, bad UUID or pair).
 */
int dl_uevent_synth_parse(const char *buf, size_t len, char action[9],
			  struct dl_uevent *vars);

/**
 * dl_uevent_kernel_msg() - the message the kernel broadcasts, minus SEQNUM
 * @ev: the event
 * @buf: where to write "ACTION@DEVPATH\0KEY=VALUE\0..."
 * @len: room in @buf
 * Context: any thread.
 * Return: the message's length, -EINVAL (no ACTION/DEVPATH), or
 * -ENOBUFS if @len is too small.
 */
int dl_uevent_kernel_msg(const struct dl_uevent *ev, char *buf, size_t len);

/**
 * dl_uevent_udev_msg() - the message udev broadcasts on group 2
 * @ev: the event, SEQNUM and udev's own properties included (udev copies
 *      the kernel's SEQNUM; see dl_uevent_add())
 * @buf: where to write the header then the properties
 * @len: room in @buf
 *
 * The header carries MurmurHash2 (seed 0) of SUBSYSTEM and of DEVTYPE (0
 * when absent) and the bloom filter of the words of TAGS, big-endian, as
 * device_monitor_send_device() fills them.
 *
 * Context: any thread.
 * Return: the message's length, -EINVAL (no SUBSYSTEM), or -ENOBUFS.
 */
int dl_uevent_udev_msg(const struct dl_uevent *ev, void *buf, size_t len);

/**
 * dl_uevent_parse() - decode a message of either format
 * @msg: the message as received from a NETLINK_KOBJECT_UEVENT socket
 * @len: its length
 * @ev: where to store the variables (SEQNUM included)
 * @ret_udev: set to whether it was udev's format
 *
 * Checks what sd-device checks (device_monitor_receive_device()): udev's
 * prefix and magic and the properties' offset, or the kernel's
 * "ACTION@/DEVPATH" header; and that ACTION, DEVPATH and SUBSYSTEM are
 * present.
 *
 * Context: any thread.
 * Return: 0, or -EINVAL for a malformed message.
 */
int dl_uevent_parse(const void *msg, size_t len, struct dl_uevent *ev,
		    bool *ret_udev);

/**
 * dl_uevent_hash32() - MurmurHash2 of a string, seed 0
 * @s: the string
 * Context: any thread. Return: the hash (systemd's string_hash32()).
 */
uint32_t dl_uevent_hash32(const char *s);

/**
 * dl_uevent_bloom64() - the 4 bits a tag sets in udev's tag filter
 * @s: the tag
 * Context: any thread. Return: the bits (systemd's string_bloom64()).
 */
uint64_t dl_uevent_bloom64(const char *s);

#endif
