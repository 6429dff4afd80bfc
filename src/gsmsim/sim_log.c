/* sim_log: RUNDIR/sent.jsonl (every SMS the simulated network accepted) and RUNDIR/events.jsonl (every fault
 * and network event), one JSON line each. */
#include "sim_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "simroute/log.h"
#include "simroute/pdu.h"

struct sim_log {
	int fd;
	char path[4096];
};

struct sim_log *sim_log_open(const char *path)
{
	struct sim_log *log = calloc(1, sizeof(*log));

	if (!log)
		return NULL;
	/* O_APPEND: tests and other readers may append or truncate too; each write lands at the end. */
	log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log->fd < 0) {
		int saved = errno;
		free(log);
		errno = saved;
		return NULL;
	}
	snprintf(log->path, sizeof(log->path), "%s", path);
	return log;
}

void sim_log_close(struct sim_log *log)
{
	if (!log)
		return;
	close(log->fd);
	free(log);
}

/* ISO 8601 UTC with milliseconds: "2025-03-01T12:34:56.789Z" */
static void iso_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* One JSON line in one write(), so a reader never sees half a record; consumes `o`. */
static int write_record(struct sim_log *log, const char *who, json_t *o)
{
	char *line;
	size_t len;
	ssize_t n;

	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line)
		return -1;
	len = strlen(line);
	line[len] = '\n';   /* json_dumps' NUL becomes the newline: the line goes out in one write() */
	n = write(log->fd, line, len + 1);
	free(line);
	if (n != (ssize_t)(len + 1)) {
		log_warn("%s: write %s", who, log->path);
		return -1;
	}
	return 0;
}

int sim_log_sent(struct sim_log *log, const char *modem, const struct sim_identity *id, const char *hex,
		 const struct pdu_decoded *d, int mr)
{
	char now[80];
	json_t *o, *concat;

	iso_now(now, sizeof(now));
	if (d->concat.present)
		concat = json_pack("{s:i, s:i, s:i}", "ref", (json_int_t)d->concat.ref,
				   "total", (json_int_t)d->concat.total, "seq", (json_int_t)d->concat.seq);
	else
		concat = json_null();
	o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:i, s:i}",
		      "modem", modem, "to", d->addr, "text", d->text, "pdu", hex, "mr", mr, "time", now,
		      "imei", id->imei, "iccid", id->iccid, "encoding", pdu_encoding_name(d->encoding),
		      "concat", concat, "smsc", d->smsc, "srr", d->srr, "validity_minutes", d->validity_minutes,
		      "tpdu_len", d->tpdu_len);
	if (!o) {
		/* json_pack fails on invalid UTF-8: the codec should never give it, but record the send anyway. */
		log_warnx("%s: cannot build the sent.jsonl record (text not UTF-8?)", modem);
		o = json_pack("{s:s, s:s, s:n, s:s, s:i, s:s, s:s}", "modem", modem, "to", d->addr, "text",
			      "pdu", hex, "mr", mr, "time", now, "imei", id->imei);
		if (!o)
			return -1;
	}
	return write_record(log, modem, o);
}

int sim_log_event(struct sim_log *log, const char *modem, const char *event, json_t *fields)
{
	char now[80];
	json_t *o;

	iso_now(now, sizeof(now));
	o = json_pack("{s:s, s:s?, s:s}", "time", now, "modem", modem, "event", event);
	if (!o) {
		json_decref(fields);
		return -1;
	}
	if (fields)
		json_object_update(o, fields);
	json_decref(fields);
	return write_record(log, modem ? modem : "gsmsim", o);
}
