/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "baselines.h"

#include <errno.h>

void ab_wake(struct ab_dev *d)
{
	/* A real remover would sleep on a wait queue; count the wakeup. */
	atomic_fetch_add(&d->waiters, 1);
}

int mh_init(struct mh_table *t, size_t expected)
{
	size_t n = 16;

	while (n < expected)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

int mh_add(struct mh_table *t, const char *name)
{
	size_t len = strlen(name) + 1;
	struct mh_dev *d = malloc(sizeof(*d) + len), *p;

	if (!d)
		return -ENOMEM;
	memcpy(d->name, name, len);
	d->hash = mh_hash(name);
	atomic_init(&d->refcount, 1);
	pthread_mutex_lock(&t->lock);
	for (p = t->buckets[d->hash & t->mask]; p; p = p->next) {
		if (p->hash == d->hash && !strcmp(p->name, name)) {
			pthread_mutex_unlock(&t->lock);
			free(d);
			return -EEXIST;
		}
	}
	d->next = t->buckets[d->hash & t->mask];
	t->buckets[d->hash & t->mask] = d;
	t->count++;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void mh_release(struct mh_dev *d)
{
	free(d);
}

void mh_destroy(struct mh_table *t)
{
	for (size_t i = 0; i <= t->mask; i++) {
		struct mh_dev *d = t->buckets[i], *n;

		for (; d; d = n) {
			n = d->next;
			mh_put(d);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	pthread_mutex_destroy(&t->lock);
}
