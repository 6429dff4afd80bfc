/* sim_log: the RUNDIR/sent.jsonl record of every SMS the simulated network accepted, one JSON line each. */
#ifndef GSMSIM_SIM_LOG_H
#define GSMSIM_SIM_LOG_H

#include <jansson.h>

#include "sim_dialect.h"

struct pdu_decoded;
struct sim_log;


/* Opens (creates) `path` for appending. NULL with errno on failure. */
struct sim_log *sim_log_open(const char *path);
void sim_log_close(struct sim_log *log);

/* Appends one line: {"modem","to","text","pdu","mr","time","imei","iccid","encoding","concat",...}.
 * 0 on success, -1 (logged) if the line could not be written whole. */
int sim_log_sent(struct sim_log *log, const char *modem, const struct sim_identity *id, const char *hex,
		 const struct pdu_decoded *d, int mr);

/* Appends {"time","modem","event",...fields} to RUNDIR/events.jsonl; steals the reference to `fields`
 * (an object or NULL). modem may be NULL for process-wide events. */
int sim_log_event(struct sim_log *log, const char *modem, const char *event, json_t *fields);

#endif
