/*
 * tls.c: TLS for Gemini. Clients pin the certificate on first use, so an
 * existing key is never replaced: a new one would look like an attack.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "tls.h"

#define CERT_DAYS (20 * 365) /* long-lived: TOFU clients pin it */

#define TLS13_SUITES                                                           \
	"TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"                 \
	"TLS_AES_256_GCM_SHA384"

static void
ssl_error(char *err, size_t errsz, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char msg[256] = "";

	if (e != 0)
		ERR_error_string_n(e, msg, sizeof(msg));
	else if (errno != 0)
		snprintf(msg, sizeof(msg), "%s", strerror(errno));
	snprintf(err, errsz, "%s%s%s: %s", path ? path : "", path ? ": " : "",
	    what, msg);
	ERR_clear_error();
}

static EVP_PKEY *
read_key(const char *path)
{
	EVP_PKEY *k;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

/* O_EXCL: never overwrite, even if another start raced us. */
static FILE *
create_file(const char *path, mode_t mode)
{
	int fd;
	FILE *f;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) ==
	    -1)
		return NULL;
	if ((f = fdopen(fd, "w")) == NULL)
		close(fd);
	return f;
}

static EVP_PKEY *
make_key(const char *path)
{
	EVP_PKEY *k;
	FILE *f;
	int ok;

	if ((k = EVP_EC_gen("P-256")) == NULL)
		return NULL;
	if ((f = create_file(path, 0600)) == NULL) {
		EVP_PKEY_free(k);
		return NULL;
	}
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || !ok) {
		unlink(path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

/* The name and every alias; "localhost" is also its loopback addresses. */
static int
add_san(X509 *x, const char *const *names, size_t n)
{
	char san[ALIAS_MAX * (NAME_MAX_LEN + 8) + 64];
	unsigned char ip[16];
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	size_t i, o = 0;

	san[0] = '\0';
	for (i = 0; i < n; i++) {
		if (inet_pton(AF_INET, names[i], ip) == 1 ||
		    inet_pton(AF_INET6, names[i], ip) == 1)
			o += (size_t)snprintf(san + o, sizeof(san) - o,
			    "%sIP:%s", o ? "," : "", names[i]);
		else
			o += (size_t)snprintf(san + o, sizeof(san) - o,
			    "%sDNS:%s%s", o ? "," : "", names[i],
			    strcmp(names[i], "localhost") == 0
			        ? ",IP:127.0.0.1,IP:::1"
			        : "");
		if (o >= sizeof(san))
			return -1;
	}
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL)
		return -1;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return 0;
}

static X509 *
make_cert(EVP_PKEY *k, const char *const *names, size_t nnames)
{
	const char *host = names[0];
	X509 *x = NULL;
	X509_NAME *name;
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;

	if ((x = X509_new()) == NULL || !X509_set_version(x, 2))
		goto err;
	if ((bn = BN_new()) == NULL ||
	    !BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, serial))
		goto err;
	/* Backdated an hour: clients with a slightly slow clock accept it. */
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL))
		goto err;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	        (const unsigned char *)host, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, k) ||
	    add_san(x, names, nnames) == -1 || !X509_sign(x, k, EVP_sha256()))
		goto err;
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	return x;
err:
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	X509_free(x);
	return NULL;
}

static int
write_cert(const char *path, X509 *x)
{
	FILE *f;
	int ok;

	if ((f = create_file(path, 0644)) == NULL)
		return -1;
	ok = PEM_write_X509(f, x);
	if (fclose(f) != 0 || !ok) {
		unlink(path);
		return -1;
	}
	return 0;
}

static void
hex_colons(const unsigned char *md, unsigned int n, char *fp, size_t fpsz)
{
	unsigned int i;
	size_t o = 0;

	fp[0] = '\0';
	for (i = 0; i < n && o + 4 <= fpsz; i++)
		o += (size_t)snprintf(
		    fp + o, fpsz - o, i ? ":%02X" : "%02X", md[i]);
}

/* The certificate's SHA-256, and its public key's: the pin TOFU shows. */
static void
fingerprints(X509 *x, struct tls_ids *ids)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int n = 0;
	int len;

	if (!X509_digest(x, EVP_sha256(), md, &n))
		n = 0;
	hex_colons(md, n, ids->cert_sha256, sizeof(ids->cert_sha256));
	n = 0;
	if ((len = i2d_PUBKEY(X509_get0_pubkey(x), &der)) > 0 &&
	    !EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL))
		n = 0;
	OPENSSL_free(der);
	hex_colons(md, n, ids->key_sha256, sizeof(ids->key_sha256));
}

/* Says why OpenSSL refused a certificate, in words an operator can act on. */
static void
cert_refused(char *err, size_t errsz, const char *cpath, X509 *x)
{
	unsigned long e = ERR_peek_last_error();
	EVP_PKEY *pk = X509_get0_pubkey(x);

	if (ERR_GET_REASON(e) == SSL_R_EE_KEY_TOO_SMALL)
		snprintf(err, errsz,
		    "%s: its %d-bit %s key is too small for OpenSSL's "
		    "security level; use an ECDSA P-256 or a 2048-bit RSA key",
		    cpath, pk ? EVP_PKEY_get_bits(pk) : 0,
		    pk ? EVP_PKEY_get0_type_name(pk) : "");
	else if (ERR_GET_REASON(e) == SSL_R_CA_MD_TOO_WEAK)
		snprintf(err, errsz,
		    "%s: signed with a digest too weak for OpenSSL's "
		    "security level (use SHA-256)",
		    cpath);
	else
		ssl_error(err, errsz, "refused by OpenSSL", cpath);
	ERR_clear_error();
}

/*
 * The tickets' cipher, fetched once: EVP_aes_256_cbc() names OpenSSL's
 * legacy table, which OpenSSL 3 turns into a fetch on every ticket.
 */
static EVP_CIPHER *ticket_cipher;

/* Where each context keeps its generation's ticket keys. */
static int
keys_index(void)
{
	static int idx = -1;

	if (idx == -1)
		idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return idx;
}

static int
ticket_mac(EVP_MAC_CTX *hctx, const unsigned char *k)
{
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_MAC_PARAM_KEY, (void *)(uintptr_t)(k + 16), 32);
	params[1] = OSSL_PARAM_construct_utf8_string(
	    OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t) "SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params);
}

/*
 * Tickets are sealed with the first key and opened with any: rotation is
 * "prepend a new key, drop the oldest, reload", and a client whose ticket
 * an older key sealed resumes and is given a new one. An unknown name is
 * a full handshake, never an error.
 */
static int
ticket_cb(SSL *s, unsigned char name[16], unsigned char iv[16],
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	const struct tls_keys *keys;
	const unsigned char *k;
	size_t i;

	keys = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s), keys_index());
	if (keys == NULL || keys->n == 0)
		return enc ? -1 : 0;
	if (enc) {
		k = keys->key[0];
		memcpy(name, k, 16);
		if (RAND_bytes(iv, 16) != 1 ||
		    !EVP_EncryptInit_ex(
		        cctx, ticket_cipher, NULL, k + 48, iv) ||
		    !ticket_mac(hctx, k))
			return -1;
		return 1;
	}
	for (i = 0; i < keys->n; i++)
		if (memcmp(name, keys->key[i], 16) == 0)
			break;
	if (i == keys->n)
		return 0;
	k = keys->key[i];
	if (!ticket_mac(hctx, k) ||
	    !EVP_DecryptInit_ex(cctx, ticket_cipher, NULL, k + 48, iv))
		return -1;
	return i == 0 ? 1 : 2; /* 2: good, but seal a new one */
}

int
tls_new_key_line(char *out, size_t outsz)
{
	unsigned char k[TLS_TICKET_KEYS];
	size_t i;

	if (outsz < TLS_TICKET_KEYS * 2 + 1 || RAND_bytes(k, sizeof(k)) != 1)
		return -1;
	for (i = 0; i < sizeof(k); i++)
		snprintf(out + i * 2, 3, "%02x", k[i]);
	OPENSSL_cleanse(k, sizeof(k));
	return 0;
}

/* One line: 160 hex digits, or nothing but a comment. 1: a key read. */
static int
key_line(char *line, unsigned char *key, const char **why)
{
	char *p = line, *e;
	size_t i, n;
	int hi, lo;

	if ((e = strchr(p, '#')) != NULL)
		*e = '\0';
	while (isspace((unsigned char)*p))
		p++;
	n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n == 0)
		return 0;
	if (n != TLS_TICKET_KEYS * 2) {
		*why = "a key is 160 hex digits (make one with kapsula "
		       "ticket-key)";
		return -1;
	}
	for (i = 0; i < TLS_TICKET_KEYS; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)p[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)p[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			*why = "not a hex digit";
			return -1;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 1;
}

int
tls_read_keys(
    const char *path, struct tls_keys *keys, int *line, char *err, size_t errsz)
{
	char buf[512];
	const char *why = NULL;
	struct stat st;
	FILE *f = NULL;
	int fd, r;

	memset(keys, 0, sizeof(*keys));
	*line = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		goto err;
	}
	/* Whoever reads these keys can read every session they sealed. */
	if (st.st_mode & 077) {
		snprintf(err, errsz,
		    "%s: group or others may use it (mode %03o): "
		    "chmod 600 it",
		    path, (unsigned)(st.st_mode & 0777));
		goto err;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto err;
	}
	fd = -1;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		unsigned char k[TLS_TICKET_KEYS];

		++*line;
		if (strchr(buf, '\n') == NULL && !feof(f))
			why = "line too long";
		else if ((r = key_line(buf, k, &why)) == 1 &&
		         keys->n == TLS_TICKET_MAX)
			why = "more than 3 keys (the first encrypts, all "
			      "decrypt: drop the oldest)";
		else if (r == 1)
			memcpy(keys->key[keys->n++], k, sizeof(k));
		OPENSSL_cleanse(k, sizeof(k));
		if (why != NULL) {
			snprintf(err, errsz, "%s:%d: %s", path, *line, why);
			goto err;
		}
	}
	*line = 0;
	if (keys->n == 0) {
		snprintf(err, errsz,
		    "%s: no key in it (make one with kapsula ticket-key)",
		    path);
		goto err;
	}
	fclose(f);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
err:
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(keys, sizeof(*keys));
	return -1;
}

static SSL_CTX *
make_ctx(EVP_PKEY *k, X509 *x, STACK_OF(X509) * chain,
    const struct tls_spec *ts, char *err, size_t errsz)
{
	SSL_CTX *ctx;
	int i;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ssl_error(err, errsz, "SSL_CTX_new", NULL);
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_use_certificate(ctx, x)) {
		cert_refused(err, errsz, ts->cert, x);
		goto err;
	}
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (!SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i))) {
			cert_refused(err, errsz, ts->cert, x);
			goto err;
		}
	if (!SSL_CTX_use_PrivateKey(ctx, k) ||
	    !SSL_CTX_check_private_key(ctx)) {
		ERR_clear_error();
		snprintf(err, errsz,
		    "%s and %s do not fit together: the key is not the "
		    "certificate's",
		    ts->cert, ts->key);
		goto err;
	}
	/*
	 * Clients close without close_notify all the time; OpenSSL 3 would
	 * call that an error. Idle connections keep smaller buffers. One
	 * session ticket keeps resumption at one record instead of two.
	 * Tickets only: a server-side session cache grows with every TLS 1.2
	 * client, and the workers could not share it anyway.
	 */
	SSL_CTX_set_options(ctx,
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
	        SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
	/*
	 * TLS 1.3: AES-128-GCM first, the suite every client must have (RFC
	 * 8446, 9.1); OpenSSL's default puts AES-256-GCM with SHA-384 first,
	 * a dearer key schedule (3.5 % of a handshake here) for nothing a
	 * capsule needs. A client that lists ChaCha20 first (no AES in its
	 * hardware) gets ChaCha20, in TLS 1.2 too. Every suite stays on
	 * offer; TLS 1.2's own order is OpenSSL's.
	 */
	if (!SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES)) {
		ssl_error(err, errsz, "SSL_CTX_set_ciphersuites", NULL);
		goto err;
	}
	SSL_CTX_set_mode(
	    ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE);
	/*
	 * The chain sent is the certificate file's, added above. Left on,
	 * OpenSSL would also try to build one from the context's store at
	 * every full handshake (X509_verify_cert), and that store is empty.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
	/*
	 * Read what the socket holds at once, not a record header and then
	 * its body: the client's Finished and its request line arrive
	 * together, and took four reads.
	 */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Each capsule resumes only its own sessions. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)ts->names[0],
	    (unsigned)strnlen(ts->names[0], SSL_MAX_SID_CTX_LENGTH));
	if (ts->keys != NULL && ts->keys->n > 0 && ticket_cipher == NULL)
		ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	if (ts->keys != NULL && ts->keys->n > 0 &&
	    (ticket_cipher == NULL || keys_index() == -1 ||
	        !SSL_CTX_set_ex_data(ctx, keys_index(), (void *)ts->keys) ||
	        !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb))) {
		ssl_error(
		    err, errsz, "cannot set the session-ticket keys", NULL);
		goto err;
	}
	return ctx;
err:
	SSL_CTX_free(ctx);
	return NULL;
}

/* -n: names the certificate does not cover, and a certificate past its date. */
static void
cert_warnings(X509 *x, const struct tls_spec *ts)
{
	char msg[NAME_MAX_LEN + PATH_MAX + 64];
	size_t i;

	if (ts->warn == NULL)
		return;
	for (i = 0; i < ts->nnames; i++)
		if (X509_check_host(x, ts->names[i], 0, 0, NULL) != 1 &&
		    X509_check_ip_asc(x, ts->names[i], 0) != 1) {
			snprintf(msg, sizeof(msg),
			    "%s does not cover the name %s", ts->cert,
			    ts->names[i]);
			ts->warn(ts->warnarg, msg);
		}
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		snprintf(msg, sizeof(msg), "%s has expired", ts->cert);
		ts->warn(ts->warnarg, msg);
	}
}

/* The certificate file may hold a whole chain: the first one is ours. */
static X509 *
read_chain(const char *path, STACK_OF(X509) * *chain)
{
	X509 *x, *c;
	FILE *f;

	*chain = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
			if (*chain == NULL &&
			    (*chain = sk_X509_new_null()) == NULL) {
				X509_free(c);
				break;
			}
			if (!sk_X509_push(*chain, c))
				X509_free(c);
		}
		ERR_clear_error(); /* the end of the file reads as an error */
	}
	fclose(f);
	return x;
}

static int
exists(const char *path)
{
	errno = 0;
	return access(path, F_OK) == 0;
}

SSL_CTX *
tls_capsule(
    const struct tls_spec *ts, struct tls_ids *ids, char *err, size_t errsz)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	SSL_CTX *ctx = NULL;
	int have_key = exists(ts->key), have_cert = exists(ts->cert);

	/* A certificate without its key cannot be mended: never guess. */
	if (have_cert && !have_key) {
		snprintf(err, errsz,
		    "%s: the key is missing (the certificate %s is there); "
		    "restore the key from a backup, or move the certificate "
		    "away to make a new pair",
		    ts->key, ts->cert);
		return NULL;
	}
	if (!have_key && !ts->may_create) {
		snprintf(err, errsz, "%s: cannot read the key: %s", ts->key,
		    strerror(ENOENT));
		return NULL;
	}
	if (!have_key && ts->check_only) {
		/* -n: a key that a start would create; can it? */
		if (access(ts->dir, W_OK) == -1 &&
		    (errno != ENOENT || ts->dir[0] == '\0')) {
			ssl_error(err, errsz,
			    "cannot create certificates there", ts->dir);
			return NULL;
		}
		snprintf(ids->cert_sha256, sizeof(ids->cert_sha256),
		    "(made at first start)");
		ids->key_sha256[0] = '\0';
		return NULL;
	}
	if (!have_key) {
		if (mkdir(ts->dir, 0700) == -1 && errno != EEXIST) {
			ssl_error(err, errsz,
			    "cannot create the certificate folder", ts->dir);
			return NULL;
		}
		if ((k = make_key(ts->key)) == NULL) {
			ssl_error(err, errsz, "cannot create the key", ts->key);
			goto err;
		}
	} else if ((k = read_key(ts->key)) == NULL) {
		ssl_error(err, errsz, "cannot read the key", ts->key);
		goto err;
	}
	if (have_cert || !ts->may_create) {
		if ((x = read_chain(ts->cert, &chain)) == NULL) {
			ssl_error(err, errsz, "cannot read the certificate",
			    ts->cert);
			goto err;
		}
	} else if (ts->check_only) {
		snprintf(ids->cert_sha256, sizeof(ids->cert_sha256),
		    "(made at first start)");
		goto err;
	} else if ((x = make_cert(k, ts->names, ts->nnames)) == NULL ||
	           write_cert(ts->cert, x) == -1) {
		ssl_error(
		    err, errsz, "cannot create the certificate", ts->cert);
		goto err;
	}
	if ((ctx = make_ctx(k, x, chain, ts, err, errsz)) == NULL)
		goto err;
	cert_warnings(x, ts);
	fingerprints(x, ids);
err:
	EVP_PKEY_free(k);
	X509_free(x);
	sk_X509_pop_free(chain, X509_free);
	return ctx;
}
