/* sim_at_int: private to sim_at*.c - the interpreter's state, handler signature and shared helpers. */
#ifndef GSMSIM_SIM_AT_INT_H
#define GSMSIM_SIM_AT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sim_at.h"

#define AT_ARGS_MAX 8
#define AT_ARG_LEN 64
#define AT_CMD_MAX 4096

enum at_op { AT_OP_EXEC, AT_OP_READ, AT_OP_TEST, AT_OP_SET };
enum at_status { AT_ST_OK, AT_ST_CME, AT_ST_CMS, AT_ST_PROMPT };

/* TS 27.007 9.2.1 <err> values gsmsim produces */
enum {
	CME_NOT_ALLOWED = 3,
	CME_NOT_SUPPORTED = 4,
	CME_SIM_NOT_INSERTED = 10,
	CME_SIM_PIN = 11,
	CME_SIM_PUK = 12,
	CME_WRONG_PASSWORD = 16,
	CME_NO_NETWORK = 30,
	CME_BAD_PARAM = 50,
	CME_UNKNOWN = 100,
};

struct sim_at {
	char name[32];
	const struct sim_dialect *dialect;
	struct sim_identity id;
	/* The user profile: what ATZ / AT&F / AT+CFUN=1,1 restore. */
	bool echo;
	int cmee, cmgf, creg, cgreg, cereg, cfun, csms;
	bool curc;             /* Huawei AT^CURC: unsolicited chatter on */
	bool qind_csq;         /* Quectel AT+QINDCFG="csq",1: +QIND: "csq" on signal change */
	char cscs[12];
	char cpms[3][8];
	int cnmi[5];
	int csmp[4];
	char csca[24];
	int sreg[13];
	/* The world outside the profile: set by the simulator, survives ATZ. */
	int signal;            /* +CSQ <rssi> */
	int reg;               /* <stat> the network offers when the radio is on and the SIM ready */
	enum sim_sim_state sim;
	char pin[9];           /* "" = the SIM has no PIN lock */
	char puk[9];
	int pin_tries;
	struct sim_store *store;
	struct evbuffer *urc;
	bool reboot;           /* AT+CFUN=1,1 ran: the line answers, then the modem resets */
	/* Error code of the command that failed (CME or CMS number). */
	int err;
	int cmgs_len;          /* PDU mode <length>; 0 in text mode */
	char cmgs_da[AT_ARG_LEN];   /* text mode destination, in the +CSCS character set */
};

struct at_cmd;
typedef enum at_status (*at_handler)(struct sim_at *at, const struct at_cmd *c, enum at_op op,
				     const char *args, struct evbuffer *out);
struct at_cmd {
	const char *name;   /* without the leading '+' */
	at_handler fn;
	int which;          /* handler-specific selector */
};

/* <CR><LF>text<CR><LF> (V.250 5.7.1 verbose information text) */
void sim_at_info(struct evbuffer *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Split "a,\"b,c\",d" into fields (quotes removed). Returns the count, or -1 if malformed. */
int sim_at_split_args(const char *s, char f[][AT_ARG_LEN], int max);
bool sim_at_arg_int(const char *s, int min, int max, int *v);
/* "AT+X=n" with one integer in [min, max] stored in *dst; CME 50 otherwise. */
enum at_status sim_at_set_one_int(struct sim_at *at, const char *args, int min, int max, int *dst);
enum at_status sim_at_not_supported(struct sim_at *at);

/* The CME error a command needing the SIM gets, or 0 if the SIM is ready (TS 27.007 9.2.1). */
int sim_at_sim_cme(const struct sim_at *at);
/* Radio and registration changed: queue +CREG/+CGREG/+CEREG URCs if `old` (effective stat) differs. */
void sim_at_reg_changed(struct sim_at *at, int old);
void sim_at_reset_profile(struct sim_at *at);

/* TS 27.007 and vendor identity/network commands, in sim_at_net.c */
extern const struct at_cmd sim_at_net_cmds[];
extern const size_t sim_at_net_ncmds;

/* Vendor command sets (AT^..., AT+Q...), in sim_at_net.c; struct sim_dialect points at them. */
extern const struct at_cmd sim_at_sim800_cmds[], sim_at_quectel_cmds[], sim_at_huawei_cmds[];
extern const size_t sim_at_sim800_ncmds, sim_at_quectel_ncmds, sim_at_huawei_ncmds;

/* TS 27.005 message service commands, in sim_at_sms.c */
extern const struct at_cmd sim_at_sms_cmds[];
extern const size_t sim_at_sms_ncmds;

#endif
