/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dl_fs_new() says why it cannot mount (src/fs/sysfs.h): the codes of
 * dl_fs_check_mountpoint() for a bad mountpoint, and a mount over a
 * mount point is refused with -EBUSY while the first one is served.
 * Needs /dev/fuse (skipped without it).
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include <devlife/devlife.h>

#include "harness.h"
#include "sysfs.h"

static char dir[] = "/tmp/devlife-fs-new.XXXXXX";

static void setup(void)
{
	if (access("/dev/fuse", R_OK | W_OK) < 0)
		_exit(77);
	if (!mkdtemp(dir))
		FAIL_AT("mkdtemp: %s", strerror(errno));
}

/* Mounting @path: the code, with any mount undone. */
static int try_new(struct dl_tree *tree, const char *path)
{
	struct dl_fs_options o = { .mountpoint = path };
	struct dl_fs *fs = NULL;
	int r = dl_fs_new(tree, NULL, &o, &fs);

	if (r == 0)
		dl_fs_free(fs);
	return r;
}

TEST(bad_arguments_are_einval)
{
	struct dl_fs_options o = { .mountpoint = NULL };
	struct dl_tree *tree;
	struct dl_fs *fs;

	setup();
	ASSERT_EQ(dl_tree_new(&tree), 0);
	ASSERT_EQ(dl_fs_new(tree, NULL, &o, &fs), -EINVAL);
	o.mountpoint = dir;
	ASSERT_EQ(dl_fs_new(NULL, NULL, &o, &fs), -EINVAL);
	ASSERT_EQ(dl_fs_new(tree, NULL, &o, NULL), -EINVAL);
	dl_tree_free(tree);
	rmdir(dir);
}

TEST(missing_mountpoint_is_enoent)
{
	char path[PATH_MAX];
	struct dl_tree *tree;

	setup();
	ASSERT_EQ(dl_tree_new(&tree), 0);
	snprintf(path, sizeof(path), "%s/nowhere", dir);
	ASSERT_EQ(try_new(tree, path), -ENOENT);
	dl_tree_free(tree);
	rmdir(dir);
}

TEST(file_mountpoint_is_enotdir)
{
	char path[PATH_MAX];
	struct dl_tree *tree;
	int fd;

	setup();
	ASSERT_EQ(dl_tree_new(&tree), 0);
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(try_new(tree, path), -ENOTDIR);
	ASSERT_EQ(try_new(tree, dir), -ENOTEMPTY);
	unlink(path);
	dl_tree_free(tree);
	rmdir(dir);
}

static void *serve(void *arg)
{
	return (void *)(intptr_t)dl_fs_run(arg);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * Ends dl_fs_run() on thread @t after dl_fs_exit(): libfuse's loop
 * notices the exit when its wait is interrupted, as by devlifed's
 * signals. Repeated until it has returned (a signal sent just before
 * the loop waits would be lost).
 */
static intptr_t stop_serving(struct dl_fs *fs, pthread_t t)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART */
	struct timespec ts;
	void *res;

	sigaction(SIGUSR1, &sa, NULL);
	dl_fs_exit(fs);
	for (;;) {
		pthread_kill(t, SIGUSR1);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000 * 1000;
		if (ts.tv_nsec >= 1000 * 1000 * 1000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000 * 1000 * 1000;
		}
		if (pthread_timedjoin_np(t, &res, &ts) == 0)
			return (intptr_t)res;
	}
}

TEST(mounted_mountpoint_is_ebusy)
{
	struct dl_fs_options o = { .mountpoint = dir };
	struct dl_tree *tree;
	struct dl_fs *fs;
	struct stat st;
	pthread_t t;

	setup();
	ASSERT_EQ(dl_tree_new(&tree), 0);
	ASSERT_EQ(dl_fs_new(tree, NULL, &o, &fs), 0);
	ASSERT_EQ(pthread_create(&t, NULL, serve, fs), 0);
	/* served: the second mount's check can stat the first */
	ASSERT_EQ(stat(dir, &st), 0);
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(try_new(tree, dir), -EBUSY);
	ASSERT_EQ(stop_serving(fs, t), 0);
	dl_fs_free(fs);
	/* unmounted: a mountpoint again */
	ASSERT_EQ(try_new(tree, dir), 0);
	dl_tree_free(tree);
	rmdir(dir);
}

TEST_MAIN(bad_arguments_are_einval, missing_mountpoint_is_enoent,
	  file_mountpoint_is_enotdir, mounted_mountpoint_is_ebusy)
