/* pdu: SMS TPDU codec (TS 23.040) for PDU-mode AT commands (TS 27.005): SUBMIT encode, DELIVER/STATUS-REPORT/SUBMIT decode. */
#ifndef SIMROUTE_PDU_H
#define SIMROUTE_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pdu_encoding { PDU_ENC_GSM7 = 0, PDU_ENC_8BIT, PDU_ENC_UCS2 };

enum pdu_error {
	PDU_OK = 0,
	PDU_ERR_HEX,          /* not an even-length string of hex digits */
	PDU_ERR_TRUNCATED,    /* the PDU ends before a field it announces */
	PDU_ERR_TRAILING,     /* bytes left over after the user data */
	PDU_ERR_ADDRESS,      /* bad or oversize address field / destination number */
	PDU_ERR_MTI,          /* message type not handled by this call */
	PDU_ERR_DCS,          /* unsupported data coding scheme (e.g. compressed) */
	PDU_ERR_UDH,          /* malformed user data header */
	PDU_ERR_UDL,          /* user data length inconsistent with the PDU */
	PDU_ERR_TEXT,         /* text is not valid UTF-8, or empty */
	PDU_ERR_TOO_LONG,     /* more parts than the configured maximum */
	PDU_ERR_ARG,          /* bad option */
};
const char *pdu_strerror(enum pdu_error err);
const char *pdu_encoding_name(enum pdu_encoding enc);   /* "gsm7" | "8bit" | "ucs2" */

/* National language shift tables (TS 23.038 6.2.1/6.2.2), as a bit mask of (1u << PDU_LANG_x). */
enum pdu_lang {
	PDU_LANG_TR = 1, PDU_LANG_ES = 2, PDU_LANG_PT = 3, PDU_LANG_BN = 4, PDU_LANG_GU = 5,
	PDU_LANG_HI = 6, PDU_LANG_KN = 7, PDU_LANG_ML = 8, PDU_LANG_OR = 9, PDU_LANG_PA = 10,
	PDU_LANG_TA = 11, PDU_LANG_TE = 12, PDU_LANG_UR = 13,
};
/* "tr", "es", "pt", "bn", ... -> enum value, or -1 */
int pdu_lang_parse(const char *code);
/* enum value -> "tr", "hi", ...; NULL for 0 (no table) or an unknown value */
const char *pdu_lang_code(unsigned lang);

#define PDU_HEX_MAX 400  /* (12 SMSC + 164 TPDU) octets as hex, with room and a NUL */

struct pdu_submit_opts {
	const char *smsc;        /* NULL or "": leading "00" (use the SIM's SMSC) */
	int validity_minutes;    /* <= 0: no TP-VP; else relative TP-VP rounded up (TS 23.040 9.2.3.12.1) */
	bool status_report;      /* TP-SRR */
	bool concat16;           /* concatenation IEI 08 (16-bit ref) instead of IEI 00 */
	unsigned concat_ref;     /* reference for multi-part messages (per SIM; masked to 8 or 16 bits) */
	unsigned max_parts;      /* 0: default 10 */
	unsigned languages;      /* mask of 1u << enum pdu_lang allowed; 0: default alphabet only.
	                            Spanish has a single shift table only (TS 23.038 A.3.2 void). */
	int mr;                  /* TP-MR to put in the PDU (modems overwrite it); 0 normally */
};

struct pdu_part {
	char hex[PDU_HEX_MAX];   /* exactly what follows the "> " prompt of AT+CMGS (before Ctrl-Z) */
	int length;              /* the <length> of AT+CMGS=<length>: TPDU octets, SMSC excluded */
	int ud_len;              /* TP-UDL: septets (GSM-7) or octets (UCS-2/8-bit) */
};

struct pdu_submit {
	enum pdu_encoding encoding;
	unsigned lang_locking, lang_single;  /* shift tables used (enum pdu_lang), 0 = none */
	int nparts;
	struct pdu_part parts[];  /* nparts entries */
};

/* Encode `text` (UTF-8) to `to` (E.164 "+447700900123", or national digits, or "*#" service numbers).
 * opts may be NULL for all defaults. On success *out is malloc'd (free with pdu_submit_free). */
enum pdu_error pdu_encode_submit(const char *to, const char *text, const struct pdu_submit_opts *opts,
				 struct pdu_submit **out);
void pdu_submit_free(struct pdu_submit *s);

/* How many parts and which encoding `text` needs, without building PDUs (API validation). */
enum pdu_error pdu_count_parts(const char *text, const struct pdu_submit_opts *opts, int *nparts,
			       enum pdu_encoding *encoding);

enum pdu_type { PDU_TYPE_DELIVER = 0, PDU_TYPE_SUBMIT, PDU_TYPE_STATUS_REPORT };

struct pdu_concat {
	bool present;
	unsigned ref, total, seq;
};

#define PDU_TEXT_MAX 1024   /* UTF-8 of one part's text: 160 septets of 3-byte chars, with room */

struct pdu_decoded {
	enum pdu_type type;
	char smsc[24];             /* "" when the SMSC octet was 00 */
	char addr[48];             /* DELIVER: originator; SUBMIT: destination; STATUS-REPORT: recipient.
	                              "+<digits>" international, digits national, UTF-8 for alphanumeric */
	bool addr_alpha;
	enum pdu_encoding encoding;
	int msg_class;             /* -1 none, else 0..3 */
	struct pdu_concat concat;
	char text[PDU_TEXT_MAX];   /* UTF-8; for 8-bit data the hex of the octets */
	uint8_t data[160];         /* 8-bit user data (without UDH) */
	size_t data_len;
	int ud_len;                /* TP-UDL as in the PDU */
	int mr;                    /* SUBMIT and STATUS-REPORT: TP-MR */
	bool srr;                  /* SUBMIT: TP-SRR; DELIVER: TP-SRI */
	int validity_minutes;      /* SUBMIT relative VP, -1 if absent/other */
	char scts[32];             /* ISO 8601 with offset, e.g. "2026-11-23T13:45:00+01:00" */
	char discharge[32];        /* STATUS-REPORT discharge time, same format */
	int status;                /* STATUS-REPORT TP-ST */
	int tpdu_len;              /* octets after the SMSC field */
	int src_port, dst_port;    /* UDH application port addressing (IEI 04/05), -1 if absent */
	unsigned lang_locking, lang_single;  /* national language shift IEs (IEI 25/24), 0 = none */
	int pid;                   /* TP-PID */
};

/* Decode hex as a modem reports it in +CMGR/+CMGL/+CMT/+CDS (SC->MS: DELIVER or STATUS-REPORT).
 * with_smsc: the string starts with the SMSC address field (as from modems; the <length> excludes it). */
enum pdu_error pdu_decode(const char *hex, bool with_smsc, struct pdu_decoded *out);
/* Decode an SMS-SUBMIT as given to AT+CMGS (MS->SC), e.g. by gsmsim. */
enum pdu_error pdu_decode_submit(const char *hex, bool with_smsc, struct pdu_decoded *out);

/* Build SMS-DELIVER parts (SC->MS) as a modem would report them in +CMT/+CMGR, for gsmsim.
 * from: E.164 "+...", national digits, or an alphanumeric sender (<= 11 GSM 7 bit septets).
 * scts: ISO 8601 with offset ("2026-11-23T13:45:00+01:00"; offset a multiple of 15 min).
 * Segmentation, languages and concatenation as pdu_encode_submit; opts->status_report sets TP-SRI;
 * opts->smsc is the SMSC address put in front ("" -> "00"); validity_minutes and mr are ignored.
 * parts[].length is the TPDU length (SMSC excluded), as in +CMT: ,<length>. */
enum pdu_error pdu_encode_deliver(const char *from, const char *text, const char *scts,
				  const struct pdu_submit_opts *opts, struct pdu_submit **out);

/* Build an SMS-STATUS-REPORT (TS 23.040 9.2.2.3) for +CDS, with the SMSC prefix (smsc NULL/"": "00").
 * mr: TP-MR of the submitted message; recipient: TP-RA; scts: when the SC got the SUBMIT;
 * discharge: TP-DT; status: TP-ST (0x00 delivered, 0x20.. temporary, 0x40.. permanent, ...). */
enum pdu_error pdu_encode_status_report(int mr, const char *recipient, const char *scts,
					const char *discharge, int status, const char *smsc,
					struct pdu_part *out);

/* TP-ST classes (TS 23.040 9.2.3.15) */
enum pdu_status_class { PDU_ST_DELIVERED, PDU_ST_TEMPORARY, PDU_ST_PERMANENT, PDU_ST_TEMP_GAVE_UP };
enum pdu_status_class pdu_status_classify(int st);

#endif
