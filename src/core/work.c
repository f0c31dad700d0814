/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deferred work bound to a device.
 *
 * Queuing takes a lifetime reference on the device and is done inside an
 * active section of the device, so it fails once removal has closed the
 * device, and removal (which drains before it cancels) sees every item
 * that was queued. Running takes an active reference; if that fails the
 * body is skipped. Removal cancels what has not started. So no work ever
 * runs on a device that is being removed or gone (seeds 000 and 004).
 *
 * A queue with max_active == 1 is ordered: one worker, FIFO.
 */
#include <string.h>
#include <unistd.h>

#include "core.h"

struct work_item {
	struct cds_list_head node;        /* wq->pending or wq->running */
	struct cds_list_head cnode;       /* a cancelling removal's list */
	struct dl_workqueue *wq;          /* written once */
	struct dl_device *dev;            /* holds a lifetime reference */
	dl_work_fn fn;
	dl_work_done_fn done;
	void *arg;
	uint64_t seq;
};

struct dl_workqueue {
	struct cds_list_head node;        /* tree->workqueues, wq_lock */
	struct dl_tree *tree;
	char name[32];
	unsigned int max_active;
	pthread_mutex_t lock;
	pthread_cond_t more;              /* workers wait for items */
	pthread_cond_t idle;              /* flush/close wait for progress */
	struct cds_list_head pending;     /* lock; FIFO */
	struct cds_list_head running;     /* lock */
	uint64_t next_seq;                /* lock */
	bool closed;                      /* lock: producers refused */
	bool stopping;                    /* lock: workers exit */
	unsigned int nthreads;
	pthread_t *threads;
};

static __thread struct dl_workqueue *current_wq;
/* the device the running item's worker entered for it, until its body
 * gives that reference up by removing the device (owner only) */
static __thread struct dl_device *entered_for_item;

bool dl__work_drop_active(struct dl_device *dev, bool subtree)
{
	struct dl_device *d = entered_for_item;

	if (!d || !(d == dev || (subtree && dl__is_ancestor(dev, d))))
		return false;
	entered_for_item = NULL;
	dl_device_exit(d);
	return true;
}

/*
 * An item's end: its done callback and its device reference while it is
 * still on its queue's running list (so flush and close, which wait for
 * that list, wait for them too), then off the list, then its memory.
 * Called without wq->lock; the queue may be freed once the item is off.
 */
static void finish(struct dl_tree *tree, struct work_item *it, int status)
{
	struct dl_workqueue *wq = it->wq, *was = current_wq;
	struct dl__thread *self = DL_DEBUG ? dl__thread_self() : NULL;
	const void *was_wq = DL_DEBUG ? self->work_wq : NULL;
	const char *was_name = DL_DEBUG ? self->work_wq_name : NULL;
	uint64_t was_seq = DL_DEBUG ? self->work_seq : 0;

	/* a flush waits for this thread until the item is off the list */
	if (DL_DEBUG)
		dl__work_running(wq, wq->name, it->seq);
	/* as in a worker: flushing or closing its own queue from the
	 * callback would wait for itself, and says -EDEADLK instead */
	current_wq = wq;
	if (it->done)
		it->done(it->arg, status);
	current_wq = was;
	if (status == 0)
		atomic_fetch_add(&tree->stats.work_run, 1);
	else
		atomic_fetch_add(&tree->stats.work_cancelled, 1);
	dl_device_put(it->dev);
	pthread_mutex_lock(&wq->lock);
	cds_list_del(&it->node);
	pthread_cond_broadcast(&wq->idle);
	pthread_mutex_unlock(&wq->lock);
	free(it);
	if (DL_DEBUG)
		dl__work_running(was_wq, was_name, was_seq);
}

static void *worker(void *arg)
{
	struct dl_workqueue *wq = arg;
	char name[16];

	snprintf(name, sizeof(name), "dl-%.12s", wq->name);
	pthread_setname_np(pthread_self(), name);
	current_wq = wq;
	pthread_mutex_lock(&wq->lock);
	for (;;) {
		struct work_item *it;
		int status;
		bool closed;

		while (cds_list_empty(&wq->pending) && !wq->stopping)
			pthread_cond_wait(&wq->more, &wq->lock);
		if (cds_list_empty(&wq->pending))
			break; /* stopping, nothing left */
		it = cds_list_first_entry(&wq->pending, struct work_item,
					  node);
		cds_list_del(&it->node);
		cds_list_add_tail(&it->node, &wq->running);
		atomic_fetch_sub(&it->dev->pending_work, 1);
		/* Taken after a removal that cannot be refused closed the
		 * device: it was pending then, so it is cancelled, as the
		 * removal's own cancel would say (an ordered queue's item
		 * behind a running one). */
		closed = atomic_load(&it->dev->gate_final) != 0;
		pthread_mutex_unlock(&wq->lock);

		if (DL_DEBUG)
			dl__work_running(wq, wq->name, it->seq);
		DL_TEST_POINT("work:run", it->dev);
		if (closed) {
			status = -ECANCELED;
		} else if (dl_device_enter_tagged(it->dev, "work") == 0) {
			entered_for_item = it->dev;
			it->fn(it->dev, it->arg);
			if (entered_for_item)
				dl_device_exit(it->dev);
			entered_for_item = NULL;
			status = 0;
		} else {
			status = -ENODEV;
		}

		finish(wq->tree, it, status);
		if (DL_DEBUG)
			dl__work_running(NULL, NULL, 0);
		pthread_mutex_lock(&wq->lock);
	}
	pthread_mutex_unlock(&wq->lock);
	return NULL;
}

static void wq_destroy(struct dl_workqueue *wq)
{
	pthread_mutex_destroy(&wq->lock);
	pthread_cond_destroy(&wq->more);
	pthread_cond_destroy(&wq->idle);
	free(wq->threads);
	free(wq);
}

DL_EXPORT int dl_workqueue_new(struct dl_tree *tree, const char *name,
			       unsigned int max_active,
			       struct dl_workqueue **ret)
{
	struct dl_workqueue *wq;
	int r;

	assert_return(tree && name && ret, -EINVAL);
	assert_return(max_active >= 1 && max_active <= 256, -EINVAL);
	wq = dl__calloc(1, sizeof(*wq));
	if (!wq)
		return -ENOMEM;
	wq->threads = dl__calloc(max_active, sizeof(pthread_t));
	if (!wq->threads) {
		free(wq);
		return -ENOMEM;
	}
	wq->tree = tree;
	snprintf(wq->name, sizeof(wq->name), "%s", name);
	wq->max_active = max_active;
	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->more, NULL);
	pthread_cond_init(&wq->idle, NULL);
	CDS_INIT_LIST_HEAD(&wq->pending);
	CDS_INIT_LIST_HEAD(&wq->running);
	for (unsigned int i = 0; i < max_active; i++) {
		r = pthread_create(&wq->threads[i], NULL, worker, wq);
		if (r != 0) {
			pthread_mutex_lock(&wq->lock);
			wq->stopping = true;
			pthread_cond_broadcast(&wq->more);
			pthread_mutex_unlock(&wq->lock);
			for (unsigned int j = 0; j < wq->nthreads; j++)
				pthread_join(wq->threads[j], NULL);
			wq_destroy(wq);
			return -r;
		}
		wq->nthreads++;
	}
	pthread_mutex_lock(&tree->wq_lock);
	cds_list_add_tail(&wq->node, &tree->workqueues);
	pthread_mutex_unlock(&tree->wq_lock);
	*ret = wq;
	return 0;
}

DL_EXPORT struct dl_workqueue *dl_tree_workqueue(struct dl_tree *tree)
{
	assert_return(tree, NULL);
	return tree->system_wq;
}

DL_EXPORT int dl_work_queue(struct dl_workqueue *wq, struct dl_device *dev,
			    dl_work_fn fn, dl_work_done_fn done, void *arg)
{
	struct work_item *it;
	int r = 0;

	assert_return(wq && dev && fn, -EINVAL);
	assert_return(dev->tree == wq->tree, -EINVAL);
	it = dl__calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	/* Queue from inside the device: fails once removal closed it, and
	 * removal's drain waits for us, so its cancel sees the item. */
	if (dl_device_enter(dev) < 0) {
		free(it);
		return -ENODEV;
	}
	/* Removal unpublishes (REMOVING) before it closes the gate. */
	if (atomic_load(&dev->state) != DL_STATE_LIVE) {
		dl_device_exit(dev);
		free(it);
		return -ENODEV;
	}
	it->wq = wq;
	it->dev = dl_device_get(dev);
	it->fn = fn;
	it->done = done;
	it->arg = arg;
	pthread_mutex_lock(&wq->lock);
	if (wq->closed) {
		r = -ESHUTDOWN;
	} else {
		it->seq = ++wq->next_seq;
		atomic_fetch_add(&dev->pending_work, 1);
		cds_list_add_tail(&it->node, &wq->pending);
		pthread_cond_signal(&wq->more);
	}
	pthread_mutex_unlock(&wq->lock);
	dl_device_exit(dev);
	if (r < 0) {
		dl_device_put(it->dev);
		free(it);
	}
	return r;
}

static bool outstanding_upto_locked(struct dl_workqueue *wq, uint64_t seq)
{
	struct work_item *it;

	dl__assert_mutex_held(&wq->lock, "the queue's lock");
	if (!cds_list_empty(&wq->pending) &&
	    cds_list_first_entry(&wq->pending, struct work_item, node)->seq <=
		    seq)
		return true;
	cds_list_for_each_entry(it, &wq->running, node)
		if (it->seq <= seq)
			return true;
	return false;
}

/*
 * Wait until no item numbered up to target is outstanding (flush), or
 * none at all (close: target UINT64_MAX). Builds with debug checks record
 * the wait for the wait-for checks (waits.c) when it blocks.
 */
static void wait_items(struct dl_workqueue *wq, uint64_t target)
{
	bool recorded = false;

	pthread_mutex_lock(&wq->lock);
	while (outstanding_upto_locked(wq, target)) {
		if (DL_DEBUG && !recorded) {
			/* not under wq->lock: the report may take long, a
			 * pause point may stop here */
			pthread_mutex_unlock(&wq->lock);
			dl__wait_begin(&(struct dl__wait){
				.kind = DL_WAIT_FLUSH, .wq = wq,
				.wq_name = wq->name, .seq = target });
			DL_TEST_POINT("wait:blocking", NULL);
			recorded = true;
			pthread_mutex_lock(&wq->lock);
			continue;
		}
		pthread_cond_wait(&wq->idle, &wq->lock);
	}
	pthread_mutex_unlock(&wq->lock);
	if (recorded)
		dl__wait_end();
}

DL_EXPORT int dl_workqueue_flush(struct dl_workqueue *wq)
{
	struct dl__api_call api;
	uint64_t target;

	assert_return(wq, -EINVAL);
	if (current_wq == wq)
		return -EDEADLK;
	api = DL_API_BEGIN("dl_workqueue_flush");
	pthread_mutex_lock(&wq->lock);
	target = wq->next_seq;
	pthread_mutex_unlock(&wq->lock);
	wait_items(wq, target);
	DL_API_END(api);
	return 0;
}

DL_EXPORT int dl_workqueue_close(struct dl_workqueue *wq)
{
	struct dl__api_call api;

	assert_return(wq, -EINVAL);
	if (current_wq == wq)
		return -EDEADLK;
	/* Producers check closed under the same lock: once we have set it,
	 * every queuing still in flight has either finished or will fail. */
	api = DL_API_BEGIN("dl_workqueue_close");
	pthread_mutex_lock(&wq->lock);
	wq->closed = true;
	pthread_mutex_unlock(&wq->lock);
	wait_items(wq, UINT64_MAX);
	DL_API_END(api);
	return 0;
}

DL_EXPORT void dl_workqueue_free(struct dl_workqueue *wq)
{
	struct dl_tree *tree;

	if (!wq)
		return;
	tree = wq->tree;
	dl_workqueue_close(wq);
	pthread_mutex_lock(&wq->lock);
	wq->stopping = true;
	pthread_cond_broadcast(&wq->more);
	pthread_mutex_unlock(&wq->lock);
	for (unsigned int i = 0; i < wq->nthreads; i++)
		pthread_join(wq->threads[i], NULL);
	pthread_mutex_lock(&tree->wq_lock);
	cds_list_del(&wq->node);
	if (tree->system_wq == wq)
		tree->system_wq = NULL;
	pthread_mutex_unlock(&tree->wq_lock);
	wq_destroy(wq);
}

void dl__work_cancel_device(struct dl_device *dev)
{
	struct dl_tree *tree = dev->tree;
	struct dl_workqueue *wq;
	CDS_LIST_HEAD(cancelled);
	struct work_item *it, *tmp;
	int n = 0;

	if (atomic_load(&dev->pending_work) == 0)
		return;
	pthread_mutex_lock(&tree->wq_lock);
	cds_list_for_each_entry(wq, &tree->workqueues, node) {
		pthread_mutex_lock(&wq->lock);
		cds_list_for_each_entry_safe(it, tmp, &wq->pending, node) {
			if (it->dev != dev)
				continue;
			/* still outstanding until its done callback ran */
			cds_list_del(&it->node);
			atomic_fetch_sub(&dev->pending_work, 1);
			cds_list_add_tail(&it->node, &wq->running);
			cds_list_add_tail(&it->cnode, &cancelled);
		}
		pthread_mutex_unlock(&wq->lock);
	}
	pthread_mutex_unlock(&tree->wq_lock);
	cds_list_for_each_entry_safe(it, tmp, &cancelled, cnode) {
		cds_list_del(&it->cnode);
		finish(tree, it, -ECANCELED);
		n++;
	}
	if (n)
		dl__trace(tree, dev, DL_EV_WORK_CANCEL, n);
}

void dl__workqueues_free_all(struct dl_tree *tree)
{
	for (;;) {
		struct dl_workqueue *wq = NULL;

		pthread_mutex_lock(&tree->wq_lock);
		if (!cds_list_empty(&tree->workqueues))
			wq = cds_list_first_entry(&tree->workqueues,
						  struct dl_workqueue, node);
		pthread_mutex_unlock(&tree->wq_lock);
		if (!wq)
			return;
		dl_workqueue_free(wq);
	}
}
