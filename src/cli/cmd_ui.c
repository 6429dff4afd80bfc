/* cmd_ui: `simroute ui [--port N]` — the web dashboard for the operator at this machine, without an API
 * key: a loopback HTTP proxy (libevent's evhttp) that forwards GET requests to simrouted's Unix socket.
 *
 * Whoever reaches the proxy acts with the operator's access to the socket, so it is guarded: it binds
 * 127.0.0.1 only; the printed URL carries a random token good for one sign-in, traded for a new random
 * session in an HttpOnly, SameSite=Strict cookie (the URL is then worthless); every request needs that cookie and a
 * Host naming the proxy itself (no DNS rebinding); only GET goes through (the dashboard only reads).
 * Forwarding is a blocking libcurl call per request: this serves one operator's browser, not a crowd. */
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "cli.h"

#define TOKEN_BYTES 16
#define COOKIE_NAME "simroute_ui"
#define REPLY_MAX (16u << 20)

struct proxy {
	const char *socket;
	char token[TOKEN_BYTES * 2 + 1];     /* in the printed URL: good for one sign-in */
	char session[TOKEN_BYTES * 2 + 1];   /* the cookie it is traded for ("" until then) */
	int port;
	CURL *curl;
	struct event_base *base;
};

/* Compares in time independent of where they differ. */
static bool same_secret(const char *a, const char *b, size_t len)
{
	unsigned char d = 0;
	if (strlen(a) != len || strlen(b) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* The value of our cookie in a Cookie header, copied into out; false when absent. */
static bool find_cookie(const char *header, char *out, size_t outlen)
{
	const char *p = header;
	size_t nlen = strlen(COOKIE_NAME);
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, COOKIE_NAME, nlen) == 0 && p[nlen] == '=') {
			p += nlen + 1;
			size_t n = strcspn(p, ";");
			if (n >= outlen)
				return false;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

/* 2 * TOKEN_BYTES hex digits from the kernel's CSPRNG into out (size 2 * TOKEN_BYTES + 1); 0 or -1. */
static int random_hex(char *out, size_t size)
{
	unsigned char raw[TOKEN_BYTES];
	if (size < 2 * TOKEN_BYTES + 1 || getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static void reply_text(struct evhttp_request *req, int status, const char *reason, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
	if (b)
		evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, status, reason, b);
	if (b)
		evbuffer_free(b);
}

/* The daemon's answer: body, and the headers the browser needs to see. */
struct answer {
	struct evbuffer *body;
	struct evkeyvalq *out;
	bool too_big;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	if (evbuffer_get_length(a->body) + n > REPLY_MAX) {
		a->too_big = true;
		return 0;
	}
	evbuffer_add(a->body, ptr, n);
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	static const char *const pass[] = { "Content-Type", "Content-Security-Policy", "X-Content-Type-Options",
					    "X-Frame-Options", "Referrer-Policy", "Cache-Control", "ETag", "Location",
					    "Retry-After" };
	struct answer *a = arg;
	size_t n = size * nmemb;
	char line[1024];
	if (n >= sizeof(line))
		return n;
	memcpy(line, ptr, n);
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	char *colon = strchr(line, ':');
	if (!colon)
		return n;
	*colon = '\0';
	const char *v = colon + 1;
	while (*v == ' ')
		v++;
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if (strcasecmp(line, pass[i]) == 0)
			evhttp_add_header(a->out, pass[i], v);
	return n;
}

static bool host_ok(const struct proxy *p, const char *host)
{
	char a[64], b[64];
	snprintf(a, sizeof(a), "127.0.0.1:%d", p->port);
	snprintf(b, sizeof(b), "localhost:%d", p->port);
	return host && (strcmp(host, a) == 0 || strcmp(host, b) == 0);
}

static void forward(struct proxy *p, struct evhttp_request *req, const char *uri)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct answer a = { .body = evbuffer_new(), .out = evhttp_request_get_output_headers(req) };
	struct curl_slist *hdrs = NULL;
	char url[4200], h[512];
	long status = 0;
	const char *inm = evhttp_find_header(in, "If-None-Match");

	if (!a.body || strlen(uri) > 4096) {
		reply_text(req, 414, "URI Too Long", "request too long");
		if (a.body)
			evbuffer_free(a.body);
		return;
	}
	snprintf(url, sizeof(url), "http://localhost%s", uri);
	if (inm && strlen(inm) < 200) {
		snprintf(h, sizeof(h), "If-None-Match: %s", inm);
		hdrs = curl_slist_append(hdrs, h);
	}
	curl_easy_reset(p->curl);
	curl_easy_setopt(p->curl, CURLOPT_UNIX_SOCKET_PATH, p->socket);
	curl_easy_setopt(p->curl, CURLOPT_URL, url);
	curl_easy_setopt(p->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(p->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(p->curl, CURLOPT_HEADERDATA, &a);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	CURLcode rc = curl_easy_perform(p->curl);
	curl_slist_free_all(hdrs);
	if (rc == CURLE_OK)
		curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || status < 100 || status > 599) {
		evhttp_clear_headers(a.out);
		reply_text(req, 502, "Bad Gateway", a.too_big ? "reply too large" : "simrouted did not answer on its socket");
	} else {
		evhttp_send_reply(req, (int)status, NULL, a.body);
	}
	evbuffer_free(a.body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct proxy *p = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *uri = evhttp_request_get_uri(req);
	const struct evhttp_uri *parsed = evhttp_request_get_evhttp_uri(req);
	const char *path = parsed ? evhttp_uri_get_path(parsed) : NULL;
	const char *query = parsed ? evhttp_uri_get_query(parsed) : NULL;
	const char *cookie = evhttp_find_header(in, "Cookie");
	char value[TOKEN_BYTES * 2 + 2];

	if (!host_ok(p, evhttp_find_header(in, "Host"))) {
		reply_text(req, 403, "Forbidden", "this proxy answers only to http://127.0.0.1 on its own port");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
		reply_text(req, 405, "Method Not Allowed", "the dashboard proxy only reads (GET)");
		return;
	}
	/* the token from the printed URL, traded once for the session cookie; the redirect drops it from the
	 * address bar, and the URL is worthless afterwards (shell history, a screen seen over a shoulder) */
	if (path && query && strncmp(query, "token=", 6) == 0) {
		if (p->session[0] || !same_secret(query + 6, p->token, strlen(p->token))) {
			reply_text(req, 403, "Forbidden",
				   p->session[0] ? "this URL was used already: run `simroute ui` again for a new one"
						 : "wrong token: use the URL `simroute ui` printed");
			return;
		}
		if (random_hex(p->session, sizeof(p->session)) < 0) {
			reply_text(req, 500, "Internal Server Error", "no randomness for the session");
			return;
		}
		char set[160];
		snprintf(set, sizeof(set), COOKIE_NAME "=%s; Path=/; HttpOnly; SameSite=Strict", p->session);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", set);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", "/ui/");
		evhttp_add_header(evhttp_request_get_output_headers(req), "Referrer-Policy", "no-referrer");
		evhttp_send_reply(req, 303, "See Other", NULL);
		return;
	}
	if (!p->session[0] || !cookie || !find_cookie(cookie, value, sizeof(value)) ||
	    !same_secret(value, p->session, strlen(p->session))) {
		reply_text(req, 403, "Forbidden", "open the URL `simroute ui` printed (it carries this session's token)");
		return;
	}
	forward(p, req, uri);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int cmd_ui(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "port", required_argument, NULL, 'p' }, { NULL, 0, NULL, 0 } };
	struct proxy p = { .socket = cli->socket };
	long port = 0;
	int c, rc = EXIT_FAILED;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
		if (c != 'p')
			return EXIT_USAGE;
		port = strtol(optarg, &end, 10);
		if (!*optarg || *end || port < 0 || port > 65535)
			return EXIT_USAGE;
	}
	if (optind != argc)
		return EXIT_USAGE;
	/* the daemon must answer before a URL is handed out */
	struct client_reply r;
	if ((rc = cli_call(cli, "GET", "/healthz", NULL, &r)) != EXIT_OK)
		return rc;
	client_reply_free(&r);
	rc = EXIT_FAILED;
	if (random_hex(p.token, sizeof(p.token)) < 0) {
		fprintf(stderr, "simroute: ui: no randomness for the session token\n");
		return EXIT_FAILED;
	}

	p.curl = curl_easy_init();
	p.base = event_base_new();
	struct evhttp *http = p.base ? evhttp_new(p.base) : NULL;
	struct evhttp_bound_socket *bound = http ? evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port) : NULL;
	struct event *sigint = p.base ? evsignal_new(p.base, SIGINT, on_signal, p.base) : NULL;
	struct event *sigterm = p.base ? evsignal_new(p.base, SIGTERM, on_signal, p.base) : NULL;
	if (!p.curl || !bound || !sigint || !sigterm) {
		fprintf(stderr, "simroute: ui: cannot listen on 127.0.0.1:%ld\n", port);
		goto out;
	}
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &slen) < 0)
		goto out;
	p.port = ntohs(sin.sin_port);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
					 EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_max_body_size(http, 4096);
	evhttp_set_timeout(http, 30);
	evhttp_set_gencb(http, on_request, &p);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	if (cli->json) {
		json_t *o = json_pack("{s:o, s:i}", "url", json_sprintf("http://127.0.0.1:%d/ui/?token=%s", p.port, p.token),
				      "port", p.port);
		cli_print_json(o);
		json_decref(o);
	} else {
		printf("dashboard: http://127.0.0.1:%d/ui/?token=%s\n"
		       "Open it in a browser on this machine; Ctrl-C stops it. While it runs, whoever has this URL\n"
		       "(or your browser's cookie) reads simrouted with your access to its socket, full numbers included.\n",
		       p.port, p.token);
	}
	fflush(stdout);
	event_base_dispatch(p.base);
	rc = EXIT_OK;
out:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (http)
		evhttp_free(http);
	if (p.base)
		event_base_free(p.base);
	if (p.curl)
		curl_easy_cleanup(p.curl);
	return rc;
}
