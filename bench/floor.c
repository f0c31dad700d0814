/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The call floor: two empty functions in a shared library, called the way
 * an application calls dl_device_enter()/dl_device_exit() (through the
 * PLT). No out-of-line enter/exit can cost less than this pair of calls.
 */
#include "floor.h"

int bench_floor_enter(void *dev)
{
	__asm__ __volatile__("" : : "r"(dev) : "memory");
	return 0;
}

void bench_floor_exit(void *dev)
{
	__asm__ __volatile__("" : : "r"(dev) : "memory");
}
