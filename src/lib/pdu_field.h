/* pdu_field: TS 23.040 9.1.2 field codecs (hex, addresses, time stamps, validity period) shared by
 * the PDU encoder and decoder; private to src/lib. */
#ifndef SIMROUTE_PDU_FIELD_H
#define SIMROUTE_PDU_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simroute/pdu.h"

/* Output buffer for building a PDU; writes past cap set overflow instead of writing. */
struct pdu_buf {
	uint8_t b[200];
	size_t len;
	bool overflow;
};

/* Input cursor: every read is bounds-checked against n. */
struct pdu_cur {
	const uint8_t *p;
	size_t n, off;
};

void pdu_field_put(struct pdu_buf *w, uint8_t v);
void pdu_field_put_bytes(struct pdu_buf *w, const uint8_t *v, size_t n);
/* Address field (TS 23.040 9.1.2.5): smsc selects the TS 24.011 8.2.5.2 form (length in octets). */
enum pdu_error pdu_field_put_address(struct pdu_buf *w, const char *num, bool smsc);
/* Alphanumeric TP-OA (TON 101, GSM 7 bit default alphabet, at most 11 septets). */
enum pdu_error pdu_field_put_alpha(struct pdu_buf *w, const char *name);
/* "YYYY-MM-DDTHH:MM:SS+HH:MM" (or "Z") -> TS 23.040 9.2.3.11 time stamp */
enum pdu_error pdu_field_put_scts(struct pdu_buf *w, const char *iso);

void pdu_field_hex(const uint8_t *b, size_t n, char *out);   /* uppercase, NUL-terminated */
/* Hex string -> octets; PDU_ERR_HEX for odd length/non-hex, PDU_ERR_TRAILING if over cap. */
enum pdu_error pdu_field_unhex(const char *hex, uint8_t *out, size_t cap, size_t *n);

enum pdu_error pdu_field_get(struct pdu_cur *c, uint8_t *v);
enum pdu_error pdu_field_get_address(struct pdu_cur *c, bool smsc, char *out, size_t outlen,
				     bool *alpha);
/* TS 23.040 9.2.3.11 -> ISO 8601 with offset; an invalid stamp gives "" (the message still counts). */
enum pdu_error pdu_field_get_scts(struct pdu_cur *c, char out[32]);

/* TS 23.040 9.2.3.12.1 relative validity period */
uint8_t pdu_field_vp_encode(int minutes);
int pdu_field_vp_decode(uint8_t vp);

#endif
