/* query.c — the read-only query command (see query.h). */
#include "query.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon_log.h"
#include "daemon_proc.h"
#include "err.h"
#include "store.h"
#include "strbuf.h"

static const char usage_text[] = "usage: tenet-manager -c FILE query agents [--json]\n"
                                 "       tenet-manager -c FILE query checks AGENT POLICY [--json]\n"
                                 "       tenet-manager -c FILE query stats [AGENT] [--json]\n"
                                 "       tenet-manager -c FILE query hash AGENT POLICY\n";

static void when(int64_t t, char *buf, size_t len) {
  if (!t) {
    snprintf(buf, len, "-");
    return;
  }
  time_t tt = (time_t)t;
  struct tm tm;
  localtime_r(&tt, &tm);
  strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Text output quotes what agents sent (ids, names, titles, reasons): control characters are
 * escaped so nothing reaches the operator's terminal raw (JSON output escapes them already).
 * Returns buf. */
typedef struct esc_bufs {
  char *v[3];
  int n;
} esc_bufs;

/* s escaped (dlog_escape) into a buffer e owns until esc_free; never truncated. */
static const char *esc(esc_bufs *e, const char *s) {
  if (!s) s = "";
  size_t n = strlen(s);
  char *o = e->n < 3 ? malloc(4 * n + 1) : NULL;
  if (!o) return "(out of memory)";
  dlog_escape(o, 4 * n + 1, s, n);
  e->v[e->n++] = o;
  return o;
}

static void esc_free(esc_bufs *e) {
  for (int i = 0; i < e->n; i++)
    free(e->v[i]);
  e->n = 0;
}

static void json_kv_str(FILE *out, const char *k, const char *v, int comma) {
  strbuf b = STRBUF_INIT;
  strbuf_json_str(&b, k);
  strbuf_putc(&b, ':');
  strbuf_json_str(&b, v ? v : "");
  fprintf(out, "%s%s", comma ? "," : "", b.data ? b.data : "");
  strbuf_free(&b);
}

/* ---- agents ---- */

typedef struct agents_ctx {
  mstore *st;
  FILE *out;
  int json, first;
} agents_ctx;

typedef struct policies_ctx {
  agents_ctx *a;
  int n, first;
} policies_ctx;

static int print_policy(void *arg, const mstore_policy *p) {
  policies_ctx *pc = arg;
  FILE *out = pc->a->out;
  char last[32];
  when(p->end_time, last, sizeof last);
  if (pc->a->json) {
    fprintf(out, "%s{", pc->first ? "" : ",");
    json_kv_str(out, "policy_id", p->policy_id, 0);
    json_kv_str(out, "name", p->name, 1);
    fprintf(out,
            ",\"policy_version\":%llu,\"scan_id\":%lld,\"score\":%d,\"passed\":%lld,\"failed\":%lld,"
            "\"invalid\":%lld,\"total_checks\":%lld,\"last_scan\":%lld",
            (unsigned long long)p->policy_version, (long long)p->scan_id, (int)p->score, (long long)p->passed,
            (long long)p->failed, (long long)p->invalid, (long long)p->total_checks, (long long)p->end_time);
    json_kv_str(out, "results_hash", p->summary_hash, 1);
    json_kv_str(out, "bundle_hash", p->bundle_hash, 1);
    fprintf(out, "}");
  } else {
    esc_bufs e = {0};
    fprintf(out, "    %-28s v%-4llu score %3d%%  %4lld passed %4lld failed %4lld n/a  last scan %s\n",
            esc(&e, p->policy_id), (unsigned long long)p->policy_version, (int)p->score, (long long)p->passed,
            (long long)p->failed, (long long)p->invalid, last);
    esc_free(&e);
  }
  pc->first = 0;
  pc->n++;
  return 0;
}

typedef struct agent_list {
  mstore_agent *v;
  size_t n, cap;
} agent_list;

static int collect_agent(void *arg, const mstore_agent *ag) {
  agent_list *l = arg;
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 16;
    mstore_agent *nv = realloc(l->v, ncap * sizeof *nv);
    if (!nv) return TN_ENOMEM;
    l->v = nv;
    l->cap = ncap;
  }
  l->v[l->n++] = *ag;
  return 0;
}

/* Whether an agent is connected now: what the store says, if a manager holds the pid file (the
 * store of a manager that was killed still says "connected"). */
static int connected_now(const mstore_agent *ag, int running) { return running && ag->connected; }

static void print_presence(FILE *out, const mstore_agent *ag, int running) {
  char t[32];
  if (connected_now(ag, running)) {
    when(ag->connected_at, t, sizeof t);
    esc_bufs e = {0};
    fprintf(out, "connected since %s from %s", t, esc(&e, ag->peer[0] ? ag->peer : "?"));
    if (ag->node[0]) fprintf(out, " to node %s", esc(&e, ag->node));
    esc_free(&e);
  } else if (!running) {
    fprintf(out, "not connected (the manager is not running)");
  } else if (ag->disconnected_at) {
    when(ag->disconnected_at, t, sizeof t);
    fprintf(out, "disconnected since %s", t);
  } else {
    fprintf(out, "not connected");
  }
}

static int query_agents(mstore *st, int json, int running, FILE *out, FILE *errf) {
  agent_list l = {0};
  int rc = mstore_agents_each(st, collect_agent, &l);
  if (rc != TN_OK) {
    fprintf(errf, "tenet-manager: %s\n", rc == TN_EDB ? mstore_error(st) : tn_strerror(rc));
    free(l.v);
    return 1;
  }
  agents_ctx a = {st, out, json, 1};
  if (json) fprintf(out, "[");
  for (size_t i = 0; i < l.n; i++) {
    const mstore_agent *ag = &l.v[i];
    char seen[32];
    when(ag->last_seen, seen, sizeof seen);
    if (json) {
      fprintf(out, "%s{", i ? "," : "");
      json_kv_str(out, "agent_id", ag->agent_id, 0);
      json_kv_str(out, "version", ag->version, 1);
      fprintf(out,
              ",\"connected\":%s,\"first_seen\":%lld,\"last_seen\":%lld,\"connected_at\":%lld,"
              "\"disconnected_at\":%lld",
              connected_now(ag, running) ? "true" : "false", (long long)ag->first_seen,
              (long long)ag->last_seen, (long long)ag->connected_at, (long long)ag->disconnected_at);
      json_kv_str(out, "peer", ag->peer, 1);
      if (ag->node[0]) json_kv_str(out, "node", ag->node, 1); /* the manager that serves it (PostgreSQL) */
      fprintf(out, ",\"policies\":[");
    } else {
      esc_bufs e = {0};
      fprintf(out, "agent %s  (version %s, ", esc(&e, ag->agent_id),
              esc(&e, ag->version[0] ? ag->version : "?"));
      esc_free(&e);
      print_presence(out, ag, running);
      fprintf(out, ", last seen %s)\n", seen);
    }
    policies_ctx pc = {&a, 0, 1};
    rc = mstore_policies_each(st, ag->agent_id, print_policy, &pc);
    if (rc != TN_OK) break;
    if (json)
      fprintf(out, "]}");
    else if (!pc.n)
      fprintf(out, "    (no policy results yet)\n");
  }
  if (json)
    fprintf(out, "]\n");
  else if (!l.n)
    fprintf(out, "no agents yet\n");
  free(l.v);
  if (rc != TN_OK) {
    fprintf(errf, "tenet-manager: %s\n", rc == TN_EDB ? mstore_error(st) : tn_strerror(rc));
    return 1;
  }
  return 0;
}

/* ---- checks ---- */

typedef struct checks_ctx {
  FILE *out;
  int json, n;
} checks_ctx;

static int print_check(void *arg, const mstore_check *c) {
  checks_ctx *cc = arg;
  const char *title = c->title;
  if (cc->json) {
    fprintf(cc->out, "%s{\"id\":%lld", cc->n ? "," : "", (long long)c->check_id);
    json_kv_str(cc->out, "result", c->result, 1);
    json_kv_str(cc->out, "reason", c->reason, 1);
    json_kv_str(cc->out, "title", title ? title : "", 1);
    fprintf(cc->out, ",\"scan_id\":%lld,\"updated\":%lld}", (long long)c->scan_id, (long long)c->updated);
  } else {
    esc_bufs e = {0};
    fprintf(cc->out, "%-10lld %-15s %s%s%s%s\n", (long long)c->check_id, esc(&e, c->result), esc(&e, title),
            c->reason[0] ? "  (" : "", esc(&e, c->reason), c->reason[0] ? ")" : "");
    esc_free(&e);
  }
  cc->n++;
  return 0;
}

static int query_checks(mstore *st, const char *agent, const char *policy, int json, FILE *out, FILE *errf) {
  mstore_policy p;
  int found;
  int rc = mstore_policy_get(st, agent, policy, &p, &found);
  char hash[65];
  size_t n = 0;
  if (rc == TN_OK) rc = mstore_results_hash(st, agent, policy, hash, &n);
  if (rc != TN_OK) {
    fprintf(errf, "tenet-manager: %s\n", rc == TN_EDB ? mstore_error(st) : tn_strerror(rc));
    mstore_policy_free(&p);
    return 1;
  }
  if (!found && !n) {
    esc_bufs e = {0};
    fprintf(errf, "tenet-manager: no results for agent '%s' policy '%s'\n", esc(&e, agent), esc(&e, policy));
    esc_free(&e);
    mstore_policy_free(&p);
    return 1;
  }
  checks_ctx cc = {out, json, 0};
  if (json) {
    fprintf(out, "{");
    json_kv_str(out, "agent_id", agent, 0);
    json_kv_str(out, "policy_id", policy, 1);
    json_kv_str(out, "results_hash", hash, 1);
    json_kv_str(out, "summary_hash", found ? p.summary_hash : "", 1);
    fprintf(out, ",\"checks\":[");
  } else {
    esc_bufs e = {0};
    fprintf(out, "agent %s, policy %s%s%s: %zu checks, results hash %s%s\n", esc(&e, agent), esc(&e, policy),
            found && p.name[0] ? " — " : "", esc(&e, found ? p.name : ""), n, hash,
            found && strcmp(hash, p.summary_hash) != 0 ? " (differs from the last summary: a dump is due)"
                                                       : "");
    esc_free(&e);
    fprintf(out, "%-10s %-15s %s\n", "ID", "RESULT", "TITLE");
  }
  rc = mstore_checks_each(st, agent, policy, print_check, &cc);
  if (json) fprintf(out, "]}\n");
  mstore_policy_free(&p);
  if (rc != TN_OK) {
    fprintf(errf, "tenet-manager: %s\n", rc == TN_EDB ? mstore_error(st) : tn_strerror(rc));
    return 1;
  }
  return 0;
}

/* ---- stats ---- */

static const char *const counter_names[MSTORE_NCOUNTERS] = {
    "frames_in",    "bytes_in",        "frames_out",  "bytes_out",     "hellos",    "deltas",
    "delta_checks", "dumps",           "dump_checks", "dump_ends",     "summaries", "policy_lists",
    "duplicates",   "dumps_requested", "offers_sent", "dropped_checks"};

typedef struct stats_ctx {
  FILE *out;
  const char *only;
  int json, n;
} stats_ctx;

static int print_stats(void *arg, const mstore_agent *ag) {
  stats_ctx *sc = arg;
  if (sc->only && strcmp(sc->only, ag->agent_id) != 0) return 0;
  const int64_t *v = &ag->c.frames_in;
  if (sc->json) {
    fprintf(sc->out, "%s{", sc->n ? "," : "");
    json_kv_str(sc->out, "agent_id", ag->agent_id, 0);
    fprintf(sc->out, ",\"last_seq\":%llu", (unsigned long long)ag->last_seq);
    for (int i = 0; i < MSTORE_NCOUNTERS; i++)
      fprintf(sc->out, ",\"%s\":%lld", counter_names[i], (long long)v[i]);
    fprintf(sc->out, "}");
  } else {
    esc_bufs e = {0};
    fprintf(sc->out, "agent %s  last_seq=%llu\n", esc(&e, ag->agent_id), (unsigned long long)ag->last_seq);
    esc_free(&e);
    for (int i = 0; i < MSTORE_NCOUNTERS; i++)
      fprintf(sc->out, "    %-16s %lld\n", counter_names[i], (long long)v[i]);
  }
  sc->n++;
  return 0;
}

int manager_query(const manager_config *cfg, int argc, char **argv, FILE *out, FILE *errf) {
  int json = 0;
  const char *pos[3] = {NULL, NULL, NULL};
  int npos = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (npos < 3)
      pos[npos++] = argv[i];
    else {
      fputs(usage_text, errf);
      return 2;
    }
  }
  if (!npos) {
    fputs(usage_text, errf);
    return 2;
  }
  const char *cmd = pos[0];
  int ok_args = (strcmp(cmd, "agents") == 0 && npos == 1) || (strcmp(cmd, "checks") == 0 && npos == 3) ||
                (strcmp(cmd, "stats") == 0 && npos <= 2) || (strcmp(cmd, "hash") == 0 && npos == 3);
  if (!ok_args) {
    fputs(usage_text, errf);
    return 2;
  }
  char err[1024];
  mstore *st = mstore_open(cfg->store, 1, 0, err, sizeof err);
  if (!st) {
    fprintf(errf, "tenet-manager: %s\n", err);
    return 1;
  }
  int rc = 0;
  if (strcmp(cmd, "agents") == 0) {
    /* a shared store is served by several managers: what it records is the answer */
    rc = query_agents(st, json, mstore_shared(st) || daemon_pidfile_owner(cfg->pid_file) != 0, out, errf);
  } else if (strcmp(cmd, "checks") == 0) {
    rc = query_checks(st, pos[1], pos[2], json, out, errf);
  } else if (strcmp(cmd, "stats") == 0) {
    stats_ctx sc = {out, pos[1], json, 0};
    if (json) fprintf(out, "[");
    int r = mstore_agents_each(st, print_stats, &sc);
    if (json) fprintf(out, "]\n");
    if (r != TN_OK) {
      fprintf(errf, "tenet-manager: %s\n", mstore_error(st));
      rc = 1;
    } else if (pos[1] && !sc.n) {
      fprintf(errf, "tenet-manager: no agent '%s'\n", pos[1]);
      rc = 1;
    }
  } else {
    char hash[65];
    size_t n;
    if (mstore_results_hash(st, pos[1], pos[2], hash, &n) != TN_OK) {
      fprintf(errf, "tenet-manager: %s\n", mstore_error(st));
      rc = 1;
    } else if (!n) {
      fprintf(errf, "tenet-manager: no checks stored for agent '%s' policy '%s'\n", pos[1], pos[2]);
      rc = 1;
    } else {
      fprintf(out, "%s\n", hash);
    }
  }
  mstore_close(st);
  return rc;
}
