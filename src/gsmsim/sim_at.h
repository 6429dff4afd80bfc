/* sim_at: one simulated modem's AT command interpreter (V.250 line syntax, TS 27.007/27.005 commands). */
#ifndef GSMSIM_SIM_AT_H
#define GSMSIM_SIM_AT_H

#include <stdbool.h>

#include "sim_dialect.h"

struct evbuffer;
struct sim_at;

/* What the caller (sim_modem) must do after a command line. */
enum sim_at_result {
	SIM_AT_DONE,    /* the whole reply is in `out` */
	SIM_AT_PROMPT,  /* AT+CMGS accepted: send "> " and collect a PDU of *cmgs_len TPDU octets */
};

/* TS 27.005 3.2.5 <err> values gsmsim produces */
enum {
	SIM_CMS_OP_NOT_ALLOWED = 302,
	SIM_CMS_INVALID_PDU_PARAM = 304,
	SIM_CMS_INVALID_TEXT_PARAM = 305,
	SIM_CMS_INVALID_INDEX = 321,
	SIM_CMS_NO_NETWORK = 331,
};

struct sim_at *sim_at_new(const char *name, const struct sim_dialect *d, const struct sim_identity *id);
void sim_at_free(struct sim_at *at);

bool sim_at_echo(const struct sim_at *at);
const struct sim_identity *sim_at_identity(const struct sim_at *at);
/* 0 if the modem can submit now, else the +CMS ERROR code to answer the PDU with */
int sim_at_submit_blocked(const struct sim_at *at);

/* Execute one command line (without its CR). Writes echo-less responses to `out`. */
enum sim_at_result sim_at_line(struct sim_at *at, const char *line, struct evbuffer *out, int *cmgs_len);

/* Final result codes, formatted per the current AT+CMEE mode. */
void sim_at_final_ok(const struct sim_at *at, struct evbuffer *out);
void sim_at_final_error(const struct sim_at *at, struct evbuffer *out);
void sim_at_final_cms(const struct sim_at *at, int code, struct evbuffer *out);

#endif
