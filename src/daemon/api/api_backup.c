/* api_backup: POST /v1/backup — a consistent copy of the store made while the daemon runs (the
 * store's online backup, BACKUP_PAGES pages per loop turn so sends and requests go on), written to a
 * private temporary file beside the database (the one place writable under ProtectSystem=strict),
 * then streamed back as the reply body from the file and the file removed. One at a time. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_private.h"
#include "queue/store.h"
#include "simroute/log.h"

/* 1 MiB a turn with 4 KiB pages: a few milliseconds of the loop at a time. */
#define BACKUP_PAGES 256

struct api_backup {
	struct api *api;
	struct evhttp_request *req;
	struct api_listener *listener;   /* the request's: its connection count (api_conn_closed) */
	struct store_backup *sb;
	struct event *ev;
	char path[4096 + 32];
	int64_t started_ms;
};

/* Forget the backup; the caller answers b->req (if any) afterwards. */
static void backup_end(struct api_backup *b, bool remove_file)
{
	if (b->req)   /* the connection is counted again by its listener's close callback */
		evhttp_connection_set_closecb(evhttp_request_get_connection(b->req), api_conn_closed, b->listener);
	store_backup_free(b->sb);
	if (b->ev)
		event_free(b->ev);
	if (remove_file)
		unlink(b->path);
	b->api->backup = NULL;
	free(b);
}

/* The client went away: stop copying, nothing to answer. */
static void closed_cb(struct evhttp_connection *conn, void *arg)
{
	struct api_backup *b = arg;
	api_conn_closed(conn, b->listener);
	log_warnx("api: backup: the client disconnected; backup abandoned");
	b->req = NULL;
	backup_end(b, true);
}

/* The copy is complete: hand the file to the reply (libevent sends it from the descriptor) and
 * unlink it now; the open descriptor keeps its data until the reply is out. */
static void send_file(struct api_backup *b)
{
	struct evbuffer *buf = evbuffer_new();
	struct stat sb;
	int fd = open(b->path, O_RDONLY | O_CLOEXEC);
	int done, total;

	store_backup_progress(b->sb, &done, &total);
	if (fd < 0 || fstat(fd, &sb) < 0 || !buf || evbuffer_add_file(buf, fd, 0, sb.st_size) < 0) {
		int e = errno;
		struct evhttp_request *req = b->req;
		log_warn("api: backup: %s", b->path);
		if (fd >= 0 && !buf)
			close(fd);
		if (buf)
			evbuffer_free(buf);   /* closes fd once it was added */
		backup_end(b, true);
		api_error(req, 500, "backup_failed", NULL, "the copy could not be read back: %s", strerror(e));
		return;
	}
	unlink(b->path);
	log_info("api: backup: %d page(s), %lld bytes in %lld ms", total, (long long)sb.st_size,
		 (long long)(api_now_ms() - b->started_ms));
	struct evkeyvalq *h = evhttp_request_get_output_headers(b->req);
	evhttp_add_header(h, "Content-Type", "application/vnd.sqlite3");
	evhttp_add_header(h, "Content-Disposition", "attachment; filename=\"simroute.db\"");
	struct evhttp_request *req = b->req;
	backup_end(b, false);
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static void step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_backup *b = arg;
	struct timeval now = { 0, 0 };
	char err[256];
	(void)fd;
	(void)what;

	switch (store_backup_step(b->sb, BACKUP_PAGES, err, sizeof(err))) {
	case 1:
		evtimer_add(b->ev, &now);   /* next turn, after whatever else is ready */
		return;
	case 0:
		send_file(b);
		return;
	default: {
		struct evhttp_request *req = b->req;
		log_warnx("api: backup: %s", err);
		backup_end(b, true);
		api_error(req, 500, "backup_failed", NULL, "%s", err);
	}
	}
}

void api_backup_post(struct api_req *r)
{
	struct api *api = r->api;
	struct api_backup *b;
	struct timeval now = { 0, 0 };
	bool unsupported = false;
	char err[256];
	int fd;

	if (r->masked) {
		/* the copy holds every number in full: no masking can apply to it */
		api_error(r->req, 403, "masked_numbers", NULL,
			  "this API key has mask_numbers: a backup holds every number in full");
		return;
	}
	if (api->backup) {
		api_error(r->req, 409, "backup_in_progress", NULL, "a backup is already being made; try again when it is done");
		return;
	}
	if (!api->deps.store_path || !api->deps.store_path[0]) {
		api_error(r->req, 501, "not_supported", NULL, "this store has no file to back up");
		return;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		api_error(r->req, 500, "internal", NULL, "out of memory");
		return;
	}
	b->api = api;
	b->started_ms = api_now_ms();
	snprintf(b->path, sizeof(b->path), "%s.backup-tmp", api->deps.store_path);
	/* a leftover of a crash mid-backup is stale; created here 0600: it holds every message */
	unlink(b->path);
	fd = open(b->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("api: backup: %s", b->path);
		api_error(r->req, 500, "backup_failed", NULL, "cannot create the temporary copy beside the database: %s",
			  strerror(errno));
		free(b);
		return;
	}
	close(fd);
	b->sb = store_backup_begin(api->deps.st, b->path, &unsupported, err, sizeof(err));
	b->ev = b->sb ? evtimer_new(api->base, step_cb, b) : NULL;
	if (!b->ev) {
		unlink(b->path);
		if (unsupported)
			api_error(r->req, 501, "not_supported", NULL, "%s", err);
		else
			api_error(r->req, 500, "backup_failed", NULL, "%s", b->sb ? "out of memory" : err);
		store_backup_free(b->sb);
		free(b);
		return;
	}
	b->req = r->req;
	b->listener = r->trusted ? &api->unix_l : &api->tcp_l;
	api->backup = b;
	evhttp_connection_set_closecb(evhttp_request_get_connection(r->req), closed_cb, b);
	log_info("api: backup requested by %s", r->actor ? r->actor : r->owner);
	/* a copy of every message leaves the daemon: who took it is worth keeping */
	api_audit(r, "store.backup", NULL, NULL);
	evtimer_add(b->ev, &now);
}

void api_backup_abort(struct api *api)
{
	if (!api->backup)
		return;
	log_warnx("api: backup abandoned: shutting down");
	backup_end(api->backup, true);
}
