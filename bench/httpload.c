/*-------------------------------------------------------------------------
 *
 * httpload.c
 *	  A small HTTP load generator for the benchmarks of the HTTP endpoint:
 *	  C clients in threads, each sending one request per connection (as
 *	  a load balancer's health check does) for a duration, then the
 *	  requests per second and the latency percentiles.
 *
 *	  httpload -p PORT [-h HOST] [-c CLIENTS] [-d SECONDS] [-u PATH]
 *
 * Latency is from connect() to the server closing the connection, on
 * CLOCK_MONOTONIC.  Output, one "key value" a line: requests, errors,
 * non_200, rps, p50_us, p90_us, p99_us, max_us.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES_PER_CLIENT 2000000

typedef struct Client
{
	pthread_t	thread;
	long	   *lat_us;
	long		n;
	long		errors;
	long		non_200;
} Client;

static struct sockaddr_in addr;
static char request[512];
static double stop_at;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* one request on a new connection; 1 ok, 0 non-200, -1 error */
static int
one_request(void)
{
	char		buf[4096];
	size_t		got = 0;
	ssize_t		n;
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	int			ok;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
		send(fd, request, strlen(request), MSG_NOSIGNAL) < 0)
	{
		close(fd);
		return -1;
	}
	while ((n = recv(fd, buf + got, sizeof(buf) - got - 1, 0)) > 0)
	{
		got += n;
		if (got >= sizeof(buf) - 1)
			got = 16;			/* keep the status line, drop the rest */
	}
	close(fd);
	if (n < 0 || got < 12)
		return -1;
	buf[got] = '\0';
	ok = strncmp(buf, "HTTP/1.1 200", 12) == 0;
	return ok ? 1 : 0;
}

static void *
client_main(void *arg)
{
	Client	   *c = arg;

	while (now_s() < stop_at && c->n < MAX_SAMPLES_PER_CLIENT)
	{
		double		t0 = now_s();
		int			r = one_request();

		if (r < 0)
		{
			c->errors++;
			continue;
		}
		if (r == 0)
			c->non_200++;
		c->lat_us[c->n++] = (long) ((now_s() - t0) * 1e6);
	}
	return NULL;
}

static int
cmp_long(const void *a, const void *b)
{
	long		x = *(const long *) a;
	long		y = *(const long *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	const char *path = "/primary";
	int			port = 0;
	int			nclients = 64;
	double		duration = 10;
	Client	   *clients;
	long	   *all;
	long		total = 0;
	long		errors = 0;
	long		non_200 = 0;
	double		t0;
	double		elapsed;
	int			opt;
	int			i;

	while ((opt = getopt(argc, argv, "h:p:c:d:u:")) != -1)
	{
		switch (opt)
		{
			case 'h':
				host = optarg;
				break;
			case 'p':
				port = atoi(optarg);
				break;
			case 'c':
				nclients = atoi(optarg);
				break;
			case 'd':
				duration = atof(optarg);
				break;
			case 'u':
				path = optarg;
				break;
			default:
				fprintf(stderr, "usage: httpload -p PORT [-h HOST] [-c CLIENTS] [-d SECONDS] [-u PATH]\n");
				return 2;
		}
	}
	if (port <= 0 || nclients <= 0)
	{
		fprintf(stderr, "httpload: -p PORT is required\n");
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
	{
		fprintf(stderr, "httpload: bad IPv4 address \"%s\"\n", host);
		return 2;
	}
	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);

	clients = calloc(nclients, sizeof(Client));
	t0 = now_s();
	stop_at = t0 + duration;
	for (i = 0; i < nclients; i++)
	{
		clients[i].lat_us = malloc(sizeof(long) * MAX_SAMPLES_PER_CLIENT);
		pthread_create(&clients[i].thread, NULL, client_main, &clients[i]);
	}
	for (i = 0; i < nclients; i++)
	{
		pthread_join(clients[i].thread, NULL);
		total += clients[i].n;
		errors += clients[i].errors;
		non_200 += clients[i].non_200;
	}
	elapsed = now_s() - t0;

	all = malloc(sizeof(long) * (total + 1));
	total = 0;
	for (i = 0; i < nclients; i++)
	{
		memcpy(all + total, clients[i].lat_us, sizeof(long) * clients[i].n);
		total += clients[i].n;
	}
	qsort(all, total, sizeof(long), cmp_long);
	printf("requests %ld\nerrors %ld\nnon_200 %ld\nrps %.0f\n", total, errors, non_200,
		   total / elapsed);
	if (total > 0)
		printf("p50_us %ld\np90_us %ld\np99_us %ld\nmax_us %ld\n",
			   all[(long) (total * 0.50)], all[(long) (total * 0.90)],
			   all[(long) (total * 0.99)], all[total - 1]);
	return 0;
}
