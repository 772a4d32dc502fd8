/* test_cache_cap.c — the per-scan cache's byte cap (cache.h): outputs that would pass it are not
 * kept (their producer still gets them; later lookups run the command again), the bytes held
 * never pass the cap, the results are those of a pass-through cache, and the time budget turns
 * commands asked for after it ran out into a decline with its reason. Real commands run. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache_int.h"
#include "err.h"
#include "test.h"

static const cache_command *get(scan_cache *c, int k) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "head -c %d /dev/zero", (k + 1) << 20); /* k+1 MiB */
  return scan_cache_get_command(c, cmd, 30, 0);
}

static void test_cap(void) {
  scan_cache *c = scan_cache_new(1);
  REQUIRE(c);
  scan_cache_set_limit(c, (size_t)4 << 20); /* room for the 1 MiB and 2 MiB outputs, not the 3 MiB */
  for (int round = 0; round < 2; round++) {
    for (int k = 0; k < 3; k++) {
      const cache_command *r = get(c, k);
      REQUIRE(r && r->status == TN_OK);
      CHECK_INT(r->result.output_len, (size_t)(k + 1) << 20); /* whole, whether kept or not */
      scan_cache_release_command(c, r);
      CHECK(scan_cache_bytes_held(c) <= (size_t)4 << 20);
    }
  }
  CHECK_INT(scan_cache_bytes_held(c), (size_t)3 << 20);
  CHECK_INT(scan_cache_commands_run(c), 4); /* the 3 MiB output ran twice, the others once */
  scan_cache_free(c);
}

static void test_budget(void) {
  scan_cache *c = scan_cache_new(1);
  REQUIRE(c);
  scan_cache_set_budget(c, 1);
  const cache_command *r = scan_cache_get_command(c, "sleep 10", 30, 0); /* cut to the budget */
  REQUIRE(r);
  CHECK_INT(r->status, TN_ETIMEOUT);
  CHECK(r->reason && strcmp(r->reason, "Scan time budget of 1 s exceeded: not evaluated") == 0);
  scan_cache_release_command(c, r);
  CHECK(scan_cache_over_budget(c));
  r = scan_cache_get_command(c, "echo late", 30, 0); /* asked for after it ran out: not run */
  REQUIRE(r);
  CHECK(r->reason != NULL);
  CHECK_INT(scan_cache_commands_run(c), 1);
  scan_cache_release_command(c, r);
  scan_cache_free(c);
}

int main(void) {
  RUN(test_cap);
  RUN(test_budget);
  return test_report();
}
