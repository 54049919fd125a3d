/* sup_log: the supervisor's bounded, rotated log (see sup_log.h). */
#include "sup_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static char log_file[512];

void sup_log_path(const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.sup.log", db_state_dir(), id);
}

/* Open log_file for appending and make it stderr. Called with log_lock held. */
static int log_reopen(void)
{
	int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	dup2(fd, STDERR_FILENO); /* dup2 clears O_CLOEXEC on 2: stderr stays ours */
	return 0;
}

int sup_log_open(const char *id)
{
	int r;

	pthread_mutex_lock(&log_lock);
	sup_log_path(id, log_file, sizeof(log_file));
	r = log_reopen();
	pthread_mutex_unlock(&log_lock);
	return r;
}

int sup_log_open_path(const char *path)
{
	int r;

	if (strlen(path) >= sizeof(log_file))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&log_lock);
	strcpy(log_file, path);
	r = log_reopen();
	pthread_mutex_unlock(&log_lock);
	return r;
}

/* Past SUP_LOG_MAX: the file becomes .1 and a new one starts. Called with
 * log_lock held. */
static void log_rotate(void)
{
	char old[sizeof(log_file) + 2];
	struct stat st;

	if (fstat(log_fd, &st) || st.st_size < (off_t)SUP_LOG_MAX)
		return;
	snprintf(old, sizeof(old), "%s.1", log_file);
	if (rename(log_file, old) == 0)
		log_reopen();
}

void sup_log(enum sup_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "info", "warn", "error" };
	char line[UTIL_ERR_LEN + 128], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s ", stamp, ts.tv_nsec / 1000000L, names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = m < 0 ? n : n + m >= (int)sizeof(line) - 1 ? (int)sizeof(line) - 2 : n + m;
	line[n++] = '\n';
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0) {
		log_rotate();
		ssize_t w = write(log_fd, line, (size_t)n);

		(void)w; /* a failed write has nowhere left to be said */
	}
	pthread_mutex_unlock(&log_lock);
}

void sup_log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	pthread_mutex_unlock(&log_lock);
}

int sup_log_remove(const char *id)
{
	char path[512], old[520];
	int r = 0;

	sup_log_path(id, path, sizeof(path));
	snprintf(old, sizeof(old), "%s.1", path);
	if (unlink(path) && errno != ENOENT)
		r = -errno;
	if (unlink(old) && errno != ENOENT && !r)
		r = -errno;
	return r;
}
