/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef DEVLIFE_BENCH_FLOOR_H
#define DEVLIFE_BENCH_FLOOR_H

/* Empty functions in libdevlife-bench-floor.so (see floor.c). */
int bench_floor_enter(void *dev);
void bench_floor_exit(void *dev);

#endif
