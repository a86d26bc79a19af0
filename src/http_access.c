/*-------------------------------------------------------------------------
 *
 * http_access.c
 *	  Who may use the HTTP endpoint: the address allowlist
 *	  (repmgr.http_allowlist) and the Basic authentication of /cluster and
 *	  /metrics (repmgr.http_auth_file).
 *
 * Both are read when the HTTP worker starts and again at each reload.  As
 * pg_hba.conf is, a reload whose new value does not load keeps the old
 * one (and says why in the log); a value that does not load when the
 * worker starts denies instead of allowing: no connection at all for an
 * allowlist, no access to the protected paths for an authentication
 * file.
 *
 * The authentication file holds "user:password" lines (blank lines and
 * lines beginning with "#" are skipped), as Patroni's restapi
 * authentication holds a user and a password: it is a file of secrets,
 * so it must not be readable by others than the server's user and group.
 * A password is compared in constant time.  Basic authentication sends
 * the password in clear: use it with TLS (http_tls.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "storage/fd.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "guc.h"
#include "http.h"

/* one entry of the allowlist: an address and the length of its prefix */
typedef struct AllowedNet
{
	int			family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int			bits;
} AllowedNet;

typedef struct HttpUser
{
	char	   *user;
	char	   *password;
} HttpUser;

static MemoryContext access_context = NULL;

/* the allowlist in force: all == true lets everyone in */
static bool allow_all = false;
static AllowedNet *allowed = NULL;
static int	nallowed = 0;
static char *allowlist_loaded = NULL;	/* the value it was read from */

/* the users in force; auth_broken: required, but none could be read */
static bool auth_required = false;
static bool auth_broken = false;
static HttpUser *users = NULL;
static int	nusers = 0;
static char *auth_file_loaded = NULL;
static struct stat auth_file_stat;

/* ----------
 * The allowlist
 * ----------
 */

/* "10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1": false if not one */
static bool
parse_net(const char *text, AllowedNet *net, char **why)
{
	char		addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t		len = slash ? (size_t) (slash - text) : strlen(text);
	int			maxbits;

	if (len == 0 || len >= sizeof(addr))
	{
		*why = psprintf("\"%s\" is not an IP address", text);
		return false;
	}
	memcpy(addr, text, len);
	addr[len] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, addr, net->addr) == 1)
	{
		net->family = AF_INET;
		maxbits = 32;
	}
	else if (inet_pton(AF_INET6, addr, net->addr) == 1)
	{
		net->family = AF_INET6;
		maxbits = 128;
	}
	else
	{
		*why = psprintf("\"%s\" is not an IP address (host names are not accepted)", addr);
		return false;
	}
	net->bits = maxbits;
	if (slash != NULL)
	{
		char	   *end;
		long		bits;

		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || bits < 0 || bits > maxbits)
		{
			*why = psprintf("\"%s\" has no valid prefix length (0 to %d)", text, maxbits);
			return false;
		}
		net->bits = (int) bits;
	}
	return true;
}

/* is the address of family (4 or 16 bytes at a) inside net? */
static bool
net_contains(const AllowedNet *net, int family, const unsigned char *a)
{
	int			full = net->bits / 8;
	int			rest = net->bits % 8;

	if (family != net->family)
		return false;
	if (memcmp(a, net->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ net->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static void
load_allowlist(bool starting)
{
	char	   *raw;
	List	   *items;
	ListCell   *lc;
	AllowedNet *nets;
	int			n = 0;
	char	   *why = NULL;

	if (allowlist_loaded != NULL && strcmp(allowlist_loaded, repmgr_http_allowlist) == 0)
		return;
	raw = pstrdup(repmgr_http_allowlist);
	if (!SplitGUCList(raw, ',', &items))
		why = pstrdup("the list does not parse");
	nets = MemoryContextAllocZero(access_context, sizeof(AllowedNet) * Max(list_length(items), 1));
	foreach(lc, items)
	{
		if (why == NULL && !parse_net((char *) lfirst(lc), &nets[n], &why))
			break;
		n++;
	}
	if (why != NULL)
	{
		ereport(LOG,
				(errmsg("repmgr http: invalid repmgr.http_allowlist: %s", why),
				 starting ?
				 errdetail("No connection is accepted until it is corrected (and the configuration reloaded).") :
				 errdetail("The allowlist in force is kept.")));
		if (starting)
		{
			allow_all = false;
			nallowed = 0;
		}
		allowlist_loaded = MemoryContextStrdup(access_context, repmgr_http_allowlist);
		return;
	}
	allow_all = (n == 0);
	allowed = nets;
	nallowed = n;
	allowlist_loaded = MemoryContextStrdup(access_context, repmgr_http_allowlist);
	if (!starting)
		ereport(LOG,
				(errmsg("repmgr http: allowlist: %s",
						allow_all ? "every address" : repmgr_http_allowlist)));
}

/* may a client at addr connect? */
bool
http_access_allowed(const struct sockaddr *addr)
{
	int			i;

	if (allow_all)
		return true;
	for (i = 0; i < nallowed; i++)
	{
		if (addr->sa_family == AF_INET &&
			net_contains(&allowed[i], AF_INET,
						 (const unsigned char *) &((const struct sockaddr_in *) addr)->sin_addr))
			return true;
		if (addr->sa_family == AF_INET6)
		{
			const unsigned char *a6 = (const unsigned char *) &((const struct sockaddr_in6 *) addr)->sin6_addr;

			if (net_contains(&allowed[i], AF_INET6, a6))
				return true;
			/* an IPv4 client of a dual-stack socket: ::ffff:a.b.c.d */
			if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *) a6) &&
				net_contains(&allowed[i], AF_INET, a6 + 12))
				return true;
		}
	}
	return false;
}

/* ----------
 * Authentication
 * ----------
 */

static bool
read_auth_file(const char *path, HttpUser **out, int *nout, struct stat *st, char **why)
{
	FILE	   *f;
	char		line[1024];
	int			lineno = 0;
	int			cap = 4;
	HttpUser   *list;
	int			n = 0;

	f = AllocateFile(path, "r");
	if (f == NULL)
	{
		*why = psprintf("could not open \"%s\": %m", path);
		return false;
	}
	if (fstat(fileno(f), st) != 0)
	{
		*why = psprintf("could not stat \"%s\": %m", path);
		FreeFile(f);
		return false;
	}
	if (st->st_mode & S_IRWXO)
	{
		*why = psprintf("\"%s\" is readable or writable by others (mode %04o): it holds passwords",
						path, (unsigned) (st->st_mode & 07777));
		FreeFile(f);
		return false;
	}
	list = MemoryContextAllocZero(access_context, sizeof(HttpUser) * cap);
	while (fgets(line, sizeof(line), f) != NULL)
	{
		size_t		len = strlen(line);
		char	   *colon;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f))
		{
			*why = psprintf("line %d of \"%s\" is too long", lineno, path);
			FreeFile(f);
			return false;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		if (colon == NULL || colon == line || colon[1] == '\0')
		{
			*why = psprintf("line %d of \"%s\" is not \"user:password\"", lineno, path);
			FreeFile(f);
			return false;
		}
		*colon = '\0';
		if (n == cap)
		{
			cap *= 2;
			list = repalloc(list, sizeof(HttpUser) * cap);
		}
		list[n].user = MemoryContextStrdup(access_context, line);
		list[n].password = MemoryContextStrdup(access_context, colon + 1);
		n++;
	}
	FreeFile(f);
	if (n == 0)
	{
		*why = psprintf("\"%s\" holds no \"user:password\" line", path);
		return false;
	}
	*out = list;
	*nout = n;
	return true;
}

/*
 * Read the authentication file when the setting changed, or the file did
 * (a reload after the file was edited reads it again).
 */
static void
load_auth(bool starting)
{
	const char *path = repmgr_http_auth_file;
	struct stat st;
	HttpUser   *list = NULL;
	int			n = 0;
	char	   *why = NULL;

	if (path == NULL || path[0] == '\0')
	{
		auth_required = false;
		auth_broken = false;
		auth_file_loaded = NULL;
		return;
	}
	if (auth_file_loaded != NULL && strcmp(auth_file_loaded, path) == 0 &&
		stat(path, &st) == 0 && st.st_mtime == auth_file_stat.st_mtime &&
		st.st_size == auth_file_stat.st_size && st.st_ino == auth_file_stat.st_ino)
		return;
	if (!read_auth_file(path, &list, &n, &st, &why))
	{
		bool		keep = !starting && auth_required && !auth_broken;

		ereport(LOG,
				(errmsg("repmgr http: invalid repmgr.http_auth_file: %s", why),
				 keep ?
				 errdetail("The users read before are kept.") :
				 errdetail("/cluster and /metrics are refused until it is corrected (and the configuration reloaded).")));
		auth_required = true;
		auth_broken = !keep;
		auth_file_loaded = MemoryContextStrdup(access_context, path);
		memset(&auth_file_stat, 0, sizeof(auth_file_stat));
		return;
	}
	auth_required = true;
	auth_broken = false;
	users = list;
	nusers = n;
	auth_file_loaded = MemoryContextStrdup(access_context, path);
	auth_file_stat = st;
	ereport(LOG,
			(errmsg("repmgr http: /cluster and /metrics need one of the %d users of \"%s\"", n, path)));
}

/* constant-time equality of two strings (their lengths may leak) */
static bool
secret_equal(const char *a, const char *b)
{
	size_t		la = strlen(a);
	size_t		lb = strlen(b);

	return la == lb && timingsafe_bcmp(a, b, la) == 0;
}

/*
 * May req read a protected path?  HTTP_ACCESS_OK, or why not: no or wrong
 * credentials (401), or no usable authentication file (503).
 */
HttpAccess
http_access_authorize(const HttpRequest *req)
{
	char	   *user;
	char	   *password;
	bool		ok = false;
	int			i;

	if (!auth_required)
		return HTTP_ACCESS_OK;
	if (auth_broken)
		return HTTP_ACCESS_UNAVAILABLE;
	if (req->authorization[0] == '\0' ||
		!http_basic_credentials(req->authorization, &user, &password))
		return HTTP_ACCESS_DENIED;
	/* every entry is compared, whichever matches */
	for (i = 0; i < nusers; i++)
		ok |= secret_equal(users[i].user, user) & secret_equal(users[i].password, password);
	return ok ? HTTP_ACCESS_OK : HTTP_ACCESS_DENIED;
}

/*
 * Read (again) the allowlist and the authentication file: when the worker
 * starts (starting) and after each reload.
 */
void
http_access_load(bool starting)
{
	if (access_context == NULL)
		access_context = AllocSetContextCreate(TopMemoryContext, "repmgr http access",
											   ALLOCSET_SMALL_SIZES);
	load_allowlist(starting);
	load_auth(starting);
}
