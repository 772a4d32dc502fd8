/* store_backend.h — private to manager/store*.c: the function table a store backend fills in, one
 * row per mstore_* operation. store.c picks the backend from the store string and forwards each
 * mstore_* call to its row; the backend's handle (h) is its own. Every row has the meaning of the
 * mstore_* function of the same name in store.h. To add a backend: write store_<name>.c with one
 * such table and a prefix test in store.c (docs/HACKING.md). */
#ifndef TENET_MANAGER_STORE_BACKEND_H
#define TENET_MANAGER_STORE_BACKEND_H

#include <stdlib.h>

#include "store.h"

typedef struct mstore_backend {
  const char *name; /* "sqlite", "postgresql" */
  int shared;       /* several managers may write the store at once */
  /* Open the store named by target (the store string without its scheme where the scheme is not
   * part of it: a path for SQLite, the whole URI for PostgreSQL). NULL with a message in err. */
  void *(*open)(const char *target, int readonly, int durable, char *err, size_t errlen);
  void (*close)(void *h);
  /* mstore_probe of target: TN_OK or TN_EDB with a message in err. */
  int (*probe)(const char *target, char *err, size_t errlen);
  const char *(*error)(const void *h);
  int (*set_node)(void *h, const char *node);
  uint64_t (*session)(const void *h);

  int (*begin)(void *h);
  int (*commit)(void *h);
  void (*rollback)(void *h);
  int (*in_transaction)(const void *h);

  int (*agent_claim)(void *h, const char *agent_id, int *claimed);
  int (*agent_release)(void *h, const char *agent_id);

  int (*agent_touch)(void *h, const char *agent_id, const char *version, const char *hello_id, int64_t now);
  int (*agent_get)(void *h, const char *agent_id, mstore_agent *a, int *found);
  int (*agent_set_last_seq)(void *h, const char *agent_id, uint64_t seq, int64_t now);
  int (*agent_add_counters)(void *h, const char *agent_id, const mstore_counters *c);
  int (*agent_connected)(void *h, const char *agent_id, const char *peer, int64_t now);
  int (*agent_disconnected)(void *h, const char *agent_id, int64_t now);
  int (*connections_reset)(void *h, int64_t now);
  int (*agents_each)(void *h, mstore_agent_fn fn, void *arg);
  int (*agent_store_id)(void *h, const char *agent_id, char out[65], int *found);
  int (*agent_new_store)(void *h, const char *agent_id, const char *store_id, int forget);

  int (*alert_add)(void *h, const char *line, size_t len);
  int (*alerts_each)(void *h, size_t limit, mstore_alert_fn fn, void *arg);
  int (*alerts_delete)(void *h, int64_t upto);
  int (*alerts_delete_ids)(void *h, const int64_t *ids, size_t n);
  int (*alerts_stats)(void *h, int64_t *count, int64_t *bytes);
  int (*alerts_claim)(void *h, size_t limit, int64_t now, size_t *claimed);
  int (*alerts_claimed_each)(void *h, mstore_alert_fn fn, void *arg);
  int (*drain_put)(void *h, const mstore_drain *d);
  int (*drain_get)(void *h, mstore_drain *d, int *found);
  int (*alerts_finish)(void *h);
  int (*alerts_takeover)(void *h, int64_t before, int64_t *released);

  int (*policy_get)(void *h, const char *agent_id, const char *policy_id, mstore_policy *p, int *found);
  int (*policy_put)(void *h, const mstore_policy *p);
  int (*policy_delete)(void *h, const char *agent_id, const char *policy_id, int *checks);
  int (*policies_retain)(void *h, const char *agent_id, const char *const *ids, size_t n, int *deleted);
  int (*policies_each)(void *h, const char *agent_id, mstore_policy_fn fn, void *arg);

  int (*check_get)(void *h, const char *agent_id, const char *policy_id, int64_t check_id, char result[16],
                   int *found);
  int (*check_put)(void *h, const char *agent_id, const char *policy_id, const mstore_check *c);
  int (*checks_delete)(void *h, const char *agent_id, const char *policy_id, int *n);
  int (*checks_delete_other_scans)(void *h, const char *agent_id, const char *policy_id, int64_t scan_id,
                                   int *n);
  int (*results_hash)(void *h, const char *agent_id, const char *policy_id, char out[65], size_t *n);
  int (*checks_each)(void *h, const char *agent_id, const char *policy_id, mstore_check_fn fn, void *arg);
} mstore_backend;

/* mstore_policy_free's body, here so the backends need nothing of store.c (which calls them). */
static inline void mstore_policy_strings_free(mstore_policy *p) {
  if (!p) return;
  free(p->name);
  free(p->file);
  free(p->description);
  free(p->references);
  p->name = p->file = p->description = p->references = NULL;
}

extern const mstore_backend mstore_backend_sqlite;
extern const mstore_backend mstore_backend_pg;

#endif
