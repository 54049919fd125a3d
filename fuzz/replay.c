/* replay: a main() for a libFuzzer target built without libFuzzer (gcc
 * with ASan and UBSan), as `make fuzz-replay` does so that `make check`
 * replays the seed corpora and the saved crashes without clang. Every
 * argument is a file or a directory whose regular files are read; each
 * file's bytes go to LLVMFuzzerTestOneInput once, in a buffer of exactly
 * their size (so a read past the end is caught). Exits 0 when all ran, 2
 * when a file could not be read; a finding aborts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run the target on the file at path. 0, or -1 when it cannot be read. */
static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;

	if (fd < 0 || fstat(fd, &st))
		goto out_close;
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		goto out_close;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out_close;
		got += (size_t)n;
	}
	LLVMFuzzerTestOneInput(buf, got);
	r = 0;
out_close:
	if (r)
		fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Run the target on every regular file of the directory at path (not
 * recursive). The number of files run, or -1. */
static int replay_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char file[4096];
		struct stat st;

		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if (e->d_name[0] == '.' || stat(file, &st) || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(file)) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int n;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]) ? -1 : 1;
		if (n < 0)
			return 2;
		total += n;
	}
	printf("%s: %d inputs replayed\n", argc > 0 ? argv[0] : "replay", total);
	return 0;
}
