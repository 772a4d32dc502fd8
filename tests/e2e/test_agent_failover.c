/* test_agent_failover.c — the agent's manager rotation and reconnect backoff (agent/failover.h)
 * with an injected random source, so that every delay is known: the rotation order, the ceiling
 * doubling from reconnect_min to reconnect_max, full jitter over [0, ceiling] at both ends, the
 * reset after a session that lasted, and the default source's range. */
#include "agent/failover.h"
#include "test.h"

/* A scripted random source: returns vals[i++] (then repeats the last). */
typedef struct script {
  const uint64_t *vals;
  size_t n, i;
} script;

static uint64_t scripted(void *arg) {
  script *s = arg;
  uint64_t v = s->vals[s->i < s->n ? s->i : s->n - 1];
  if (s->i < s->n) s->i++;
  return v;
}

static conf_addr three[] = {{"a.example", 1515}, {"b.example", 1515}, {"::1", 1516}};

static void test_rotation(void) {
  static const uint64_t zero[] = {0};
  script sc = {zero, 1, 0};
  agent_failover f;
  agent_failover_init(&f, three, 3, 1000, 8000, scripted, &sc);
  CHECK_STR(agent_failover_current(&f)->host, "a.example");
  const char *want[] = {"b.example", "::1", "a.example", "b.example", "::1", "a.example", "b.example"};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    CHECK_INT(agent_failover_failed(&f), 0); /* a zero draw: no wait */
    CHECK_STR(agent_failover_current(&f)->host, want[i]);
  }
  /* A reset does not move: the agent stays with the manager it reached. */
  agent_failover_stable(&f);
  CHECK_STR(agent_failover_current(&f)->host, "b.example");
  char buf[64];
  CHECK_STR(agent_failover_addr_format(&three[2], buf, sizeof buf), "[::1]:1516");
  CHECK_STR(agent_failover_addr_format(&three[0], buf, sizeof buf), "a.example:1515");
}

/* The largest draw gives the ceiling itself (inclusive), which doubles up to the cap. */
static void test_ceiling_doubles(void) {
  static const uint64_t max[] = {UINT64_MAX};
  script sc = {max, 1, 0};
  agent_failover f;
  agent_failover_init(&f, three, 1, 1000, 60000, scripted, &sc);
  /* The delay is the draw modulo ceiling + 1, the ceilings being 1000, 2000, 4000, ... 60000. */
  const int64_t ceil[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
  for (size_t i = 0; i < sizeof ceil / sizeof *ceil; i++) {
    int64_t d = agent_failover_failed(&f);
    CHECK_INT(d, (int64_t)(UINT64_MAX % (uint64_t)(ceil[i] + 1)));
    CHECK(d >= 0 && d <= ceil[i]);
    CHECK_INT(f.ceiling_ms, i + 1 < sizeof ceil / sizeof *ceil ? ceil[i + 1] : 60000);
  }
  CHECK_INT(f.failures, 9);
  CHECK_STR(agent_failover_current(&f)->host, "a.example"); /* a single address: always it */
}

/* Draws equal to the ceiling hit the top of [0, ceiling]; draws one above wrap to 0. */
static void test_full_jitter_bounds(void) {
  static const uint64_t v[] = {1000, 2001, 3999, 4001};
  script sc = {v, 4, 0};
  agent_failover f;
  agent_failover_init(&f, three, 2, 1000, 4000, scripted, &sc);
  CHECK_INT(agent_failover_failed(&f), 1000); /* ceiling 1000: 1000 % 1001 */
  CHECK_INT(agent_failover_failed(&f), 0);    /* ceiling 2000: 2001 % 2001 */
  CHECK_INT(agent_failover_failed(&f), 3999); /* ceiling 4000 */
  CHECK_INT(agent_failover_failed(&f), 0);    /* capped at 4000: 4001 % 4001 */
  CHECK_INT(f.ceiling_ms, 4000);
}

/* A session that lasted brings the ceiling back to reconnect_min. */
static void test_reset(void) {
  static const uint64_t max[] = {UINT64_MAX - 1};
  script sc = {max, 1, 0};
  agent_failover f;
  agent_failover_init(&f, three, 3, 2000, 30000, scripted, &sc);
  for (int i = 0; i < 5; i++)
    agent_failover_failed(&f);
  CHECK_INT(f.ceiling_ms, 30000);
  agent_failover_stable(&f);
  CHECK_INT(f.ceiling_ms, 2000);
  CHECK_INT(f.failures, 0);
  CHECK(agent_failover_failed(&f) <= 2000);
  CHECK_INT(f.ceiling_ms, 4000);
  /* min == max: a constant ceiling */
  agent_failover_init(&f, three, 3, 5000, 5000, scripted, &sc);
  for (int i = 0; i < 3; i++)
    CHECK(agent_failover_failed(&f) <= 5000);
  CHECK_INT(f.ceiling_ms, 5000);
}

/* The default source (getrandom): delays stay in [0, ceiling] and are not all equal. */
static void test_getrandom(void) {
  agent_failover f;
  agent_failover_init(&f, three, 3, 1000, 1000, NULL, NULL);
  int64_t first = -1;
  int varied = 0;
  for (int i = 0; i < 64; i++) {
    int64_t d = agent_failover_failed(&f);
    CHECK(d >= 0 && d <= 1000);
    if (first < 0) first = d;
    if (d != first) varied = 1;
  }
  CHECK(varied);
}

int main(void) {
  RUN(test_rotation);
  RUN(test_ceiling_doubles);
  RUN(test_full_jitter_bounds);
  RUN(test_reset);
  RUN(test_getrandom);
  return test_report();
}
