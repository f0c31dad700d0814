/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * faulty: a driver whose probe fails with a chosen errno (probe_errno;
 * the function then stays unbound, as after a failed probe on Linux),
 * whose remove stalls for a bounded time (remove_delay_us, at most a
 * minute: the topology parser's limit), and whose error recovery gives
 * up (the function is removed and rescanned).
 */
#include "drivers.h"
#include "pci.h"

static int faulty_probe(struct dl_device *dev, void *data)
{
	struct dl_pci_func *f = dl_pci_func_of(dev);

	dl_pci__sleep_us(f->params.probe_delay_us);
	return f->params.probe_errno ? -(int)f->params.probe_errno : 0;
}

static void faulty_remove(struct dl_device *dev, void *data)
{
	dl_pci__sleep_us(dl_pci_func_of(dev)->params.remove_delay_us);
}

static enum dl_pci_ers_result faulty_error_detected(struct dl_device *dev, void *data)
{
	return DL_PCI_ERS_DISCONNECT;
}

static const struct dl_pci_error_handlers faulty_err = {
	.error_detected = faulty_error_detected,
};

const struct dl_pci_driver dl_pci_faulty_driver = {
	.name = "faulty",
	.probe = faulty_probe,
	.remove = faulty_remove,
	.err_handler = &faulty_err,
};
