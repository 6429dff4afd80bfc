/* libFuzzer target: both PDU decoders on (1) the input taken as a hex string, with and without an
 * SMSC field, and (2) the input's raw bytes turned into hex, so that the fuzzer reaches the field
 * parsers directly instead of spending its time on hex syntax. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simroute/pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct pdu_decoded *d)
{
	/* whatever was accepted must be terminated strings of sane length */
	if (strlen(d->text) >= sizeof(d->text) || strlen(d->addr) >= sizeof(d->addr) ||
	    strlen(d->smsc) >= sizeof(d->smsc) || strlen(d->scts) >= sizeof(d->scts) ||
	    d->data_len > sizeof(d->data))
		abort();
}

static void
run(const char *hex)
{
	struct pdu_decoded d;

	if (pdu_decode(hex, true, &d) == PDU_OK)
		check(&d);
	if (pdu_decode(hex, false, &d) == PDU_OK)
		check(&d);
	if (pdu_decode_submit(hex, true, &d) == PDU_OK)
		check(&d);
	if (pdu_decode_submit(hex, false, &d) == PDU_OK)
		check(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char digits[] = "0123456789ABCDEF";
	char *s;
	size_t i;

	if (size > 4096)
		return 0;
	s = malloc(2 * size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';   /* an embedded NUL just ends the string early, as in C callers */
	run(s);
	for (i = 0; i < size; i++) {
		s[2 * i] = digits[data[i] >> 4];
		s[2 * i + 1] = digits[data[i] & 0xF];
	}
	s[2 * size] = '\0';
	run(s);
	free(s);
	return 0;
}
