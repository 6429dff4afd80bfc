/* log: levelled logging to stderr: a wall clock prefix on a terminal or file; under systemd (stderr is
 * the journal stream) a syslog priority prefix "<N>" instead, and no clock: journald stamps lines. */
#include "simroute/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The one piece of process-wide state in libsimroute: the log threshold. */
static enum log_level cur_level = LOG_LEVEL_INFO;
static const char *prog = "simroute";
static bool journal;   /* stderr is connected to journald (JOURNAL_STREAM names it) */

/* syslog(3) priorities of our levels: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG (sd-daemon(3) prefixes). */
static const int level_prio[] = { 3, 4, 6, 7 };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_init(const char *progname, enum log_level level)
{
	if (progname)
		prog = progname;
	cur_level = level;
	journal = log_stderr_is_journal(getenv("JOURNAL_STREAM"));
}

bool log_stderr_is_journal(const char *journal_stream)
{
	unsigned long long dev, ino;
	struct stat sb;
	char tail;

	/* systemd.exec(5): "<device>:<inode>" of stderr's stream; a redirected stderr no longer matches. */
	if (!journal_stream || sscanf(journal_stream, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(2, &sb) < 0)
		return false;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void log_set_level(enum log_level level) { cur_level = level; }
enum log_level log_get_level(void) { return cur_level; }
bool log_enabled(enum log_level level) { return level <= cur_level; }

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level < 4 ? level_names[level] : "?";
}

static void vlog(enum log_level level, const char *errstr, const char *fmt, va_list ap)
{
	char buf[1024];
	struct timespec ts;
	struct tm tm;

	if (!log_enabled(level))
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (journal) {
		if (errstr)
			fprintf(stderr, "<%d>%s: %s\n", level_prio[level], buf, errstr);
		else
			fprintf(stderr, "<%d>%s\n", level_prio[level], buf);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (errstr)
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%s] %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, prog, level_names[level], buf, errstr);
	else
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s[%s] %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, prog, level_names[level], buf);
}

#define DEFINE_LOG(name, level, witherr)                                  \
	void name(const char *fmt, ...)                                   \
	{                                                                 \
		int saved = errno;                                        \
		va_list ap;                                               \
		va_start(ap, fmt);                                        \
		vlog(level, witherr ? strerror(saved) : NULL, fmt, ap);   \
		va_end(ap);                                               \
		errno = saved;                                            \
	}

DEFINE_LOG(log_warn, LOG_LEVEL_WARN, 1)
DEFINE_LOG(log_warnx, LOG_LEVEL_WARN, 0)
DEFINE_LOG(log_errorx, LOG_LEVEL_ERROR, 0)
DEFINE_LOG(log_info, LOG_LEVEL_INFO, 0)
DEFINE_LOG(log_debug_, LOG_LEVEL_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
