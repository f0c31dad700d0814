/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small libudev program, as device-managing software uses libudev:
 * enumerate the PCI devices (printing "enum SYSNAME initialized=0|1"),
 * then listen on udev's group for pci events, printing "ready" once
 * listening and "ACTION SYSNAME SEQNUM" per event, until COUNT events
 * came (exit 0) or 10 s passed without one (exit 1).
 *
 *   udev-client COUNT
 */
#include <libudev.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int want = argc > 1 ? atoi(argv[1]) : 1;
	struct udev *u = udev_new();
	struct udev_enumerate *en = udev_enumerate_new(u);
	struct udev_list_entry *e;
	struct udev_monitor *m;

	setvbuf(stdout, NULL, _IOLBF, 0);
	udev_enumerate_add_match_subsystem(en, "pci");
	udev_enumerate_scan_devices(en);
	udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
		struct udev_device *d = udev_device_new_from_syspath(
			u, udev_list_entry_get_name(e));

		if (!d)
			continue;
		printf("enum %s initialized=%d\n", udev_device_get_sysname(d),
		       udev_device_get_is_initialized(d));
		udev_device_unref(d);
	}
	udev_enumerate_unref(en);
	m = udev_monitor_new_from_netlink(u, "udev");
	if (!m || udev_monitor_filter_add_match_subsystem_devtype(m, "pci",
								  NULL) < 0 ||
	    udev_monitor_enable_receiving(m) < 0) {
		printf("cannot listen\n");
		return 1;
	}
	printf("ready\n");
	while (want > 0) {
		struct pollfd p = { udev_monitor_get_fd(m), POLLIN, 0 };
		struct udev_device *d;

		if (poll(&p, 1, 10000) <= 0) {
			printf("timeout\n");
			return 1;
		}
		d = udev_monitor_receive_device(m);
		if (!d)
			continue;
		printf("%s %s %llu\n", udev_device_get_action(d),
		       udev_device_get_sysname(d),
		       (unsigned long long)udev_device_get_seqnum(d));
		udev_device_unref(d);
		want--;
	}
	udev_monitor_unref(m);
	udev_unref(u);
	return 0;
}
