/*-------------------------------------------------------------------------
 *
 * http_tls.c
 *	  TLS of the HTTP endpoint (repmgr.http_ssl_cert_file and
 *	  repmgr.http_ssl_key_file), with the OpenSSL that PostgreSQL is built
 *	  with: the context, and the non-blocking handshake, reads and writes
 *	  of one connection for the worker's loop (http.c).
 *
 * With both files set the endpoint speaks HTTPS only: a client that does
 * not complete a TLS handshake within its deadline is closed.  The files
 * are read when the worker starts and at each reload; as for pg_hba.conf,
 * files that do not load at a reload leave the context in force, and at
 * the start they leave the endpoint refusing every connection (never
 * plain HTTP in place of HTTPS).  TLS 1.2 or newer; no client
 * certificates.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#ifdef USE_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#include "utils/memutils.h"

#include "guc.h"
#include "http.h"

#ifdef USE_OPENSSL
static SSL_CTX *context = NULL;
#endif
static bool tls_wanted = false;		/* both files are set */
static bool tls_broken = false;		/* ... but there is no usable context */
static char *loaded_cert = NULL;
static char *loaded_key = NULL;
static time_t loaded_cert_mtime;
static time_t loaded_key_mtime;

#ifdef USE_OPENSSL
static const char *
tls_error(void)
{
	unsigned long e = ERR_get_error();
	static char buf[256];

	if (e == 0)
		return "no reason given";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static SSL_CTX *
make_context(const char *cert, const char *key, char **why)
{
	SSL_CTX    *ctx = SSL_CTX_new(TLS_server_method());
	struct stat st;

	if (ctx == NULL)
	{
		*why = psprintf("could not create a TLS context: %s", tls_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		*why = psprintf("could not load the certificate \"%s\": %s", cert, tls_error());
	else if (stat(key, &st) != 0)
		*why = psprintf("could not stat the key \"%s\": %m", key);
	else if (st.st_mode & S_IRWXO)
		*why = psprintf("the key \"%s\" is readable or writable by others (mode %04o)",
						key, (unsigned) (st.st_mode & 07777));
	else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		*why = psprintf("could not load the key \"%s\": %s", key, tls_error());
	else if (SSL_CTX_check_private_key(ctx) != 1)
		*why = psprintf("the key \"%s\" does not match the certificate \"%s\"", key, cert);
	else
		return ctx;
	SSL_CTX_free(ctx);
	return NULL;
}
#endif

static time_t
mtime_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mtime : 0;
}

/*
 * Read (again) the certificate and key: when the worker starts and after
 * each reload (files that changed on disk are read again too).
 */
void
http_tls_load(bool starting)
{
	const char *cert = repmgr_http_ssl_cert_file;
	const char *key = repmgr_http_ssl_key_file;
	char	   *why = NULL;
	bool		wanted = cert[0] != '\0' || key[0] != '\0';

	if (!wanted)
	{
#ifdef USE_OPENSSL
		if (context != NULL)
			SSL_CTX_free(context);
		context = NULL;
#endif
		if (tls_wanted)
			ereport(LOG, (errmsg("repmgr http: TLS off: plain HTTP")));
		tls_wanted = false;
		tls_broken = false;
		loaded_cert = loaded_key = NULL;
		return;
	}
	if (tls_wanted && loaded_cert && loaded_key &&
		strcmp(loaded_cert, cert) == 0 && strcmp(loaded_key, key) == 0 &&
		mtime_of(cert) == loaded_cert_mtime && mtime_of(key) == loaded_key_mtime)
		return;

	if (cert[0] == '\0' || key[0] == '\0')
		why = pstrdup("repmgr.http_ssl_cert_file and repmgr.http_ssl_key_file must both be set");
	else
	{
#ifdef USE_OPENSSL
		SSL_CTX    *ctx = make_context(cert, key, &why);

		if (ctx != NULL)
		{
			if (context != NULL)
				SSL_CTX_free(context);
			context = ctx;
			tls_wanted = true;
			tls_broken = false;
			loaded_cert = MemoryContextStrdup(TopMemoryContext, cert);
			loaded_key = MemoryContextStrdup(TopMemoryContext, key);
			loaded_cert_mtime = mtime_of(cert);
			loaded_key_mtime = mtime_of(key);
			ereport(LOG, (errmsg("repmgr http: TLS with the certificate \"%s\"", cert)));
			return;
		}
#else
		why = pstrdup("PostgreSQL was built without OpenSSL");
#endif
	}
	/* it does not load: at a reload, the context in force stays */
#ifdef USE_OPENSSL
	if (!starting && context != NULL)
	{
		ereport(LOG,
				(errmsg("repmgr http: TLS: %s", why),
				 errdetail("The certificate and key in force are kept.")));
		return;
	}
#endif
	ereport(LOG,
			(errmsg("repmgr http: TLS: %s", why),
			 errdetail("The endpoint refuses every connection until this is corrected (and the configuration reloaded).")));
	tls_wanted = true;
	tls_broken = true;
	loaded_cert = loaded_key = NULL;
}

/* HTTPS (true), with *usable telling whether connections can be served */
bool
http_tls_on(bool *usable)
{
	*usable = !tls_broken;
	return tls_wanted;
}

#ifdef USE_OPENSSL

/* a new TLS session on sock; NULL if it cannot be made */
void *
http_tls_session(pgsocket sock)
{
	SSL		   *ssl;

	if (context == NULL)
		return NULL;
	ssl = SSL_new(context);
	if (ssl == NULL)
		return NULL;
	if (SSL_set_fd(ssl, sock) != 1)
	{
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void
http_tls_free(void *session)
{
	SSL		   *ssl = session;

	/* a close_notify, once, without waiting for the client's */
	(void) SSL_shutdown(ssl);
	SSL_free(ssl);
	ERR_clear_error();
}

/* what an SSL_* call that did not succeed means for the loop */
static ssize_t
io_result(SSL *ssl, int r, int *want)
{
	switch (SSL_get_error(ssl, r))
	{
		case SSL_ERROR_WANT_READ:
			*want = WL_SOCKET_READABLE;
			return HTTP_IO_AGAIN;
		case SSL_ERROR_WANT_WRITE:
			*want = WL_SOCKET_WRITEABLE;
			return HTTP_IO_AGAIN;
		case SSL_ERROR_ZERO_RETURN:
			ERR_clear_error();
			return 0;
		default:
			ERR_clear_error();
			return HTTP_IO_ERROR;
	}
}

/*
 * Read up to len bytes (the handshake first): the bytes read, 0 at the
 * end, HTTP_IO_AGAIN (with *want: what to wait for) or HTTP_IO_ERROR.
 */
ssize_t
http_tls_read(void *session, char *buf, size_t len, int *want)
{
	SSL		   *ssl = session;
	int			r;

	ERR_clear_error();
	if (!SSL_is_init_finished(ssl))
	{
		r = SSL_do_handshake(ssl);
		if (r != 1)
			return io_result(ssl, r, want);
	}
	r = SSL_read(ssl, buf, (int) Min(len, INT_MAX));
	if (r > 0)
		return r;
	return io_result(ssl, r, want);
}

/* write up to len bytes, as http_tls_read reads */
ssize_t
http_tls_write(void *session, const char *buf, size_t len, int *want)
{
	SSL		   *ssl = session;
	int			r;

	ERR_clear_error();
	r = SSL_write(ssl, buf, (int) Min(len, INT_MAX));
	if (r > 0)
		return r;
	return io_result(ssl, r, want);
}

/* bytes already decrypted and waiting in the session */
bool
http_tls_pending(void *session)
{
	return SSL_pending((SSL *) session) > 0;
}

#else							/* !USE_OPENSSL */

void *
http_tls_session(pgsocket sock)
{
	return NULL;
}

void
http_tls_free(void *session)
{
}

ssize_t
http_tls_read(void *session, char *buf, size_t len, int *want)
{
	return HTTP_IO_ERROR;
}

ssize_t
http_tls_write(void *session, const char *buf, size_t len, int *want)
{
	return HTTP_IO_ERROR;
}

bool
http_tls_pending(void *session)
{
	return false;
}

#endif							/* USE_OPENSSL */
