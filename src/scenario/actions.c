/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a scenario makes the tree do: host events (eject, surprise, bus
 * relations, error), a sysfs-style removal, an sriov_numvfs store. Each
 * runs in a thread of its own, so that a step or an operation that starts
 * one goes on at once: an eject waiting for a held read must not hold up
 * the step that releases it. Every thread is joined at the end of the
 * run, after the held operations went on.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <devlife/devlife.h>

#include "engine-internal.h"
#include "platform.h"
#include "sysfs.h"

static int host_event(struct engine *e, const struct dl_scen_action *a,
		      enum dl_pci_host_event ev, char *msg, size_t len)
{
	const char *kv[DL_SCEN_DEVS_MAX + 1] = { 0 };
	unsigned int d, b, s = 0, f = 0;

	if (ev == DL_PCI_HOST_RELATIONS) {
		if (sscanf(a->devs[0], "%x:%x", &d, &b) != 2)
			return -EINVAL;
		for (unsigned int i = 1; i < a->ndevs; i++)
			kv[i - 1] = a->devs[i];
	} else if (sscanf(a->devs[0], "%x:%x:%x.%x", &d, &b, &s, &f) != 4) {
		return -EINVAL;
	}
	return dl_pci_platform_host(e->env.plat, ev, d, (uint8_t)b,
				    (uint8_t)((s << 3) | f), kv, msg, len);
}

/* `echo 1 > remove`, exactly as the view's store does it: from inside
 * the device's active section (dl_device_remove_self()), or, when its
 * removal has begun, waiting until it is gone (kernfs_remove_self()). */
static int remove_dev(struct engine *e, const char *name)
{
	struct dl_device *dev;
	int r = dl_device_lookup(e->env.tree, name, &dev);

	if (r < 0)
		return r;
	if (dl_device_enter_tagged(dev, "remove") == 0)
		r = dl_device_remove_self(dev, DL_REMOVE_WAIT);
	else
		r = dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	dl_device_put(dev);
	return r;
}

/* `echo N > sriov_numvfs`: inside the PF's active section, as sysfs. */
static int numvfs(struct engine *e, const char *name, unsigned int n)
{
	struct dl_device *dev;
	int r = dl_device_lookup(e->env.tree, name, &dev);

	if (r < 0)
		return r;
	if (dl_device_enter_tagged(dev, "sriov_numvfs") < 0) {
		r = -ENODEV;
	} else {
		r = dl_pci_platform_sriov_numvfs(e->env.plat, dev, n);
		dl_device_exit(dev);
	}
	dl_device_put(dev);
	return r;
}

static void *act_main(void *arg)
{
	struct act_thread *t = arg;
	const struct dl_scen_action *a = t->a;
	struct engine *e = t->e;

	(void)dl_trace_note(e->env.tree, a->devs[0], DL_EV_SCEN_FIRE,
			    (int32_t)a->line);
	switch (a->act) {
	case DL_SCEN_EJECT:
		t->result = host_event(e, a, DL_PCI_HOST_EJECT, t->msg, sizeof(t->msg));
		break;
	case DL_SCEN_SURPRISE:
		t->result = host_event(e, a, DL_PCI_HOST_SURPRISE, t->msg, sizeof(t->msg));
		break;
	case DL_SCEN_RELATIONS:
		t->result = host_event(e, a, DL_PCI_HOST_RELATIONS, t->msg, sizeof(t->msg));
		break;
	case DL_SCEN_ERROR:
		t->result = host_event(e, a, DL_PCI_HOST_ERROR, t->msg, sizeof(t->msg));
		break;
	case DL_SCEN_REMOVE:
		t->result = remove_dev(e, a->devs[0]);
		break;
	case DL_SCEN_NUMVFS:
		t->result = numvfs(e, a->devs[0], a->n);
		break;
	default:
		t->result = -EINVAL;
		break;
	}
	/* as the host channel's events and sysfs stores: the view agrees
	 * before anyone hears of the result */
	dl_fs_sync(e->env.fs);
	return NULL;
}

void act_start(struct engine *e, const struct dl_scen_action *a,
	       const char *by)
{
	struct act_thread *t = calloc(1, sizeof(*t));
	int r = t ? 0 : ENOMEM;

	if (t) {
		t->e = e;
		t->a = a;
		t->by = by;
	}
	pthread_mutex_lock(&e->evlock);
	if (r == 0 && (e->no_more_acts || e->nacts == ACT_THREADS_MAX))
		r = ESHUTDOWN;
	if (r == 0)
		r = pthread_create(&t->thread, NULL, act_main, t);
	if (r == 0)
		e->acts[e->nacts++] = t;
	else if (r != ESHUTDOWN && e->nact_errors < 4)
		/* (ESHUTDOWN: a tree rule fired after the last step: the
		 * scenario is over, nothing to start) */
		snprintf(e->act_errors[e->nact_errors++], sizeof(e->act_errors[0]),
			 "%.200s:%u: %.100s did not start: %.60s", e->s->name, a->line,
			 a->text, strerror(r));
	pthread_mutex_unlock(&e->evlock);
	if (r != 0)
		free(t);
}

/* Join every action thread; report what each returned. */
void act_join_all(struct engine *e)
{
	size_t n;

	pthread_mutex_lock(&e->evlock);
	e->no_more_acts = true;
	n = e->nacts;
	pthread_mutex_unlock(&e->evlock);
	/* No new entries after no_more_acts (nor errors: a late start is
	 * refused silently): the arrays are ours. */
	for (unsigned int i = 0; i < e->nact_errors; i++)
		emitf(e, "%s", e->act_errors[i]);
	for (size_t i = 0; i < n; i++) {
		struct act_thread *t = e->acts[i];

		pthread_join(t->thread, NULL);
		if (t->result < 0)
			emitf(e, "%s:%u: %s%s%s returned %s%s%s", e->s->name,
			      t->a->line, t->by ? t->by : "", t->by ? ": " : "",
			      t->a->text, strerrorname_np(-t->result) ?
			      strerrorname_np(-t->result) : "?",
			      t->msg[0] ? " " : "", t->msg);
		else
			emitf(e, "%s:%u: %s%s%s returned ok", e->s->name,
			      t->a->line, t->by ? t->by : "", t->by ? ": " : "",
			      t->a->text);
		free(t);
	}
}

/* Until @pid has exited (gone, or a zombie): 0, or -ETIMEDOUT. */
int wait_exit(int pid, uint64_t deadline_ns)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		return errno == ESRCH ? 0 : -errno;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint64_t now = now_ns();
		int r, ms = now >= deadline_ns ? 0 :
			(int)((deadline_ns - now) / 1000000 + 1);

		/* a pidfd is readable once its process has exited */
		r = poll(&p, 1, ms);
		if (r > 0) {
			close(fd);
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
		if (r == 0 && ms == 0) {
			close(fd);
			return -ETIMEDOUT;
		}
	}
}
