/* client: the CLI's HTTP client for simrouted's Unix socket (libcurl, CURLOPT_UNIX_SOCKET_PATH). */
#ifndef SIMROUTE_CLI_CLIENT_H
#define SIMROUTE_CLI_CLIENT_H

#include <jansson.h>
#include <stdio.h>

/* Exit codes shared by every command (a contract for scripts). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

struct client_reply {
	long status;          /* HTTP status, 0 if the daemon was not reached */
	json_t *body;         /* parsed JSON or NULL */
};

/* method "GET"/"POST"; body may be NULL. Returns 0, or EXIT_UNREACHABLE after printing which socket
 * was tried and how to start the daemon. */
int client_call(const char *socket_path, const char *method, const char *path, json_t *body,
		struct client_reply *out);
/* A request whose 2xx body is a file: written to out as it arrives (*written bytes; *length the
 * Content-Length, -1 if none); any other status leaves its JSON error in reply->body. Returns as
 * client_call; reply->status tells success. */
int client_download(const char *socket_path, const char *method, const char *path, FILE *out,
		    struct client_reply *reply, long long *written, long long *length);
void client_reply_free(struct client_reply *r);
/* Prints the API's {"error": {...}} (or the status) to stderr. */
void client_print_error(const struct client_reply *r);

#endif
