/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated devices: a parent's types, creating children by UUID, the
 * child driver. See mdev.h for the rules.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devvec.h"
#include "internal.h"
#include "mdev.h"
#include "pci.h"

struct mdev_type_info {
	char name[DL_NAME_MAX + 1]; /* written once; a directory in the view */
	unsigned int max;    /* written once */
};

struct dl_mdev_parent {
	/*
	 * Serializes creates (the instance check and the add) and the
	 * registration changes. A leaf with respect to device locks that
	 * may wait for it: see mdev.h.
	 */
	pthread_mutex_t lock;
	atomic_bool registered;                      /* lock to change */
	_Atomic(const struct dl_mdev_parent_ops *) ops; /* lock to change;
							 * cleared once no
							 * child is left */
	void *data;                                  /* with ops */
	unsigned int ntypes;                         /* written once */
	struct mdev_type_info types[];               /* written once */
};

const struct dl_device_type dl_mdev_type = {
	.name = "mdev",
	.release = NULL,
};

struct dl_mdev *dl_mdev_of(struct dl_device *dev)
{
	if (!dev || dl_device_type(dev) != &dl_mdev_type)
		return NULL;
	return dl_device_priv(dev);
}

static struct dl_mdev_parent *parent_of(struct dl_device *dev)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	return f ? f->mdev : NULL;
}

int dl_mdev__parent_new(const char *types, struct dl_mdev_parent **ret)
{
	struct dl_mdev_parent *mp;
	unsigned int n = 1, i = 0;
	const char *p;

	assert_return(types && *types && ret, -EINVAL);
	for (p = types; *p; p++)
		n += *p == ',';
	mp = calloc(1, sizeof(*mp) + n * sizeof(mp->types[0]));
	if (!mp)
		return -ENOMEM;
	for (p = types; *p && i < n; i++) {
		const char *c = strchr(p, ','), *colon;
		size_t len;

		if (!c)
			c = p + strlen(p);
		colon = memchr(p, ':', (size_t)(c - p));
		len = (size_t)((colon ? colon : c) - p);
		if (!len || len >= sizeof(mp->types[i].name)) {
			free(mp);
			return -EINVAL;
		}
		memcpy(mp->types[i].name, p, len);
		mp->types[i].max = colon ? (unsigned int)strtoul(colon + 1, NULL, 10) : 1;
		p = *c ? c + 1 : c;
	}
	mp->ntypes = i;
	pthread_mutex_init(&mp->lock, NULL);
	atomic_init(&mp->registered, false);
	atomic_init(&mp->ops, NULL);
	*ret = mp;
	return 0;
}

void dl_mdev__parent_free(struct dl_mdev_parent *mp)
{
	if (!mp)
		return;
	pthread_mutex_destroy(&mp->lock);
	free(mp);
}

int dl_mdev_parent_register(struct dl_device *parent,
			    const struct dl_mdev_parent_ops *ops, void *data)
{
	struct dl_mdev_parent *mp = parent_of(parent);
	int r = 0;

	assert_return(mp && ops, -EINVAL);
	pthread_mutex_lock(&mp->lock);
	if (atomic_load(&mp->registered)) {
		r = -EBUSY;
	} else {
		mp->data = data;
		atomic_store(&mp->ops, ops);
		atomic_store(&mp->registered, true);
	}
	pthread_mutex_unlock(&mp->lock);
	/* mdev_register_parent()'s KOBJ_CHANGE "MDEV_STATE=registered". */
	if (r == 0)
		dl_device_notify_change(parent, DL_PCI_CHANGE_MDEV_REGISTERED);
	return r;
}

static int collect_mdev(struct dl_device *child, void *arg)
{
	return dl_mdev_of(child) ? devvec_push(arg, child) : 0;
}

void dl_mdev_parent_unregister(struct dl_device *parent)
{
	struct dl_mdev_parent *mp = parent_of(parent);
	struct devvec k = { 0 };

	if (!mp)
		return;
	/* After this no create starts, and the one in flight (holding the
	 * lock) has linked its child or failed. */
	pthread_mutex_lock(&mp->lock);
	atomic_store(&mp->registered, false);
	pthread_mutex_unlock(&mp->lock);
	/*
	 * Remove every child, waiting for each: one that a user is removing
	 * right now makes this wait until it is DEAD (the core's "one
	 * remover, the others wait"), so its remove hook has run before the
	 * parent driver lets go of its state.
	 */
	for (;;) {
		if (dl_device_for_each_child(parent, collect_mdev, &k) < 0) {
			devvec_clear(&k);
			continue; /* out of memory: retry, we cannot fail */
		}
		if (!k.n)
			break;
		for (size_t i = 0; i < k.n; i++)
			(void)dl_device_remove(k.v[i], DL_REMOVE_WAIT, DL_NO_TIMEOUT);
		devvec_clear(&k);
	}
	devvec_clear(&k);
	pthread_mutex_lock(&mp->lock);
	atomic_store(&mp->ops, NULL);
	mp->data = NULL;
	pthread_mutex_unlock(&mp->lock);
	/* mdev_unregister_parent(): "MDEV_STATE=unregistered", after the
	 * children are gone. */
	dl_device_notify_change(parent, DL_PCI_CHANGE_MDEV_UNREGISTERED);
}

bool dl_mdev_parent_registered(struct dl_device *parent)
{
	struct dl_mdev_parent *mp = parent_of(parent);

	return mp && atomic_load(&mp->registered);
}

unsigned int dl_mdev_type_count(struct dl_device *parent)
{
	struct dl_mdev_parent *mp = parent_of(parent);

	return mp ? mp->ntypes : 0;
}

const char *dl_mdev_type_name(struct dl_device *parent, unsigned int t)
{
	struct dl_mdev_parent *mp = parent_of(parent);

	return mp && t < mp->ntypes ? mp->types[t].name : NULL;
}

int dl_mdev_type_lookup(struct dl_device *parent, const char *name)
{
	struct dl_mdev_parent *mp = parent_of(parent);

	for (unsigned int t = 0; mp && name && t < mp->ntypes; t++)
		if (strcmp(mp->types[t].name, name) == 0)
			return (int)t;
	return -ENOENT;
}

struct count_arg {
	unsigned int type;
	int n;
};

static int count_type(struct dl_device *child, void *arg)
{
	struct count_arg *c = arg;
	struct dl_mdev *m = dl_mdev_of(child);

	/* Linked children are LIVE or REMOVING: both still hold an
	 * instance; it comes back when the child is unlinked, DEAD. */
	if (m && m->type == c->type && dl_device_state(child) != DL_STATE_DEAD)
		c->n++;
	return 0;
}

int dl_mdev_type_available(struct dl_device *parent, unsigned int t)
{
	struct dl_mdev_parent *mp = parent_of(parent);
	struct count_arg c = { t, 0 };
	int r;

	assert_return(mp && t < mp->ntypes, -EINVAL);
	r = dl_device_for_each_child(parent, count_type, &c);
	if (r < 0)
		return r;
	return c.n >= (int)mp->types[t].max ? 0 : (int)mp->types[t].max - c.n;
}

static const char *const attr_names[DL_MDEV_ATTR_COUNT] = {
	[DL_MDEV_ATTR_NAME] = "name",
	[DL_MDEV_ATTR_DESCRIPTION] = "description",
	[DL_MDEV_ATTR_DEVICE_API] = "device_api",
	[DL_MDEV_ATTR_AVAILABLE] = "available_instances",
	[DL_MDEV_ATTR_CREATE] = "create",
};

const char *dl_mdev_attr_name(enum dl_mdev_type_attr attr)
{
	return (unsigned int)attr < DL_MDEV_ATTR_COUNT ? attr_names[attr] : NULL;
}

int dl_mdev_type_attr_show(struct dl_device *parent, unsigned int t,
			   enum dl_mdev_type_attr attr, char *buf, size_t len)
{
	struct dl_mdev_parent *mp = parent_of(parent);
	int k, avail;

	assert_return(mp && t < mp->ntypes && buf && len, -EINVAL);
	switch (attr) {
	case DL_MDEV_ATTR_NAME:
		k = snprintf(buf, len, "%s\n", mp->types[t].name);
		break;
	case DL_MDEV_ATTR_DESCRIPTION:
		k = snprintf(buf, len, "mediated device type %s of %s, "
				       "at most %u instances\n",
			     mp->types[t].name, dl_device_name(parent), mp->types[t].max);
		break;
	case DL_MDEV_ATTR_DEVICE_API:
		k = snprintf(buf, len, "vfio-pci\n");
		break;
	case DL_MDEV_ATTR_AVAILABLE:
		avail = dl_mdev_type_available(parent, t);
		if (avail < 0)
			return avail;
		k = snprintf(buf, len, "%d\n", avail);
		break;
	default:
		return -EINVAL;
	}
	if (k < 0 || (size_t)k >= len)
		return -ENOSPC;
	return k;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dl_mdev_uuid_parse(const char *s, size_t len, char out[DL_MDEV_UUID_LEN + 1])
{
	assert_return(s && out, -EINVAL);
	/* The kernel's create_store(): 36 or 37 bytes, then guid_parse(),
	 * whose uuid_is_valid() looks at the first 36 only (so the 37th may
	 * be a newline, a NUL or anything). */
	if (len == DL_MDEV_UUID_LEN + 1)
		len--;
	if (len != DL_MDEV_UUID_LEN)
		return -EINVAL;
	for (size_t i = 0; i < DL_MDEV_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			out[i] = '-';
		} else {
			int v = hexval(s[i]);

			if (v < 0)
				return -EINVAL;
			out[i] = "0123456789abcdef"[v];
		}
	}
	out[DL_MDEV_UUID_LEN] = '\0';
	return 0;
}

int dl_mdev_create(struct dl_device *parent, unsigned int t, const char *uuid,
		   size_t len, struct dl_device **ret)
{
	struct dl_mdev_parent *mp = parent_of(parent);
	const struct dl_mdev_parent_ops *ops;
	char name[DL_MDEV_UUID_LEN + 1];
	struct dl_device *child = NULL, *other;
	struct dl_mdev *m;
	int r;

	assert_return(mp && uuid, -EINVAL);
	if (t >= mp->ntypes || dl_mdev_uuid_parse(uuid, len, name) < 0)
		return -EINVAL;
	if (dl_device_lookup(dl_device_tree(parent), name, &other) == 0) {
		dl_device_put(other);
		return -EEXIST;
	}
	pthread_mutex_lock(&mp->lock);
	if (!atomic_load(&mp->registered)) {
		r = -ENODEV;
		goto out;
	}
	r = dl_mdev_type_available(parent, t);
	if (r == 0)
		r = -ENOSPC;
	if (r < 0)
		goto out;
	r = dl_device_new(dl_device_tree(parent), &dl_mdev_type, name, sizeof(*m), &child);
	if (r < 0)
		goto out;
	m = dl_device_priv(child);
	m->parent = parent;
	m->type = t;
	ops = atomic_load(&mp->ops);
	if (ops && ops->create) {
		r = ops->create(parent, child, mp->data);
		if (r > 0)
			r = 0;
	}
	/* Enters the parent: refused once the parent's removal has begun,
	 * drained by it otherwise (then the removal removes the child). */
	if (r == 0)
		r = dl_device_add(child, parent);
out:
	pthread_mutex_unlock(&mp->lock);
	if (r < 0) {
		dl_device_put(child);
		return r;
	}
	if (ret)
		*ret = child;
	else
		dl_device_put(child);
	return 0;
}

/* "vfio_mdev": the driver every mediated device is bound to. Its remove
 * runs the parent driver's hook: the parent driver is still bound then,
 * since a parent's removal and its driver's unregistration both wait
 * for every child to be DEAD first. */
static void vfio_mdev_remove(struct dl_driver *drv, struct dl_device *dev)
{
	struct dl_mdev *m = dl_mdev_of(dev);
	struct dl_mdev_parent *mp = m ? parent_of(m->parent) : NULL;
	const struct dl_mdev_parent_ops *ops = mp ? atomic_load(&mp->ops) : NULL;

	if (ops && ops->remove)
		ops->remove(m->parent, dev, mp->data);
}

static int vfio_mdev_probe(struct dl_driver *drv, struct dl_device *dev)
{
	return dl_mdev_of(dev) ? 0 : -ENODEV;
}

static const struct dl_driver_ops vfio_mdev_ops = {
	.name = "vfio_mdev",
	.type = &dl_mdev_type,
	.probe = vfio_mdev_probe,
	.remove = vfio_mdev_remove,
};

int dl_mdev_register_driver(struct dl_tree *tree, struct dl_driver **ret)
{
	return dl_driver_register(tree, &vfio_mdev_ops, NULL, ret);
}
