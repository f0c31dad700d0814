/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the scenario parser (src/scenario/parse.c), which reads
 * a user's file before devlifed runs anything of it.
 *
 * Beyond "no crash, no leak, no undefined behaviour" it checks what the
 * parser promises: a bad file gives "NAME:LINE: message" with LINE one
 * of the file's lines (or "NAME: message" for a file with nothing in it)
 * and stores no scenario; a good one is within its limits, every label a
 * step names is a rule's, every string is terminated, and parsing the
 * same bytes again gives the same scenario.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scenario.h"

static bool terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

static void check_action(const struct dl_scen *s, const struct dl_scen_action *a,
			 unsigned int lines)
{
	CHECK(a->line >= 1 && a->line <= lines);
	CHECK(a->ndevs <= DL_SCEN_DEVS_MAX);
	CHECK(terminated(a->label, sizeof(a->label)));
	CHECK(terminated(a->event, sizeof(a->event)));
	CHECK(terminated(a->text, sizeof(a->text)));
	for (unsigned int i = 0; i < a->ndevs; i++)
		CHECK(terminated(a->devs[i], sizeof(a->devs[i])) && a->devs[i][0]);
	if (a->act == DL_SCEN_FAIL)
		CHECK(a->err > 0 && dl_scen_errno(strerrorname_np(a->err)) == a->err);
	if (a->event[0])
		CHECK(dl_scen_event(a->event) != NULL ||
		      (a->act == DL_SCEN_WAIT_EVENT && !strcmp(a->event, "closed")));
	if (a->label[0]) {
		bool found = false;

		for (size_t i = 0; i < s->nrules; i++)
			found |= !strcmp(s->rules[i].label, a->label);
		CHECK(found);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_scen *s = NULL, *again = NULL;
	unsigned int lines = 1, line;
	char err[512] = "", err2[512] = "";
	int r;

	for (size_t i = 0; i + 1 < size; i++)
		lines += data[i] == '\n';
	r = dl_scen_parse((const char *)data, size, "f", &s, err, sizeof(err));
	CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r < 0) {
		CHECK(s == NULL);
		if (r == -EINVAL) {
			CHECK(!strncmp(err, "f:", 2) && strstr(err, ": "));
			if (sscanf(err, "f:%u: ", &line) == 1)
				CHECK(line >= 1 && line <= lines);
		}
		return 0;
	}
	CHECK(s && s->nrules <= DL_SCEN_RULES_MAX && s->nsteps <= DL_SCEN_STEPS_MAX);
	CHECK(s->nrules + s->nsteps > 0);
	for (size_t i = 0; i < s->nrules; i++) {
		const struct dl_scen_rule *ru = &s->rules[i];

		CHECK(ru->nth >= 1 && ru->label[0]);
		CHECK(terminated(ru->glob, sizeof(ru->glob)));
		CHECK(terminated(ru->comm, sizeof(ru->comm)));
		CHECK(ru->on_fs ? ru->op < DL_SCEN_OP_MAX : dl_scen_event(ru->event) != NULL);
		/* a tree event acts on the tree only */
		CHECK(ru->on_fs || ru->action.act >= DL_SCEN_EJECT);
		check_action(s, &ru->action, lines);
		for (size_t k = 0; k < i; k++)
			CHECK(strcmp(s->rules[k].label, ru->label) != 0);
	}
	for (size_t i = 0; i < s->nsteps; i++)
		check_action(s, &s->steps[i], lines);
	CHECK(dl_scen_parse((const char *)data, size, "f", &again, err2, sizeof(err2)) == 0);
	CHECK(memcmp(s, again, sizeof(*s)) == 0);
	free(s);
	free(again);
	return 0;
}
