/* test_file: lib/file on a private temporary directory (no privileges):
 * whole-file reads and their size limit, atomic replacement leaving
 * nothing behind, mkdir -p and rm -r, copies, and the sysctl key checks
 * that need no /proc/sys write. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vtb-test-file-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return file_rm_tree(dir);
}

static const char *path_in(const char *name)
{
	static char buf[2][256];
	static unsigned k;
	char *b = buf[k++ % 2];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
	return b;
}

static void test_write_read(void **state)
{
	char *data;
	size_t len;
	struct stat st;

	(void)state;
	assert_int_equal(file_write(path_in("a"), "hello\n", 6, 0600), 0);
	assert_int_equal(stat(path_in("a"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(file_read_all(path_in("a"), 100, &data, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(data, "hello\n"); /* NUL-terminated */
	free(data);
	assert_int_equal(file_read_all(path_in("a"), 5, &data, &len), -EFBIG);
	assert_int_equal(file_read_all(path_in("none"), 100, &data, &len), -ENOENT);
}

/* The old content or the new one, and no temporary file left beside it. */
static void test_write_atomic(void **state)
{
	char *data;
	size_t len;
	struct stat st;

	(void)state;
	assert_int_equal(file_write_atomic(path_in("b"), "one", 3, 0644), 0);
	assert_int_equal(file_write_atomic(path_in("b"), "two!", 4, 0644), 0);
	assert_int_equal(file_read_all(path_in("b"), 100, &data, &len), 0);
	assert_string_equal(data, "two!");
	free(data);
	assert_int_equal(stat(path_in("b"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(file_write_atomic(path_in("no/such/dir/b"), "x", 1, 0644), -ENOENT);
	assert_int_equal(file_rm_tree(path_in("b")), 0);
	assert_int_equal(rmdir(dir), 0); /* empty: nothing was left behind */
	assert_int_equal(mkdir(dir, 0700), 0);
}

static void test_mkdir_rm(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(file_mkdir_p(path_in("x/y/z"), 0755), 0);
	assert_int_equal(file_mkdir_p(path_in("x/y/z"), 0755), 0); /* exists: fine */
	assert_int_equal(file_write(path_in("x/y/f"), "f", 1, 0644), 0);
	assert_int_equal(symlink("/", path_in("x/root")), 0);
	assert_int_equal(file_mkdir_p(path_in("x/y/f/g"), 0755), -ENOTDIR);
	assert_int_equal(file_rm_tree(path_in("x")), 0);
	assert_int_equal(stat(path_in("x"), &st), -1);
	assert_int_equal(stat("/", &st), 0); /* the link was removed, not followed */
	assert_int_equal(file_rm_tree(path_in("x")), 0); /* gone already: fine */
}

static void test_copy(void **state)
{
	char big[100000], *data;
	size_t len, i;
	int in, out;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(file_write(path_in("src"), big, sizeof(big), 0644), 0);
	in = open(path_in("src"), O_RDONLY | O_CLOEXEC);
	out = open(path_in("dst"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(in >= 0 && out >= 0);
	assert_int_equal(file_copy(in, out), (ssize_t)sizeof(big));
	close(in);
	close(out);
	assert_int_equal(file_read_all(path_in("dst"), sizeof(big), &data, &len), 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(data, big, sizeof(big));
	free(data);
}

/* Keys that would leave /proc/sys are refused before anything is opened. */
static void test_sysctl_keys(void **state)
{
	(void)state;
	assert_int_equal(file_sysctl_write("/etc/passwd", "1"), -EINVAL);
	assert_int_equal(file_sysctl_write("net/../../etc/passwd", "1"), -EINVAL);
	assert_int_equal(file_sysctl_write("", "1"), -EINVAL);
	assert_int_equal(file_sysctl_write(NULL, "1"), -EINVAL);
	assert_int_equal(file_sysctl_write("net.ipv4.ip_forward", NULL), -EINVAL);
	assert_int_equal(file_sysctl_write("net.ipv4.no_such_key", "1"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_rm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysctl_keys, setup, teardown),
	};

	return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
