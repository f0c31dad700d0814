/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host channel's line protocol (docs/host-protocol.md): parsing of
 * requests and formatting of replies. Pure functions, no I/O, so that the
 * parser can be fuzzed alone.
 */
#ifndef DEVLIFE_HOST_PROTO_H
#define DEVLIFE_HOST_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest request line, newline included. */
#define DL_HOST_LINE_MAX 8192
/** Most arguments a request may carry (relations lists many devices). */
#define DL_HOST_ARGS_MAX 1024

/**
 * enum dl_host_cmd - the requests
 */
enum dl_host_cmd {
	DL_HOST_HELP = 1,   /* help */
	DL_HOST_TREE,       /* tree */
	DL_HOST_ADD,        /* add DBDF [key=value...] */
	DL_HOST_EJECT,      /* eject DBDF */
	DL_HOST_SURPRISE,   /* surprise DBDF */
	DL_HOST_RELATIONS,  /* relations BUS [DBDF...] */
	DL_HOST_ERROR,      /* error DBDF */
	DL_HOST_STATS,      /* stats */
	DL_HOST_TRACE,      /* trace [follow] */
	DL_HOST_MONITOR,    /* monitor */
};

/**
 * struct dl_pci_addr - a PCI function address
 * @domain: 0..0xffff
 * @bus: 0..0xff
 * @dev: 0..0x1f
 * @fn: 0..7
 */
struct dl_host_addr {
	uint16_t domain;
	uint8_t bus;
	uint8_t dev;
	uint8_t fn;
};

/**
 * struct dl_host_req - a parsed request
 * @cmd: the command
 * @addr: the device (add, eject, surprise, error) or the bus (relations:
 *        dev and fn are 0)
 * @naddrs: relations: how many present devices were listed
 * @addrs: relations: the listed devices (all on @addr's domain:bus)
 * @nkv: add: how many key=value arguments
 * @kv: add: the key=value arguments, pointing into the request's copy of
 *      the line
 * @follow: trace: keep streaming
 */
struct dl_host_req {
	enum dl_host_cmd cmd;
	struct dl_host_addr addr;
	unsigned int naddrs;
	struct dl_host_addr *addrs;
	unsigned int nkv;
	char **kv;
	bool follow;
	char *buf; /* private: the tokenized copy of the line */
};

/**
 * dl_host_parse() - parse one request line
 * @line: the bytes of the line (need not be NUL-terminated; a trailing
 *        "\n" or "\r\n" is ignored)
 * @len: its length
 * @req: where to store the request (free with dl_host_req_clear())
 * @err: where to write a one-line reason on failure
 * @errlen: size of @err
 *
 * Tokens are separated by spaces or tabs. DBDF is "DDDD:BB:DD.F" or
 * "BB:DD.F" (domain 0), hexadecimal; BUS is "DDDD:BB" or "BB".
 *
 * Context: any thread; pure (no I/O).
 * Ownership: on success @req owns memory released by dl_host_req_clear();
 * on failure @req is left cleared.
 * Return: 0, -EINVAL (malformed; @err says why), -E2BIG (line or
 * argument count too long), -ENOMEM.
 */
int dl_host_parse(const char *line, size_t len, struct dl_host_req *req,
		  char *err, size_t errlen);

/**
 * dl_host_req_clear() - release what dl_host_parse() allocated
 * @req: the request (may be already clear)
 * Context: any thread.
 */
void dl_host_req_clear(struct dl_host_req *req);

/**
 * dl_host_parse_addr() - parse "DDDD:BB:DD.F" or "BB:DD.F"
 * @s: NUL-terminated text
 * @ret: where to store the address
 * Context: any thread; pure.
 * Return: 0 or -EINVAL.
 */
int dl_host_parse_addr(const char *s, struct dl_host_addr *ret);

/**
 * dl_host_parse_bus() - parse "DDDD:BB" or "BB"
 * @s: NUL-terminated text
 * @ret: where to store it (dev and fn set to 0)
 * Context: any thread; pure.
 * Return: 0 or -EINVAL.
 */
int dl_host_parse_bus(const char *s, struct dl_host_addr *ret);

/**
 * dl_host_format_addr() - "DDDD:BB:DD.F"
 * @a: the address
 * @buf: at least DL_HOST_ADDR_SIZE bytes
 * Context: any thread. Return: @buf.
 */
char *dl_host_format_addr(const struct dl_host_addr *a, char *buf);

/* The size of "DDDD:BB:DD.F" with its NUL. */
#define DL_HOST_ADDR_SIZE 13

/**
 * dl_host_errno_name() - "EBUSY" for EBUSY (positive errno)
 * @err: a positive errno value
 * Context: any thread.
 * Return: a static name, or "EIO" for values it does not know.
 */
const char *dl_host_errno_name(int err);

/**
 * dl_host_errno_value() - the errno value of a name ("EBUSY" -> EBUSY)
 * @name: the name
 * Context: any thread.
 * Return: the positive errno value, or 0 if unknown.
 */
int dl_host_errno_value(const char *name);

#endif
