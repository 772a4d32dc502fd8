/* alerts.c — Wazuh-shaped SCA alerts as JSON lines (see alerts.h), written from structured fields:
 * the check detail the agent sent, the stored policy, the stored result. */
#include "alerts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "daemon_log.h"
#include "err.h"
#include "strbuf.h"
#include "tenet.pb-c.h"

typedef struct drain_ctx {
  strbuf buf;
  size_t *ends; /* ends[i]: where line i ends in buf */
  size_t n, cap;
} drain_ctx;

struct alerts {
  char *path;
  int fd;
  strbuf queued; /* without a store: the batch's alert lines */
  size_t nqueued;
  uint64_t nwritten;
  mstore *store;         /* with a store: lines go to its alert outbox (alerts_attach) */
  int64_t cap;           /* most alerts queued in the store */
  int64_t pending;       /* queued in the store, this batch included */
  int64_t batch;         /* queued by the open batch */
  int failing;           /* the last write failed (logged once until it works again) */
  int full_logged;       /* the cap was reported */
  int64_t polled_ms;     /* a shared store's outbox was last counted then */
  int recover;           /* this node may hold claimed alerts: recover them before draining more */
  int64_t takeover_ms;   /* release a dead node's claims this old (0: never) */
  int crash_after_write; /* TEST ONLY: _exit after a drain's write (test_crash_after_alert_write) */
  int unfinished;        /* this node's claimed rows are all written (fsynced when durable), not yet
                          * deleted: the next transaction that claims or commits a batch deletes them */
  int64_t unfinished_ms; /* when they were written (an idle manager deletes them on its own later) */
  int finishing;         /* the open batch deletes them (alerts_precommit) */
  drain_ctx staged;      /* claimed by the open batch (alerts_precommit): written after its commit */
};

static void finish_idle(alerts *a);
static void drain_ctx_free(drain_ctx *d);

alerts *alerts_open(const char *path, char *err, size_t errlen) {
  alerts *a = calloc(1, sizeof *a);
  if (!a) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  a->fd = -1;
  if (path && *path) {
    if (!(a->path = strdup(path)) ||
        (a->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) < 0) {
      snprintf(err, errlen, "cannot open the alerts file %s: %s", path, strerror(errno));
      free(a->path);
      free(a);
      return NULL;
    }
  }
  return a;
}

void alerts_close(alerts *a) {
  if (!a) return;
  if (a->store && a->unfinished && !mstore_in_transaction(a->store)) finish_idle(a); /* no rows left behind */
  drain_ctx_free(&a->staged);
  if (a->fd >= 0) close(a->fd);
  strbuf_free(&a->queued);
  free(a->path);
  free(a);
}

int alerts_attach(alerts *a, mstore *store, int64_t cap) {
  int64_t bytes = 0;
  int rc = mstore_alerts_stats(store, &a->pending, &bytes);
  if (rc != TN_OK) return rc;
  a->store = store;
  a->cap = cap > 0 ? cap : ALERTS_MAX_PENDING;
  a->batch = 0;
  a->recover = 1; /* a drain this node left behind goes first */
  return TN_OK;
}

void alerts_set_takeover(alerts *a, int64_t ms) { a->takeover_ms = ms > 0 ? ms : 0; }

void alerts_set_test_crash(alerts *a, int on) { a->crash_after_write = on; }

int alerts_reopen(alerts *a) {
  if (!a->path) return TN_OK;
  int fd = open(a->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return TN_EIO;
  close(a->fd);
  a->fd = fd;
  return TN_OK;
}

static void header(strbuf *b, const char *agent_id) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  char ts[64], zone[8];
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  strftime(zone, sizeof zone, "%z", &tm);
  strbuf_printf(b, "{\"timestamp\":\"%s.%03d%s\",\"agent\":{\"id\":", ts, (int)(tv.tv_usec / 1000), zone);
  strbuf_json_str(b, agent_id);
  strbuf_puts(b, "},\"location\":\"sca\",\"data\":{\"sca\":{");
}

static void member(strbuf *b, int *first, const char *key, const char *value) {
  if (!value) return;
  if (!*first) strbuf_putc(b, ',');
  *first = 0;
  strbuf_json_str(b, key);
  strbuf_putc(b, ':');
  strbuf_json_str(b, value);
}

static void member_int(strbuf *b, int *first, const char *key, int64_t v) {
  char num[32];
  snprintf(num, sizeof num, "%lld", (long long)v);
  member(b, first, key, num);
}

/* "a,b" → ["a","b"] (Wazuh's csv_list_to_json_str_array). */
static void member_list(strbuf *b, int *first, const char *key, const char *csv) {
  if (!csv || !*csv) return;
  if (!*first) strbuf_putc(b, ',');
  *first = 0;
  strbuf_json_str(b, key);
  strbuf_puts(b, ":[");
  const char *p = csv;
  for (int i = 0;; i++) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (i) strbuf_putc(b, ',');
    strbuf_putc(b, '"');
    strbuf_json_escape(b, p, n);
    strbuf_putc(b, '"');
    if (!comma) break;
    p = comma + 1;
  }
  strbuf_putc(b, ']');
}

static int finish(alerts *a, strbuf *b) {
  strbuf_puts(b, "}}}\n");
  if (!strbuf_ok(b)) {
    log_error("Out of memory building an alert");
    strbuf_free(b);
    return TN_ENOMEM;
  }
  int rc = TN_OK;
  if (a->store) {
    if ((rc = mstore_alert_add(a->store, b->data, b->len)) == TN_OK) {
      a->pending++;
      a->batch++;
    }
  } else {
    strbuf_append(&a->queued, b->data, b->len);
    if (strbuf_ok(&a->queued))
      a->nqueued++;
    else
      rc = TN_ENOMEM;
  }
  strbuf_free(b);
  return rc;
}

/* The value of the detail's first location of this kind, or NULL. */
static const char *location(const Tenet__CheckDetail *d, const char *kind) {
  for (size_t i = 0; d && i < d->n_locations; i++)
    if (strcmp(d->locations[i]->kind, kind) == 0) return d->locations[i]->value;
  return NULL;
}

static const char *text(const Tenet__Text *t) { return t ? t->value : NULL; }

int alerts_check(alerts *a, const char *agent_id, const char *policy_id, const char *policy_name,
                 int64_t scan_id, int64_t check_id, const char *result, const char *reason,
                 const Tenet__CheckDetail *d, const char *previous) {
  const char *pname = d ? d->policy : NULL;
  if (!pname) pname = policy_name && *policy_name ? policy_name : policy_id;
  strbuf b = STRBUF_INIT;
  header(&b, agent_id);
  int first = 1;
  member(&b, &first, "type", "check");
  member_int(&b, &first, "scan_id", scan_id);
  member(&b, &first, "policy", pname);
  strbuf_puts(&b, ",\"check\":{");
  first = 1;
  if (d && d->id_text && *d->id_text) /* a 5.x text id: shown as written (check_id is its key) */
    member(&b, &first, "id", d->id_text);
  else
    member_int(&b, &first, "id", check_id);
  if (d) {
    member(&b, &first, "title", d->title);
    member(&b, &first, "description", text(d->description));
    member(&b, &first, "rationale", text(d->rationale));
    member(&b, &first, "remediation", text(d->remediation));
  }
  if (d && d->compliance) {
    strbuf_puts(&b, first ? "\"compliance\":{" : ",\"compliance\":{");
    first = 0;
    int cfirst = 1;
    for (size_t i = 0; i < d->compliance->n_entries; i++)
      member(&b, &cfirst, d->compliance->entries[i]->key, d->compliance->entries[i]->value);
    strbuf_putc(&b, '}');
  }
  if (d) member(&b, &first, "references", text(d->references));
  static const char *const locs[] = {
  /* in alert order: rules.def's alert_pos */
#define RULE(letter, op, eval, loc, key, marker, epos, apos, ...) [apos] = key,
#include "rules.def"
#undef RULE
  };
  for (size_t i = 0; i < sizeof locs / sizeof *locs; i++)
    member_list(&b, &first, locs[i], location(d, locs[i]));
  member(&b, &first, "result", result);
  if (reason && *reason) member(&b, &first, "reason", reason);
  if (previous) member(&b, &first, "previous_result", previous);
  strbuf_putc(&b, '}');
  return finish(a, &b);
}

int alerts_summary(alerts *a, const mstore_policy *p) {
  strbuf b = STRBUF_INIT;
  header(&b, p->agent_id);
  int first = 1;
  member(&b, &first, "type", "summary");
  member_int(&b, &first, "scan_id", p->scan_id);
  member(&b, &first, "policy", p->name && *p->name ? p->name : p->policy_id);
  member(&b, &first, "description", p->description ? p->description : "");
  member(&b, &first, "policy_id", p->policy_id);
  member_int(&b, &first, "passed", p->passed);
  member_int(&b, &first, "failed", p->failed);
  member_int(&b, &first, "invalid", p->invalid);
  member_int(&b, &first, "total_checks", p->total_checks);
  member_int(&b, &first, "score", (int64_t)p->score);
  member(&b, &first, "file", p->file ? p->file : "");
  return finish(a, &b);
}

/* Append buf[0..len) to the file, or nothing: a short write (a full disk) is cut back so the file
 * never ends in half a line. Returns TN_OK or TN_EIO (errno kept). */
static int write_all(alerts *a, const char *buf, size_t len) {
  struct stat st;
  off_t start = fstat(a->fd, &st) == 0 ? st.st_size : -1;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(a->fd, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : ENOSPC;
      if (off && start >= 0 && ftruncate(a->fd, start) != 0)
        log_error("Cannot cut a partial alert from %s: %s", a->path, strerror(errno));
      errno = e;
      return TN_EIO;
    }
    off += (size_t)w;
  }
  return TN_OK;
}

/* Without a store: write the batch's lines (they stay queued on failure). */
static int flush_memory(alerts *a) {
  if (!a->queued.len) return TN_OK;
  if (a->fd < 0) { /* no file: counted and dropped */
    a->nwritten += a->nqueued;
    alerts_discard(a);
    return TN_OK;
  }
  if (write_all(a, a->queued.data, a->queued.len) != TN_OK) {
    log_error("Cannot write the alerts file %s: %s", a->path, strerror(errno));
    return TN_EIO;
  }
  a->nwritten += a->nqueued;
  alerts_discard(a);
  return TN_OK;
}

static int take_line(void *arg, int64_t id, const char *line, size_t len) {
  drain_ctx *d = arg;
  (void)id; /* walked by id */
  if (d->n == d->cap) {
    size_t nc = d->cap ? d->cap * 2 : 64;
    size_t *nv = realloc(d->ends, nc * sizeof *nv);
    if (!nv) return TN_ENOMEM;
    d->ends = nv;
    d->cap = nc;
  }
  strbuf_append(&d->buf, line, len);
  if (!strbuf_ok(&d->buf)) return TN_ENOMEM;
  d->ends[d->n++] = d->buf.len;
  return 0;
}

static void drain_ctx_free(drain_ctx *d) {
  strbuf_free(&d->buf);
  free(d->ends);
}

#define DRAIN_ROWS 512
/* A shared store (several managers) is looked at this often for alerts other managers queued or
 * left behind (a manager that died between its commit and its drain), and for dead nodes' claims. */
#define SHARED_POLL_MS 1000

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_write_failure(alerts *a) {
  if (!a->failing)
    log_error("Cannot write the alerts file %s: %s (%lld alerts kept in the store until it can be written)",
              a->path, strerror(errno), (long long)a->pending);
  a->failing = 1;
}

/* Write buf and, when sync (a durable store: a machine crash must not lose lines whose rows are
 * deleted), fdatasync it. TN_OK or TN_EIO (logged once). */
static int write_durably(alerts *a, const char *buf, size_t len, int sync) {
  if (!len) return TN_OK;
  if (write_all(a, buf, len) != TN_OK || (sync && fdatasync(a->fd) != 0)) {
    log_write_failure(a);
    return TN_EIO;
  }
  return TN_OK;
}

/* Read the file's bytes [from, from + len) into out (fewer at its end); the count read or -1. */
static ssize_t read_back(alerts *a, off_t from, char *out, size_t len) {
  int fd = open(a->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t got = 0;
  while (got < len) {
    ssize_t r = pread(fd, out + got, len - got, from + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  close(fd);
  return (ssize_t)got;
}

/* Recover this node's claimed alerts (a drain cut short: the manager died, a write or the finish
 * failed): the lines found whole after the drain's offset in the same file were written, a torn
 * or foreign tail is cut off, the rest is written, then the drain is finished. One transaction;
 * the drain record is held meanwhile (a takeover waits). TN_OK, TN_EIO or TN_EDB. */
static int recover(alerts *a) {
  mstore_drain dr = {0};
  drain_ctx d = {STRBUF_INIT, NULL, 0, 0};
  size_t keep = 0, kept = 0; /* bytes and lines found written */
  int found = 0, rc;
  if ((rc = mstore_begin(a->store)) != TN_OK || (rc = mstore_drain_get(a->store, &dr, &found)) != TN_OK ||
      (rc = mstore_alerts_claimed_each(a->store, take_line, &d)) != TN_OK) {
    log_error("Cannot read this manager's claimed alerts: %s", mstore_error(a->store));
    goto fail;
  }
  if (d.n && a->fd >= 0) {
    struct stat st;
    if (fstat(a->fd, &st) != 0) {
      log_write_failure(a);
      rc = TN_EIO;
      goto fail;
    }
    if (found && (uint64_t)st.st_dev == dr.file_dev && (uint64_t)st.st_ino == dr.file_ino &&
        st.st_size >= dr.file_offset) {
      size_t tail = (size_t)(st.st_size - dr.file_offset);
      size_t want = tail < d.buf.len ? tail : d.buf.len;
      char *back = malloc(want ? want : 1);
      ssize_t got = back ? read_back(a, (off_t)dr.file_offset, back, want) : -1;
      if (got < 0) {
        log_error("Cannot read back the alerts file %s: %s", a->path, strerror(errno));
        free(back);
        rc = TN_EIO;
        goto fail;
      }
      while (kept < d.n && d.ends[kept] <= (size_t)got &&
             memcmp(back + keep, d.buf.data + keep, d.ends[kept] - keep) == 0)
        keep = d.ends[kept++];
      free(back);
      if ((off_t)(dr.file_offset + (int64_t)keep) < st.st_size) {
        log_warn("Alerts: cutting %lld byte(s) of a torn or foreign tail from %s after the %zu alert(s) an "
                 "interrupted drain had written",
                 (long long)(st.st_size - dr.file_offset - (off_t)keep), a->path, kept);
        if (ftruncate(a->fd, (off_t)(dr.file_offset + (int64_t)keep)) != 0) {
          log_write_failure(a);
          rc = TN_EIO;
          goto fail;
        }
      }
    } else {
      log_warn("Alerts: %zu alert(s) of an interrupted drain are written again: the alerts file %s is not "
               "the one the drain began (rotated or cut meanwhile), so those it had written to the old file "
               "may appear twice",
               d.n, a->path);
    }
    if ((rc = write_durably(a, d.buf.data + keep, d.buf.len - keep, 1)) != TN_OK) goto fail;
    log_info("Alerts: recovered an interrupted drain of %zu alert(s): %zu found written, %zu written now",
             d.n, kept, d.n - kept);
  }
  if ((rc = mstore_alerts_finish(a->store)) != TN_OK || (rc = mstore_commit(a->store)) != TN_OK) {
    log_error("Cannot finish the recovered alert drain: %s", mstore_error(a->store));
    goto fail;
  }
  a->recover = 0;
  a->unfinished = 0;
  a->pending -= (int64_t)d.n;
  if (a->pending < 0) a->pending = 0;
  a->nwritten += d.n;
  drain_ctx_free(&d);
  return TN_OK;
fail:
  mstore_rollback(a->store);
  drain_ctx_free(&d);
  return rc == TN_EIO ? TN_EIO : TN_EDB;
}

/* The lines of a committed claim are written (fsynced with a durable store): they stay claimed
 * until the next transaction this node commits deletes them (alerts_precommit, drain_once, or
 * finish_idle). TEST ONLY: the crash point after the write. */
static void written_claimed(alerts *a, size_t n) {
  if (a->crash_after_write) {
    log_warn("TEST MODE: exiting after writing %zu alert(s), before finishing the drain "
             "(test_crash_after_alert_write)",
             n);
    dlog_flush_repeats();
    _exit(3);
  }
  a->recover = 0;
  a->unfinished = 1;
  a->unfinished_ms = mono_ms();
}

/* Record a drain beginning now at the alerts file's end (inside a transaction). */
static int drain_record(alerts *a) {
  mstore_drain dr = {0};
  struct stat st;
  if (a->fd >= 0 && fstat(a->fd, &st) == 0) {
    dr.file_offset = st.st_size;
    dr.file_dev = (uint64_t)st.st_dev;
    dr.file_ino = (uint64_t)st.st_ino;
  }
  dr.claimed_at = wall_ms();
  return mstore_drain_put(a->store, &dr);
}

/* One drain step, one committed transaction: delete the previous drain's written rows, claim up to
 * DRAIN_ROWS alerts and record the drain; then write them (fsync with a durable store). They are
 * deleted by the next transaction. *n gets how many were written. TN_OK, TN_EIO or TN_EDB (a claim
 * left behind is recovered by the next flush). */
static int drain_once(alerts *a, size_t *n) {
  drain_ctx d = {STRBUF_INIT, NULL, 0, 0};
  size_t claimed = 0;
  int rc;
  *n = 0;
  if ((rc = mstore_begin(a->store)) != TN_OK || (a->unfinished && (rc = mstore_alerts_finish(a->store)) != TN_OK) ||
      (rc = mstore_alerts_claim(a->store, DRAIN_ROWS, wall_ms(), &claimed)) != TN_OK) {
    log_error("Cannot claim queued alerts: %s", mstore_error(a->store));
    mstore_rollback(a->store);
    return TN_EDB;
  }
  if (!claimed) { /* nothing new: keep the deletion of the written rows if there was one */
    if (a->unfinished && mstore_commit(a->store) == TN_OK)
      a->unfinished = 0;
    else
      mstore_rollback(a->store);
    return TN_OK;
  }
  if ((rc = drain_record(a)) != TN_OK || (rc = mstore_alerts_claimed_each(a->store, take_line, &d)) != TN_OK ||
      (rc = mstore_commit(a->store)) != TN_OK) {
    log_error("Cannot claim queued alerts: %s", mstore_error(a->store));
    mstore_rollback(a->store);
    drain_ctx_free(&d);
    return TN_EDB;
  }
  a->unfinished = 0;
  a->recover = 1; /* until written */
  if (a->fd >= 0 && (rc = write_durably(a, d.buf.data, d.buf.len, mstore_durable(a->store))) != TN_OK) {
    drain_ctx_free(&d);
    return TN_EIO; /* write_all cut the partial write; the claim is recovered later */
  }
  drain_ctx_free(&d);
  written_claimed(a, d.n);
  *n = d.n;
  return TN_OK;
}

/* Written rows left when no transaction followed for this long are deleted in one of their own. */
#define IDLE_FINISH_MS 1000

/* Delete the written rows in a transaction of their own (idle, shutdown). */
static void finish_idle(alerts *a) {
  if (mstore_begin(a->store) == TN_OK && mstore_alerts_finish(a->store) == TN_OK &&
      mstore_commit(a->store) == TN_OK) {
    a->unfinished = 0;
    return;
  }
  log_error("Cannot delete written alerts from the store: %s (deleted by the next transaction)",
            mstore_error(a->store));
  mstore_rollback(a->store);
}

/* With a store: recover a drain left behind, release dead nodes' old claims (shared store, now
 * and then), then drain DRAIN_ROWS at a time while alerts are queued. */
static int drain(alerts *a) {
  int64_t total = 0;
  int rc = TN_OK, shared = mstore_shared(a->store);
  if (shared && mono_ms() - a->polled_ms >= SHARED_POLL_MS) {
    int64_t n = 0, bytes = 0, released = 0;
    a->polled_ms = mono_ms();
    if (a->takeover_ms > 0) {
      if (mstore_begin(a->store) == TN_OK &&
          mstore_alerts_takeover(a->store, wall_ms() - a->takeover_ms, &released) == TN_OK)
        mstore_commit(a->store);
      else
        mstore_rollback(a->store);
    }
    if (mstore_alerts_stats(a->store, &n, &bytes) == TN_OK) a->pending = n;
  }
  if (a->recover && (rc = recover(a)) != TN_OK) return TN_EIO;
  while (a->pending > 0) {
    size_t n = 0;
    if ((rc = drain_once(a, &n)) != TN_OK) break;
    if (!n) { /* the count drifted (or another manager holds the rest): nothing to take */
      a->pending = 0;
      break;
    }
    a->pending -= (int64_t)n;
    if (a->pending < 0 || (shared && n < DRAIN_ROWS)) a->pending = 0;
    a->nwritten += n;
    total += (int64_t)n;
  }
  /* A backlog drained here (no batch of its own to carry the deletion) is deleted now; the rows a
   * batch claimed for itself wait for the next transaction, or a second of idleness. */
  if (rc == TN_OK && a->unfinished && (total > 0 || mono_ms() - a->unfinished_ms >= IDLE_FINISH_MS))
    finish_idle(a);
  if (rc == TN_OK && a->failing) {
    a->failing = 0;
    log_info("The alerts file %s is writable again: %lld queued alerts written", a->path, (long long)total);
  }
  if (a->pending < a->cap && a->full_logged) {
    a->full_logged = 0;
    log_info("Alert backlog below its cap (%lld): accepting agent messages again", (long long)a->cap);
  }
  return rc == TN_OK ? TN_OK : TN_EIO;
}

int alerts_precommit(alerts *a) {
  size_t claimed = 0;
  int rc = TN_OK;
  if (!a->store || !mstore_in_transaction(a->store) || a->recover || a->failing || a->staged.n) return TN_OK;
  if (a->unfinished) {
    if ((rc = mstore_alerts_finish(a->store)) != TN_OK) goto fail;
    a->finishing = 1;
  }
  if (a->batch <= 0 || a->fd < 0) return TN_OK;
  if ((rc = mstore_alerts_claim(a->store, DRAIN_ROWS, wall_ms(), &claimed)) != TN_OK) goto fail;
  if (claimed && ((rc = drain_record(a)) != TN_OK ||
                  (rc = mstore_alerts_claimed_each(a->store, take_line, &a->staged)) != TN_OK))
    goto fail;
  return TN_OK;
fail:
  log_error("Cannot claim the batch's alerts: %s", mstore_error(a->store));
  drain_ctx_free(&a->staged);
  memset(&a->staged, 0, sizeof a->staged);
  a->finishing = 0;
  return rc == TN_ENOMEM ? TN_ENOMEM : TN_EDB;
}

/* After the commit of a batch that claimed its alerts (alerts_precommit): write them. */
static int write_staged(alerts *a) {
  drain_ctx d = a->staged;
  memset(&a->staged, 0, sizeof a->staged);
  a->recover = 1; /* until written */
  int rc = write_durably(a, d.buf.data, d.buf.len, mstore_durable(a->store));
  drain_ctx_free(&d);
  if (rc != TN_OK) return rc; /* recovered by the drain */
  written_claimed(a, d.n);
  a->pending -= (int64_t)d.n;
  if (a->pending < 0) a->pending = 0;
  a->nwritten += d.n;
  return TN_OK;
}

int alerts_flush(alerts *a) {
  if (!a->store) return flush_memory(a);
  if (mstore_in_transaction(a->store)) return TN_OK; /* a batch is open: at its commit */
  a->batch = 0;
  if (a->finishing) { /* the batch committed: its transaction deleted the written rows */
    a->finishing = 0;
    a->unfinished = 0;
  }
  if (a->staged.n) write_staged(a);
  return drain(a);
}

void alerts_discard(alerts *a) {
  strbuf_reset(&a->queued);
  a->nqueued = 0;
  drain_ctx_free(&a->staged); /* rolled back with the batch, like the deletion */
  memset(&a->staged, 0, sizeof a->staged);
  a->finishing = 0;
  a->pending -= a->batch; /* rolled back with the batch */
  a->batch = 0;
}

int alerts_full(alerts *a) {
  if (!a->store || a->pending < a->cap) return 0;
  if (!a->full_logged)
    log_error(
        "Alert backlog full: %lld alerts wait for the alerts file %s; agent messages are not acknowledged "
        "until it drains",
        (long long)a->pending, a->path ? a->path : "(none)");
  a->full_logged = 1;
  return 1;
}

int64_t alerts_pending(const alerts *a) { return a->store ? a->pending : (int64_t)a->nqueued; }

uint64_t alerts_written(const alerts *a) { return a->nwritten; }
