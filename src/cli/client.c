/* client: the CLI's HTTP client for simrouted's Unix socket (libcurl, CURLOPT_UNIX_SOCKET_PATH). */
#include "client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *data;
	size_t len;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;
	if (b->len + n > (64u << 20))
		return 0;   /* a reply this large is not from simrouted */
	char *d = realloc(b->data, b->len + n + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, ptr, n);
	b->data = d;
	b->len += n;
	d[b->len] = '\0';
	return n;
}

static int outcome(CURLcode rc, const char *socket_path);

int client_call(const char *socket_path, const char *method, const char *path, json_t *body,
		struct client_reply *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct buf b = { 0 };
	char url[512], *payload = NULL;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return EXIT_FAILED;
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload ? payload : "");
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		if (b.data)
			out->body = json_loadb(b.data, b.len, 0, NULL);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(payload);
	free(b.data);
	return outcome(rc, socket_path);
}

/* A download: 2xx bytes go to the sink, anything else is collected as the JSON error. */
struct sink {
	CURL *c;
	FILE *out;
	struct buf err;
	long long written;
	int write_failed;
};

static size_t to_sink(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *k = arg;
	long status = 0;
	size_t n = size * nmemb;

	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300)
		return collect(ptr, size, nmemb, &k->err);
	if (fwrite(ptr, 1, n, k->out) != n) {
		k->write_failed = 1;
		return 0;
	}
	k->written += (long long)n;
	return n;
}

int client_download(const char *socket_path, const char *method, const char *path, FILE *out,
		    struct client_reply *reply, long long *written, long long *length)
{
	struct sink k = { .out = out };
	char url[512];
	curl_off_t cl = -1;
	CURLcode rc;

	memset(reply, 0, sizeof(*reply));
	*written = 0;
	*length = -1;
	if (!(k.c = curl_easy_init()))
		return EXIT_FAILED;
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(k.c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(k.c, CURLOPT_URL, url);
	curl_easy_setopt(k.c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(k.c, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(k.c, CURLOPT_WRITEFUNCTION, to_sink);
	curl_easy_setopt(k.c, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(k.c, CURLOPT_NOSIGNAL, 1L);
	/* no overall timeout: a large store takes as long as it takes; a stalled one is given up */
	curl_easy_setopt(k.c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(k.c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(k.c, CURLOPT_LOW_SPEED_TIME, 120L);
	rc = curl_easy_perform(k.c);
	curl_easy_getinfo(k.c, CURLINFO_RESPONSE_CODE, &reply->status);
	curl_easy_getinfo(k.c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	curl_easy_cleanup(k.c);
	if (k.err.data)
		reply->body = json_loadb(k.err.data, k.err.len, 0, NULL);
	free(k.err.data);
	*written = k.written;
	*length = (long long)cl;
	if (k.write_failed) {
		fprintf(stderr, "simroute: writing the download failed\n");
		return EXIT_FAILED;
	}
	return outcome(rc, socket_path);
}

static int outcome(CURLcode rc, const char *socket_path)
{
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT ||
	    rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR) {
		fprintf(stderr,
			"simroute: cannot reach simrouted on %s: %s\n"
			"  Is the daemon running? Start it with `systemctl start simrouted` (or `simrouted -c FILE`),\n"
			"  or point at another socket with -s PATH or SIMROUTE_SOCKET.\n",
			socket_path, curl_easy_strerror(rc));
		return EXIT_UNREACHABLE;
	}
	if (rc != CURLE_OK) {
		fprintf(stderr, "simroute: request to %s failed: %s\n", socket_path, curl_easy_strerror(rc));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

void client_reply_free(struct client_reply *r)
{
	json_decref(r->body);
	r->body = NULL;
}

void client_print_error(const struct client_reply *r)
{
	json_t *e = r->body ? json_object_get(r->body, "error") : NULL;
	const char *msg = e ? json_string_value(json_object_get(e, "message")) : NULL;
	if (msg)
		fprintf(stderr, "simroute: %s (HTTP %ld)\n", msg, r->status);
	else
		fprintf(stderr, "simroute: the daemon answered HTTP %ld\n", r->status);
}
