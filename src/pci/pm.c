/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runtime power management of PCI functions, as far as sysfs shows it
 * (drivers/base/power/runtime.c, drivers/base/power/sysfs.c,
 * drivers/pci/pci-driver.c):
 *
 *  - pci_pm_init() forbids runtime PM (pm_runtime_forbid(): `control`
 *    "on", one usage count) and enables it active: the accounting of
 *    runtime_active_time starts when the function is added;
 *  - `control` "auto" is pm_runtime_allow() (drops that count), "on"
 *    pm_runtime_forbid() (takes it, resumes);
 *  - a probe holds a usage count from local_pci_probe() until the
 *    driver's removal (pci_device_remove()); devlife's drivers have no
 *    runtime PM of their own (none drops it in probe), so a bound
 *    function stays active;
 *  - a function with no usage count, `control` auto and no active child
 *    suspends (rpm_idle() -> rpm_suspend(); an unbound function's
 *    pci_pm_runtime_suspend() only saves its state and leaves it in D0);
 *    a resume resumes the parent first (rpm_resume()); a suspend lets
 *    the parent suspend if it can (rpm_suspend()'s rpm_idle(parent)).
 *    The parent of a function, here as in Linux, is the bridge above it
 *    (a VF's is its PF's: pci_dev->dev.parent is the bus's bridge);
 *  - the time spent in each status, counted as update_pm_runtime_accounting()
 *    counts it, on the monotonic clock, read when asked.
 *
 * The kernel queues the idle check after `echo auto > control`
 * (RPM_ASYNC): a reader right after the write may see "active" for a
 * moment. Here the transitions happen before the write returns, one of
 * the kernel's possible outcomes. No autosuspend: no devlife driver calls
 * pm_runtime_use_autosuspend(), so `autosuspend_delay_ms` answers EIO.
 *
 * Wakeup (drivers/base/power/wakeup.c): a function whose PM capability
 * can signal PME from some state is wakeup-capable (pci_pm_init() ->
 * device_set_wakeup_capable()); `wakeup` "enabled" registers a wakeup
 * source (device_wakeup_enable()), "disabled" drops it; the statistics
 * read empty without one, 0 (and the source's creation time for
 * wakeup_last_time_ms) with one: no devlife device ever signals a wakeup.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include <linux/pci_regs.h>

#include "config.h"
#include "internal.h"
#include "pci.h"

/* Every function's runtime PM state (the kernel's dev->power.lock, one
 * for all: the transitions walk up the tree). */
static pthread_mutex_t pm_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* update_pm_runtime_accounting() */
static void account_locked(struct dl_pci_pm *p)
{
	uint64_t now = now_ns();

	if (now > p->stamp) {
		if (p->suspended)
			p->suspended_ns += now - p->stamp;
		else
			p->active_ns += now - p->stamp;
	}
	p->stamp = now;
}

/* The PM parent of a function under @p in the tree: the bridge above
 * (a VF's: its PF's), or NULL. */
static struct dl_pci_func *pm_parent_of(struct dl_pci_func *f,
					struct dl_device *p)
{
	if (f->flags & DL_PCI_F_VF)
		p = p ? dl_device_parent(p) : NULL;
	return dl_pci_func_of(p);
}

static struct dl_pci_func *pm_parent(struct dl_pci_func *f)
{
	return pm_parent_of(f, dl_device_parent(f->dev));
}

static int child_active(struct dl_device *c, void *arg)
{
	struct dl_pci_func *f = dl_pci_func_of(c);

	(void)arg;
	if (!f || dl_device_state(c) == DL_STATE_DEAD)
		return 0;
	if (!f->pm.suspended)
		return 1;
	/* a PF's VFs are children of the bridge above it */
	return f->sriov ? dl_device_for_each_child(c, child_active, NULL) : 0;
}

/* rpm_suspend(), then the parent's idle check. */
static void idle_locked(struct dl_pci_func *f)
{
	while (f && !f->pm.suspended && f->pm.runtime_auto && f->pm.usage == 0 &&
	       dl_device_for_each_child(f->dev, child_active, NULL) == 0) {
		account_locked(&f->pm);
		f->pm.suspended = true;
		f = pm_parent(f);
	}
}

/* rpm_resume(): the parent first. */
static void resume_locked(struct dl_pci_func *f)
{
	if (!f || !f->pm.suspended)
		return;
	resume_locked(pm_parent(f));
	account_locked(&f->pm);
	f->pm.suspended = false;
}

void dl_pci__pm_init(struct dl_device *dev, struct dl_device *parent)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (!f)
		return;
	pthread_mutex_lock(&pm_lock);
	f->pm.runtime_auto = false; /* pm_runtime_forbid() */
	f->pm.usage = 1;
	f->pm.suspended = false;    /* pm_runtime_set_active() */
	f->pm.stamp = now_ns();     /* pm_runtime_enable() */
	/* an active child needs an active parent */
	resume_locked(pm_parent_of(f, parent));
	pthread_mutex_unlock(&pm_lock);
}

void dl_pci_pm_get(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (!f)
		return;
	pthread_mutex_lock(&pm_lock);
	f->pm.usage++;
	resume_locked(f);
	pthread_mutex_unlock(&pm_lock);
}

void dl_pci_pm_put(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	if (!f)
		return;
	pthread_mutex_lock(&pm_lock);
	if (f->pm.usage > 0)
		f->pm.usage--;
	idle_locked(f);
	pthread_mutex_unlock(&pm_lock);
}

/*
 * A root bus's device (pci_register_host_bridge()) has runtime PM
 * disabled: `control` reads "auto" and takes "on" and "auto" (the usage
 * count changes, nothing resumes), `runtime_status` is "unsupported",
 * the times stay 0 (update_pm_runtime_accounting() counts nothing while
 * disabled).
 */
static int root_show(struct dl_pci_root *rt, int what, char *buf, size_t len)
{
	if (what == 0)
		return snprintf(buf, len, "%s\n", atomic_load(&rt->pm_forbid) ? "on" : "auto");
	return snprintf(buf, len, what == 1 ? "unsupported\n" : "0\n");
}

int dl_pci_pm_control_show(struct dl_device *dev, char *buf, size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	bool on;

	if (!f && dl_pci_root_of(dev))
		return root_show(dl_pci_root_of(dev), 0, buf, len);
	assert_return(f, -EINVAL);
	pthread_mutex_lock(&pm_lock);
	on = !f->pm.runtime_auto;
	pthread_mutex_unlock(&pm_lock);
	return snprintf(buf, len, "%s\n", on ? "on" : "auto");
}

/* control_store(): "auto" pm_runtime_allow(), "on" pm_runtime_forbid(),
 * under the device lock; anything else -EINVAL. @text: as a store gets
 * it, its one trailing newline removed (sysfs_streq()). */
int dl_pci_pm_control_store(struct dl_device *dev, const char *text)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	bool allow;

	assert_return(text, -EINVAL);
	if (strcmp(text, "auto") == 0)
		allow = true;
	else if (strcmp(text, "on") == 0)
		allow = false;
	else
		return -EINVAL;
	if (!f && dl_pci_root_of(dev)) {
		atomic_store(&dl_pci_root_of(dev)->pm_forbid, !allow);
		return 0;
	}
	assert_return(f, -EINVAL);
	dl_device_lock(dev);
	pthread_mutex_lock(&pm_lock);
	if (allow && !f->pm.runtime_auto) {
		f->pm.runtime_auto = true;
		f->pm.usage--;
		idle_locked(f);
	} else if (!allow && f->pm.runtime_auto) {
		f->pm.runtime_auto = false;
		f->pm.usage++;
		resume_locked(f);
	}
	pthread_mutex_unlock(&pm_lock);
	dl_device_unlock(dev);
	return 0;
}

int dl_pci_pm_status_show(struct dl_device *dev, char *buf, size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	bool s;

	if (!f && dl_pci_root_of(dev))
		return root_show(dl_pci_root_of(dev), 1, buf, len);
	assert_return(f, -EINVAL);
	pthread_mutex_lock(&pm_lock);
	s = f->pm.suspended;
	pthread_mutex_unlock(&pm_lock);
	return snprintf(buf, len, "%s\n", s ? "suspended" : "active");
}

/* runtime_active_time_show(), runtime_suspended_time_show(): ms. */
int dl_pci_pm_time_show(struct dl_device *dev, bool suspended, char *buf,
			size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	uint64_t ns;

	if (!f && dl_pci_root_of(dev))
		return root_show(dl_pci_root_of(dev), 2, buf, len);
	assert_return(f, -EINVAL);
	pthread_mutex_lock(&pm_lock);
	account_locked(&f->pm);
	ns = suspended ? f->pm.suspended_ns : f->pm.active_ns;
	pthread_mutex_unlock(&pm_lock);
	return snprintf(buf, len, "%llu\n", (unsigned long long)(ns / 1000000u));
}

bool dl_pci_pm_can_wakeup(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	unsigned int pos = 0;
	uint32_t pmc = 0;

	if (!f || dl_pci_cfg_find_cap(f->cfg, PCI_CAP_ID_PM, 0, &pos) < 0)
		return false;
	(void)dl_pci_cfg_readv(f->cfg, pos + PCI_PM_PMC, 2, &pmc);
	return (pmc & PCI_PM_CAP_PME_MASK) != 0;
}

/*
 * wakeup_show() and the statistics (wakeup_count_show(), ...): @what is
 * the file's name. Without a wakeup source every statistic is "\n".
 */
int dl_pci_pm_wakeup_show(struct dl_device *dev, const char *what, char *buf,
			  size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	bool on;
	uint64_t stamp;

	assert_return(f && what, -EINVAL);
	pthread_mutex_lock(&pm_lock);
	on = f->pm.wakeup;
	stamp = f->pm.wakeup_stamp_ns;
	pthread_mutex_unlock(&pm_lock);
	if (strcmp(what, "wakeup") == 0)
		return snprintf(buf, len, "%s\n", on ? "enabled" : "disabled");
	if (!on)
		return snprintf(buf, len, "\n");
	if (strcmp(what, "wakeup_last_time_ms") == 0)
		return snprintf(buf, len, "%llu\n",
				(unsigned long long)(stamp / 1000000u));
	return snprintf(buf, len, "0\n");
}

/* wakeup_store(): sysfs_streq "enabled" or "disabled", else -EINVAL. */
int dl_pci_pm_wakeup_store(struct dl_device *dev, const char *text)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	bool on;

	assert_return(f && text, -EINVAL);
	if (!dl_pci_pm_can_wakeup(dev))
		return -EINVAL;
	if (strcmp(text, "enabled") == 0)
		on = true;
	else if (strcmp(text, "disabled") == 0)
		on = false;
	else
		return -EINVAL;
	pthread_mutex_lock(&pm_lock);
	if (on && !f->pm.wakeup)
		f->pm.wakeup_stamp_ns = now_ns(); /* wakeup_source_add() */
	f->pm.wakeup = on;
	pthread_mutex_unlock(&pm_lock);
	return 0;
}
