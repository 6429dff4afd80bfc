/* curlev: a curl multi handle driven by the libevent loop (sockets and timer), shared by HTTP clients. */
#ifndef SIMROUTED_CURLEV_H
#define SIMROUTED_CURLEV_H

#include <curl/curl.h>

struct event_base;
struct curlev;

/* A transfer finished (easy is still attached: call curlev_remove before cleaning it up). */
typedef void curlev_done_cb(void *arg, CURL *easy, CURLcode code);

struct curlev *curlev_new(struct event_base *base, curlev_done_cb *done, void *arg);
/* Start a configured transfer on the loop; 0 or -1. */
int curlev_add(struct curlev *cl, CURL *easy);
void curlev_remove(struct curlev *cl, CURL *easy);
/* Transfers still attached are not reported; the owner frees them (curlev_remove each first). */
void curlev_free(struct curlev *cl);

#endif
