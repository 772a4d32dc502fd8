/* evloop.h — the daemons' event loop over epoll, after Redis' ae.c: file events (readable/writable
 * callbacks per descriptor, level-triggered), timers (repeating or one-shot, by id), and a
 * before-sleep hook that runs once per iteration (the manager commits its batch and sends its
 * replies there; the agent refills its window from the outbox). One thread runs a loop; nothing
 * here is thread-safe — other threads wake a loop through a descriptor it watches (an eventfd). */
#ifndef TENET_DAEMON_EVLOOP_H
#define TENET_DAEMON_EVLOOP_H

#include <stdint.h>

#define EV_READABLE 1
#define EV_WRITABLE 2

typedef struct evloop evloop;
typedef void (*evloop_file_fn)(evloop *l, int fd, void *arg, int mask);
typedef void (*evloop_timer_fn)(evloop *l, void *arg);
/* Returns non-zero when more work is already pending (the next wait does not sleep). */
typedef int (*evloop_before_sleep_fn)(evloop *l, void *arg);

/* A loop for descriptors below setsize. NULL on failure. */
evloop *evloop_new(int setsize);
void evloop_free(evloop *l);

/* Watch fd for mask (EV_READABLE | EV_WRITABLE); fn gets what is ready. Adding to a watched fd
 * replaces its mask and callback. Returns 0 or -1 (errno). */
int evloop_watch(evloop *l, int fd, int mask, evloop_file_fn fn, void *arg);
/* Change the mask of a watched fd. */
int evloop_set_mask(evloop *l, int fd, int mask);
/* Stop watching fd (before closing it). */
void evloop_unwatch(evloop *l, int fd);

/* Call fn every interval_ms (> 0; first call interval_ms from now). Returns the timer's id (> 0)
 * or -1 (out of memory). */
int64_t evloop_every(evloop *l, int64_t interval_ms, evloop_timer_fn fn, void *arg);
/* Call fn once, delay_ms (>= 0) from now. Returns the timer's id (> 0) or -1. */
int64_t evloop_after(evloop *l, int64_t delay_ms, evloop_timer_fn fn, void *arg);
/* Forget a timer (unknown or already fired ids are ignored, so 0 is fine). May be called from
 * any callback, including the timer's own. */
void evloop_cancel(evloop *l, int64_t id);
void evloop_set_before_sleep(evloop *l, evloop_before_sleep_fn fn, void *arg);

/* Run until evloop_stop. Returns 0, or -1 when epoll fails. */
int evloop_run(evloop *l);
void evloop_stop(evloop *l);

/* Milliseconds on the monotonic clock. */
int64_t evloop_now_ms(void);

#endif
