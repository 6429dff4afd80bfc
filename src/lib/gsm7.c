/* gsm7: character lookup and septet packing for the GSM 7 bit alphabets (TS 23.038). The tables
 * themselves are in gsm7_lang.c. */
#include <string.h>

#include "simroute/gsm7.h"
#include "simroute/utf8.h"

static int
table_find(unsigned lang, bool locking, uint32_t cp)
{
	const uint16_t *t = locking ? gsm7_lang_locking(lang) : gsm7_lang_single(lang);
	int i;

	/* 0 marks an empty cell (no table maps a septet to U+0000), and 0x1B is never a character;
	 * the lowest septet wins where a table prints a character twice */
	if (t == NULL || cp == 0 || cp > 0xFFFF)
		return -1;
	for (i = 0; i < 128; i++)
		if (i != GSM7_ESC && t[i] == cp && !gsm7_lang_decode_only(lang, locking, (unsigned)i))
			return i;
	return -1;
}

int
gsm7_find_locking(unsigned lang, uint32_t cp)
{
	/* The whole printable ASCII range except the characters the default alphabet lacks
	 * (TS 23.038 6.2.1) sits at its own code; a fast path for the common case. */
	if (lang == 0 && ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
			  (cp >= '%' && cp <= '?') || (cp >= ' ' && cp <= '#') || cp == '\n' || cp == '\r'))
		return (int)cp;
	return table_find(lang, true, cp);
}

int
gsm7_find_single(unsigned lang, uint32_t cp)
{
	return table_find(lang, false, cp);
}

int
gsm7_encode_char(uint32_t cp, unsigned locking, unsigned single, uint8_t out[2])
{
	int s = gsm7_find_locking(locking, cp);

	if (s >= 0) {
		out[0] = (uint8_t)s;
		return 1;
	}
	s = gsm7_find_single(single, cp);
	if (s >= 0) {
		out[0] = GSM7_ESC;
		out[1] = (uint8_t)s;
		return 2;
	}
	return 0;
}

int
gsm7_decode(const uint8_t *septets, size_t n, unsigned locking, unsigned single, char *out,
	    size_t outlen)
{
	const uint16_t *lt = gsm7_lang_locking(locking), *st = gsm7_lang_single(single);
	size_t i, pos = 0;
	uint32_t cp;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	/* an unknown table id (an IE for a language we lack) falls back to the default tables */
	if (lt == NULL)
		lt = gsm7_lang_locking(0);
	if (st == NULL)
		st = gsm7_lang_single(0);
	for (i = 0; i < n; i++) {
		uint8_t s = septets[i] & 0x7F;

		if (s == GSM7_ESC) {
			if (i + 1 >= n)
				break;   /* a trailing escape has nothing to extend: drop it */
			s = septets[++i] & 0x7F;
			if (s == GSM7_ESC)
				cp = ' ';   /* TS 23.038 6.2.1.1: reserved for a further table, shown as space */
			else if (st[s] != 0)
				cp = st[s];
			else
				cp = lt[s] != 0 ? lt[s] : ' ';   /* 6.2.1.1: unknown escapes show the main-table char */
		} else {
			cp = lt[s] != 0 ? lt[s] : ' ';   /* undefined cells (only in some national tables) */
		}
		if (utf8_append(out, outlen, &pos, cp) < 0)
			return -1;
	}
	return 0;
}

size_t
gsm7_packed_len(size_t nseptets)
{
	return (nseptets * 7 + 7) / 8;
}

void
gsm7_pack(const uint8_t *septets, size_t n, size_t start, uint8_t *out)
{
	size_t k, bit, o;
	unsigned sh;

	/* TS 23.038 6.1.2.1.1: septet k occupies bits k*7.. of the stream, least significant first */
	for (k = 0; k < n; k++) {
		unsigned v = septets[k] & 0x7F;

		bit = (start + k) * 7;
		o = bit / 8;
		sh = bit % 8;
		out[o] |= (uint8_t)(v << sh);
		if (sh > 1)
			out[o + 1] |= (uint8_t)(v >> (8 - sh));
	}
}

size_t
gsm7_unpack(const uint8_t *in, size_t inlen, size_t start, size_t n, uint8_t *out)
{
	size_t k, bit, o;
	unsigned sh, v;

	for (k = 0; k < n; k++) {
		bit = (start + k) * 7;
		o = bit / 8;
		sh = bit % 8;
		if (o >= inlen || (sh > 1 && o + 1 >= inlen))
			break;
		v = in[o] >> sh;
		if (sh > 1)
			v |= (unsigned)in[o + 1] << (8 - sh);
		out[k] = (uint8_t)(v & 0x7F);
	}
	return k;
}
