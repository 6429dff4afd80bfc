/* sim_fault: one modem's network behaviour and fault injection knobs (probabilities, one-shots, delays),
 * set by name from the ctl socket, scripts and the command line through one table. */
#ifndef GSMSIM_SIM_FAULT_H
#define GSMSIM_SIM_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SIM_FAULT_CODES_MAX 16

struct sim_faults {
	double latency;          /* s from Ctrl-Z to +CMGS ... */
	double jitter;           /* ... plus a uniform random 0..jitter s */
	double boot_s;           /* a reset or power-on takes this long before the boot URCs */
	double report_delay;     /* s from +CMGS to the status report of a TP-SRR message; < 0: none */
	int report_status;       /* TP-ST of those reports (0 delivered, 64+ permanent failure) */
	double report_fail_p;    /* probability a report says failed (TP-ST 0x41) instead */
	double cms_p;            /* probability a submitted PDU is refused with +CMS ERROR */
	int cms_codes[SIM_FAULT_CODES_MAX];   /* chosen at random among these */
	int n_cms_codes;
	double noanswer_p;       /* probability a command line gets no answer at all */
	double late_p;           /* probability a command's answer comes late_s seconds late */
	double late_s;
	double garbage_p;        /* probability of line noise before an answer */
	double hang_p;           /* probability AT+CMGS takes the PDU and never answers */
	double hang_s;           /* a hung modem reboots itself after this long; 0: never */
	double urc_cmgs_p;       /* probability queued URCs go out in the middle of a +CMGS exchange */
	double urc_interleave_p; /* probability a URC lands between an answer's text and its final code */
	double signal_walk_s;    /* the signal moves at random every this many s; 0: steady */
	double chatter_s;        /* unsolicited chatter period (Huawei ^BOOT/^RSSI); 0: none */
	/* one-shot faults armed by "fault N ...", used before the probabilities */
	int next_cms, next_noanswer, next_late, next_garbage, next_hang;
};

/* Defaults for a modem of a dialect with the given chatter period. */
void sim_fault_defaults(struct sim_faults *f, double chatter_s);
/* key=value from the settings table. 0, or -1 with a message in err. */
int sim_fault_set(struct sim_faults *f, const char *key, const char *value, char *err, size_t errsize);
bool sim_fault_known(const char *key);
json_t *sim_fault_json(const struct sim_faults *f);
/* Arm a one-shot fault by name ("cms CODE", "noanswer", "late", "garbage", "hang"). */
int sim_fault_arm(struct sim_faults *f, const char *kind, const char *arg, char *err, size_t errsize);

/* A small per-modem PRNG (xorshift64*): reproducible runs from --seed, no global rand() state. */
uint64_t sim_fault_seed(unsigned seed, unsigned index);
double sim_fault_uniform(uint64_t *rng);               /* [0, 1) */
bool sim_fault_roll(uint64_t *rng, double p);          /* true with probability p */

#endif
