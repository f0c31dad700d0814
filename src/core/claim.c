/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Claims: one exclusive consumer per device (a VM, a dataplane). Removal
 * negotiates with it (remove.c): try mode refuses, wait mode asks the
 * claimant to release and waits. Protected by tree->wait_lock, the lock
 * removal waits on, so an unclaim wakes the remover.
 */
#include <string.h>

#include "core.h"

static __thread struct dl_claim *current_callback;

/* the device whose claim's release callback this thread runs */
static __thread struct dl_device *current_callback_dev;

void dl__claim_callback_enter(struct dl_claim *c, struct dl_device *dev)
{
	current_callback = c;
	current_callback_dev = dev;
	if (DL_DEBUG)
		dl__claim_callback_running(c);
}

void dl__claim_callback_exit(void)
{
	current_callback = NULL;
	current_callback_dev = NULL;
	if (DL_DEBUG)
		dl__claim_callback_running(NULL);
}

struct dl_device *dl__claim_callback_dev(void)
{
	return current_callback_dev;
}

DL_EXPORT int dl_device_claim(struct dl_device *dev, const char *owner,
			      dl_claim_release_fn release, void *arg)
{
	struct dl_tree *tree;
	struct dl_claim *c;
	struct dl_trace_record rec;
	int r = 0;

	assert_return(dev && owner, -EINVAL);
	tree = dev->tree;
	c = dl__calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	snprintf(c->owner, sizeof(c->owner), "%s", owner);
	c->release = release;
	c->arg = arg;
	pthread_mutex_lock(&tree->wait_lock);
	/* A removal closes the gate before it looks for claims under this
	 * lock: either it sees this claim or this sees the closed gate. */
	if (atomic_load(&dev->state) != DL_STATE_LIVE ||
	    atomic_load(&dev->gate.deact) != 0)
		r = -ENODEV;
	else if (dev->claim)
		r = -EBUSY;
	else {
		/* The claim's reference, before anyone (a removal's
		 * release callback) can see the claim and unclaim it. */
		dl_device_get(dev);
		dev->claim = c;
		dl__trace_record(tree, dev, DL_EV_CLAIM, 0, &rec);
	}
	pthread_mutex_unlock(&tree->wait_lock);
	if (r < 0) {
		free(c);
		return r;
	}
	DL_TEST_POINT("claim:claimed", dev);
	dl__trace_notify(tree, dev, &rec);
	return 0;
}

DL_EXPORT int dl_device_unclaim(struct dl_device *dev)
{
	struct dl_tree *tree;
	struct dl_claim *c;
	struct dl_trace_record rec;

	assert_return(dev, -EINVAL);
	tree = dev->tree;
	pthread_mutex_lock(&tree->wait_lock);
	c = dev->claim;
	dev->claim = NULL;
	if (!c) {
		pthread_mutex_unlock(&tree->wait_lock);
		return -EINVAL;
	}
	dl__trace_record(tree, dev, DL_EV_UNCLAIM, 0, &rec);
	c->released = true;
	pthread_cond_broadcast(&tree->wait_cond);
	/*
	 * A removal may be running the release callback right now. Wait
	 * for it (its argument is the claimant's), unless this very thread
	 * is that callback: then the remover frees the claim when the
	 * callback returns.
	 */
	if (current_callback == c) {
		c->remover_frees = true;
		pthread_mutex_unlock(&tree->wait_lock);
	} else {
		struct dl__api_call api = DL_API_BEGIN("dl_device_unclaim");
		bool recorded = false;

		while (c->calls > 0) {
			if (DL_DEBUG && !recorded) {
				dl__wait_begin(&(struct dl__wait){
					.kind = DL_WAIT_CLAIM, .dev = dev,
					.claim = c });
				recorded = true;
			}
			pthread_cond_wait(&tree->wait_cond, &tree->wait_lock);
		}
		pthread_mutex_unlock(&tree->wait_lock);
		if (recorded)
			dl__wait_end();
		DL_API_END(api);
		free(c);
	}
	dl__trace_notify(tree, dev, &rec);
	dl_device_put(dev);
	return 0;
}

DL_EXPORT int dl_device_claim_owner(struct dl_device *dev, char *buf,
				    size_t len)
{
	int r = 0;

	assert_return(dev && buf && len, -EINVAL);
	pthread_mutex_lock(&dev->tree->wait_lock);
	if (dev->claim) {
		snprintf(buf, len, "%s", dev->claim->owner);
		r = 1;
	}
	pthread_mutex_unlock(&dev->tree->wait_lock);
	return r;
}
