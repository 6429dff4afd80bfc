/* sim_ctl: gsmsim's control socket RUNDIR/ctl.sock and the `gsmsim ctl` client.
 *
 * A line in is either a JSON array of strings (what the client sends, so text with spaces and quotes
 * survives) or words split like a shell (for socat and people); a line out is one JSON object. */
#include "sim_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "simroute/log.h"

#include "sim_cmd.h"

#define CTL_LINE_MAX 65536

struct sim_ctl_conn {
	struct sim_ctl *ctl;
	struct bufferevent *bev;
	struct sim_ctl_conn *next;
};

struct sim_ctl {
	struct sim_bank *bank;
	struct evconnlistener *listener;
	struct sim_ctl_conn *conns;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void conn_free(struct sim_ctl_conn *c)
{
	struct sim_ctl_conn **pp;

	for (pp = &c->ctl->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bufferevent_free(c->bev);
	free(c);
}

/* One request line -> one reply object. */
static json_t *run_line(struct sim_bank *bank, char *line)
{
	char *argv[SIM_CMD_ARGS_MAX];
	json_t *req, *v, *reply;
	json_error_t jerr;
	size_t i;
	int argc;

	if (line[0] != '[') {
		argc = sim_cmd_split(line, argv, SIM_CMD_ARGS_MAX);
		if (argc < 0)
			return json_pack("{s:b, s:s}", "ok", 0, "error", "unbalanced quote or too many words");
		return sim_cmd_run(bank, argc, argv);
	}
	req = json_loads(line, 0, &jerr);
	if (!json_is_array(req) || json_array_size(req) > SIM_CMD_ARGS_MAX) {
		json_decref(req);
		return json_pack("{s:b, s:s}", "ok", 0, "error", "expected a JSON array of strings");
	}
	json_array_foreach(req, i, v) {
		if (!json_is_string(v)) {
			json_decref(req);
			return json_pack("{s:b, s:s}", "ok", 0, "error", "expected a JSON array of strings");
		}
		argv[i] = (char *)json_string_value(v);
	}
	reply = sim_cmd_run(bank, (int)json_array_size(req), argv);
	json_decref(req);
	return reply;
}

static void on_conn_read(struct bufferevent *bev, void *arg)
{
	struct sim_ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line, *out;
	size_t n;
	json_t *reply;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF))) {
		reply = run_line(c->ctl->bank, line);
		free(line);
		out = reply ? json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9)) : NULL;
		json_decref(reply);
		if (out) {
			bufferevent_write(bev, out, strlen(out));
			bufferevent_write(bev, "\n", 1);
			free(out);
		}
	}
	if (evbuffer_get_length(in) > CTL_LINE_MAX) {
		log_warnx("ctl: request line too long: closing the connection");
		conn_free(c);
	}
}

static void on_conn_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_free(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct sim_ctl *ctl = arg;
	struct sim_ctl_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		close(fd);
		free(c);
		return;
	}
	c->next = ctl->conns;
	ctl->conns = c;
	bufferevent_setcb(c->bev, on_conn_read, NULL, on_conn_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

struct sim_ctl *sim_ctl_listen(struct sim_bank *bank, const char *path)
{
	struct sim_ctl *ctl;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);

	if (len >= sizeof(sun.sun_path)) {
		log_warnx("%s: path too long for a Unix socket", path);
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return NULL;
	memcpy(sun.sun_path, path, len + 1);
	memcpy(ctl->path, path, len + 1);
	ctl->bank = bank;
	unlink(path);   /* left by a gsmsim that was killed */
	ctl->listener = evconnlistener_new_bind(bank->base, on_accept, ctl,
						LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
						(struct sockaddr *)&sun, (int)sizeof(sun));
	if (!ctl->listener) {
		log_warn("listen %s", path);
		free(ctl);
		return NULL;
	}
	return ctl;
}

void sim_ctl_close(struct sim_ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->conns)
		conn_free(ctl->conns);
	evconnlistener_free(ctl->listener);
	unlink(ctl->path);
	free(ctl);
}

int sim_ctl_client(const char *rundir, int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 30 };
	json_t *req = json_array(), *reply;
	char buf[65536], *line;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/ctl.sock", rundir) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "gsmsim ctl: %s: path too long\n", rundir);
		return 2;
	}
	for (int i = 0; i < argc; i++)
		json_array_append_new(req, json_string(argv[i]));
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "gsmsim ctl: %s: %s\n", sun.sun_path, strerror(errno));
		free(line);
		if (fd >= 0)
			close(fd);
		return 2;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!line || write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "gsmsim ctl: cannot send: %s\n", strerror(errno));
		free(line);
		close(fd);
		return 2;
	}
	free(line);
	/* one reply line */
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	buf[len] = '\0';
	if (!memchr(buf, '\n', len)) {
		fprintf(stderr, "gsmsim ctl: no answer\n");
		return 2;
	}
	fputs(buf, stdout);
	reply = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	rc = json_is_true(json_object_get(reply, "ok")) ? 0 : 1;
	json_decref(reply);
	return rc;
}
