/* log: levelled logging to stderr (systemd/journald picks it up, with "<N>" priority prefixes when
 * JOURNAL_STREAM names stderr), syslog (facility daemon) or an append-mode file reopened on request. */
#ifndef SIMROUTE_LOG_H
#define SIMROUTE_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Also decides the format: journald's "<N>message" when JOURNAL_STREAM matches stderr, else a clock. */
void log_init(const char *progname, enum log_level level);
/* Whether journal_stream ("dev:ino", JOURNAL_STREAM's value) is the file on fd 2. */
bool log_stderr_is_journal(const char *journal_stream);
/* Where lines go: "stderr" (default), "syslog" (openlog: ident = progname, facility daemon) or
 * "file:/abs/path" (append, created 0640). 0, or -1 with err (the target is then unchanged). */
int log_open(const char *spec, char *err, size_t errlen);
/* A file target opens its path again (logrotate moved it); other targets: nothing. 0 or -1 (err;
 * lines keep going to the old file). */
int log_reopen(char *err, size_t errlen);
/* The file being written, or NULL when the target is not a file. */
const char *log_file_path(void);
/* Back to stderr (closing a file or syslog). */
void log_close(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);
/* "error" | "warn" | "info" | "debug" -> 0, else -1 */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Checks the level before the arguments are evaluated or formatted. */
#define log_debug(...) do { if (log_enabled(LOG_LEVEL_DEBUG)) log_debug_(__VA_ARGS__); } while (0)

#endif
