/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devlife-demo: build a small device tree, run concurrent users on it and
 * remove devices under them, printing what happens. Uses only the public
 * API of libdevlife.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <devlife/devlife.h>

static const struct dl_device_type fn_type = { .name = "fn" };
static struct dl_tree *tree;
static atomic_bool stop;
static atomic_long reads_ok, reads_refused;

#define MSEC_PER_SEC 1000u
#define NSEC_PER_MSEC 1000000ull

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / MSEC_PER_SEC, (long)((ms % MSEC_PER_SEC) * NSEC_PER_MSEC) };

	nanosleep(&ts, NULL);
}

/* A user: look a device up, enter it, "read config" slowly, leave. */
static void *user(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;
	static const char *const names[] = { "0000:01:00.0", "0000:01:00.1",
					     "0000:01:00.0-vf0",
					     "0000:01:00.0-vf1", "0000:02:00.0" };

	while (!atomic_load(&stop)) {
		struct dl_device *dev;

		if (dl_device_lookup(tree, names[rand_r(&seed) % 5], &dev) < 0) {
			atomic_fetch_add(&reads_refused, 1);
			msleep(1);
			continue;
		}
		if (dl_device_enter_tagged(dev, "config-read") == 0) {
			usleep(200 + rand_r(&seed) % 800); /* a slow read */
			atomic_fetch_add(&reads_ok, 1);
			dl_device_exit(dev);
		} else {
			atomic_fetch_add(&reads_refused, 1);
		}
		dl_device_put(dev);
	}
	return NULL;
}

/* One read that takes 150 ms, like lspci on a slow device. */
static void *slow_reader(void *arg)
{
	struct dl_device *dev = arg;

	if (dl_device_enter_tagged(dev, "slow-config-read") == 0) {
		msleep(150);
		dl_device_exit(dev);
		printf("  [slow reader] read of %s completed with full data\n",
		       dl_device_name(dev));
	}
	return NULL;
}

/* A PF driver that enables two VFs in probe and disables them in remove. */
struct pf { struct dl_device *vf[2]; };

static int pf_probe(struct dl_driver *drv, struct dl_device *dev)
{
	struct pf *pf = calloc(1, sizeof(*pf));
	char name[DL_NAME_MAX + 1];

	if (!pf)
		return -ENOMEM;
	dl_device_set_drvdata(dev, pf);
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%s-vf%d", dl_device_name(dev), i);
		if (dl_device_new(tree, &fn_type, name, 0, &pf->vf[i]) == 0 &&
		    dl_device_add(pf->vf[i], dev) < 0)
			pf->vf[i] = dl_device_put(pf->vf[i]);
	}
	printf("  [pf driver] probe %s: enabled 2 VFs from probe\n",
	       dl_device_name(dev));
	return 0;
}

static void pf_remove(struct dl_driver *drv, struct dl_device *dev)
{
	struct pf *pf = dl_device_get_drvdata(dev);

	for (int i = 0; i < 2; i++) {
		if (!pf->vf[i])
			continue;
		dl_device_remove(pf->vf[i], DL_REMOVE_WAIT, DL_NO_TIMEOUT);
		dl_device_put(pf->vf[i]);
	}
	free(pf);
	printf("  [pf driver] remove %s: VFs disabled from remove\n",
	       dl_device_name(dev));
}

static bool pf_match(struct dl_driver *drv, struct dl_device *dev)
{
	const char *n = dl_device_name(dev);

	return strncmp(n, "0000:01:00.", 11) == 0 && !strstr(n, "-vf");
}

static const struct dl_driver_ops pf_ops = { .name = "demo-pf",
					     .match = pf_match,
					     .probe = pf_probe,
					     .remove = pf_remove };

static struct dl_device *add(const char *name, struct dl_device *parent)
{
	struct dl_device *dev;
	int r = dl_device_new(tree, &fn_type, name, 0, &dev);

	if (r == 0 && (r = dl_device_add(dev, parent)) < 0)
		dev = dl_device_put(dev);
	if (r < 0) {
		fprintf(stderr, "add %s: %s\n", name, strerror(-r));
		exit(1);
	}
	return dev;
}

static void report(struct dl_tree *t, const char *text, void *arg)
{
	printf("  [drain report] %s", text);
}

static void show(const char *what, int r)
{
	printf("%-58s -> %s\n", what, r == 0 ? "ok" : strerror(-r));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MSEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_MSEC;
}

/* A try-remove refused by a slow read in flight, then a wait-mode
 * removal that waits for it. */
static void eject_under_slow_read(struct dl_device *nvme)
{
	pthread_t slow;
	uint64_t t0;
	int r;

	pthread_create(&slow, NULL, slow_reader, nvme);
	msleep(20);
	show("try-remove 0000:02:00.0 while a slow read is in flight",
	     dl_device_remove(nvme, DL_REMOVE_TRY, DL_NO_TIMEOUT));
	t0 = now_ms();
	r = dl_device_remove(nvme, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	printf("%-58s -> %s after %llu ms\n",
	       "eject 0000:02:00.0 (wait mode: waits for the read)",
	       r == 0 ? "ok" : strerror(-r), (unsigned long long)(now_ms() - t0));
	pthread_join(slow, NULL);
}

/* The trace, oldest first, and the tree's counters. */
static void print_trace_and_stats(void)
{
	struct dl_trace_record rec[64];
	uint64_t cursor = 0;
	struct dl_tree_stats st;
	size_t n;

	printf("\ntrace (oldest first):\n");
	while ((n = dl_trace_read(tree, &cursor, rec, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			printf("  %8.3f ms  %-13s %-18s %d\n",
			       (double)(rec[i].ts_ns - rec[0].ts_ns) / 1e6,
			       dl_trace_event_name(rec[i].event), rec[i].name,
			       rec[i].arg);
	dl_tree_get_stats(tree, &st);
	printf("\nstats: %llu live, %llu adds, %llu removes, %llu refused "
	       "busy, %llu timed out\n",
	       (unsigned long long)st.devices_live,
	       (unsigned long long)st.adds, (unsigned long long)st.removes,
	       (unsigned long long)st.remove_busy,
	       (unsigned long long)st.remove_timeout);
}

int main(void)
{
	pthread_t users[4];
	struct dl_device *bus, *port1, *port2, *pf0, *pf1, *nvme, *late;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("devlife demo: a tree, four concurrent users, removals under "
	       "them.\n\n");
	if ((r = dl_tree_new(&tree)) < 0) {
		fprintf(stderr, "dl_tree_new: %s\n", strerror(-r));
		return 1;
	}
	dl_tree_set_drain_report(tree, 50 * NSEC_PER_MSEC, report, NULL);
	if ((r = dl_driver_register(tree, &pf_ops, NULL, NULL)) < 0) {
		fprintf(stderr, "dl_driver_register: %s\n", strerror(-r));
		return 1;
	}
	bus = add("pci0000:00", NULL);
	port1 = add("0000:00:01.0", bus);
	port2 = add("0000:00:02.0", bus);
	pf0 = add("0000:01:00.0", port1);
	pf1 = add("0000:01:00.1", port1);
	nvme = add("0000:02:00.0", port2);
	printf("built: pci0000:00 -> 2 root ports -> 2 PFs (2 VFs each) + "
	       "1 NVMe\n\n");

	for (int i = 0; i < 4; i++)
		pthread_create(&users[i], NULL, user, (void *)(uintptr_t)(i + 1));
	msleep(300);

	eject_under_slow_read(nvme);
	show("claim 0000:01:00.1 for vm1", dl_device_claim(pf1, "vm1", NULL,
							   NULL));
	show("try-remove 0000:01:00.1 while claimed",
	     dl_device_remove(pf1, DL_REMOVE_TRY, DL_NO_TIMEOUT));
	show("remove 0000:01:00.1 with a 100 ms deadline (claim held)",
	     dl_device_remove(pf1, DL_REMOVE_WAIT, 100 * NSEC_PER_MSEC));
	dl_device_unclaim(pf1);
	show("eject 0000:01:00.0 (wait mode: drains readers, VFs first)",
	     dl_device_remove(pf0, DL_REMOVE_WAIT, DL_NO_TIMEOUT));
	show("surprise-remove 0000:00:02.0 (fail in-flight I/O fast)",
	     dl_device_remove(port2, DL_REMOVE_SURPRISE, DL_NO_TIMEOUT));
	if (dl_device_new(tree, &fn_type, "0000:02:00.1", 0, &late) == 0) {
		show("add a child under the removed port", dl_device_add(late, port2));
		dl_device_put(late);
	}
	msleep(200);
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(users[i], NULL);
	printf("\nusers: %ld reads completed, %ld refused cleanly "
	       "(device gone or going)\n",
	       atomic_load(&reads_ok), atomic_load(&reads_refused));

	print_trace_and_stats();
	for (struct dl_device **d = (struct dl_device *[]){ bus, port1, port2,
							    pf0, pf1, nvme,
							    NULL };
	     *d; d++)
		dl_device_put(*d);
	dl_tree_free(tree);
	printf("tree freed.\n");
	return 0;
}
