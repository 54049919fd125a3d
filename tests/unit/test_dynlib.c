/* test_dynlib: libraries opened on first use: a missing one is an error
 * naming it and its package; the functions defined under the libraries'
 * names reach the real ones; a vtb process that does not use them does not
 * load them. */
#include "unit.h"

#include <curl/curl.h>
#include <errno.h>
#include <link.h>
#include <metis.h>
#include <stdbool.h>
#include <string.h>

#include "dynlib.h"
#include "util.h"

static void test_missing(void **state)
{
	struct dynlib none = { .soname = "libvtb-none.so.9", .package = "vtb-none" };
	char err[UTIL_ERR_LEN] = "";

	(void)state;
	assert_int_equal(dynlib_open(&none, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "libvtb-none.so.9"));
	assert_non_null(strstr(err, "install Debian's vtb-none"));
	assert_null(none.handle);
}

/* dl_iterate_phdr callback: whether a loaded object's name has arg in it */
static int has_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	return info->dlpi_name && strstr(info->dlpi_name, arg) != NULL;
}

static void test_calls(void **state)
{
	char err[UTIL_ERR_LEN] = "";
	idx_t opt[METIS_NOPTIONS];
	CURL *c;
	long port = -1;

	(void)state;
	/* nothing loaded before the first use */
	assert_int_equal(dl_iterate_phdr(has_object, "libcurl.so"), 0);
	assert_int_equal(dl_iterate_phdr(has_object, "libmetis.so"), 0);
	assert_int_equal(dynlib_open(&dynlib_curl, err, sizeof(err)), 0);
	assert_int_equal(dynlib_open(&dynlib_curl, err, sizeof(err)), 0);
	assert_int_equal(dl_iterate_phdr(has_object, "libcurl.so"), 1);
	/* a long, a pointer and a pointer to a long pass through the
	 * variadic setopt and getinfo */
	c = curl_easy_init();
	assert_non_null(c);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_PORT, 4242L), CURLE_OK);
	assert_int_equal(curl_easy_setopt(c, CURLOPT_URL, "http://127.0.0.1/"), CURLE_OK);
	assert_int_equal(curl_easy_getinfo(c, CURLINFO_PRIMARY_PORT, &port), CURLE_OK);
	assert_int_equal(port, 0);
	assert_string_equal(curl_easy_strerror(CURLE_OK), "No error");
	curl_easy_cleanup(c);
	/* a first call without dynlib_open opens the library itself */
	assert_int_equal(METIS_SetDefaultOptions(opt), METIS_OK);
	assert_int_equal(opt[METIS_OPTION_NITER], -1);
	assert_int_equal(dl_iterate_phdr(has_object, "libmetis.so"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
