/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Deadlines. Every deadline of the library is a CLOCK_MONOTONIC instant
 * and every timed wait is on a condition variable created for that clock,
 * so a step of the wall clock (settimeofday, NTP) neither stretches nor
 * shortens a removal's timeout.
 */
#include <time.h>

#include "core.h"

uint64_t dl__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * DL_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void dl__cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(cond, &attr) != 0)
		dl__die("cannot create a CLOCK_MONOTONIC condition variable");
	pthread_condattr_destroy(&attr);
}

int dl__cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex,
			uint64_t deadline_ns)
{
	struct timespec ts;

	if (!deadline_ns) {
		pthread_cond_wait(cond, mutex);
		return 0;
	}
	if (dl__now_ns() >= deadline_ns)
		return ETIMEDOUT;
	ts.tv_sec = (time_t)(deadline_ns / DL_NSEC_PER_SEC);
	ts.tv_nsec = (long)(deadline_ns % DL_NSEC_PER_SEC);
	pthread_cond_timedwait(cond, mutex, &ts);
	return 0;
}
