/* cli_pdu: JSON lines front end to the PDU codec, for operators and tests:
 *   {"op":"encode","to":"+447700900123","text":"...","languages":["tr"]}
 *   {"op":"decode","pdu":"<hex with SMSC prefix>"}
 * One answer line per input line, flushed at once so that a pipe can be driven interactively. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_pdu.h"
#include "simroute/pdu.h"

static json_t *
error_obj(const char *what, const char *detail)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s%s", what, detail);
	return json_pack("{s:s}", "error", msg);
}

/* the shift table used, as its language code, or null */
static json_t *
lang_doc(unsigned lang)
{
	const char *c = pdu_lang_code(lang);

	return c != NULL ? json_string(c) : json_null();
}

static json_t *
do_encode(json_t *req)
{
	struct pdu_submit_opts o;
	struct pdu_submit *s = NULL;
	const char *to, *text;
	json_t *langs, *v, *parts, *res;
	enum pdu_error e;
	size_t i;
	int l;

	memset(&o, 0, sizeof(o));
	to = json_string_value(json_object_get(req, "to"));
	text = json_string_value(json_object_get(req, "text"));
	if (to == NULL)
		return error_obj("", "\"to\" must be a string");
	if (text == NULL)
		return error_obj("", "\"text\" must be a string");
	langs = json_object_get(req, "languages");
	if (langs != NULL && !json_is_array(langs))
		return error_obj("", "\"languages\" must be an array of codes");
	json_array_foreach(langs, i, v) {
		if (!json_is_string(v) || (l = pdu_lang_parse(json_string_value(v))) < 0)
			return error_obj("unknown language: ", json_is_string(v) ? json_string_value(v) : "");
		o.languages |= 1u << l;
	}
	/* optional knobs, handy for reproducing what the daemon sends */
	if ((v = json_object_get(req, "smsc")) != NULL)
		o.smsc = json_string_value(v);
	if ((v = json_object_get(req, "validity_minutes")) != NULL)
		o.validity_minutes = (int)json_integer_value(v);
	if ((v = json_object_get(req, "status_report")) != NULL)
		o.status_report = json_is_true(v);
	if ((v = json_object_get(req, "concat16")) != NULL)
		o.concat16 = json_is_true(v);
	if ((v = json_object_get(req, "ref")) != NULL)
		o.concat_ref = (unsigned)json_integer_value(v);
	if ((v = json_object_get(req, "max_parts")) != NULL)
		o.max_parts = (unsigned)json_integer_value(v);
	if ((v = json_object_get(req, "mr")) != NULL)
		o.mr = (int)json_integer_value(v);
	if ((e = pdu_encode_submit(to, text, &o, &s)) != PDU_OK)
		return error_obj("", pdu_strerror(e));
	parts = json_array();
	for (l = 0; l < s->nparts; l++)
		json_array_append_new(parts, json_pack("{s:s,s:i,s:i}", "pdu", s->parts[l].hex,
						       "length", s->parts[l].length,
						       "ud_len", s->parts[l].ud_len));
	res = json_pack("{s:s,s:o,s:o,s:o}", "encoding", pdu_encoding_name(s->encoding), "parts", parts,
			"locking_shift", lang_doc(s->lang_locking), "single_shift", lang_doc(s->lang_single));
	pdu_submit_free(s);
	return res;
}

static json_t *
opt_time(const char *iso)
{
	return iso[0] != '\0' ? json_string(iso) : json_null();
}

static json_t *
do_decode(json_t *req)
{
	struct pdu_decoded *d;
	const char *hex;
	enum pdu_error e;
	json_t *res, *concat;

	hex = json_string_value(json_object_get(req, "pdu"));
	if (hex == NULL)
		return error_obj("", "\"pdu\" must be a hex string");
	if ((d = malloc(sizeof(*d))) == NULL)
		return error_obj("", "out of memory");
	e = pdu_decode(hex, true, d);
	if (e == PDU_ERR_MTI)   /* not SC->MS: perhaps a SUBMIT captured from AT+CMGS */
		e = pdu_decode_submit(hex, true, d);
	if (e != PDU_OK) {
		free(d);
		return error_obj("", pdu_strerror(e));
	}
	concat = d->concat.present ? json_pack("{s:i,s:i,s:i}", "ref", (int)d->concat.ref, "total",
					       (int)d->concat.total, "seq", (int)d->concat.seq)
				   : json_null();
	switch (d->type) {
	case PDU_TYPE_DELIVER:
		res = json_pack("{s:s,s:s,s:s,s:o,s:s,s:o}", "type", "deliver", "from", d->addr, "text",
				d->text, "scts", opt_time(d->scts), "encoding",
				pdu_encoding_name(d->encoding), "concat", concat);
		break;
	case PDU_TYPE_SUBMIT:
		res = json_pack("{s:s,s:s,s:s,s:s,s:o,s:i}", "type", "submit", "to", d->addr, "text",
				d->text, "encoding", pdu_encoding_name(d->encoding), "concat", concat,
				"mr", d->mr);
		break;
	default:
		json_decref(concat);
		res = json_pack("{s:s,s:i,s:s,s:o,s:o,s:i}", "type", "status_report", "mr", d->mr,
				"recipient", d->addr, "scts", opt_time(d->scts), "discharge",
				opt_time(d->discharge), "status", d->status);
		break;
	}
	if (res != NULL && d->type != PDU_TYPE_STATUS_REPORT && d->encoding == PDU_ENC_GSM7) {
		/* the national language tables the IEs named (TS 23.040 9.2.3.24.15/16) */
		json_object_set_new(res, "locking_shift", lang_doc(d->lang_locking));
		json_object_set_new(res, "single_shift", lang_doc(d->lang_single));
	}
	free(d);
	return res != NULL ? res : error_obj("", "cannot represent the result as JSON");
}

static json_t *
handle_line(const char *line)
{
	json_error_t jerr;
	json_t *req, *res;
	const char *op;

	req = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return error_obj("invalid JSON: ", jerr.text);
	if (!json_is_object(req)) {
		json_decref(req);
		return error_obj("", "expected a JSON object");
	}
	op = json_string_value(json_object_get(req, "op"));
	if (op != NULL && strcmp(op, "encode") == 0)
		res = do_encode(req);
	else if (op != NULL && strcmp(op, "decode") == 0)
		res = do_decode(req);
	else
		res = error_obj("", "\"op\" must be \"encode\" or \"decode\"");
	json_decref(req);
	return res;
}

int
cli_pdu_main(int argc, char **argv)
{
	char *line = NULL, *out;
	size_t cap = 0;
	ssize_t n;
	json_t *res;

	if (argc > 1 && strcmp(argv[1], "encode") != 0 && strcmp(argv[1], "decode") != 0) {
		fprintf(stderr, "usage: simroute pdu [encode|decode] < json-lines\n");
		return 2;
	}
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		/* every line, even a blank one, gets exactly one answer line: callers pair them up */
		res = handle_line(line);
		out = json_dumps(res, JSON_COMPACT);
		json_decref(res);
		if (out == NULL) {
			fputs("{\"error\":\"out of memory\"}\n", stdout);
		} else {
			fputs(out, stdout);
			fputc('\n', stdout);
			free(out);
		}
		fflush(stdout);
	}
	free(line);
	return 0;
}
