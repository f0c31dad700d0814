/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running a scenario inside devlifed (docs/scenarios.md): its rules
 * watch the view's operations (dl_fs_set_hook()) and the tree's trace;
 * its steps run in order in the caller's thread.
 */
#ifndef DEVLIFE_SCENARIO_ENGINE_H
#define DEVLIFE_SCENARIO_ENGINE_H

#include <stddef.h>

#include "scenario.h"

struct dl_tree;
struct dl_fs;
struct dl_pci_platform;

/* What a scenario acts on. */
struct dl_scen_env {
	struct dl_tree *tree;
	struct dl_pci_platform *plat;
	struct dl_fs *fs;
};

/* Receives each line of the report, as it happens. */
typedef void (*dl_scen_emit_fn)(void *arg, const char *line);

/**
 * dl_scen_run() - run a parsed scenario to its end
 * @env: the tree, its platform and its view
 * @s: the scenario
 * @emit: receives the report: "loaded ..." once every rule is armed
 *        (a runner starts its program then), one line per step that
 *        reports something, "pass FILE:LINE: ..." / "FAIL FILE:LINE: ..."
 *        per assertion, and last "result N passed, M failed"
 * @arg: its argument
 *
 * One scenario at a time per process. A wait that times out fails and
 * ends the run (later assertions are reported "not run", and failed).
 * At the end every held operation goes on, the hook is removed and
 * every host event or removal the scenario started has returned.
 *
 * Context: a thread holding no lock of the tree or the view, and no
 * active reference (the host channel's connection thread). Blocks.
 * Return: the number of failed assertions (0: all passed), or -EBUSY
 * (another scenario is running), -ENOMEM.
 */
int dl_scen_run(const struct dl_scen_env *env, const struct dl_scen *s,
		dl_scen_emit_fn emit, void *arg);

/**
 * dl_scen_host_run() - the host channel's `scenario` command
 * @env: a struct dl_scen_env
 * @name: the file's name, for messages
 * @text: the scenario's text
 * @len: its length
 * @emit: as for dl_scen_run()
 * @emit_arg: its argument
 * @err: where a bad file's "NAME:LINE: message" goes
 * @errlen: its size
 *
 * Parses, then dl_scen_run(); a bad file runs nothing.
 * Return: as dl_scen_run(), or -EINVAL (a bad file).
 */
int dl_scen_host_run(void *env, const char *name, const char *text,
		     size_t len, dl_scen_emit_fn emit, void *emit_arg,
		     char *err, size_t errlen);

#endif
