/* log: levelled logging to stderr (the default), syslog(3) or a file. On stderr: a wall clock prefix
 * on a terminal or file; under systemd (stderr is the journal stream) a syslog priority prefix "<N>"
 * instead, and no clock: journald stamps lines. A file gets the clock and is reopened on request
 * (SIGHUP, after logrotate moved it). */
#include "simroute/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* The one piece of process-wide state in libsimroute: the log threshold. */
static enum log_level cur_level = LOG_LEVEL_INFO;
static const char *prog = "simroute";
static bool journal;   /* stderr is connected to journald (JOURNAL_STREAM names it) */
static enum { TO_STDERR, TO_SYSLOG, TO_FILE } target = TO_STDERR;
static FILE *logfile;  /* TO_FILE */
static char logpath[4096];

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

static FILE *open_append(const char *path, char *err, size_t errlen)
{
	/* O_APPEND: lines from a second writer (or after a truncation) never overwrite each other */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;

	if (!f) {
		snprintf(err, errlen, "log file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int log_open(const char *spec, char *err, size_t errlen)
{
	if (!spec || strcmp(spec, "stderr") == 0) {
		log_close();
		return 0;
	}
	if (strcmp(spec, "syslog") == 0) {
		log_close();
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		target = TO_SYSLOG;
		return 0;
	}
	if (strncmp(spec, "file:", 5) == 0 && spec[5] == '/' && strlen(spec + 5) < sizeof(logpath)) {
		FILE *f = open_append(spec + 5, err, errlen);
		if (!f)
			return -1;
		log_close();
		snprintf(logpath, sizeof(logpath), "%s", spec + 5);
		logfile = f;
		target = TO_FILE;
		return 0;
	}
	snprintf(err, errlen, "log: expected stderr, syslog or file:/absolute/path, got \"%s\"", spec);
	return -1;
}

int log_reopen(char *err, size_t errlen)
{
	FILE *f;

	if (target != TO_FILE)
		return 0;
	if (!(f = open_append(logpath, err, errlen)))
		return -1;   /* keep writing to the old one: a line lost is worse than a line misplaced */
	fclose(logfile);
	logfile = f;
	return 0;
}

const char *log_file_path(void)
{
	return target == TO_FILE ? logpath : NULL;
}

void log_close(void)
{
	if (target == TO_FILE && logfile)
		fclose(logfile);
	if (target == TO_SYSLOG)
		closelog();
	logfile = NULL;
	logpath[0] = '\0';
	target = TO_STDERR;
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
	if (target == TO_SYSLOG) {
		if (errstr)
			syslog(level_prio[level], "%s: %s", buf, errstr);
		else
			syslog(level_prio[level], "%s", buf);
		return;
	}
	FILE *out = target == TO_FILE ? logfile : stderr;
	if (journal && target == TO_STDERR) {
		if (errstr)
			fprintf(stderr, "<%d>%s: %s\n", level_prio[level], buf, errstr);
		else
			fprintf(stderr, "<%d>%s\n", level_prio[level], buf);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* a file is read days later: the date too */
	if (target == TO_FILE)
		fprintf(out, "%04d-%02d-%02dT", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (errstr)
		fprintf(out, "%02d:%02d:%02d.%03ld %s[%s] %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, prog, level_names[level], buf, errstr);
	else
		fprintf(out, "%02d:%02d:%02d.%03ld %s[%s] %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
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
