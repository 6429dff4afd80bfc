/* pdu_field: TS 23.040 field codecs shared by the SMS PDU encoder and decoder. */
#include <stdio.h>
#include <string.h>

#include "pdu_field.h"
#include "simroute/gsm7.h"
#include "simroute/utf8.h"

#define ADDR_DIGITS_MAX 20   /* TS 23.040 9.1.2.5: address value at most 10 octets */

void
pdu_field_put(struct pdu_buf *w, uint8_t v)
{
	if (w->len >= sizeof(w->b)) {
		w->overflow = true;
		return;
	}
	w->b[w->len++] = v;
}

void
pdu_field_put_bytes(struct pdu_buf *w, const uint8_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pdu_field_put(w, v[i]);
}

static int
bcd_nibble(char ch)
{
	/* TS 23.040 9.1.2.3: semi-octets 0-9, '*' = 1010, '#' = 1011 */
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch == '*')
		return 0xA;
	if (ch == '#')
		return 0xB;
	return -1;
}

enum pdu_error
pdu_field_put_address(struct pdu_buf *w, const char *num, bool smsc)
{
	uint8_t toa = 0x81;   /* TON unknown, NPI ISDN/E.164 (TS 23.040 9.1.2.5) */
	int nib[ADDR_DIGITS_MAX];
	size_t n = 0, i;

	if (num == NULL)
		return PDU_ERR_ADDRESS;
	if (*num == '+') {
		toa = 0x91;   /* TON international */
		num++;
	}
	for (; *num != '\0'; num++) {
		int v = bcd_nibble(*num);

		if (v < 0 || n >= ADDR_DIGITS_MAX)
			return PDU_ERR_ADDRESS;
		nib[n++] = v;
	}
	if (n == 0)
		return PDU_ERR_ADDRESS;
	/* TP-DA counts useful semi-octets; the RP SMSC address counts octets including the TOA */
	pdu_field_put(w, (uint8_t)(smsc ? 1 + (n + 1) / 2 : n));
	pdu_field_put(w, toa);
	for (i = 0; i < n; i += 2)
		pdu_field_put(w, (uint8_t)(nib[i] | ((i + 1 < n ? nib[i + 1] : 0xF) << 4)));
	return PDU_OK;
}

enum pdu_error
pdu_field_put_alpha(struct pdu_buf *w, const char *name)
{
	uint8_t sept[24], packed[12] = { 0 };
	size_t n = 0, len = strlen(name), off = 0, used;
	uint32_t cp;
	int k;

	while (off < len) {
		used = utf8_decode(name + off, len - off, &cp);
		if (used == 0)
			return PDU_ERR_ADDRESS;
		off += used;
		k = gsm7_encode_char(cp, 0, 0, sept + n);
		if (k == 0 || n + (size_t)k > 11)   /* 10 octets hold 11 septets */
			return PDU_ERR_ADDRESS;
		n += (size_t)k;
	}
	if (n == 0)
		return PDU_ERR_ADDRESS;
	gsm7_pack(sept, n, 0, packed);
	/* TS 23.040 9.1.2.5: length = useful semi-octets; TOA 0xD0 = TON alphanumeric, NPI unknown */
	pdu_field_put(w, (uint8_t)((n * 7 + 3) / 4));
	pdu_field_put(w, 0xD0);
	pdu_field_put_bytes(w, packed, gsm7_packed_len(n));
	return PDU_OK;
}

static uint8_t
bcd_swapped(int v)
{
	return (uint8_t)(((v % 10) << 4) | (v / 10 % 10));
}

enum pdu_error
pdu_field_put_scts(struct pdu_buf *w, const char *iso)
{
	int y, mo, d, h, mi, s, th = 0, tm = 0, n = 0, q;
	char sign = '+';

	if (iso == NULL ||
	    sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
		return PDU_ERR_ARG;
	iso += n;
	if (*iso == '+' || *iso == '-') {
		sign = *iso;
		if (sscanf(iso + 1, "%2d:%2d%n", &th, &tm, &n) != 2 || iso[1 + n] != '\0')
			return PDU_ERR_ARG;
	} else if (strcmp(iso, "Z") != 0 && *iso != '\0') {
		return PDU_ERR_ARG;
	}
	if (y < 1990 || y > 2089 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60 || th > 19 || tm > 59 || (tm % 15) != 0)
		return PDU_ERR_ARG;
	pdu_field_put(w, bcd_swapped(y % 100));
	pdu_field_put(w, bcd_swapped(mo));
	pdu_field_put(w, bcd_swapped(d));
	pdu_field_put(w, bcd_swapped(h));
	pdu_field_put(w, bcd_swapped(mi));
	pdu_field_put(w, bcd_swapped(s));
	/* TS 23.040 9.2.3.11: quarter hours in swapped BCD, bit 3 of the octet = negative */
	q = th * 4 + tm / 15;
	pdu_field_put(w, (uint8_t)(bcd_swapped(q) | (sign == '-' ? 0x08 : 0)));
	return PDU_OK;
}

void
pdu_field_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xF];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

enum pdu_error
pdu_field_unhex(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
	size_t len, i;

	if (hex == NULL)
		return PDU_ERR_HEX;
	len = strlen(hex);
	if (len == 0 || len % 2 != 0)
		return PDU_ERR_HEX;
	for (i = 0; i < len; i++)
		if (hexval(hex[i]) < 0)
			return PDU_ERR_HEX;
	if (len / 2 > cap)
		return PDU_ERR_TRAILING;
	for (i = 0; i < len / 2; i++)
		out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	*n = len / 2;
	return PDU_OK;
}

enum pdu_error
pdu_field_get(struct pdu_cur *c, uint8_t *v)
{
	if (c->off >= c->n)
		return PDU_ERR_TRUNCATED;
	*v = c->p[c->off++];
	return PDU_OK;
}

static const char bcd_chars[16] = "0123456789*#abc";

enum pdu_error
pdu_field_get_address(struct pdu_cur *c, bool smsc, char *out, size_t outlen, bool *alpha)
{
	uint8_t len, toa, sept[24];
	size_t octets, ndigits, i, pos = 0;
	enum pdu_error e;

	*alpha = false;
	out[0] = '\0';
	if ((e = pdu_field_get(c, &len)) != PDU_OK)
		return e;
	if (smsc) {
		if (len == 0)
			return PDU_OK;   /* "00": no SMSC given */
		if (len > 11)
			return PDU_ERR_ADDRESS;
		octets = len - 1u;
		ndigits = octets * 2;
	} else {
		if (len > ADDR_DIGITS_MAX)
			return PDU_ERR_ADDRESS;
		octets = (len + 1u) / 2;
		ndigits = len;
	}
	if ((e = pdu_field_get(c, &toa)) != PDU_OK)
		return e;
	if (c->n - c->off < octets)
		return PDU_ERR_TRUNCATED;
	if (!smsc && ((toa >> 4) & 7) == 5) {
		/* TS 23.040 9.1.2.5: alphanumeric, GSM 7 bit default alphabet packed in the semi-octets */
		size_t ns = gsm7_unpack(c->p + c->off, octets, 0, (size_t)len * 4 / 7, sept);

		c->off += octets;
		*alpha = true;
		return gsm7_decode(sept, ns, 0, 0, out, outlen) == 0 ? PDU_OK : PDU_ERR_ADDRESS;
	}
	if (((toa >> 4) & 7) == 1 && outlen > 1)
		out[pos++] = '+';
	for (i = 0; i < ndigits; i++) {
		uint8_t o = c->p[c->off + i / 2];
		unsigned nib = (i % 2 == 0) ? (o & 0xF) : (o >> 4);

		if (nib == 0xF) {
			if (i + 1 == ndigits)   /* the filler of an odd count */
				break;
			return PDU_ERR_ADDRESS;
		}
		if (pos + 1 >= outlen)
			return PDU_ERR_ADDRESS;
		out[pos++] = bcd_chars[nib];
	}
	out[pos] = '\0';
	c->off += octets;
	return PDU_OK;
}

static int
bcd_get(uint8_t o)
{
	unsigned lo = o & 0xF, hi = o >> 4;

	/* swapped semi-octets: the low nibble is the tens digit */
	if (lo > 9 || hi > 9)
		return -1;
	return (int)(lo * 10 + hi);
}

enum pdu_error
pdu_field_get_scts(struct pdu_cur *c, char out[32])
{
	const uint8_t *p;
	int v[6], q, i, y;
	unsigned tz;
	char tmp[80];

	out[0] = '\0';
	if (c->n - c->off < 7)
		return PDU_ERR_TRUNCATED;
	p = c->p + c->off;
	c->off += 7;
	for (i = 0; i < 6; i++)
		if ((v[i] = bcd_get(p[i])) < 0)
			return PDU_OK;
	/* TS 23.040 9.2.3.11: bit 3 is the sign, the rest swapped BCD quarter hours */
	tz = p[6] & ~0x08u;
	if ((q = bcd_get((uint8_t)tz)) < 0 || q > 79)
		return PDU_OK;
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return PDU_OK;
	/* two-digit year: 90..99 are the 1990s (the published examples), the rest 20xx */
	y = v[0] >= 90 ? 1900 + v[0] : 2000 + v[0];
	/* all fields are range-checked above, so this is always 25 characters */
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, v[1], v[2], v[3],
		 v[4], v[5], (p[6] & 0x08) ? '-' : '+', q / 4, (q % 4) * 15);
	memcpy(out, tmp, 26);
	return PDU_OK;
}

uint8_t
pdu_field_vp_encode(int m)
{
	/* TS 23.040 9.2.3.12.1, rounding up so that the message lives at least as long as asked */
	if (m <= 5)
		return 0;
	if (m <= 720)
		return (uint8_t)((m + 4) / 5 - 1);
	if (m <= 1440)
		return (uint8_t)(143 + (m - 720 + 29) / 30);
	if (m <= 30 * 1440)
		return (uint8_t)(166 + (m + 1439) / 1440);
	if (m <= 63 * 10080)
		return (uint8_t)(192 + (m + 10079) / 10080);
	return 255;
}

int
pdu_field_vp_decode(uint8_t vp)
{
	if (vp <= 143)
		return (vp + 1) * 5;
	if (vp <= 167)
		return 720 + (vp - 143) * 30;
	if (vp <= 196)
		return (vp - 166) * 1440;
	return (vp - 192) * 10080;
}
