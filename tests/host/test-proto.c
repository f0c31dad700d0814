/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host channel's request parser: good requests, and every kind of bad
 * one gets a clear error and leaves nothing allocated. */
#include "harness.h"
#include "proto.h"

static int parse(const char *s, struct dl_host_req *req, char *err)
{
	return dl_host_parse(s, strlen(s), req, err, 256);
}

TEST(parses_every_command)
{
	struct dl_host_req r;
	char err[256], buf[16];

	ASSERT_EQ(parse("tree\n", &r, err), 0);
	ASSERT_EQ(r.cmd, DL_HOST_TREE);
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("eject 0000:01:00.1\r\n", &r, err), 0);
	ASSERT_EQ(r.cmd, DL_HOST_EJECT);
	ASSERT_STREQ(dl_host_format_addr(&r.addr, buf), "0000:01:00.1");
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("  surprise\t02:1f.7 ", &r, err), 0);
	ASSERT_EQ(r.cmd, DL_HOST_SURPRISE);
	ASSERT_STREQ(dl_host_format_addr(&r.addr, buf), "0000:02:1f.7");
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("add 0001:03:00.0 vendor=0x8086 device=0x10fb", &r,
			err),
		  0);
	ASSERT_EQ(r.addr.domain, 1);
	ASSERT_EQ(r.nkv, 2);
	ASSERT_STREQ(r.kv[1], "device=0x10fb");
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("relations 0000:01 0000:01:00.0 01:00.1", &r, err), 0);
	ASSERT_EQ(r.cmd, DL_HOST_RELATIONS);
	ASSERT_EQ(r.naddrs, 2);
	ASSERT_EQ(r.addrs[1].fn, 1);
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("relations 01", &r, err), 0); /* no devices: all go */
	ASSERT_EQ(r.naddrs, 0);
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("trace follow", &r, err), 0);
	ASSERT_TRUE(r.follow);
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("trace --follow", &r, err), 0);
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("stats", &r, err), 0);
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("error 00:02.0", &r, err), 0);
	dl_host_req_clear(&r);
	ASSERT_EQ(parse("help", &r, err), 0);
	dl_host_req_clear(&r);
}

TEST(rejects_garbage_with_reasons)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "", "empty" },
		{ "   ", "empty" },
		{ "frobnicate", "unknown command" },
		{ "eject", "takes 1 to 1" },
		{ "eject 0000:01:00.0 extra", "takes 1 to 1" },
		{ "eject 0000:01:00", "not a PCI address" },
		{ "eject 0000:01:20.0", "not a PCI address" },  /* dev > 1f */
		{ "eject 0000:01:00.8", "not a PCI address" },  /* fn > 7 */
		{ "eject 00000:01:00.0", "not a PCI address" },
		{ "eject 0000:g1:00.0", "not a PCI address" },
		{ "eject -1", "not a PCI address" },
		{ "relations 0000:01 0000:02:00.0", "not on bus" },
		{ "relations 0000:1", "not a bus" },
		{ "relations 0000:01 zz", "not a PCI address" },
		{ "add 0000:01:00.0 vendor", "not key=value" },
		{ "add 0000:01:00.0 =1", "not key=value" },
		{ "add 0000:01:00.0 Vendor=1", "not key=value" },
		{ "trace backwards", "only 'follow'" },
		{ "tree\x01", "invalid byte" },
		{ "tree \xff", "invalid byte" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dl_host_req r;
		char err[256] = "";
		int ret = parse(bad[i].line, &r, err);

		if (ret != -EINVAL)
			FAIL_AT("'%s': got %d, want -EINVAL", bad[i].line, ret);
		ASSERT_CONTAINS(err, bad[i].why);
		ASSERT_PTR_EQ(r.buf, NULL);
		ASSERT_PTR_EQ(r.kv, NULL);
		ASSERT_PTR_EQ(r.addrs, NULL);
	}
}

TEST(rejects_oversized)
{
	struct dl_host_req r;
	char err[256];
	size_t n = DL_HOST_LINE_MAX + 10;
	char *line = malloc(n + 1);
	char *p;

	memset(line, 'a', n);
	line[n] = 0;
	ASSERT_EQ(parse(line, &r, err), -E2BIG);
	/* too many arguments, each valid */
	p = line;
	p += sprintf(p, "relations 01");
	for (int i = 0; i < DL_HOST_ARGS_MAX + 5 && p - line < DL_HOST_LINE_MAX - 10; i++)
		p += sprintf(p, " 1");
	ASSERT_NE(parse(line, &r, err), 0);
	ASSERT_PTR_EQ(r.buf, NULL);
	free(line);
	/* embedded NUL */
	ASSERT_EQ(dl_host_parse("tree\0x", 6, &r, err, sizeof(err)), -EINVAL);
}

TEST(errno_names_round_trip)
{
	ASSERT_STREQ(dl_host_errno_name(EBUSY), "EBUSY");
	ASSERT_EQ(dl_host_errno_value("ETIMEDOUT"), ETIMEDOUT);
	ASSERT_EQ(dl_host_errno_value("ENOPE"), 0);
	ASSERT_STREQ(dl_host_errno_name(12345), "EIO");
}

TEST_MAIN(parses_every_command, rejects_garbage_with_reasons,
	  rejects_oversized, errno_names_round_trip)
