/* failover.c — the agent's manager rotation and reconnect backoff (see failover.h). */
#include "failover.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void agent_failover_init(agent_failover *f, const conf_addr *addrs, size_t n, int64_t min_ms, int64_t max_ms,
                         agent_failover_rand rand, void *rand_arg) {
  f->addrs = addrs;
  f->n = n;
  f->cur = 0;
  f->min_ms = min_ms > 0 ? min_ms : 1;
  f->max_ms = max_ms >= f->min_ms ? max_ms : f->min_ms;
  f->ceiling_ms = f->min_ms;
  f->failures = 0;
  f->rand = rand ? rand : agent_failover_getrandom;
  f->rand_arg = rand_arg;
}

const conf_addr *agent_failover_current(const agent_failover *f) { return &f->addrs[f->cur]; }

int64_t agent_failover_failed(agent_failover *f) {
  if (f->n) f->cur = (f->cur + 1) % f->n;
  f->failures++;
  /* Uniform in [0, ceiling]: the modulo bias of a 64-bit draw over at most 2^37 values is below
   * 2^-26, far under anything a reconnect delay can show. */
  uint64_t span = (uint64_t)f->ceiling_ms + 1;
  int64_t delay = (int64_t)(f->rand(f->rand_arg) % span);
  f->ceiling_ms = f->ceiling_ms > f->max_ms / 2 ? f->max_ms : f->ceiling_ms * 2;
  return delay;
}

void agent_failover_stable(agent_failover *f) {
  f->ceiling_ms = f->min_ms;
  f->failures = 0;
}

char *agent_failover_addr_format(const conf_addr *a, char *out, size_t cap) {
  const char *h = a->host ? a->host : "";
  if (strchr(h, ':'))
    snprintf(out, cap, "[%s]:%d", h, a->port);
  else
    snprintf(out, cap, "%s:%d", h, a->port);
  return out;
}

uint64_t agent_failover_getrandom(void *arg) {
  (void)arg;
  uint64_t v;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v) return v;
  static uint64_t counter;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (++counter * 0x9E3779B97F4A7C15ULL);
  v ^= v >> 31;
  v *= 0xBF58476D1CE4E5B9ULL;
  return v ^ (v >> 29);
}
