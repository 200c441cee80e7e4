/*
 * tls.c: TLS for Gemini. Clients pin the certificate on first use, so an
 * existing key is never replaced: a new one would look like an attack.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define CERT_DAYS (20 * 365) /* long-lived: TOFU clients pin it */

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

static X509 *
read_cert(const char *path)
{
	X509 *x;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
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

static int
add_san(X509 *x, const char *host)
{
	char san[512];
	unsigned char ip[16];
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	if (inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		snprintf(san, sizeof(san), "IP:%s", host);
	else if (strcmp(host, "localhost") == 0)
		snprintf(san, sizeof(san), "DNS:%s,IP:127.0.0.1,IP:::1", host);
	else
		snprintf(san, sizeof(san), "DNS:%s", host);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL)
		return -1;
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return 0;
}

static X509 *
make_cert(EVP_PKEY *k, const char *host)
{
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
	    add_san(x, host) == -1 || !X509_sign(x, k, EVP_sha256()))
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
fingerprint(X509 *x, char *fp, size_t fpsz)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	size_t o = 0;

	if (!X509_digest(x, EVP_sha256(), md, &n))
		n = 0;
	fp[0] = '\0';
	for (i = 0; i < n && o + 4 <= fpsz; i++)
		o += (size_t)snprintf(
		    fp + o, fpsz - o, i ? ":%02X" : "%02X", md[i]);
}

static SSL_CTX *
make_ctx(EVP_PKEY *k, X509 *x)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_use_certificate(ctx, x) ||
	    !SSL_CTX_use_PrivateKey(ctx, k) ||
	    !SSL_CTX_check_private_key(ctx)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * Clients close without close_notify all the time; OpenSSL 3 would
	 * call that an error. Idle connections keep smaller buffers. One
	 * session ticket keeps resumption at one record instead of two.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	                             SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(
	    ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_session_id_context(
	    ctx, (const unsigned char *)"kapsula", 7);
	return ctx;
}

SSL_CTX *
tls_init(const char *dir, const char *host, char *fp, size_t fpsz, char *err,
    size_t errsz)
{
	char kpath[PATH_MAX], cpath[PATH_MAX];
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	SSL_CTX *ctx = NULL;

	errno = 0;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		ssl_error(
		    err, errsz, "cannot create the certificate folder", dir);
		return NULL;
	}
	snprintf(kpath, sizeof(kpath), "%s/%s.key", dir, host);
	snprintf(cpath, sizeof(cpath), "%s/%s.crt", dir, host);
	errno = 0;
	if (access(kpath, F_OK) == 0) {
		if ((k = read_key(kpath)) == NULL) {
			ssl_error(err, errsz, "cannot read the key", kpath);
			goto err;
		}
	} else if ((k = make_key(kpath)) == NULL) {
		ssl_error(err, errsz, "cannot create the key", kpath);
		goto err;
	}
	errno = 0;
	if (access(cpath, F_OK) == 0) {
		if ((x = read_cert(cpath)) == NULL) {
			ssl_error(
			    err, errsz, "cannot read the certificate", cpath);
			goto err;
		}
	} else if ((x = make_cert(k, host)) == NULL ||
	           write_cert(cpath, x) == -1) {
		ssl_error(err, errsz, "cannot create the certificate", cpath);
		goto err;
	}
	if ((ctx = make_ctx(k, x)) == NULL) {
		ssl_error(err, errsz, "certificate and key do not fit together",
		    cpath);
		goto err;
	}
	fingerprint(x, fp, fpsz);
err:
	EVP_PKEY_free(k);
	X509_free(x);
	return ctx;
}
