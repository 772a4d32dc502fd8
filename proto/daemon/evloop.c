/* evloop.c — the epoll event loop (see evloop.h). */
#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct file_event {
  int mask;
  evloop_file_fn fn;
  void *arg;
} file_event;

typedef struct timer {
  int64_t id;
  int64_t interval; /* 0: one-shot */
  int64_t next;
  evloop_timer_fn fn;
  void *arg;
} timer;

struct evloop {
  int epfd;
  int setsize;
  file_event *events;
  struct epoll_event *fired;
  timer *timers;
  int ntimers;
  int64_t last_id;
  evloop_before_sleep_fn before;
  void *before_arg;
  int stop;
};

int64_t evloop_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

evloop *evloop_new(int setsize) {
  evloop *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->setsize = setsize;
  l->events = calloc((size_t)setsize, sizeof *l->events);
  l->fired = calloc((size_t)setsize, sizeof *l->fired);
  l->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (!l->events || !l->fired || l->epfd < 0) {
    evloop_free(l);
    return NULL;
  }
  return l;
}

void evloop_free(evloop *l) {
  if (!l) return;
  if (l->epfd >= 0) close(l->epfd);
  free(l->events);
  free(l->fired);
  free(l->timers);
  free(l);
}

static int apply(evloop *l, int fd, int op, int mask) {
  struct epoll_event ee = {0};
  ee.events = (mask & EV_READABLE ? EPOLLIN : 0) | (mask & EV_WRITABLE ? EPOLLOUT : 0);
  ee.data.fd = fd;
  return epoll_ctl(l->epfd, op, fd, &ee);
}

int evloop_watch(evloop *l, int fd, int mask, evloop_file_fn fn, void *arg) {
  if (fd < 0 || fd >= l->setsize) {
    errno = ERANGE;
    return -1;
  }
  file_event *e = &l->events[fd];
  int op = e->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (apply(l, fd, op, mask) != 0) return -1;
  e->mask = mask ? mask : -1; /* watched with no interest yet */
  e->fn = fn;
  e->arg = arg;
  return 0;
}

int evloop_set_mask(evloop *l, int fd, int mask) {
  if (fd < 0 || fd >= l->setsize || !l->events[fd].mask) return -1;
  if (l->events[fd].mask == mask) return 0;
  if (apply(l, fd, EPOLL_CTL_MOD, mask) != 0) return -1;
  l->events[fd].mask = mask ? mask : -1;
  return 0;
}

void evloop_unwatch(evloop *l, int fd) {
  if (fd < 0 || fd >= l->setsize || !l->events[fd].mask) return;
  epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
  l->events[fd].mask = 0;
  l->events[fd].fn = NULL;
}

static int64_t add_timer(evloop *l, int64_t interval, int64_t delay, evloop_timer_fn fn, void *arg) {
  timer *n = realloc(l->timers, (size_t)(l->ntimers + 1) * sizeof *n);
  if (!n) return -1;
  l->timers = n;
  l->timers[l->ntimers++] = (timer){++l->last_id, interval, evloop_now_ms() + delay, fn, arg};
  return l->last_id;
}

int64_t evloop_every(evloop *l, int64_t interval_ms, evloop_timer_fn fn, void *arg) {
  if (interval_ms < 1) interval_ms = 1;
  return add_timer(l, interval_ms, interval_ms, fn, arg);
}

int64_t evloop_after(evloop *l, int64_t delay_ms, evloop_timer_fn fn, void *arg) {
  return add_timer(l, 0, delay_ms < 0 ? 0 : delay_ms, fn, arg);
}

void evloop_cancel(evloop *l, int64_t id) {
  for (int i = 0; i < l->ntimers; i++)
    if (l->timers[i].id == id) {
      memmove(&l->timers[i], &l->timers[i + 1], (size_t)(l->ntimers - i - 1) * sizeof *l->timers);
      l->ntimers--;
      return;
    }
}

/* Fire the timers that are due. A callback may add or cancel timers: each is looked up again by
 * position after a call, and a one-shot timer is gone before its callback runs. */
static void fire_timers(evloop *l) {
  int64_t now = evloop_now_ms();
  for (int i = 0; i < l->ntimers;) {
    timer t = l->timers[i];
    if (t.next > now) {
      i++;
      continue;
    }
    if (t.interval) {
      l->timers[i].next = now + t.interval;
      i++;
    } else {
      evloop_cancel(l, t.id);
    }
    t.fn(l, t.arg);
  }
}

void evloop_set_before_sleep(evloop *l, evloop_before_sleep_fn fn, void *arg) {
  l->before = fn;
  l->before_arg = arg;
}

void evloop_stop(evloop *l) { l->stop = 1; }

int evloop_run(evloop *l) {
  l->stop = 0;
  while (!l->stop) {
    int busy = l->before ? l->before(l, l->before_arg) : 0;
    if (l->stop) break;
    int64_t now = evloop_now_ms();
    int timeout = -1;
    for (int i = 0; i < l->ntimers; i++) {
      int64_t d = l->timers[i].next - now;
      if (d < 0) d = 0;
      if (d > INT32_MAX) d = INT32_MAX;
      if (timeout < 0 || d < timeout) timeout = (int)d;
    }
    if (busy) timeout = 0;
    int n = epoll_wait(l->epfd, l->fired, l->setsize, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    for (int i = 0; i < n; i++) {
      int fd = l->fired[i].data.fd;
      uint32_t ev = l->fired[i].events;
      file_event *e = &l->events[fd];
      if (!e->fn) continue; /* unwatched by an earlier callback of this round */
      int mask = 0;
      if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) mask |= EV_READABLE;
      if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) mask |= EV_WRITABLE;
      e->fn(l, fd, e->arg, mask);
    }
    fire_timers(l);
  }
  return 0;
}
