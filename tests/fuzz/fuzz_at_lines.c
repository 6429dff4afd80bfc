/* libFuzzer target: the AT channel's bytes -> lines -> classification path (at_io, at_line, the prefix
 * table, the "> " prompt, two-line URCs, echo, overlong lines) on a real at_chan over a socketpair and a
 * libevent base. The fuzz input is what the "modem" says: it is written to the peer end in chunks
 * while commands are in flight — a query whose answer shares a URC prefix (AT+CREG?), a PDU send
 * (AT+CMGS, which writes the PDU on the prompt), plain commands — and the loop runs non-blocking
 * until each chunk is drained. Checks: no crash, no leak (ASan/LSan), every command started
 * completes exactly once (done() on a result, or CANCELLED from at_free()), replies are well formed.
 *
 * Byte 0 is options, the rest is the modem's output:
 *   bit 0    the first command is at_sync() (ESC, quiet period, AT) instead of AT+CREG?
 *   bit 1    1 ms timeouts: timeout paths and late answers to a timed-out command (one wait per input)
 *   bit 2    close the modem's end at the end (EOF: AT_RES_IO in flight, then the fail callback)
 *   bits 3-5 chunk size: 1, 2, 3, 7, 16, 64, 512, 4096 bytes
 *   bit 6    at_free() from inside the second done() callback
 *   bit 7    at_free() from inside the third URC callback
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "modem/at.h"
#include "simroute/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A 7-bit "hello" SUBMIT: even-length hex, as the modem layer hands PDUs over. */
#define FUZZ_PDU "0011000B914477009001F20000AA05E8329BFD06"

struct run {
	struct at_chan *ch;
	uint8_t opts;
	int started, completed;
	int urcs;
	int next;             /* index into the command cycle */
	bool failed;          /* the fail callback fired */
};

static void check_reply(const struct at_reply *r)
{
	char v[64];

	if ((unsigned)r->result > AT_RES_CANCELLED || (r->nlines && !r->lines))
		abort();
	for (size_t i = 0; i < r->nlines; i++)
		if (!r->lines[i] || strlen(r->lines[i]) > 1024)
			abort();
	if ((r->result == AT_RES_CME_ERROR || r->result == AT_RES_CMS_ERROR) ? r->err < -1 || r->err > 65535
									      : r->err != -1)
		abort();
	at_value(v, sizeof(v), at_reply_first(r));
	at_value(v, sizeof(v), at_reply_find(r, "+CMGS:"));
	at_value(v, sizeof(v), at_reply_find(r, "+CREG:"));
	at_value(v, 1, at_reply_first(r));
	(void)at_result_name(r->result);
}

static void on_done(void *arg, const struct at_reply *r)
{
	struct run *run = arg;

	check_reply(r);
	run->completed++;
	if (run->completed > run->started)
		abort();   /* a command completed twice */
	if ((run->opts & 0x40) && run->completed == 2 && run->ch && r->result != AT_RES_CANCELLED) {
		struct at_chan *ch = run->ch;
		run->ch = NULL;
		at_free(ch);   /* documented safe inside callbacks */
	}
}

static void on_urc(void *arg, const char *line, const char *pdu)
{
	struct run *run = arg;
	char v[32];

	if (!line || strlen(line) > 1024 || (pdu && strlen(pdu) > 1024))
		abort();
	at_value(v, sizeof(v), line);
	run->urcs++;
	if ((run->opts & 0x80) && run->urcs == 3 && run->ch) {
		struct at_chan *ch = run->ch;
		run->ch = NULL;
		at_free(ch);
	}
}

static void on_fail(void *arg, int err)
{
	struct run *run = arg;

	if (run->failed)
		abort();   /* fires once */
	run->failed = true;
}

/* Start the next command of the cycle if the channel is idle. */
static void next_command(struct run *run)
{
	int t = (run->opts & 0x02) ? 1 : 5000;
	int rc;

	if (!run->ch || run->failed || at_busy(run->ch))
		return;
	switch (run->next++ % 5) {
	case 0:
		rc = (run->opts & 0x01) && run->next == 1 ? at_sync(run->ch, t, on_done, run)
							  : at_command(run->ch, "AT+CREG?", t, on_done, run);
		break;
	case 1:
		rc = at_command_pdu(run->ch, "AT+CMGS=19", FUZZ_PDU, t, on_done, run);
		break;
	case 2:
		rc = at_command(run->ch, "AT+CSQ", t, on_done, run);
		break;
	case 3:
		rc = at_command(run->ch, "AT+CPMS?", t, on_done, run);
		break;
	default:
		rc = at_command(run->ch, "AT+CMGR=1", t, on_done, run);
		break;
	}
	if (rc == 0)
		run->started++;
}

/* What the channel wrote (commands, the PDU, ESC) is read and dropped so its writes never block. */
static void drain_peer(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Run the loop until the channel has read everything the peer wrote. */
static void pump(struct event_base *base, int fd, int peer)
{
	for (int i = 0; i < 64; i++) {
		int avail = 0;
		event_base_loop(base, EVLOOP_NONBLOCK);
		drain_peer(peer);
		if (ioctl(fd, FIONREAD, &avail) < 0 || avail == 0)
			break;
	}
	event_base_loop(base, EVLOOP_NONBLOCK);   /* the fail event, activated by a write error */
	drain_peer(peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[8] = { 1, 2, 3, 7, 16, 64, 512, 4096 };
	static struct event_base *base;
	struct run run = { 0 };
	int sv[2];
	size_t pos = 1, chunk;
	int waits = 0, writes = 0;

	if (size < 1 || size > 8192)
		return 0;
	if (!base) {
		log_init("fuzz_at_lines", LOG_LEVEL_ERROR);
		if (!(base = event_base_new()))
			abort();
	}
	run.opts = data[0];
	chunk = chunks[(data[0] >> 3) & 7];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	run.ch = at_new(base, sv[0], "fuzz", on_urc, on_fail, &run);
	if (!run.ch)
		abort();
	next_command(&run);
	while (pos < size && run.ch && !run.failed) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		ssize_t w = write(sv[1], data + pos, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			abort();
		if (w > 0)
			pos += (size_t)w;
		pump(base, sv[0], sv[1]);
		if (++writes == 256)
			chunk = 4096;   /* the rest at once: byte-by-byte over kilobytes only costs executions */
		/* 1 ms timeouts: now and then let a timer fire, so replies arrive late or during the quiet time */
		if ((run.opts & 0x02) && run.ch && at_busy(run.ch) && waits < 1) {
			waits++;
			event_base_loop(base, EVLOOP_ONCE);
			pump(base, sv[0], sv[1]);
		}
		next_command(&run);
	}
	if ((run.opts & 0x04) && run.ch) {
		close(sv[1]);
		sv[1] = -1;
		pump(base, sv[0], -1);
		if (!run.failed && run.ch)
			abort();   /* EOF must reach the owner */
	}
	if (run.ch)
		at_free(run.ch);
	event_base_loop(base, EVLOOP_NONBLOCK);   /* nothing of the channel may still be scheduled */
	if (run.completed != run.started)
		abort();   /* a command never completed */
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}
