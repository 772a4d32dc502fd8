/* store.c — the manager's store API (store.h): picks a backend from the store string and forwards
 * every mstore_* call to the backend's function table (store_backend.h). Nothing here knows SQL. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "err.h"
#include "store_backend.h"

struct mstore {
  const mstore_backend *be;
  void *h;     /* the backend's handle */
  int durable; /* opened with durable commits (mstore_open) */
};

/* The backend for a store string and the part of it the backend opens (NULL: none fits). */
static const mstore_backend *pick(const char *store, const char **target) {
  if (strncmp(store, "postgresql://", 13) == 0 || strncmp(store, "postgres://", 11) == 0) {
    *target = store;
    return &mstore_backend_pg;
  }
  if (strncmp(store, "sqlite:", 7) == 0) {
    *target = store + 7;
    return &mstore_backend_sqlite;
  }
  if (strstr(store, "://")) return NULL; /* a URI of a kind we do not speak */
  *target = store;
  return &mstore_backend_sqlite;
}

int mstore_check_string(const char *store, char *err, size_t errlen) {
  const char *target;
  if (!store || !*store) {
    snprintf(err, errlen, "empty store (sqlite:PATH or postgresql://...)");
    return TN_ECONFIG;
  }
  if (!pick(store, &target)) {
    snprintf(err, errlen,
             "store '%.200s': unknown kind (sqlite:PATH, a path, postgresql://... or postgres://...)", store);
    return TN_ECONFIG;
  }
  if (!*target) {
    snprintf(err, errlen, "store '%.200s': no path after 'sqlite:'", store);
    return TN_ECONFIG;
  }
  return TN_OK;
}

mstore *mstore_open(const char *store, int readonly, int durable, char *err, size_t errlen) {
  if (mstore_check_string(store, err, errlen) != TN_OK) return NULL;
  mstore *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  const char *target = NULL;
  s->be = pick(store, &target);
  if (!(s->h = s->be->open(target, readonly, durable, err, errlen))) {
    free(s);
    return NULL;
  }
  s->durable = durable;
  return s;
}

int mstore_probe(const char *store, char *err, size_t errlen) {
  int rc = mstore_check_string(store, err, errlen);
  if (rc != TN_OK) return rc;
  const char *target = NULL;
  return pick(store, &target)->probe(target, err, errlen);
}

void mstore_close(mstore *s) {
  if (!s) return;
  s->be->close(s->h);
  free(s);
}

const char *mstore_error(const mstore *s) { return s->be->error(s->h); }
const char *mstore_backend_name(const mstore *s) { return s->be->name; }
int mstore_shared(const mstore *s) { return s->be->shared; }

int mstore_durable(const mstore *s) { return s->durable; }
int mstore_set_node(mstore *s, const char *node) { return s->be->set_node(s->h, node); }
uint64_t mstore_session(const mstore *s) { return s->be->session(s->h); }

void mstore_policy_free(mstore_policy *p) { mstore_policy_strings_free(p); }

/* ---- one line per operation: the backend's row ---- */

int mstore_begin(mstore *s) { return s->be->begin(s->h); }
int mstore_commit(mstore *s) { return s->be->commit(s->h); }
void mstore_rollback(mstore *s) { s->be->rollback(s->h); }
int mstore_in_transaction(const mstore *s) { return s->be->in_transaction(s->h); }
int mstore_agent_claim(mstore *s, const char *agent_id, int *claimed) {
  return s->be->agent_claim(s->h, agent_id, claimed);
}
int mstore_agent_release(mstore *s, const char *agent_id) { return s->be->agent_release(s->h, agent_id); }
int mstore_agent_touch(mstore *s, const char *agent_id, const char *version, const char *hello_id,
                       int64_t now) {
  return s->be->agent_touch(s->h, agent_id, version, hello_id, now);
}
int mstore_agent_get(mstore *s, const char *agent_id, mstore_agent *a, int *found) {
  return s->be->agent_get(s->h, agent_id, a, found);
}
int mstore_agent_set_last_seq(mstore *s, const char *agent_id, uint64_t seq, int64_t now) {
  return s->be->agent_set_last_seq(s->h, agent_id, seq, now);
}
int mstore_agent_add_counters(mstore *s, const char *agent_id, const mstore_counters *c) {
  return s->be->agent_add_counters(s->h, agent_id, c);
}
int mstore_agent_connected(mstore *s, const char *agent_id, const char *peer, int64_t now) {
  return s->be->agent_connected(s->h, agent_id, peer, now);
}
int mstore_agent_disconnected(mstore *s, const char *agent_id, int64_t now) {
  return s->be->agent_disconnected(s->h, agent_id, now);
}
int mstore_connections_reset(mstore *s, int64_t now) { return s->be->connections_reset(s->h, now); }
int mstore_agents_each(mstore *s, mstore_agent_fn fn, void *arg) { return s->be->agents_each(s->h, fn, arg); }
int mstore_agent_store_id(mstore *s, const char *agent_id, char out[65], int *found) {
  return s->be->agent_store_id(s->h, agent_id, out, found);
}
int mstore_agent_new_store(mstore *s, const char *agent_id, const char *store_id, int forget) {
  return s->be->agent_new_store(s->h, agent_id, store_id, forget);
}
int mstore_alert_add(mstore *s, const char *line, size_t len) { return s->be->alert_add(s->h, line, len); }
int mstore_alerts_each(mstore *s, size_t limit, mstore_alert_fn fn, void *arg) {
  return s->be->alerts_each(s->h, limit, fn, arg);
}
int mstore_alerts_delete(mstore *s, int64_t upto) { return s->be->alerts_delete(s->h, upto); }
int mstore_alerts_delete_ids(mstore *s, const int64_t *ids, size_t n) {
  return s->be->alerts_delete_ids(s->h, ids, n);
}
int mstore_alerts_stats(mstore *s, int64_t *count, int64_t *bytes) {
  return s->be->alerts_stats(s->h, count, bytes);
}
int mstore_alerts_claim(mstore *s, size_t limit, int64_t now, size_t *claimed) {
  return s->be->alerts_claim(s->h, limit, now, claimed);
}
int mstore_alerts_claimed_each(mstore *s, mstore_alert_fn fn, void *arg) {
  return s->be->alerts_claimed_each(s->h, fn, arg);
}
int mstore_drain_put(mstore *s, const mstore_drain *d) { return s->be->drain_put(s->h, d); }
int mstore_drain_get(mstore *s, mstore_drain *d, int *found) { return s->be->drain_get(s->h, d, found); }
int mstore_alerts_finish(mstore *s) { return s->be->alerts_finish(s->h); }
int mstore_alerts_takeover(mstore *s, int64_t before, int64_t *released) {
  return s->be->alerts_takeover(s->h, before, released);
}
int mstore_policy_get(mstore *s, const char *agent_id, const char *policy_id, mstore_policy *p, int *found) {
  return s->be->policy_get(s->h, agent_id, policy_id, p, found);
}
int mstore_policy_put(mstore *s, const mstore_policy *p) { return s->be->policy_put(s->h, p); }
int mstore_policy_delete(mstore *s, const char *agent_id, const char *policy_id, int *checks) {
  return s->be->policy_delete(s->h, agent_id, policy_id, checks);
}
int mstore_policies_retain(mstore *s, const char *agent_id, const char *const *ids, size_t n, int *deleted) {
  return s->be->policies_retain(s->h, agent_id, ids, n, deleted);
}
int mstore_policies_each(mstore *s, const char *agent_id, mstore_policy_fn fn, void *arg) {
  return s->be->policies_each(s->h, agent_id, fn, arg);
}
int mstore_check_get(mstore *s, const char *agent_id, const char *policy_id, int64_t check_id,
                     char result[16], int *found) {
  return s->be->check_get(s->h, agent_id, policy_id, check_id, result, found);
}
int mstore_check_put(mstore *s, const char *agent_id, const char *policy_id, const mstore_check *c) {
  return s->be->check_put(s->h, agent_id, policy_id, c);
}
int mstore_checks_delete(mstore *s, const char *agent_id, const char *policy_id, int *n) {
  return s->be->checks_delete(s->h, agent_id, policy_id, n);
}
int mstore_checks_delete_other_scans(mstore *s, const char *agent_id, const char *policy_id, int64_t scan_id,
                                     int *n) {
  return s->be->checks_delete_other_scans(s->h, agent_id, policy_id, scan_id, n);
}
int mstore_results_hash(mstore *s, const char *agent_id, const char *policy_id, char out[65], size_t *n) {
  return s->be->results_hash(s->h, agent_id, policy_id, out, n);
}
int mstore_checks_each(mstore *s, const char *agent_id, const char *policy_id, mstore_check_fn fn,
                       void *arg) {
  return s->be->checks_each(s->h, agent_id, policy_id, fn, arg);
}
