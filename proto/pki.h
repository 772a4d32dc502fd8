/* pki.h — a small certificate authority for one Tenet deployment (`tenet pki`, compiler/cmd_pki.c).
 *
 * Layout of a PKI directory DIR:
 *   DIR/ca.crt, DIR/ca.key                   the CA (self-signed; key mode 0600)
 *   DIR/manager.crt, DIR/manager.key         the manager: CN = its name, subjectAltName = DNS names
 *                                            and IP addresses agents connect to, EKU serverAuth
 *   DIR/agents/AGENT_ID.crt, .key            one per agent: CN = the agent id, EKU clientAuth
 *   DIR/crl.pem                              revoked certificates (pki_revoke), a CRL the manager loads
 * Keys are ECDSA P-256 (PKCS#8 PEM, unencrypted, mode 0600), certificates X.509 v3 PEM signed with
 * SHA-256, serial numbers 127-bit random. The CA may only sign end-entity certificates (pathlen 0);
 * the extended key usages keep an agent certificate from serving as the manager and vice versa.
 * Existing files are never overwritten unless `force` is set (then they are replaced atomically). */
#ifndef TENET_PKI_H
#define TENET_PKI_H

#include <stddef.h>

#define PKI_AGENT_ID_MAX 64
#define PKI_CA_DAYS_DEFAULT 3650
#define PKI_CERT_DAYS_DEFAULT 825
#define PKI_PATH_MAX 4096

typedef struct pki_options {
  int force; /* replace existing files */
  int days;  /* validity; <= 0: PKI_CA_DAYS_DEFAULT for the CA, PKI_CERT_DAYS_DEFAULT otherwise */
} pki_options;

/* What an operation wrote, for the caller to print. */
typedef struct pki_result {
  char cert[PKI_PATH_MAX];
  char key[PKI_PATH_MAX];
  char subject[320];    /* "CN=..." */
  char alt_names[1024]; /* "DNS:localhost, IP:127.0.0.1" ("" when none) */
  char not_after[32];   /* "YYYY-MM-DD HH:MM:SS UTC" */
} pki_result;

/* Non-zero when id is a valid agent id: 1 to PKI_AGENT_ID_MAX characters of [A-Za-z0-9_.-]. */
int pki_agent_id_valid(const char *id);

/* Create dir if it does not exist (mode 0700; its parent must exist) and a new CA in it:
 * dir/ca.crt and dir/ca.key. ca_name is the CA's CN (NULL: "Tenet CA " + 8 random hex digits, so
 * two deployments never share a name). opt may be NULL (defaults). Fills res (may be NULL).
 * Returns TN_OK, TN_EUSAGE (bad name or days), TN_EIO (a file exists and !force, or cannot be
 * written) or TN_ETLS (OpenSSL failure), with a message in err. */
int pki_init(const char *dir, const char *ca_name, const pki_options *opt, pki_result *res, char *err,
             size_t errlen);

/* Issue the manager's certificate: dir/manager.crt and dir/manager.key, CN = name. The
 * subjectAltName holds name itself (when it is a valid DNS name or IP address) and every entry of
 * sans (DNS names or IP address literals); with nsans == 0 it also holds localhost and 127.0.0.1.
 * Returns TN_OK, TN_EUSAGE (bad name or SAN), TN_EKEY (the CA is missing or unreadable), TN_EIO or
 * TN_ETLS, with a message in err. */
int pki_issue_manager(const char *dir, const char *name, const char *const *sans, size_t nsans,
                      const pki_options *opt, pki_result *res, char *err, size_t errlen);

/* Issue an agent's certificate: dir/agents/AGENT_ID.crt and .key (dir/agents is created, mode
 * 0700), CN = agent_id. Returns TN_OK, TN_EUSAGE (invalid id), TN_EKEY, TN_EIO or TN_ETLS, with
 * a message in err. */
int pki_issue_agent(const char *dir, const char *agent_id, const pki_options *opt, pki_result *res, char *err,
                    size_t errlen);

/* What pki_revoke did, for the caller to print. */
typedef struct pki_revoked {
  char crl[PKI_PATH_MAX];  /* the list written */
  char cert[PKI_PATH_MAX]; /* the certificate revoked */
  char subject[320];
  char serial[80]; /* hex */
  int entries;     /* certificates the list now revokes */
} pki_revoked;

/* Revoke a certificate issued by dir's CA: `who` is an agent id (dir/agents/ID.crt) or the path
 * of a PEM certificate. Adds its serial number to dir/crl.pem (an X.509 v2 CRL signed by the CA,
 * created when missing, replaced atomically, valid as long as the CA) — the file the manager's
 * `crl` option names. *already is set when it was revoked before (the list is re-signed anyway).
 * Fills res (may be NULL). Returns TN_OK, TN_EUSAGE (no such certificate, or not from this CA),
 * TN_EKEY (the CA is missing or unreadable), TN_EIO or TN_ETLS, with a message in err. */
int pki_revoke(const char *dir, const char *who, int *already, pki_revoked *res, char *err, size_t errlen);

#endif
