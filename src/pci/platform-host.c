/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host events (ACPI hotplug as Linux's acpiphp and pciehp see them): add,
 * eject, surprise removal, bus relations and an AER error, each run on
 * the ordered event queue of the bus it concerns (platform.c opens and
 * closes the queues with the bus). Locks: platform-internal.h.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "pci.h"
#include "platform-internal.h"
#include "platform.h"
#include "topo-internal.h"
#include "topology.h"

/* ------------------------------------------------------------------ */
/* Host events                                                         */

struct dl_pci_host_ticket {
	struct dl_pci_platform *plat; /* written once */
	enum dl_pci_host_event ev;    /* written once */
	uint32_t domain;              /* written once */
	uint8_t bus, devfn;           /* written once */
	char **kv;                    /* written once, NULL-terminated */
	int result;                   /* the worker's, read after done */
	char msg[256];                /* likewise */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;                    /* lock */
	atomic_int refs;              /* the submitter's and the work's */
};

static void ev_unref(struct dl_pci_host_ticket *e)
{
	int refs = atomic_fetch_sub(&e->refs, 1);

	assert(refs > 0);
	if (refs != 1)
		return;
	for (size_t i = 0; e->kv && e->kv[i]; i++)
		free(e->kv[i]);
	free(e->kv);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	free(e);
}

static int ev_fail(struct dl_pci_host_ticket *e, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ev_fail(struct dl_pci_host_ticket *e, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}

/* The child of @owner named @name, in any state but NEW or DEAD, with a
 * reference; so that an eject racing with another removal of the same
 * function still returns only once it is gone. */
struct child_find {
	const char *name;
	struct dl_device *found;
};

static int find_child_cb(struct dl_device *child, void *arg)
{
	struct child_find *q = arg;
	enum dl_device_state st = dl_device_state(child);

	if (strcmp(dl_device_name(child), q->name) ||
	    (st != DL_STATE_LIVE && st != DL_STATE_REMOVING))
		return 0;
	q->found = dl_device_get(child);
	return 1;
}

static struct dl_device *find_child(struct dl_device *owner, const char *name)
{
	struct child_find q = { name, NULL };

	/* Callers have marked the hardware absent already: NULL must mean
	 * "not in the tree", never "could not look" (a snapshot that failed
	 * made an eject report success and leave the device in the tree;
	 * tests/scenarios/test-faults.c). Memory comes back. */
	while (dl_device_for_each_child(owner, find_child_cb, &q) == -ENOMEM)
		nanosleep(&(struct timespec){ 0, DL_NSEC_PER_MSEC }, NULL);
	return q.found;
}

static int handle_eject(struct dl_pci_platform *plat, struct dl_device *owner,
			struct dl_pci_host_ticket *e, bool surprise)
{
	struct dl_device *dev;
	bool was_present;
	char name[24];
	long idx;
	int r;

	dl_pci_bdf_format(e->domain, e->bus, e->devfn, name, sizeof(name));
	dl_mutex_lock(&plat->scan_lock);
	dl_mutex_lock(&plat->hw_lock);
	idx = dl_pci__find_spec_locked(plat, e->domain, e->bus, e->devfn);
	was_present = idx >= 0 && plat->present[idx];
	if (was_present)
		dl_pci__mark_absent_locked(plat, idx);
	dl_mutex_unlock(&plat->hw_lock);
	dl_mutex_unlock(&plat->scan_lock);
	if (idx < 0) {
		struct dl_device *vf = NULL;

		if (dl_device_lookup(plat->tree, name, &vf) == 0) {
			bool is_vf = dl_pci_func_of(vf) &&
				     (dl_pci_func_of(vf)->flags & DL_PCI_F_VF);

			dl_device_put(vf);
			if (is_vf)
				return ev_fail(e, -EOPNOTSUPP,
					       "%s is a virtual function: its PF's "
					       "sriov_numvfs controls it",
					       name);
		}
		return ev_fail(e, -ENODEV, "no function %s in the hardware", name);
	}
	/* If present was already false, an earlier eject (or relations
	 * event) took the hardware; the device may still be on its way out,
	 * and this eject too returns only once it is gone. */
	dev = find_child(owner, name);
	if (!dev && !was_present)
		return ev_fail(e, -ENODEV, "%s is not present", name);
	if (!dev) {
		snprintf(e->msg, sizeof(e->msg),
			 "%s: hardware removed (it was not in the tree)", name);
		return 0;
	}
	r = dl_device_remove(dev, surprise ? DL_REMOVE_SURPRISE : DL_REMOVE_WAIT,
			     DL_NO_TIMEOUT);
	dl_device_put(dev);
	if (r < 0)
		return ev_fail(e, r, "cannot remove %s: %s", name, strerror(-r));
	snprintf(e->msg, sizeof(e->msg), "%s %s", surprise ? "surprise-removed" : "ejected",
		 name);
	return 0;
}

static int handle_relations(struct dl_pci_platform *plat, struct dl_device *owner,
			    struct dl_pci_host_ticket *e)
{
	const struct dl_pci_desc *d;
	size_t nlisted = 0, ngone = 0, used = 0;
	char (*names)[24] = NULL;
	uint8_t *listed = NULL;
	long *gone = NULL;
	int r = 0;

	for (nlisted = 0; e->kv && e->kv[nlisted]; nlisted++)
		;
	listed = malloc(nlisted ? nlisted : 1);
	if (!listed)
		return ev_fail(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nlisted; i++) {
		uint32_t dom;
		uint8_t bus, devfn;

		if (dl_pci_bdf_parse(e->kv[i], strlen(e->kv[i]), &dom, &bus, &devfn) < 0 ||
		    dom != e->domain || bus != e->bus) {
			free(listed);
			return ev_fail(e, -EINVAL, "'%.32s' is not a function on bus %04x:%02x",
				       e->kv[i], (unsigned int)e->domain, e->bus);
		}
		listed[i] = devfn;
	}

	dl_mutex_lock(&plat->scan_lock);
	dl_mutex_lock(&plat->hw_lock);
	d = plat->desc;
	gone = malloc((d->n ? d->n : 1) * sizeof(*gone));
	if (gone) {
		for (size_t i = 0; i < d->n; i++) {
			const struct dl_pci_spec *s = &d->specs[i];
			bool keep = false;

			if (s->domain != e->domain || s->bus != e->bus || !plat->present[i])
				continue;
			for (size_t k = 0; k < nlisted && !keep; k++)
				keep = listed[k] == s->devfn;
			if (keep)
				continue;
			dl_pci__mark_absent_locked(plat, (long)i);
			gone[ngone++] = (long)i;
		}
	}
	/* names now, while the description cannot change under us */
	if (gone)
		names = calloc(ngone ? ngone : 1, sizeof(*names));
	for (size_t k = 0; names && k < ngone; k++)
		dl_pci_spec_name(&d->specs[gone[k]], names[k], sizeof(names[k]));
	dl_mutex_unlock(&plat->hw_lock);
	dl_mutex_unlock(&plat->scan_lock);
	free(listed);
	free(gone);
	if (!names)
		return ev_fail(e, -ENOMEM, "out of memory");

	used = (size_t)snprintf(e->msg, sizeof(e->msg), ngone ? "ejected" : "nothing to eject");
	for (size_t k = 0; k < ngone; k++) {
		struct dl_device *dev = find_child(owner, names[k]);
		int q = 0;

		if (dev) {
			q = dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
			dl_device_put(dev);
		}
		if (q < 0 && !r)
			r = ev_fail(e, q, "cannot remove %s: %s", names[k], strerror(-q));
		if (!r && used < sizeof(e->msg))
			used += (size_t)snprintf(e->msg + used, sizeof(e->msg) - used, " %s",
						 names[k]);
	}
	free(names);
	return r;
}

/*
 * An add's arguments as the one-function description they make: one
 * topology line, so that every key means what it means in a topology
 * file and errors come from the same parser.
 */
static int add_parse(struct dl_pci_host_ticket *e, const char *name,
		     struct dl_pci_desc **ret)
{
	struct dl_pci_error perr = { 0 };
	struct dl_pci_desc *one = NULL;
	size_t len = strlen(name) + 1;
	char *line;
	int r;

	for (size_t i = 0; e->kv && e->kv[i]; i++) {
		for (const char *p = e->kv[i]; *p; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '#')
				return ev_fail(e, -EINVAL, "bad byte in argument '%.32s'",
					       e->kv[i]);
		len += strlen(e->kv[i]) + 1;
	}
	line = malloc(len + 1);
	if (!line)
		return ev_fail(e, -ENOMEM, "out of memory");
	strcpy(line, name);
	for (size_t i = 0; e->kv && e->kv[i]; i++) {
		strcat(line, " ");
		strcat(line, e->kv[i]);
	}
	r = dl_pci_desc_parse_topology(line, strlen(line), "add", &perr, &one);
	free(line);
	if (r < 0) {
		/* "add:1: unknown key 'x'": the line is the request's own */
		const char *why = strncmp(perr.msg, "add:1: ", 7) ? perr.msg : perr.msg + 7;

		return ev_fail(e, r, "%s", r == -ENOMEM ? "out of memory" : why);
	}
	if (one->n != 1) {
		dl_pci_desc_free(one);
		return ev_fail(e, -EINVAL, "add describes %zu functions", one->n);
	}
	*ret = one;
	return 0;
}

/* The function to add is neither in the tree nor present in the
 * hardware (where a rescan would add it). Needs scan_lock. */
static int add_check_new_locked(struct dl_pci_platform *plat,
				struct dl_pci_host_ticket *e, const char *name)
{
	struct dl_device *dev = NULL;
	long idx;

	dl_mutex_assert_held(&plat->scan_lock);
	if (dl_device_lookup(plat->tree, name, &dev) == 0) {
		dl_device_put(dev);
		return ev_fail(e, -EEXIST, "%s is already in the tree", name);
	}
	idx = dl_pci__find_spec_locked(plat, e->domain, e->bus, e->devfn);
	if (idx >= 0 && plat->present[idx])
		return ev_fail(e, -EEXIST, "%s is already present (a rescan adds it)", name);
	return 0;
}

/*
 * The new machine: what is present now plus the new function @one,
 * validated as a whole (free address, bus decoded by its bridge, bus
 * ranges, VF routing IDs). Absent functions are dropped; functions
 * already built keep their addresses, the new one goes above
 * everything. Needs scan_lock. Returns the description in *@ret and the
 * new function's index in *@ret_idx.
 */
static int add_build_machine_locked(struct dl_pci_platform *plat,
				    struct dl_pci_host_ticket *e, const char *name,
				    const struct dl_pci_desc *one,
				    struct dl_pci_desc **ret, size_t *ret_idx)
{
	const struct dl_pci_desc *old = plat->desc;
	struct dl_pci_error perr = { 0 };
	struct dl_pci_desc *cand = NULL;
	size_t *map, newidx;
	struct dl_pci_spec add;
	int r;

	dl_mutex_assert_held(&plat->scan_lock);
	r = dl_pci_desc_new(old->source, &cand);
	map = malloc((old->n + 1) * sizeof(*map));
	if (r < 0 || !map) {
		r = ev_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < old->n; i++) {
		if (!plat->present[i])
			continue;
		map[cand->n] = i;
		r = dl_pci_desc_append(cand, &old->specs[i], NULL);
		if (r < 0) {
			r = ev_fail(e, r, "out of memory");
			goto out;
		}
	}
	newidx = cand->n;
	add = one->specs[0];
	add.line = 0;
	r = dl_pci_desc_append(cand, &add, NULL);
	if (r == 0)
		r = dl_pci_desc_validate(cand, &perr);
	if (r < 0) {
		r = ev_fail(e, r, "%s does not fit the hardware: %s", name,
			    r == -ENOMEM ? "out of memory" : perr.msg);
		goto out;
	}
	for (size_t k = 0; k < newidx; k++) {
		struct dl_pci_spec *c = &cand->specs[k];
		const struct dl_pci_spec *o = &old->specs[map[k]];

		memcpy(c->bar_addr, o->bar_addr, sizeof(c->bar_addr));
		memcpy(c->vf_bar_addr, o->vf_bar_addr, sizeof(c->vf_bar_addr));
		c->win = o->win;
	}
	r = dl_pci__desc_place_new(cand, newidx, &perr);
	if (r < 0) {
		r = ev_fail(e, r, "%s does not fit the hardware: %s", name, perr.msg);
		goto out;
	}
	*ret = cand;
	*ret_idx = newidx;
	cand = NULL;
out:
	dl_pci_desc_free(cand);
	free(map);
	return r;
}

/* Make @cand, all present, the hardware model; frees the old one.
 * Needs scan_lock; takes hw_lock. */
static void add_commit_locked(struct dl_pci_platform *plat, struct dl_pci_desc *cand,
			      bool *present)
{
	struct dl_pci_desc *old;

	dl_mutex_assert_held(&plat->scan_lock);
	for (size_t i = 0; i < cand->n; i++)
		present[i] = true;
	dl_mutex_lock(&plat->hw_lock);
	old = plat->desc;
	plat->desc = cand;
	free(plat->present);
	plat->present = present;
	dl_mutex_unlock(&plat->hw_lock);
	dl_pci_desc_free(old);
}

/* Host add: a new function in the hardware, added to the tree below
 * @owner (its bus's bridge or root bus), as acpiphp's enable_slot(). */
static int handle_add(struct dl_pci_platform *plat, struct dl_device *owner,
		      struct dl_pci_host_ticket *e)
{
	struct dl_pci_desc *one = NULL, *cand = NULL;
	struct dl_pci_error perr = { 0 };
	struct dl_device *dev = NULL;
	bool *present = NULL;
	char name[24], pname[32];
	size_t newidx = 0;
	int r;

	dl_pci_bdf_format(e->domain, e->bus, e->devfn, name, sizeof(name));
	r = add_parse(e, name, &one);
	if (r < 0)
		return r;
	dl_mutex_lock(&plat->scan_lock);
	r = add_check_new_locked(plat, e, name);
	if (r < 0)
		goto out;
	present = malloc((plat->desc->n + 1) * sizeof(*present));
	if (!present) {
		r = ev_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	r = add_build_machine_locked(plat, e, name, one, &cand, &newidx);
	if (r < 0)
		goto out;
	dl_pci__parent_name(cand, newidx, pname, sizeof(pname));
	if (strcmp(pname, dl_device_name(owner))) {
		r = ev_fail(e, -ENODEV, "%s would sit below %s, not %s", name, pname,
			    dl_device_name(owner));
		goto out;
	}
	add_commit_locked(plat, cand, present);
	cand = NULL;
	present = NULL;

	r = dl_pci__spec_add(plat->desc, newidx, plat->tree, owner, &perr, &dev);
	if (dev) {
		dl_device_put(dev);
		if (r < 0)
			ev_fail(e, r, "added %s, but: %s", name, perr.msg);
		else
			snprintf(e->msg, sizeof(e->msg), "added %s", name);
	} else {
		ev_fail(e, r, "%s is in the hardware but cannot be added: %s", name,
			perr.msg);
	}
out:
	dl_mutex_unlock(&plat->scan_lock);
	dl_pci_desc_free(cand);
	dl_pci_desc_free(one);
	free(present);
	return r;
}

/* Error recovery of @dev by its driver's handlers: error_detected, a
 * slot reset if asked, resume. Needs @dev's device lock. */
static enum dl_pci_ers_result recover_locked(const struct dl_pci_error_handlers *h,
					     struct dl_device *dev, void *data)
{
	enum dl_pci_ers_result res;

	DL_ASSERT_LOCKED(dl_device_lock_held(dev));
	res = h->error_detected(dev, data);
	if (res == DL_PCI_ERS_DISCONNECT)
		return res;
	if (res == DL_PCI_ERS_NEED_RESET) {
		/* The reset itself is not modelled: config space is kept,
		 * as after pci_restore_state(). */
		res = h->slot_reset ? h->slot_reset(dev, data) : DL_PCI_ERS_RECOVERED;
		if (res != DL_PCI_ERS_RECOVERED)
			return DL_PCI_ERS_DISCONNECT;
	}
	if (h->resume)
		h->resume(dev, data);
	return DL_PCI_ERS_RECOVERED;
}

static int handle_error(struct dl_pci_platform *plat, struct dl_device *owner,
			struct dl_pci_host_ticket *e)
{
	enum dl_pci_ers_result res = DL_PCI_ERS_DISCONNECT;
	struct dl_device *dev;
	struct pdrv *pd = NULL;
	char name[24], drvname[DL_NAME_MAX + 1] = "";
	bool handled = false, is_vf;
	long idx;
	int r;

	dl_pci_bdf_format(e->domain, e->bus, e->devfn, name, sizeof(name));
	dev = find_child(owner, name);
	if (!dev || !dl_pci_func_of(dev)) {
		dl_device_put(dev);
		return ev_fail(e, -ENODEV, "no function %s in the tree", name);
	}
	is_vf = dl_pci_func_of(dev)->flags & DL_PCI_F_VF;
	/* active(dev) before device_lock(dev): a removal that started
	 * first makes this fail instead of running handlers on a dying
	 * device. */
	if (dl_device_enter_tagged(dev, "error-recovery") < 0) {
		dl_device_put(dev);
		return ev_fail(e, -ENODEV, "%s is going away", name);
	}
	dl_device_lock(dev);
	pd = dl_pci__pdrv_of(plat, dl_device_driver(dev));
	if (pd) {
		snprintf(drvname, sizeof(drvname), "%s", pd->pci->name);
		if (pd->pci->err_handler && pd->pci->err_handler->error_detected) {
			handled = true;
			res = recover_locked(pd->pci->err_handler, dev, pd->data);
		}
	}
	dl_device_unlock(dev);
	dl_device_exit(dev);
	if (handled && res == DL_PCI_ERS_RECOVERED) {
		dl_device_put(dev);
		snprintf(e->msg, sizeof(e->msg), "%s recovered by %s", name, drvname);
		return 0;
	}
	if (is_vf) {
		dl_device_put(dev);
		return ev_fail(e, -EOPNOTSUPP,
			       "%s is a virtual function its driver cannot recover", name);
	}
	r = dl_device_remove(dev, DL_REMOVE_WAIT, DL_NO_TIMEOUT);
	dl_device_put(dev);
	if (r < 0)
		return ev_fail(e, r, "cannot remove %s: %s", name, strerror(-r));
	dl_mutex_lock(&plat->scan_lock);
	dl_mutex_lock(&plat->hw_lock);
	idx = dl_pci__find_spec_locked(plat, e->domain, e->bus, e->devfn);
	dl_mutex_unlock(&plat->hw_lock);
	r = idx >= 0 ? dl_pci__rescan_spec_locked(plat, (size_t)idx) : 0;
	dl_mutex_unlock(&plat->scan_lock);
	if (r < 0)
		return ev_fail(e, r, "%s removed, but the rescan failed: %s", name,
			       strerror(-r));
	snprintf(e->msg, sizeof(e->msg), "%s: %s; removed and rescanned", name,
		 handled ? "the driver gave up" : "no error handlers");
	return 0;
}

static void ev_run(struct dl_device *owner, void *arg)
{
	struct dl_pci_host_ticket *e = arg;
	struct dl_pci_platform *plat = e->plat;
	char name[16];

	/* In the trace before what it does: its function, or for bus
	 * relations its bus. */
	if (e->ev == DL_PCI_HOST_RELATIONS)
		snprintf(name, sizeof(name), "%04x:%02x",
			 (unsigned int)e->domain, e->bus);
	else
		snprintf(name, sizeof(name), "%04x:%02x:%02x.%u",
			 (unsigned int)e->domain, e->bus, dl_pci_slot(e->devfn),
			 dl_pci_fn(e->devfn));
	(void)dl_trace_note(plat->tree, name, DL_EV_HOST, (int32_t)e->ev);
	switch (e->ev) {
	case DL_PCI_HOST_ADD:
		e->result = handle_add(plat, owner, e);
		break;
	case DL_PCI_HOST_EJECT:
		e->result = handle_eject(plat, owner, e, false);
		break;
	case DL_PCI_HOST_SURPRISE:
		e->result = handle_eject(plat, owner, e, true);
		break;
	case DL_PCI_HOST_RELATIONS:
		e->result = handle_relations(plat, owner, e);
		break;
	case DL_PCI_HOST_ERROR:
		e->result = handle_error(plat, owner, e);
		break;
	}
}

static void ev_done(void *arg, int status)
{
	struct dl_pci_host_ticket *e = arg;

	if (status < 0) {
		e->result = -ENODEV;
		snprintf(e->msg, sizeof(e->msg),
			 "bus %04x:%02x went away before the event ran (%s)",
			 (unsigned int)e->domain, e->bus,
			 status == -ECANCELED ? "cancelled" : "skipped");
	}
	pthread_mutex_lock(&e->lock);
	e->done = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	ev_unref(e);
}

/* The device that owns bus @domain:@bus (a bridge with it as secondary
 * bus, or the root bus), with a reference. */
static int bus_owner(struct dl_pci_platform *plat, uint32_t domain, uint8_t bus,
		     char *msg, size_t msglen, struct dl_device **ret)
{
	const struct dl_pci_desc *d;
	char name[32];
	long bridge = -1;
	bool present = true;

	dl_mutex_lock(&plat->hw_lock);
	d = plat->desc;
	for (size_t i = 0; i < d->n; i++) {
		const struct dl_pci_spec *s = &d->specs[i];

		if (s->type != DL_PCI_SPEC_ENDPOINT && s->domain == domain &&
		    s->secbus == bus) {
			bridge = (long)i;
			present = plat->present[i];
			dl_pci_spec_name(s, name, sizeof(name));
			break;
		}
	}
	dl_mutex_unlock(&plat->hw_lock);
	if (bridge < 0)
		snprintf(name, sizeof(name), "pci%04x:%02x", (unsigned int)domain, bus);
	if (!present) {
		if (msg && msglen)
			snprintf(msg, msglen, "bus %04x:%02x is gone: its bridge %s was removed",
				 (unsigned int)domain, bus, name);
		return -ENODEV;
	}
	if (dl_device_lookup(plat->tree, name, ret) < 0) {
		if (msg && msglen)
			snprintf(msg, msglen, "no bus %04x:%02x in the tree",
				 (unsigned int)domain, bus);
		return -ENODEV;
	}
	return 0;
}

int dl_pci_platform_host_submit(struct dl_pci_platform *plat,
				enum dl_pci_host_event ev, uint32_t domain,
				uint8_t bus, uint8_t devfn,
				const char *const *kv, char *msg, size_t msglen,
				struct dl_pci_host_ticket **ret)
{
	struct dl_pci_host_ticket *e;
	struct dl_device *owner = NULL;
	struct busq *q;
	size_t nkv = 0;
	int r;

	assert_return(plat && ret, -EINVAL);
	assert_return(ev >= DL_PCI_HOST_ADD && ev <= DL_PCI_HOST_ERROR, -EINVAL);
	if (msg && msglen)
		msg[0] = '\0';
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->plat = plat;
	e->ev = ev;
	e->domain = domain;
	e->bus = bus;
	e->devfn = ev == DL_PCI_HOST_RELATIONS ? 0 : devfn;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	atomic_init(&e->refs, 1);
	while (kv && kv[nkv])
		nkv++;
	e->kv = calloc(nkv + 1, sizeof(*e->kv));
	if (!e->kv) {
		ev_unref(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nkv; i++) {
		e->kv[i] = strdup(kv[i]);
		if (!e->kv[i]) {
			ev_unref(e);
			return -ENOMEM;
		}
	}

	r = bus_owner(plat, domain, bus, msg, msglen, &owner);
	if (r < 0) {
		ev_unref(e);
		return r;
	}
	atomic_fetch_add(&e->refs, 1); /* the work's */
	pthread_mutex_lock(&plat->bus_lock);
	for (q = plat->buses; q; q = q->next)
		if (q->dev == owner)
			break;
	if (!q) {
		r = -ENODEV;
		if (msg && msglen)
			snprintf(msg, msglen, "%s has no port driver bound: "
				 "it handles no host events",
				 dl_device_name(owner));
	} else {
		if (!q->wq)
			r = dl_workqueue_new(plat->tree, q->name, 1, &q->wq);
		if (r == 0)
			r = dl_work_queue(q->wq, owner, ev_run, ev_done, e);
		if ((r == -ENODEV || r == -ESHUTDOWN) && msg && msglen)
			snprintf(msg, msglen, "bus %04x:%02x is going away",
				 (unsigned int)domain, bus);
		if (r == -ESHUTDOWN)
			r = -ENODEV;
	}
	pthread_mutex_unlock(&plat->bus_lock);
	dl_device_put(owner);
	if (r < 0) {
		atomic_fetch_sub(&e->refs, 1); /* the work was not queued */
		ev_unref(e);
		if (msg && msglen && !msg[0])
			snprintf(msg, msglen, "%s", strerror(-r));
		return r;
	}
	*ret = e;
	return 0;
}

int dl_pci_platform_host_wait(struct dl_pci_host_ticket *e, char *msg,
			      size_t msglen)
{
	int r;

	assert_return(e, -EINVAL);
	pthread_mutex_lock(&e->lock);
	while (!e->done)
		pthread_cond_wait(&e->cond, &e->lock);
	pthread_mutex_unlock(&e->lock);
	r = e->result;
	if (msg && msglen)
		snprintf(msg, msglen, "%s", e->msg);
	ev_unref(e);
	return r;
}

int dl_pci_platform_host(struct dl_pci_platform *plat,
			 enum dl_pci_host_event ev, uint32_t domain,
			 uint8_t bus, uint8_t devfn, const char *const *kv,
			 char *msg, size_t msglen)
{
	struct dl_pci_host_ticket *e;
	int r;

	r = dl_pci_platform_host_submit(plat, ev, domain, bus, devfn, kv, msg, msglen,
					&e);
	if (r < 0)
		return r;
	return dl_pci_platform_host_wait(e, msg, msglen);
}
