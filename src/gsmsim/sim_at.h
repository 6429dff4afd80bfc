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
	SIM_AT_PROMPT,  /* AT+CMGS accepted: send "> " and collect a PDU of *cmgs_len TPDU octets
	                   (*cmgs_len 0: text mode, collect text for sim_at_text_submit) */
	SIM_AT_REBOOT,  /* the reply is in `out`; then the modem resets (AT+CFUN=1,1) */
};

/* The SIM card as +CPIN reports it (TS 27.007 8.3). */
enum sim_sim_state { SIM_SIM_READY, SIM_SIM_PIN, SIM_SIM_PUK, SIM_SIM_ABSENT };

/* What became of an SMS the network delivers to the modem (TS 27.005 3.4.1 +CNMI). */
enum sim_deliver {
	SIM_DELIVER_DIRECT,   /* +CMT / +CDS with the PDU, nothing stored */
	SIM_DELIVER_STORED,   /* stored; +CMTI / +CDSI said so, or (<mt>/<ds> 0) nothing did */
	SIM_DELIVER_FULL,     /* storage full: the network keeps it and retries */
	SIM_DELIVER_DROPPED,  /* a status report with <ds>=0: nobody asked for it */
};

/* TS 27.005 3.2.5 <err> values gsmsim produces */
enum {
	SIM_CMS_NET_OUT_OF_ORDER = 38,
	SIM_CMS_OP_NOT_ALLOWED = 302,
	SIM_CMS_INVALID_PDU_PARAM = 304,
	SIM_CMS_INVALID_TEXT_PARAM = 305,
	SIM_CMS_SIM_NOT_INSERTED = 310,
	SIM_CMS_SIM_PIN = 311,
	SIM_CMS_SIM_PUK = 316,
	SIM_CMS_INVALID_INDEX = 321,
	SIM_CMS_MEMORY_FULL = 322,
	SIM_CMS_NO_NETWORK = 331,
	SIM_CMS_UNKNOWN = 500,
};

struct sim_at *sim_at_new(const char *name, const struct sim_dialect *d, const struct sim_identity *id);
void sim_at_free(struct sim_at *at);

bool sim_at_echo(const struct sim_at *at);
const struct sim_identity *sim_at_identity(const struct sim_at *at);
/* 0 if the modem can submit now, else the +CMS ERROR code to answer the PDU with */
int sim_at_submit_blocked(const struct sim_at *at);

struct sim_store *sim_at_store(const struct sim_at *at);
/* Unsolicited result codes waiting to go out; the caller says them when the line is free and drains. */
struct evbuffer *sim_at_urc(const struct sim_at *at);
int sim_at_cnmi(const struct sim_at *at, int i);
bool sim_at_chatter_on(const struct sim_at *at);   /* Huawei ^CURC: periodic ^BOOT/^RSSI allowed */
/* Appends an unsolicited line (<CR><LF>text<CR><LF>) to the URC queue. */
void sim_at_urc_add(struct sim_at *at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The simulated world changes the modem: each call queues the URCs a real modem would emit. */
void sim_at_set_signal(struct sim_at *at, int rssi);        /* 0..31, 99 unknown */
int sim_at_signal(const struct sim_at *at);
void sim_at_set_reg(struct sim_at *at, int stat);           /* TS 27.007 7.2 <stat> the network offers */
int sim_at_reg(const struct sim_at *at);                    /* effective <stat>, 0 with radio off / no SIM */
int sim_at_cfun(const struct sim_at *at);
void sim_at_set_sim(struct sim_at *at, enum sim_sim_state st);
enum sim_sim_state sim_at_sim(const struct sim_at *at);
const char *sim_at_sim_name(enum sim_sim_state st);
void sim_at_set_pin(struct sim_at *at, const char *pin);    /* "" = no PIN; asked at the next boot */
void sim_at_set_identity(struct sim_at *at, const struct sim_identity *id);   /* a SIM swap */
/* Power-on: the profile resets, the SIM locks if it has a PIN, the dialect's boot URCs are queued. */
void sim_at_boot(struct sim_at *at);
/* An SMS-DELIVER (report false) or SMS-STATUS-REPORT (report true) arrives; hex includes the SMSC. */
enum sim_deliver sim_at_deliver(struct sim_at *at, const char *hex, int length, bool report, int *index);

/* Text-mode AT+CMGS: the typed text (in the +CSCS character set) to the destination given to AT+CMGS,
 * as the SMSC-prefixed SUBMIT PDU hex a PDU-mode client would have sent. 0, or the +CMS error. */
int sim_at_text_submit(const struct sim_at *at, const char *typed, char *hex, size_t size);

/* Execute one command line (without its CR). Writes echo-less responses to `out`. */
enum sim_at_result sim_at_line(struct sim_at *at, const char *line, struct evbuffer *out, int *cmgs_len);

/* Final result codes, formatted per the current AT+CMEE mode. */
void sim_at_final_ok(const struct sim_at *at, struct evbuffer *out);
void sim_at_final_error(const struct sim_at *at, struct evbuffer *out);
void sim_at_final_cms(const struct sim_at *at, int code, struct evbuffer *out);

#endif
