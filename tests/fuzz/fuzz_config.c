/* libFuzzer target: config_load() (inih + the settings table + [modem:*] / [carrier:*] / [api_key:*])
 * on arbitrary file contents. The input is written to a memfd and loaded through /proc/self/fd/N, so
 * the real fopen/fgets path runs without touching the disk. Checks: no crash or leak; an error names
 * the file; an accepted config is self-consistent (terminated strings, every modem has a port, every
 * key a hash and scopes, every carrier a type and url) and dumps; config_free() leaves it empty. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static void check_ok(const struct config *cfg)
{
	if (!TERMINATED(cfg->state_dir) || !TERMINATED(cfg->api_listen) || !TERMINATED(cfg->api_socket) ||
	    !TERMINATED(cfg->store_backend) || !TERMINATED(cfg->store_path) || !TERMINATED(cfg->quota_timezone) ||
	    !TERMINATED(cfg->modems_scan) || (!cfg->api_listen[0] && !cfg->api_socket[0]) ||
	    cfg->log_level > LOG_LEVEL_DEBUG || cfg->api_max_batch < 1 || cfg->max_parts < 1 || cfg->max_parts > 255)
		abort();
	if ((cfg->nmodems && !cfg->modems) || (cfg->ncarriers && !cfg->carriers) || (cfg->napi_keys && !cfg->api_keys))
		abort();
	for (size_t i = 0; i < cfg->nmodems; i++) {
		const struct config_modem *m = &cfg->modems[i];
		if (!TERMINATED(m->name) || !TERMINATED(m->port) || !TERMINATED(m->dialect) || !TERMINATED(m->pin) ||
		    !m->name[0] || !m->port[0] || strspn(m->pin, "0123456789") != strlen(m->pin))
			abort();
	}
	for (size_t i = 0; i < cfg->ncarriers; i++) {
		const struct config_carrier *c = &cfg->carriers[i];
		if (!TERMINATED(c->name) || !TERMINATED(c->type) || !TERMINATED(c->url) || !TERMINATED(c->token) ||
		    !c->type[0] || !c->url[0] || !TERMINATED(c->template_json) || !TERMINATED(c->response_id) ||
		    !TERMINATED(c->status_callback_url) || !TERMINATED(c->callback_secret) || c->nheaders < 0 ||
		    c->nheaders > CONFIG_CARRIER_HEADERS)
			abort();
		for (int h = 0; h < c->nheaders; h++)   /* no CR/LF reaches a request */
			if (!TERMINATED(c->headers[h]) || strpbrk(c->headers[h], "\r\n"))
				abort();
	}
	for (size_t i = 0; i < cfg->napi_keys; i++)
		if (!TERMINATED(cfg->api_keys[i].name) || !cfg->api_keys[i].scopes)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static FILE *devnull;
	static char path[64];
	struct config cfg;
	char err[512];

	if (size > 65536)
		return 0;
	if (fd < 0) {
		log_init("fuzz_config", LOG_LEVEL_ERROR);
		if ((fd = memfd_create("fuzz_config.ini", 0)) < 0 || !(devnull = fopen("/dev/null", "w")))
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	err[0] = '\0';
	if (config_load(path, &cfg, err, sizeof(err)) == 0) {
		check_ok(&cfg);
		config_dump(&cfg, devnull);
		config_free(&cfg);
		if (cfg.modems || cfg.carriers || cfg.api_keys || cfg.nmodems || cfg.ncarriers || cfg.napi_keys)
			abort();
	} else if (strncmp(err, path, strlen(path)) != 0 || !memchr(err, '\0', sizeof(err))) {
		abort();   /* every error names the file (and, where it can, the line) */
	}
	return 0;
}
