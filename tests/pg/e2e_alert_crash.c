/* e2e_alert_crash.c (pg/e2e_alert_crash) — tests/e2e/e2e_alert_crash.c on PostgreSQL: a manager
 * killed inside an alert drain recovers its claim when started again, and a second manager with
 * the same node_name is refused while the first runs. */
#define ALERT_CRASH_PG 1
#include "e2e/e2e_alert_crash.c"
