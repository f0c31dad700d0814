/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A statically linked program that walks /sys/bus/pci/devices and prints
 * "NAME VENDOR DEVICE" per function: what a program that no LD_PRELOAD
 * reaches sees (devlife-run's tests run it inside and outside).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

static void read_id(const char *dev, const char *attr, char *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, attr);
	f = fopen(path, "r");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "?");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

int main(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	char vendor[32], device[32];

	if (!d) {
		perror("/sys/bus/pci/devices");
		return 1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		read_id(e->d_name, "vendor", vendor, sizeof(vendor));
		read_id(e->d_name, "device", device, sizeof(device));
		printf("%s %s %s\n", e->d_name, vendor, device);
	}
	closedir(d);
	return 0;
}
