/* ptest.h — policy test files (`tenet test`): the YAML model of fixture cases, and the rewrite of
 * their expected results (`tenet test --update`).
 *
 * A test file sits beside a policy (debian12.yml → debian12.test.yml):
 *
 *   policy: debian12.yml            # optional, relative to this file
 *   cases:
 *     - name: hardened              # required, unique
 *       root: tests/hardened        # required: the file tree standing in for "/", relative to this file
 *       commands:                   # canned outputs, keyed by the command after variable substitution
 *         "sshd -T": |
 *           permitrootlogin no
 *         "dpkg -s aide": {output: "", status: 1}   # status: the exit status (127: not found)
 *       processes: [systemd, sshd]  # optional process names (without it p: rules are an error)
 *       skipped: false              # optional: true when the policy's requirements must be unmet
 *       expect:                     # per check id (a 5.x text id quoted: "s5"): a result, or a
 *                                   # result and a reason
 *         1001: passed
 *         1002: {result: not applicable, reason: "Could not open file '/etc/x'"}
 *
 * Results are "passed", "failed" or "not applicable". Every problem in a file is reported as a
 * diagnostic with its line and column. */
#ifndef TENET_PTEST_H
#define TENET_PTEST_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

typedef struct ptest_command {
  const char *cmd;    /* borrowed from the file's document */
  const char *output; /* borrowed; output_len bytes */
  size_t output_len;
  int status;         /* exit status (default 0) */
} ptest_command;

typedef struct ptest_expect {
  int64_t id;         /* the check's key (vm/checkid.h) */
  const char *text;   /* borrowed: a 5.x text id, written quoted ("s5"), or NULL */
  int result;         /* EV_FOUND, EV_NOT_FOUND or EV_INVALID */
  const char *reason; /* borrowed; NULL: any reason */
  uint32_t line, col;
} ptest_expect;

typedef struct ptest_case {
  const char *name;   /* borrowed */
  char *root;         /* owned: the root directory joined to the test file's directory */
  ptest_command *commands; /* owned array */
  size_t ncommands;
  int has_processes;
  const char **processes;  /* owned array of borrowed names */
  size_t nprocesses;
  int skipped;             /* the policy's requirements must be unmet */
  ptest_expect *expect;    /* owned array, in file order */
  size_t nexpect;
  uint32_t line;           /* first line of the case */
  /* layout, for --update: lines are 1-based and inclusive */
  uint32_t key_col;        /* column of the case's keys */
  uint32_t expect_line, expect_col; /* the expect: key, or 0 when the case has none */
  uint32_t expect_last;    /* last line of the expect block */
  uint32_t last_line;      /* last line of the case */
  int flow;                /* written in flow style ({...}) or with another key on expect's lines */
} ptest_case;

typedef struct ptest_file ptest_file; /* opaque: owns the document and the cases */

/* Read and check a test file. Returns the file (free with ptest_free), or NULL when it has errors
 * (added to diags). */
ptest_file *ptest_load(const char *path, diag_list *diags);
void ptest_free(ptest_file *f);

/* The cases, in file order. Borrowed from f. */
const ptest_case *ptest_cases(const ptest_file *f, size_t *n);
/* The policy the file names, joined to its directory (NULL when it names none). Borrowed. */
const char *ptest_policy(const ptest_file *f);
/* The test file's path as given. Borrowed. */
const char *ptest_path(const ptest_file *f);

/* One observed result, for ptest_update. */
typedef struct ptest_observed {
  int64_t id;
  const char *text;   /* the check's 5.x text id, or NULL */
  int result;
  const char *reason; /* EV_INVALID only */
} ptest_observed;

/* Rewrite the expect: block of every case with the observed results (obs[i], nobs[i] for case i;
 * a case with nobs[i] == 0 and skipped set keeps its block), keeping every other line of the file
 * as it is; a case without expect: gets one at its end. Returns TN_OK, or TN_EUSAGE / TN_EIO with a
 * message in err (a case in flow style cannot be rewritten). */
int ptest_update(const ptest_file *f, const ptest_observed *const *obs, const size_t *nobs, char *err,
                 size_t errlen);

#endif
