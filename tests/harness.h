/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small TAP test harness. Each test runs in its own child process, so a
 * crash, an abort or a deadlock (caught by a per-test alarm) fails that
 * test alone and is reported as such. Assertions print both values.
 *
 *   TEST(name) { ASSERT_EQ(f(), 0); }
 *   TEST_MAIN(name, other, ...)
 */
#ifndef DEVLIFE_TESTS_HARNESS_H
#define DEVLIFE_TESTS_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST(name) static void name(void)

#define FAIL_AT(...)                                                           \
	do {                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		fflush(stderr);                                                \
		_exit(1);                                                      \
	} while (0)

#define ASSERT_CMP(a, op, b)                                                   \
	do {                                                                   \
		long long a__ = (long long)(a), b__ = (long long)(b);          \
		if (!(a__ op b__))                                             \
			FAIL_AT("ASSERT(%s %s %s) failed: %lld vs %lld (%s)",  \
				#a, #op, #b, a__, b__,                         \
				a__ < 0 && a__ > -4096 ? strerror((int)-a__)   \
						       : "");                  \
	} while (0)

#define ASSERT_EQ(a, b) ASSERT_CMP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP(a, !=, b)
#define ASSERT_GE(a, b) ASSERT_CMP(a, >=, b)
#define ASSERT_GT(a, b) ASSERT_CMP(a, >, b)
#define ASSERT_LE(a, b) ASSERT_CMP(a, <=, b)
#define ASSERT_LT(a, b) ASSERT_CMP(a, <, b)
#define ASSERT_TRUE(x) ASSERT_CMP(!!(x), ==, 1)
#define ASSERT_FALSE(x) ASSERT_CMP(!!(x), ==, 0)
#define ASSERT_PTR_EQ(a, b)                                                    \
	do {                                                                   \
		const void *a__ = (a), *b__ = (b);                             \
		if (a__ != b__)                                                \
			FAIL_AT("ASSERT(%s == %s) failed: %p vs %p", #a, #b,   \
				a__, b__);                                     \
	} while (0)
#define ASSERT_STREQ(a, b)                                                     \
	do {                                                                   \
		const char *a__ = (a), *b__ = (b);                             \
		if (!a__ || !b__ || strcmp(a__, b__) != 0)                     \
			FAIL_AT("ASSERT(%s == %s) failed: \"%s\" vs \"%s\"",   \
				#a, #b, a__ ? a__ : "(null)",                  \
				b__ ? b__ : "(null)");                         \
	} while (0)
#define ASSERT_CONTAINS(hay, needle)                                           \
	do {                                                                   \
		const char *h__ = (hay), *n__ = (needle);                      \
		if (!h__ || !strstr(h__, n__))                                 \
			FAIL_AT("expected \"%s\" in:\n%s", n__,                \
				h__ ? h__ : "(null)");                         \
	} while (0)

static inline uint64_t test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void test_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Run fn in a child process with stderr captured; return its wait status
 * and copy what it printed into out (NUL-terminated).
 */
static inline int run_captured(void (*fn)(void *), void *arg, char *out,
			       size_t outlen)
{
	int pfd[2], status = 0;
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	if (pipe(pfd) != 0)
		FAIL_AT("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		FAIL_AT("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		signal(SIGABRT, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	close(pfd[1]);
	while (got + 1 < outlen &&
	       (n = read(pfd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return status;
}

/* Run fn as run_captured() does and fail unless it died of SIGABRT;
 * what it printed is in out. */
static inline void expect_abort(void (*fn)(void *), void *arg, char *out,
				size_t len)
{
	int status = run_captured(fn, arg, out, len);

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		FAIL_AT("expected the child to abort (SIGABRT), got %s %d; "
			"it printed:\n%s",
			WIFSIGNALED(status) ? "signal" : "exit status",
			WIFSIGNALED(status) ? WTERMSIG(status)
					    : WEXITSTATUS(status),
			out);
}

/* With LeakSanitizer linked in, check for leaks before a test's child
 * exits (it leaves with _exit(), which skips the check at exit). */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static inline void test_leak_check(void)
{
	if (__lsan_do_recoverable_leak_check &&
	    __lsan_do_recoverable_leak_check() != 0) {
		fprintf(stderr, "LeakSanitizer found leaks\n");
		_exit(1);
	}
}

struct test_case {
	const char *name;
	void (*fn)(void);
};

static inline int test_run_all(const char *prog, struct test_case *tests,
			       size_t n)
{
	unsigned int timeout = 120;
	const char *env = getenv("DL_TEST_TIMEOUT");
	const char *only = getenv("DL_TEST_ONLY");
	int failed = 0;

	if (env && atoi(env) > 0)
		timeout = (unsigned int)atoi(env);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		int status;
		pid_t pid;

		if (only && !strstr(tests[i].name, only)) {
			printf("ok %zu - %s # SKIP not selected\n", i + 1,
			       tests[i].name);
			continue;
		}
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			alarm(timeout);
			tests[i].fn();
			fflush(NULL);
			test_leak_check();
			_exit(0);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
			printf("ok %zu - %s # SKIP\n", i + 1, tests[i].name);
		} else {
			failed++;
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
				printf("not ok %zu - %s # timed out after %u s "
				       "(deadlock?)\n",
				       i + 1, tests[i].name, timeout);
			else if (WIFSIGNALED(status))
				printf("not ok %zu - %s # killed by signal %d\n",
				       i + 1, tests[i].name, WTERMSIG(status));
			else
				printf("not ok %zu - %s # exit %d\n", i + 1,
				       tests[i].name, WEXITSTATUS(status));
		}
	}
	(void)prog;
	return failed ? 1 : 0;
}

#define TEST_ENTRY(fn) { #fn, fn },
#define TEST_MAIN(...)                                                         \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		struct test_case tests__[] = { TEST_MAP__(__VA_ARGS__) };      \
		(void)argc;                                                    \
		return test_run_all(argv[0], tests__,                          \
				    sizeof(tests__) / sizeof(tests__[0]));     \
	}

/* A small foreach for TEST_MAIN's argument list (up to 40 tests). */
#define TM_1(f) TEST_ENTRY(f)
#define TM_2(f, ...) TEST_ENTRY(f) TM_1(__VA_ARGS__)
#define TM_3(f, ...) TEST_ENTRY(f) TM_2(__VA_ARGS__)
#define TM_4(f, ...) TEST_ENTRY(f) TM_3(__VA_ARGS__)
#define TM_5(f, ...) TEST_ENTRY(f) TM_4(__VA_ARGS__)
#define TM_6(f, ...) TEST_ENTRY(f) TM_5(__VA_ARGS__)
#define TM_7(f, ...) TEST_ENTRY(f) TM_6(__VA_ARGS__)
#define TM_8(f, ...) TEST_ENTRY(f) TM_7(__VA_ARGS__)
#define TM_9(f, ...) TEST_ENTRY(f) TM_8(__VA_ARGS__)
#define TM_10(f, ...) TEST_ENTRY(f) TM_9(__VA_ARGS__)
#define TM_11(f, ...) TEST_ENTRY(f) TM_10(__VA_ARGS__)
#define TM_12(f, ...) TEST_ENTRY(f) TM_11(__VA_ARGS__)
#define TM_13(f, ...) TEST_ENTRY(f) TM_12(__VA_ARGS__)
#define TM_14(f, ...) TEST_ENTRY(f) TM_13(__VA_ARGS__)
#define TM_15(f, ...) TEST_ENTRY(f) TM_14(__VA_ARGS__)
#define TM_16(f, ...) TEST_ENTRY(f) TM_15(__VA_ARGS__)
#define TM_17(f, ...) TEST_ENTRY(f) TM_16(__VA_ARGS__)
#define TM_18(f, ...) TEST_ENTRY(f) TM_17(__VA_ARGS__)
#define TM_19(f, ...) TEST_ENTRY(f) TM_18(__VA_ARGS__)
#define TM_20(f, ...) TEST_ENTRY(f) TM_19(__VA_ARGS__)
#define TM_21(f, ...) TEST_ENTRY(f) TM_20(__VA_ARGS__)
#define TM_22(f, ...) TEST_ENTRY(f) TM_21(__VA_ARGS__)
#define TM_23(f, ...) TEST_ENTRY(f) TM_22(__VA_ARGS__)
#define TM_24(f, ...) TEST_ENTRY(f) TM_23(__VA_ARGS__)
#define TM_25(f, ...) TEST_ENTRY(f) TM_24(__VA_ARGS__)
#define TM_26(f, ...) TEST_ENTRY(f) TM_25(__VA_ARGS__)
#define TM_27(f, ...) TEST_ENTRY(f) TM_26(__VA_ARGS__)
#define TM_28(f, ...) TEST_ENTRY(f) TM_27(__VA_ARGS__)
#define TM_29(f, ...) TEST_ENTRY(f) TM_28(__VA_ARGS__)
#define TM_30(f, ...) TEST_ENTRY(f) TM_29(__VA_ARGS__)
#define TM_31(f, ...) TEST_ENTRY(f) TM_30(__VA_ARGS__)
#define TM_32(f, ...) TEST_ENTRY(f) TM_31(__VA_ARGS__)
#define TM_33(f, ...) TEST_ENTRY(f) TM_32(__VA_ARGS__)
#define TM_34(f, ...) TEST_ENTRY(f) TM_33(__VA_ARGS__)
#define TM_35(f, ...) TEST_ENTRY(f) TM_34(__VA_ARGS__)
#define TM_36(f, ...) TEST_ENTRY(f) TM_35(__VA_ARGS__)
#define TM_37(f, ...) TEST_ENTRY(f) TM_36(__VA_ARGS__)
#define TM_38(f, ...) TEST_ENTRY(f) TM_37(__VA_ARGS__)
#define TM_39(f, ...) TEST_ENTRY(f) TM_38(__VA_ARGS__)
#define TM_40(f, ...) TEST_ENTRY(f) TM_39(__VA_ARGS__)
#define TM_N__(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14,    \
	       _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26,     \
	       _27, _28, _29, _30, _31, _32, _33, _34, _35, _36, _37, _38,     \
	       _39, _40, N, ...)                                               \
	TM_##N
#define TEST_MAP__(...)                                                        \
	TM_N__(__VA_ARGS__, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29,    \
	       28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14,     \
	       13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)(__VA_ARGS__)

#endif
