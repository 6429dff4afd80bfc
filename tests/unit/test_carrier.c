/* test_carrier: the cloud carrier client against a real HTTP server on loopback (evhttp in this process). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "carrier/carrier.h"
#include "carrier/carrier_type.h"

struct fixture {
	struct event_base *base;
	struct evhttp *http;
	int port;
	char last_body[1024];
	char last_auth[256];
	char last_path[256];
	char last_key[256];            /* X-Api-Key */
	char last_ctype[256];
	struct evhttp_request *held;   /* /slow: never answered */
};

struct outcome {
	int called;
	struct carrier_result res;
	struct event_base *base;
};

static void serve(struct evhttp_request *req, void *arg)
{
	struct fixture *f = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req), *out = evbuffer_new();
	const char *path = evhttp_request_get_uri(req);
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	size_t n = evbuffer_get_length(in);

	if (n >= sizeof(f->last_body))
		n = sizeof(f->last_body) - 1;
	evbuffer_remove(in, f->last_body, n);
	f->last_body[n] = '\0';
	snprintf(f->last_auth, sizeof(f->last_auth), "%s", auth ? auth : "");
	snprintf(f->last_path, sizeof(f->last_path), "%s", path);
	const char *key = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Api-Key");
	const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	snprintf(f->last_key, sizeof(f->last_key), "%s", key ? key : "");
	snprintf(f->last_ctype, sizeof(f->last_ctype), "%s", ctype ? ctype : "");
	if (strcmp(path, "/ok") == 0) {
		evbuffer_add_printf(out, "{\"id\": \"msg-77\"}");
		evhttp_send_reply(req, 200, "OK", out);
	} else if (strcmp(path, "/tpl") == 0) {
		evbuffer_add_printf(out, "{\"data\": {\"ref\": \"r-9\"}, \"id\": \"not-this\"}");
		evhttp_send_reply(req, 202, "Accepted", out);
	} else if (strcmp(path, "/fail500") == 0) {
		evbuffer_add_printf(out, "upstream\nbroken");
		evhttp_send_reply(req, 500, "Internal", out);
	} else if (strcmp(path, "/bad") == 0) {
		evbuffer_add_printf(out, "{\"error\": \"invalid number\"}");
		evhttp_send_reply(req, 400, "Bad", out);
	} else if (strcmp(path, "/busy") == 0) {
		evhttp_send_reply(req, 429, "Slow down", out);
	} else if (strstr(path, "/2010-04-01/Accounts/AC123/Messages.json")) {
		evbuffer_add_printf(out, "{\"sid\": \"SM0001\", \"status\": \"queued\"}");
		evhttp_send_reply(req, 201, "Created", out);
	} else if (strcmp(path, "/slow") == 0) {
		f->held = req;   /* answered never: the client's timeout must fire */
	} else {
		evhttp_send_reply(req, 404, "Not Found", out);
	}
	evbuffer_free(out);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	f->base = event_base_new();
	f->http = evhttp_new(f->base);
	evhttp_set_gencb(f->http, serve, f);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
	assert_non_null(bs);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len);
	f->port = ntohs(sin.sin_port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	evhttp_free(f->http);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void on_done(void *arg, const struct carrier_result *res)
{
	struct outcome *o = arg;
	o->called++;
	o->res = *res;
	event_base_loopbreak(o->base);
}

static struct carrier *make(struct fixture *f, const char *type, const char *path, const char *token)
{
	char url[128], err[160] = "";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", f->port, path);
	struct carrier_config cfg = { .name = "cloud", .type = type, .url = url, .token = token,
				      .account_sid = "AC123", .auth_token = "secret", .from = "+15005550006",
				      .timeout_ms = 1500 };
	struct carrier *c = carrier_new(f->base, &cfg, err, sizeof(err));
	if (!c)
		fail_msg("carrier_new: %s", err);
	return c;
}

static struct outcome run_one(struct fixture *f, struct carrier *c, const char *text)
{
	struct outcome o = { .base = f->base };
	struct carrier_msg m = { .id = 42, .to = "+447700900123", .text = text, .reference = "ref-1" };
	assert_int_equal(carrier_send(c, &m, on_done, &o), 0);
	assert_int_equal(o.called, 0);   /* never from inside carrier_send */
	struct timeval limit = { 10, 0 };
	event_base_loopexit(f->base, &limit);
	event_base_dispatch(f->base);
	assert_int_equal(o.called, 1);
	return o;
}

static void test_generic_accepted(void **state)
{
	struct fixture *f = *state;
	struct carrier *c = make(f, "http", "/ok", "tok-1");
	struct outcome o = run_one(f, c, "Hello \"world\"");
	assert_int_equal(o.res.outcome, CARRIER_ACCEPTED);
	assert_int_equal(o.res.http_status, 200);
	assert_string_equal(o.res.id, "msg-77");
	assert_string_equal(f->last_auth, "Bearer tok-1");
	assert_string_equal(f->last_body, "{\"to\":\"+447700900123\",\"text\":\"Hello \\\"world\\\"\",\"reference\":\"ref-1\"}");
	assert_int_equal(carrier_inflight(c), 0);
	carrier_free(c);
}

static void test_headers_template_response_id(void **state)
{
	struct fixture *f = *state;
	char url[128], err[200] = "";
	const char *headers[] = { "X-Api-Key: k-123", "Content-Type: application/vnd.sms+json" };
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/tpl", f->port);
	struct carrier_config cfg = { .name = "cloud", .type = "http", .url = url, .token = "tok", .from = "ACME",
				      .timeout_ms = 1500, .headers = headers, .nheaders = 2,
				      .template_json = "{\"msg\": {\"dest\": \"{{to}}\", \"body\": \"{{text}}\"},"
						       " \"ref\": \"{{id}}\", \"sender\": \"{{from}}\", \"cref\": \"{{reference}}\"}",
				      .response_id = "/data/ref" };
	struct carrier *c = carrier_new(f->base, &cfg, err, sizeof(err));
	if (!c)
		fail_msg("carrier_new: %s", err);
	struct outcome o = run_one(f, c, "a \"quote\"\nand \xf0\x9f\x98\x80");
	assert_int_equal(o.res.outcome, CARRIER_ACCEPTED);
	assert_string_equal(o.res.id, "r-9");
	assert_string_equal(f->last_key, "k-123");
	assert_string_equal(f->last_ctype, "application/vnd.sms+json");   /* replaces the default */
	assert_string_equal(f->last_auth, "Bearer tok");
	assert_string_equal(f->last_body, "{\"msg\":{\"dest\":\"+447700900123\",\"body\":\"a \\\"quote\\\"\\nand "
					  "\xf0\x9f\x98\x80\"},\"ref\":\"42\",\"sender\":\"ACME\",\"cref\":\"ref-1\"}");
	carrier_free(c);
}

static void test_twilio_status_callback_param(void **state)
{
	struct fixture *f = *state;
	char url[128], err[200] = "";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f->port);
	struct carrier_config cfg = { .name = "tw", .type = "twilio", .url = url, .account_sid = "AC123",
				      .auth_token = "secret", .from = "+15005550006", .timeout_ms = 1500,
				      .status_callback_url = "https://gw.example.net/v1/carrier/tw/status" };
	struct carrier *c = carrier_new(f->base, &cfg, err, sizeof(err));
	if (!c)
		fail_msg("carrier_new: %s", err);
	struct outcome o = run_one(f, c, "x");
	assert_int_equal(o.res.outcome, CARRIER_ACCEPTED);
	assert_string_equal(f->last_body, "To=%2B447700900123&From=%2B15005550006&Body=x"
					  "&StatusCallback=https%3A%2F%2Fgw.example.net%2Fv1%2Fcarrier%2Ftw%2Fstatus");
	carrier_free(c);
}

static void test_server_error_is_temporary(void **state)
{
	struct fixture *f = *state;
	struct carrier *c = make(f, "http", "/fail500", NULL);
	struct outcome o = run_one(f, c, "x");
	assert_int_equal(o.res.outcome, CARRIER_TEMPORARY);
	assert_int_equal(o.res.http_status, 500);
	assert_non_null(strstr(o.res.error, "HTTP 500: upstream broken"));   /* newline flattened */
	assert_string_equal(f->last_auth, "");
	carrier_free(c);
}

static void test_client_error_is_permanent_but_429_is_not(void **state)
{
	struct fixture *f = *state;
	struct carrier *c = make(f, "http", "/bad", NULL);
	struct outcome o = run_one(f, c, "x");
	assert_int_equal(o.res.outcome, CARRIER_PERMANENT);
	assert_non_null(strstr(o.res.error, "invalid number"));
	carrier_free(c);
	c = make(f, "http", "/busy", NULL);
	o = run_one(f, c, "x");
	assert_int_equal(o.res.outcome, CARRIER_TEMPORARY);
	assert_int_equal(o.res.http_status, 429);
	carrier_free(c);
}

static void test_twilio_shape(void **state)
{
	struct fixture *f = *state;
	struct carrier *c = make(f, "twilio", "", NULL);
	struct outcome o = run_one(f, c, "Hi & bye");
	assert_int_equal(o.res.outcome, CARRIER_ACCEPTED);
	assert_string_equal(o.res.id, "SM0001");
	assert_string_equal(f->last_path, "/2010-04-01/Accounts/AC123/Messages.json");
	assert_string_equal(f->last_body, "To=%2B447700900123&From=%2B15005550006&Body=Hi%20%26%20bye");
	assert_string_equal(f->last_auth, "Basic QUMxMjM6c2VjcmV0");   /* base64("AC123:secret") */
	carrier_free(c);
}

static void test_timeout_is_temporary(void **state)
{
	struct fixture *f = *state;
	struct carrier *c = make(f, "http", "/slow", NULL);
	struct outcome o = run_one(f, c, "x");
	assert_int_equal(o.res.outcome, CARRIER_TEMPORARY);
	assert_int_equal(o.res.http_status, 0);
	assert_true(o.res.error[0] != '\0');
	assert_true(o.res.maybe_accepted);   /* the request went out: the carrier may have it */
	carrier_free(c);
	if (f->held)
		evhttp_send_reply(f->held, 200, "late", NULL);
}

static void test_refused_connection_is_temporary(void **state)
{
	struct fixture *f = *state;
	char err[160];
	/* Port 1 on loopback: nothing listens there. */
	struct carrier_config cfg = { .name = "down", .type = "http", .url = "http://127.0.0.1:1/send" };
	struct carrier *c = carrier_new(f->base, &cfg, err, sizeof(err));
	struct outcome o = run_one(f, c, "x");
	assert_int_equal(o.res.outcome, CARRIER_TEMPORARY);
	assert_false(o.res.maybe_accepted);  /* nothing reached anyone: safe to resend */
	carrier_free(c);
}

static void test_free_cancels_inflight(void **state)
{
	struct fixture *f = *state;
	struct carrier *c = make(f, "http", "/ok", NULL);
	struct outcome o = { .base = f->base };
	struct carrier_msg m = { .id = 1, .to = "+447700900123", .text = "x" };
	assert_int_equal(carrier_send(c, &m, on_done, &o), 0);
	assert_int_equal(carrier_inflight(c), 1);
	carrier_free(c);
	assert_int_equal(o.called, 1);
	assert_int_equal(o.res.outcome, CARRIER_CANCELLED);
}

static void test_bad_configs(void **state)
{
	struct fixture *f = *state;
	char err[160];
	const char *bad_headers[] = { "X-Evil: a\r\nHost: elsewhere", "No colon here", "Bad Name: x" };
	const struct carrier_config bad[] = {
		{ .type = "smpp", .url = "http://127.0.0.1/" },
		{ .type = "http", .url = "ftp://127.0.0.1/" },
		{ .type = "http", .url = NULL },
		{ .type = "twilio", .url = "http://127.0.0.1/", .account_sid = "AC1", .auth_token = "t" },
		{ .type = "twilio", .url = "http://127.0.0.1/", .account_sid = "AC1/../x", .auth_token = "t", .from = "+1" },
		{ .type = "twilio", .url = "http://127.0.0.1/", .account_sid = "AC1", .auth_token = "t", .from = "+1",
		  .template_json = "{}" },
		{ .type = "http", .url = "http://127.0.0.1/", .template_json = "{\"to\": {{to}}}" },
		{ .type = "http", .url = "http://127.0.0.1/", .headers = bad_headers, .nheaders = 1 },
		{ .type = "http", .url = "http://127.0.0.1/", .headers = bad_headers + 1, .nheaders = 1 },
		{ .type = "http", .url = "http://127.0.0.1/", .headers = bad_headers + 2, .nheaders = 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(carrier_new(f->base, &bad[i], err, sizeof(err)));
		assert_true(err[0] != '\0');
	}
}

static void test_classify(void **state)
{
	(void)state;
	static const struct { long st; enum carrier_outcome want; } t[] = {
		{ 200, CARRIER_ACCEPTED }, { 201, CARRIER_ACCEPTED }, { 202, CARRIER_ACCEPTED },
		{ 400, CARRIER_PERMANENT }, { 401, CARRIER_PERMANENT }, { 404, CARRIER_PERMANENT },
		{ 408, CARRIER_TEMPORARY }, { 429, CARRIER_TEMPORARY }, { 500, CARRIER_TEMPORARY },
		{ 503, CARRIER_TEMPORARY }, { 0, CARRIER_TEMPORARY }, { 302, CARRIER_TEMPORARY },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(carrier_type_classify(t[i].st), t[i].want);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generic_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_template_response_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_twilio_status_callback_param, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_error_is_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_error_is_permanent_but_429_is_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_twilio_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_is_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_connection_is_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_cancels_inflight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_configs, setup, teardown),
		cmocka_unit_test(test_classify),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
