/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Function reset, as drivers/pci/pci.c does it for sysfs `reset` and
 * `reset_method`:
 *
 *  - the methods (pci_reset_fn_methods[], the same numbers): "flr" when
 *    the PCI Express Device Capabilities say FLR (pcie_reset_flr()),
 *    "af_flr" with an Advanced Features capability that has TP and FLR
 *    (pci_af_flr()), "pm" with a PM capability whose No_Soft_Reset is
 *    clear (pci_pm_reset()), "bus" for a function that is not a bridge,
 *    sits on a bridge's secondary bus and is alone on it
 *    (pci_parent_bus_reset()); no device-specific quirks, no ACPI _RST,
 *    no CXL. They are probed once, when the function is added
 *    (pci_init_reset_methods() from pci_init_capabilities(), before the
 *    function is on its bus's list: the functions already added count,
 *    the later ones do not), and the `reset` and `reset_method` files
 *    exist if any was found then (pci_dev_reset_attr_is_visible()).
 *  - the reset (pci_reset_function()): under the device lock, the bound
 *    driver's reset_prepare(), the state saved and the function disabled
 *    (pci_dev_save_and_disable()), the first method that works
 *    (__pci_reset_function_locked()), the state restored and the
 *    driver's reset_done() (pci_dev_restore(), called even when the
 *    reset failed).
 *
 * What the model's reset does (every method alike): config space goes
 * back to its reset values (dl_pci_cfg_reset(), what a Function Level
 * Reset does to the registers), then what pci_save_state() saved comes
 * back (pci_restore_state()): the standard header (64 bytes, command
 * register last), the PCI Express control registers (DEVCTL, LNKCTL,
 * SLTCTL, RTCTL and their "2" versions) and the SR-IOV control, NumVFs
 * and page size (the VFs stay; a PF's reset puts its VFs' registers
 * back to their reset values, none of which is restored). Everything else a driver or setpci
 * wrote - other capabilities' registers (MSI, MSI-X: no MSI model
 * enables them), device-specific registers above the header - is at its
 * reset value afterwards. The enable count (`enable`) is kernel state
 * and does not change.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <linux/pci_regs.h>

#include "config.h"
#include "internal.h"
#include "pci.h"
#include "platform-internal.h"

/* Guards every function's reset_methods (the kernel's are unlocked
 * bytes; here a reader never sees half a store). */
static pthread_mutex_t methods_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const method_names[DL_PCI_NUM_RESET_METHODS] = {
	[DL_PCI_RESET_DEVICE_SPECIFIC] = "device_specific",
	[DL_PCI_RESET_ACPI] = "acpi",
	[DL_PCI_RESET_FLR] = "flr",
	[DL_PCI_RESET_AF_FLR] = "af_flr",
	[DL_PCI_RESET_PM] = "pm",
	[DL_PCI_RESET_BUS] = "bus",
	[DL_PCI_RESET_CXL_BUS] = "cxl_bus",
};

static uint32_t rd(struct dl_pci_func *f, unsigned int off, unsigned int width)
{
	uint32_t v = 0;

	(void)dl_pci_cfg_readv(f->cfg, off, width, &v);
	return v;
}

static unsigned int cap(struct dl_pci_func *f, unsigned int id)
{
	unsigned int pos = 0;

	return dl_pci_cfg_find_cap(f->cfg, id, 0, &pos) == 0 ? pos : 0;
}

struct siblings {
	struct dl_pci_func *self;
	bool other;
};

static int note_sibling(struct dl_device *c, void *arg)
{
	struct siblings *s = arg;
	struct dl_pci_func *f = dl_pci_func_of(c);

	if (f && f != s->self && f->domain == s->self->domain &&
	    f->bus == s->self->bus && dl_device_state(c) == DL_STATE_LIVE)
		s->other = true;
	return 0;
}

/*
 * pci_parent_bus_reset()'s test: not a bridge (dev->subordinate), on a
 * bridge's secondary bus (not a root bus, not a VF's bus), and no other
 * function on that bus. @parent: the function's parent in the tree.
 */
static int probe_bus(struct dl_pci_func *f, struct dl_device *parent)
{
	struct dl_pci_func *b = dl_pci_func_of(parent);
	struct siblings s = { f, false };

	if ((f->flags & (DL_PCI_F_BRIDGE | DL_PCI_F_VF)) || !b ||
	    !(b->flags & DL_PCI_F_BRIDGE))
		return -ENOTTY;
	if (dl_device_for_each_child(parent, note_sibling, &s) < 0 || s.other)
		return -ENOTTY;
	return 0;
}

/* pci_reset_fn_methods[m].reset_fn(dev, PCI_RESET_PROBE) */
static int probe(struct dl_pci_func *f, struct dl_device *parent, int m)
{
	unsigned int pos;

	switch (m) {
	case DL_PCI_RESET_FLR: /* pcie_reset_flr(): dev->devcap */
		pos = cap(f, PCI_CAP_ID_EXP);
		return pos && (rd(f, pos + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR)
			       ? 0 : -ENOTTY;
	case DL_PCI_RESET_AF_FLR: /* pci_af_flr() */
		pos = cap(f, PCI_CAP_ID_AF);
		return pos && (rd(f, pos + PCI_AF_CAP, 1) & PCI_AF_CAP_TP) &&
			       (rd(f, pos + PCI_AF_CAP, 1) & PCI_AF_CAP_FLR)
			       ? 0 : -ENOTTY;
	case DL_PCI_RESET_PM: /* pci_pm_reset() */
		pos = cap(f, PCI_CAP_ID_PM);
		return pos && !(rd(f, pos + PCI_PM_CTRL, 2) & PCI_PM_CTRL_NO_SOFT_RESET)
			       ? 0 : -ENOTTY;
	case DL_PCI_RESET_BUS: /* pci_reset_bus_function(): no slot resets */
		return parent ? probe_bus(f, parent) : -ENOTTY;
	default: /* no quirks, no ACPI, no CXL */
		return -ENOTTY;
	}
}

/* pci_init_reset_methods(): every method that probes, in order. */
static void init_methods(struct dl_pci_func *f, struct dl_device *parent,
			 uint8_t *ret)
{
	int n = 0;

	memset(ret, 0, DL_PCI_NUM_RESET_METHODS);
	for (int m = 1; m < DL_PCI_NUM_RESET_METHODS; m++)
		if (probe(f, parent, m) == 0)
			ret[n++] = (uint8_t)m;
}

void dl_pci__reset_init(struct dl_device *dev, struct dl_device *parent)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	uint8_t m[DL_PCI_NUM_RESET_METHODS];

	if (!f)
		return;
	init_methods(f, parent, m);
	pthread_mutex_lock(&methods_lock);
	memcpy(f->reset_methods, m, sizeof(m));
	pthread_mutex_unlock(&methods_lock);
	f->reset_files = m[0] != 0;
}

bool dl_pci_reset_files(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f && f->reset_files;
}

int dl_pci_reset_method_show(struct dl_device *dev, char *buf, size_t len)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	uint8_t m[DL_PCI_NUM_RESET_METHODS];
	size_t n = 0;

	assert_return(f && len, -EINVAL);
	pthread_mutex_lock(&methods_lock);
	memcpy(m, f->reset_methods, sizeof(m));
	pthread_mutex_unlock(&methods_lock);
	buf[0] = '\0';
	/* reset_method_show(): names separated by spaces; a newline only
	 * after at least one (an emptied list reads as an empty file) */
	for (int i = 0; i < DL_PCI_NUM_RESET_METHODS && m[i]; i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
				      n ? " " : "", method_names[m[i]]);
	if (n)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "\n");
	return n < len ? (int)n : -EIO;
}

/* sysfs_streq(s, ""): nothing, or one newline. */
static bool streq_empty(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '\n');
}

/* strim(): white space off both ends (isspace(): " \t\n\v\f\r"). */
static void strim(const char **s, size_t *n)
{
	while (*n && strchr(" \t\n\v\f\r", (*s)[0]))
		(*s)++, (*n)--;
	while (*n && strchr(" \t\n\v\f\r", (*s)[*n - 1]))
		(*n)--;
}

/* reset_method_lookup(): sysfs_streq() against each name. */
static int lookup(const char *s, size_t n)
{
	for (int m = 1; m < DL_PCI_NUM_RESET_METHODS; m++)
		if (strlen(method_names[m]) == n && memcmp(s, method_names[m], n) == 0)
			return m;
	return 0;
}

int dl_pci_reset_method_store(struct dl_device *dev, struct dl_device *parent,
			      const char *text)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	uint8_t m[DL_PCI_NUM_RESET_METHODS] = { 0 };
	const char *p = text;
	int n = 0;

	assert_return(f && text, -EINVAL);
	if (!text[0]) {
		/* "All device reset methods disabled by user" */
		pthread_mutex_lock(&methods_lock);
		f->reset_methods[0] = 0;
		pthread_mutex_unlock(&methods_lock);
		return 0;
	}
	if (strcmp(text, "default") == 0) {
		init_methods(f, parent, m);
	} else {
		/* strsep(" ") then strim(): "flr  bus\n" is two names */
		while (p) {
			const char *sp = strchr(p, ' ');
			size_t len = sp ? (size_t)(sp - p) : strlen(p);
			const char *name = p;
			int k;

			p = sp ? sp + 1 : NULL;
			/* sysfs_streq(name, ""): the last name lost its
			 * newline to the caller already */
			if (len == 0 || (p && streq_empty(name, len)))
				continue;
			strim(&name, &len);
			k = lookup(name, len);
			/* unknown, unsupported or an eighth name: nothing
			 * changes */
			if (!k || probe(f, parent, k) < 0 ||
			    n == DL_PCI_NUM_RESET_METHODS - 1)
				return -EINVAL;
			m[n++] = (uint8_t)k;
		}
	}
	pthread_mutex_lock(&methods_lock);
	memcpy(f->reset_methods, m, sizeof(m));
	pthread_mutex_unlock(&methods_lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The reset                                                           */

/* What pci_save_state() keeps of the registers the model has. */
struct saved {
	uint32_t hdr[DL_PCI_CFG_HEADER_SIZE / 4];
	unsigned int exp, iov;
	uint16_t exp_ctl[7];
	uint32_t iov_numvfs, iov_pgsize, iov_ctrl;
};

static const unsigned int exp_regs[7] = {
	PCI_EXP_DEVCTL, PCI_EXP_LNKCTL, PCI_EXP_SLTCTL, PCI_EXP_RTCTL,
	PCI_EXP_DEVCTL2, PCI_EXP_LNKCTL2, PCI_EXP_SLTCTL2,
};

static void save_state(struct dl_pci_func *f, struct saved *s)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(s->hdr); i++)
		s->hdr[i] = rd(f, 4 * i, 4);
	s->exp = cap(f, PCI_CAP_ID_EXP);
	for (unsigned int i = 0; s->exp && i < ARRAY_SIZE(exp_regs); i++)
		s->exp_ctl[i] = (uint16_t)rd(f, s->exp + exp_regs[i], 2);
	s->iov = 0;
	if (f->sriov) {
		s->iov = f->sriov->cap;
		s->iov_ctrl = rd(f, s->iov + PCI_SRIOV_CTRL, 2);
		s->iov_numvfs = rd(f, s->iov + PCI_SRIOV_NUM_VF, 2);
		s->iov_pgsize = rd(f, s->iov + PCI_SRIOV_SYS_PGSIZE, 4);
	}
}

static void wr(struct dl_pci_func *f, unsigned int off, unsigned int width,
	       uint32_t v)
{
	(void)dl_pci_cfg_writev(f->cfg, off, width, v);
}

/* pci_restore_state(): capabilities, then the header from its last
 * dword down, only where it differs (pci_restore_config_dword()). */
static void restore_state(struct dl_pci_func *f, const struct saved *s)
{
	for (unsigned int i = 0; s->exp && i < ARRAY_SIZE(exp_regs); i++)
		wr(f, s->exp + exp_regs[i], 2, s->exp_ctl[i]);
	if (s->iov) { /* sriov_restore_state() */
		wr(f, s->iov + PCI_SRIOV_SYS_PGSIZE, 4, s->iov_pgsize);
		wr(f, s->iov + PCI_SRIOV_NUM_VF, 2, s->iov_numvfs);
		wr(f, s->iov + PCI_SRIOV_CTRL, 2, s->iov_ctrl);
	}
	for (unsigned int i = ARRAY_SIZE(s->hdr); i-- > 0;)
		if (rd(f, 4 * i, 4) != s->hdr[i])
			wr(f, 4 * i, 4, s->hdr[i]);
}

/*
 * How long each method keeps the function in reset before it answers
 * again, as the kernel waits: pcie_flr() and pci_af_flr() msleep(100);
 * pci_pm_reset() two pci_dev_d3_sleep()s of the default d3hot_delay
 * (10 ms); a secondary bus reset pci_bridge_wait_for_secondary_bus()'s
 * 100 ms (PCIE_RESET_READY_POLL_MS is only a ceiling: the model's
 * function is ready at once).
 */
static void reset_wait(int m)
{
	struct timespec ts = { 0, (m == DL_PCI_RESET_PM ? 20 : 100) * DL_NSEC_PER_MSEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static int reset_vf(struct dl_device *c, void *arg)
{
	struct dl_pci_func *vf = dl_pci_func_of(c);

	if (vf && (vf->flags & DL_PCI_F_VF) && vf->physfn == arg)
		dl_pci_cfg_reset(vf->cfg);
	return 0;
}

/* __pci_reset_function_locked(): the first method that does not say
 * -ENOTTY decides. */
static int reset_locked(struct dl_pci_func *f, struct dl_device *parent)
{
	uint8_t m[DL_PCI_NUM_RESET_METHODS];

	pthread_mutex_lock(&methods_lock);
	memcpy(m, f->reset_methods, sizeof(m));
	pthread_mutex_unlock(&methods_lock);
	for (int i = 0; i < DL_PCI_NUM_RESET_METHODS && m[i]; i++) {
		/* each method checks again at reset time (a bus reset
		 * with a function added beside since: -ENOTTY) */
		if (probe(f, parent, m[i]) < 0)
			continue;
		dl_pci_cfg_reset(f->cfg);
		/* a PF's reset resets its VFs too (VF Enable drops); the
		 * kernel restores the PF's SR-IOV control, never a VF's
		 * registers */
		if (f->sriov)
			(void)dl_device_for_each_child(f->dev, reset_vf, f->dev);
		reset_wait(m[i]);
		return 0;
	}
	return -ENOTTY;
}

static const struct dl_pci_error_handlers *handlers_locked(
	struct dl_pci_platform *plat, struct dl_device *dev, void **data)
{
	struct pdrv *pd = plat ? dl_pci__pdrv_of(plat, dl_device_driver(dev)) : NULL;

	*data = pd ? pd->data : NULL;
	return pd ? pd->pci->err_handler : NULL;
}

int dl_pci_platform_reset_function(struct dl_pci_platform *plat,
				   struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	const struct dl_pci_error_handlers *h;
	struct dl_device *parent;
	struct saved s;
	void *data;
	int r;

	assert_return(f, -EINVAL);
	/* The reset runs inside the function's active section: a removal
	 * waits for it, and one that has begun refuses it. */
	if (dl_device_enter_tagged(dev, "reset") < 0)
		return -ENODEV;
	if (!dl_pci_reset_supported(dev)) {
		dl_device_exit(dev);
		return -ENOTTY;
	}
	parent = dl_device_parent(dev);
	dl_pci_pm_get(dev); /* reset_store(): pm_runtime_get_sync() */
	/*
	 * pci_reset_function() also locks the upstream bridge (Linux 6.11
	 * on); the library forbids taking an ancestor's device lock inside
	 * an active section (the ancestor's lock holder may be removing
	 * this function and waiting for us), so only the function's own.
	 */
	dl_device_lock(dev);
	h = handlers_locked(plat, dev, &data);
	if (h && h->reset_prepare)
		h->reset_prepare(dev, data);
	save_state(f, &s);
	/* disabled: Command cleared but for INTx Disable */
	wr(f, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	r = reset_locked(f, parent);
	restore_state(f, &s);
	if (h && h->reset_done)
		h->reset_done(dev, data);
	dl_device_unlock(dev);
	dl_pci_pm_put(dev);
	dl_device_exit(dev);
	return r;
}

bool dl_pci_reset_supported(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);
	bool r;

	if (!f)
		return false;
	pthread_mutex_lock(&methods_lock);
	r = f->reset_methods[0] != 0;
	pthread_mutex_unlock(&methods_lock);
	return r;
}
