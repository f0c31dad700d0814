/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who holds it: the report a drain prints when a removal has waited
 * longer than the tree's report threshold (dl__active_drain() in
 * active.c). For each device, every thread's slots and overflow entries
 * that hold it, with the tag and call site of the enter in builds with
 * debug checks, and what the per-device fallback count holds beyond them.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "core.h"

/*
 * A call site as a person can use it: the function and offset when the
 * dynamic symbol table names it; otherwise the object file and the offset
 * in it, which `addr2line -f -e FILE OFFSET` turns into a function and a
 * source line (a static function, or a program linked without -rdynamic).
 */
void dl__describe_site(char *buf, size_t len, void *site)
{
	Dl_info info;

	if (!site)
		snprintf(buf, len, "?");
	else if (dladdr(site, &info) && info.dli_sname)
		snprintf(buf, len, "%s+0x%lx", info.dli_sname,
			 (unsigned long)((char *)site -
					 (char *)info.dli_saddr));
	else if (dladdr(site, &info) && info.dli_fname)
		snprintf(buf, len, "%s+0x%lx (addr2line -f -e %s 0x%lx)",
			 info.dli_fname,
			 (unsigned long)((char *)site - (char *)info.dli_fbase),
			 info.dli_fname,
			 (unsigned long)((char *)site - (char *)info.dli_fbase));
	else
		snprintf(buf, len, "an address in no loaded object");
}

/* Build the "who holds it" report. Called without locks. */
char *dl__holders_report(struct dl_device **devs, size_t n,
			 uint64_t waited_ns)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct dl__thread *t;

	if (!f)
		return NULL;
	fprintf(f, "removal of %s has waited %.3f s for active users:\n",
		devs[0]->name, (double)waited_ns / (double)DL_NSEC_PER_SEC);
	pthread_mutex_lock(&dl__threads_lock);
	for (size_t k = 0; k < n; k++) {
		struct dl_device *dev = devs[k];
		long fb = atomic_load(&dev->fallback_active);

		cds_list_for_each_entry(t, &dl__threads, node) {
			for (int i = 0; i < DL_SLOTS; i++) {
				struct dl__slot_abi *s = &t->abi.slots[i];
				long c = atomic_load(&s->count);
				char site[512];

				if (c <= 0 || atomic_load(&s->dev) != dev)
					continue;
				dl__describe_site(site, sizeof(site),
					      DL_DEBUG ? s->site : NULL);
				fprintf(f,
					"  %s: thread %d (%s) holds %ld, "
					"tag %s, entered at %s\n",
					dev->name, (int)t->tid, t->name, c,
					DL_DEBUG && s->tag ? s->tag : "-",
					DL_DEBUG ? site : "(build without "
							  "debug checks)");
			}
		}
		cds_list_for_each_entry(t, &dl__threads, node) {
			for (int i = 0; i < DL_OVERFLOW; i++) {
				long c = atomic_load(&t->over[i].count);

				if (c <= 0 || atomic_load(&t->over[i].dev) !=
						      dev)
					continue;
				fb -= c;
				fprintf(f,
					"  %s: thread %d (%s) holds %ld "
					"(its slots were full: no tag or call "
					"site)\n",
					dev->name, (int)t->tid, t->name, c);
			}
		}
		if (fb > 0)
			fprintf(f, "  %s: %ld untracked (threads without a "
				   "record or with a full overflow table)\n",
				dev->name, fb);
	}
	pthread_mutex_unlock(&dl__threads_lock);
	fclose(f);
	return buf;
}
