/* pdu_decode: SMS-DELIVER, SMS-STATUS-REPORT and SMS-SUBMIT decoding (TS 23.040 9.2.2). Input comes
 * from modems and the network, so every length is checked against what is really there: any byte
 * string gives a result or an error code, never an out-of-bounds read. */
#include <string.h>

#include "pdu_field.h"
#include "simroute/gsm7.h"
#include "simroute/pdu.h"
#include "simroute/utf8.h"

#define PDU_OCTETS_MAX 200   /* 12 SMSC + 176 TPDU (SUBMIT with enhanced VP), with room */

static void
decoded_init(struct pdu_decoded *out)
{
	memset(out, 0, sizeof(*out));
	out->msg_class = -1;
	out->validity_minutes = -1;
	out->mr = -1;
	out->status = -1;
	out->src_port = out->dst_port = -1;
}

/* TS 23.038 4: data coding scheme -> alphabet and class. */
static enum pdu_error
parse_dcs(uint8_t dcs, struct pdu_decoded *out)
{
	unsigned group = dcs >> 4;

	out->encoding = PDU_ENC_GSM7;
	if (group <= 7) {
		/* 00xx / 01xx: general data coding (01xx: marked for automatic deletion) */
		if (dcs & 0x20)
			return PDU_ERR_DCS;   /* compressed (TS 23.042): not supported */
		if (dcs & 0x10)
			out->msg_class = dcs & 3;
		switch ((dcs >> 2) & 3) {
		case 1: out->encoding = PDU_ENC_8BIT; break;
		case 2: out->encoding = PDU_ENC_UCS2; break;
		default: break;   /* 00 GSM 7 bit; 11 reserved, taken as GSM 7 bit (TS 23.038 4) */
		}
	} else if (group == 0xE) {
		out->encoding = PDU_ENC_UCS2;   /* message waiting indication, store, UCS-2 */
	} else if (group == 0xF) {
		/* data coding / message class: bit 2 = 8-bit data */
		out->encoding = (dcs & 0x04) ? PDU_ENC_8BIT : PDU_ENC_GSM7;
		out->msg_class = dcs & 3;
	}
	/* 1100/1101 message waiting (GSM 7 bit); 1000..1011 reserved: GSM 7 bit default */
	return PDU_OK;
}

/* TS 23.040 9.2.3.24: walk the information elements of a UDH (hdr[0] is the UDHL). */
static enum pdu_error
parse_udh(const uint8_t *hdr, size_t hlen, struct pdu_decoded *out)
{
	size_t off = 1;

	while (off < hlen) {
		uint8_t iei, l;
		const uint8_t *d;

		if (hlen - off < 2)
			return PDU_ERR_UDH;
		iei = hdr[off];
		l = hdr[off + 1];
		off += 2;
		if (l > hlen - off)
			return PDU_ERR_UDH;
		d = hdr + off;
		off += l;
		switch (iei) {
		case 0x00:   /* 9.2.3.24.1 concatenation, 8-bit reference */
			/* a count or sequence of 0, or sequence > count: the IE is ignored */
			if (l == 3 && d[1] != 0 && d[2] != 0 && d[2] <= d[1]) {
				out->concat = (struct pdu_concat){ true, d[0], d[1], d[2] };
			}
			break;
		case 0x08:   /* 9.2.3.24.8 concatenation, 16-bit reference */
			if (l == 4 && d[2] != 0 && d[3] != 0 && d[3] <= d[2])
				out->concat = (struct pdu_concat){ true, (unsigned)d[0] << 8 | d[1], d[2], d[3] };
			break;
		case 0x04:   /* 9.2.3.24.3 application port, 8-bit */
			if (l == 2) {
				out->dst_port = d[0];
				out->src_port = d[1];
			}
			break;
		case 0x05:   /* 9.2.3.24.4 application port, 16-bit */
			if (l == 4) {
				out->dst_port = d[0] << 8 | d[1];
				out->src_port = d[2] << 8 | d[3];
			}
			break;
		case 0x24:   /* 9.2.3.24.15 national language single shift */
			if (l == 1 && d[0] < GSM7_LANG_COUNT)
				out->lang_single = d[0];
			break;
		case 0x25:   /* 9.2.3.24.16 national language locking shift */
			/* a language without a locking table (Spanish, TS 23.038 A.3.2 void) is a value
			 * not supported: the IE is ignored and the default alphabet applies */
			if (l == 1 && d[0] < GSM7_LANG_COUNT && gsm7_lang_locking(d[0]) != NULL)
				out->lang_locking = d[0];
			break;
		default:     /* other IEs are skipped, as 9.2.3.24 requires of unknown ones */
			break;
		}
	}
	return PDU_OK;
}

static void
ucs2_to_utf8(const uint8_t *b, size_t n, char *out, size_t outlen)
{
	size_t i, pos = 0;

	out[0] = '\0';
	for (i = 0; i + 1 < n; i += 2) {
		uint32_t u = (uint32_t)b[i] << 8 | b[i + 1];

		if (u >= 0xD800 && u <= 0xDBFF && i + 3 < n) {
			uint32_t lo = (uint32_t)b[i + 2] << 8 | b[i + 3];

			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				i += 2;
			}
		}
		/* a lone surrogate becomes U+FFFD in utf8_append */
		if (utf8_append(out, outlen, &pos, u) < 0)
			return;
	}
}

/* TP-UDL and TP-UD (TS 23.040 9.2.3.16/9.2.3.24); must end exactly at the end of the PDU unless
 * `lenient` (optional trailing parts of a status report). */
static enum pdu_error
parse_ud(struct pdu_cur *c, bool udhi, bool lenient, struct pdu_decoded *out)
{
	uint8_t udl;
	size_t octets, hl = 0, start, ns;
	const uint8_t *ud;
	uint8_t sept[160];
	enum pdu_error e;

	if ((e = pdu_field_get(c, &udl)) != PDU_OK)
		return e;
	out->ud_len = udl;
	if (out->encoding == PDU_ENC_GSM7) {
		if (udl > 160)
			return PDU_ERR_UDL;
		octets = gsm7_packed_len(udl);
	} else {
		if (udl > 140)
			return PDU_ERR_UDL;
		octets = udl;
	}
	if (c->n - c->off < octets)
		return PDU_ERR_TRUNCATED;
	if (c->n - c->off > octets && !lenient)
		return PDU_ERR_TRAILING;
	ud = c->p + c->off;
	c->off += octets;
	if (udhi && octets > 0) {
		hl = (size_t)ud[0] + 1;
		if (hl > octets)
			return PDU_ERR_UDH;
		if ((e = parse_udh(ud, hl, out)) != PDU_OK)
			return e;
	} else if (udhi) {
		return PDU_ERR_UDH;
	}
	if (out->encoding == PDU_ENC_GSM7) {
		start = (hl * 8 + 6) / 7;   /* fill bits up to the next septet boundary */
		if (start > udl)
			return PDU_ERR_UDL;
		ns = gsm7_unpack(ud, octets, start, udl - start, sept);
		if (gsm7_decode(sept, ns, out->lang_locking, out->lang_single, out->text,
				sizeof(out->text)) < 0)
			return PDU_ERR_UDL;
		return PDU_OK;
	}
	out->data_len = octets - hl;
	memcpy(out->data, ud + hl, out->data_len);
	if (out->encoding == PDU_ENC_UCS2)
		ucs2_to_utf8(out->data, out->data_len, out->text, sizeof(out->text));
	else
		pdu_field_hex(out->data, out->data_len, out->text);
	return PDU_OK;
}

static enum pdu_error
start(const char *hex, bool with_smsc, struct pdu_decoded *out, uint8_t *buf, struct pdu_cur *c)
{
	enum pdu_error e;
	bool alpha;
	size_t n;

	if (out == NULL)
		return PDU_ERR_ARG;
	decoded_init(out);
	if ((e = pdu_field_unhex(hex, buf, PDU_OCTETS_MAX, &n)) != PDU_OK)
		return e;
	c->p = buf;
	c->n = n;
	c->off = 0;
	if (with_smsc && (e = pdu_field_get_address(c, true, out->smsc, sizeof(out->smsc),
						     &alpha)) != PDU_OK)
		return e;
	out->tpdu_len = (int)(c->n - c->off);
	return PDU_OK;
}

static enum pdu_error
decode_deliver(struct pdu_cur *c, uint8_t fo, struct pdu_decoded *out)
{
	uint8_t pid, dcs;
	enum pdu_error e;

	/* TS 23.040 9.2.2.1 */
	out->type = PDU_TYPE_DELIVER;
	out->srr = (fo & 0x20) != 0;
	if ((e = pdu_field_get_address(c, false, out->addr, sizeof(out->addr), &out->addr_alpha)))
		return e;
	if ((e = pdu_field_get(c, &pid)) || (e = pdu_field_get(c, &dcs)))
		return e;
	out->pid = pid;
	if ((e = parse_dcs(dcs, out)) != PDU_OK)
		return e;
	if ((e = pdu_field_get_scts(c, out->scts)) != PDU_OK)
		return e;
	return parse_ud(c, (fo & 0x40) != 0, false, out);
}

static enum pdu_error
decode_status_report(struct pdu_cur *c, uint8_t fo, struct pdu_decoded *out)
{
	uint8_t mr, st, pi, v;
	enum pdu_error e;
	bool alpha;

	/* TS 23.040 9.2.2.3 */
	out->type = PDU_TYPE_STATUS_REPORT;
	if ((e = pdu_field_get(c, &mr)))
		return e;
	out->mr = mr;
	if ((e = pdu_field_get_address(c, false, out->addr, sizeof(out->addr), &alpha)))
		return e;
	out->addr_alpha = alpha;
	if ((e = pdu_field_get_scts(c, out->scts)) || (e = pdu_field_get_scts(c, out->discharge)))
		return e;
	if ((e = pdu_field_get(c, &st)))
		return e;
	out->status = st;
	/* Optional TP-PI and what it announces (9.2.3.27). Some SCs pad reports with junk octets, and
	 * the mandatory part is what matters: a malformed tail is ignored, never read out of bounds. */
	if (pdu_field_get(c, &pi) != PDU_OK || (pi & 0x80))
		return PDU_OK;
	if ((pi & 0x01) && pdu_field_get(c, &v) == PDU_OK)
		out->pid = v;
	if ((pi & 0x02) && pdu_field_get(c, &v) == PDU_OK && parse_dcs(v, out) != PDU_OK)
		return PDU_OK;
	if (pi & 0x04) {
		struct pdu_decoded tmp = *out;

		if (parse_ud(c, (fo & 0x40) != 0, true, &tmp) == PDU_OK)
			*out = tmp;
	}
	return PDU_OK;
}

enum pdu_error
pdu_decode(const char *hex, bool with_smsc, struct pdu_decoded *out)
{
	uint8_t buf[PDU_OCTETS_MAX], fo;
	struct pdu_cur c;
	enum pdu_error e;

	if ((e = start(hex, with_smsc, out, buf, &c)) != PDU_OK)
		return e;
	if ((e = pdu_field_get(&c, &fo)) != PDU_OK)
		return e;
	/* TS 23.040 9.2.3.1: TP-MTI in the SC->MS direction */
	switch (fo & 3) {
	case 0: return decode_deliver(&c, fo, out);
	case 2: return decode_status_report(&c, fo, out);
	default: return PDU_ERR_MTI;   /* SUBMIT-REPORT or reserved */
	}
}

enum pdu_error
pdu_decode_submit(const char *hex, bool with_smsc, struct pdu_decoded *out)
{
	uint8_t buf[PDU_OCTETS_MAX], fo, mr, pid, dcs, vp;
	struct pdu_cur c;
	enum pdu_error e;

	if ((e = start(hex, with_smsc, out, buf, &c)) != PDU_OK)
		return e;
	if ((e = pdu_field_get(&c, &fo)) != PDU_OK)
		return e;
	if ((fo & 3) != 1)
		return PDU_ERR_MTI;
	/* TS 23.040 9.2.2.2 */
	out->type = PDU_TYPE_SUBMIT;
	out->srr = (fo & 0x20) != 0;
	if ((e = pdu_field_get(&c, &mr)))
		return e;
	out->mr = mr;
	if ((e = pdu_field_get_address(&c, false, out->addr, sizeof(out->addr), &out->addr_alpha)))
		return e;
	if ((e = pdu_field_get(&c, &pid)) || (e = pdu_field_get(&c, &dcs)))
		return e;
	out->pid = pid;
	if ((e = parse_dcs(dcs, out)) != PDU_OK)
		return e;
	/* TS 23.040 9.2.3.3 TP-VPF: 00 none, 10 relative (1 octet), 01 enhanced / 11 absolute (7) */
	switch ((fo >> 3) & 3) {
	case 2:
		if ((e = pdu_field_get(&c, &vp)))
			return e;
		out->validity_minutes = pdu_field_vp_decode(vp);
		break;
	case 1:
	case 3:
		if (c.n - c.off < 7)
			return PDU_ERR_TRUNCATED;
		c.off += 7;
		break;
	default:
		break;
	}
	return parse_ud(&c, (fo & 0x40) != 0, false, out);
}
