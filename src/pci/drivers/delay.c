/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The drivers' configured delays (probe_delay_us, remove_delay_us,
 * op_delay_us): a sleep that an interrupting signal does not cut short.
 */
#include <errno.h>
#include <time.h>

#include "drivers.h"
#include "internal.h"

void dl_pci__sleep_us(uint32_t us)
{
	struct timespec ts = { (time_t)(us / DL_USEC_PER_SEC),
			       (long)(us % DL_USEC_PER_SEC) * DL_NSEC_PER_USEC };

	if (!us)
		return;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
