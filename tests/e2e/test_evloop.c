/* test_evloop.c — the daemons' event loop: file events on a real pipe (readable, then writable on
 * demand, then unwatched), repeating and one-shot timers (in order, cancelled before or from their
 * own callback, added from a callback), the before-sleep hook on every turn, and evloop_stop. */
#include <errno.h>
#include <unistd.h>

#include "evloop.h"
#include "test.h"

typedef struct state {
  int reads, writes, ticks, shots, turns;
  char order[16];
  int norder;
  int64_t cancel_me;
  int rfd, wfd;
} state;

static void on_read(evloop *l, int fd, void *arg, int mask) {
  state *s = arg;
  char c;
  if ((mask & EV_READABLE) && read(fd, &c, 1) == 1) s->reads++;
}

static void on_write(evloop *l, int fd, void *arg, int mask) {
  state *s = arg;
  if (!(mask & EV_WRITABLE)) return;
  s->writes++;
  evloop_set_mask(l, fd, 0); /* interest dropped: no more callbacks until asked again */
}

static void mark(state *s, char c) {
  if (s->norder < (int)sizeof s->order - 1) s->order[s->norder++] = c;
}

static void shot_a(evloop *l, void *arg) { mark(arg, 'a'); }
static void shot_b(evloop *l, void *arg) { mark(arg, 'b'); }
static void shot_never(evloop *l, void *arg) { mark(arg, 'X'); }
static void shot_last(evloop *l, void *arg) {
  mark(arg, 'z');
  evloop_stop(l);
}
/* A one-shot timer that schedules another from its own callback. */
static void shot_chain(evloop *l, void *arg) {
  mark(arg, 'c');
  CHECK(evloop_after(l, 0, shot_b, arg) > 0);
}

static void tick(evloop *l, void *arg) {
  state *s = arg;
  s->ticks++;
  if (s->ticks == 3) evloop_cancel(l, s->cancel_me); /* a repeating timer cancelled from its own callback */
  if (s->ticks == 1 && write(s->wfd, "x", 1) != 1) CHECK(0);
}

static int before(evloop *l, void *arg) {
  ((state *)arg)->turns++;
  return 0;
}

static void test_loop(void) {
  evloop *l = evloop_new(1024);
  REQUIRE(l != NULL);
  int p[2];
  REQUIRE(pipe(p) == 0);
  state s = {.rfd = p[0], .wfd = p[1]};
  CHECK_INT(evloop_watch(l, p[0], EV_READABLE, on_read, &s), 0);
  CHECK_INT(evloop_watch(l, p[1], EV_WRITABLE, on_write, &s), 0);
  CHECK_INT(evloop_watch(l, 5000, EV_READABLE, on_read, &s), -1); /* beyond setsize */
  CHECK_INT(errno, ERANGE);
  int64_t t0 = evloop_now_ms();
  s.cancel_me = evloop_every(l, 10, tick, &s);
  CHECK(s.cancel_me > 0);
  CHECK(evloop_after(l, 30, shot_b, &s) > 0);
  CHECK(evloop_after(l, 5, shot_a, &s) > 0);
  int64_t never = evloop_after(l, 20, shot_never, &s);
  CHECK(never > 0);
  evloop_cancel(l, never);
  evloop_cancel(l, 0); /* unknown ids are ignored */
  CHECK(evloop_after(l, 60, shot_chain, &s) > 0);
  CHECK(evloop_after(l, 150, shot_last, &s) > 0);
  evloop_set_before_sleep(l, before, &s);
  CHECK_INT(evloop_run(l), 0);
  CHECK(evloop_now_ms() - t0 >= 150);
  CHECK_STR(s.order, "abcbz");
  CHECK_INT(s.ticks, 3); /* cancelled at its third call */
  CHECK_INT(s.reads, 1); /* the byte written by the first tick */
  CHECK_INT(s.writes, 1);
  CHECK(s.turns >= 5);
  /* unwatched: the next byte is not read */
  evloop_unwatch(l, p[0]);
  CHECK_INT(write(p[1], "y", 1), 1);
  CHECK(evloop_after(l, 20, shot_last, &s) > 0);
  CHECK_INT(evloop_run(l), 0);
  CHECK_INT(s.reads, 1);
  close(p[0]);
  close(p[1]);
  evloop_free(l);
  evloop_free(NULL);
}

int main(void) {
  RUN(test_loop);
  return test_report();
}
