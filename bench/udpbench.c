/*
 * udpbench: a standalone UDP load generator and receiver for the link benchmarks (packets per second, one-way
 * delay, rate, loss). Sender and receiver run in two network namespaces of one host, so they share CLOCK_REALTIME
 * and the receiver takes one-way delay from the send time in each payload. Only libc and libm.
 *
 * Payload, big-endian: bytes 0-7 the sequence number, from 0; bytes 8-15 the CLOCK_REALTIME send time in ns; zeros.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UB_HDR_LEN 16		/* sequence number + send time */
#define UB_FRAME_EXTRA 42	/* UDP 8 + IPv4 20 + Ethernet 14 bytes */
#define UB_RECV_BATCH 64
#define UB_SPIN_NS 50000LL	/* spin at least the last 50 us before a deadline */
#define UB_MIN_GAP_NS 20000.0	/* paced: at most one sendmmsg per 20 us */
#define UB_MAX_SEQ (1ULL << 32) /* larger sequence numbers are not ours */
#define UB_RCVBUF (32 << 20)
#define NSEC 1000000000LL
#define MIN(a, b) ((a) < (b) ? (a) : (b)) /* evaluates twice: plain values only */

enum { UB_OK = 0, UB_RUNTIME = 1, UB_USAGE = 2 };

struct send_opts {
	struct sockaddr_in to;
	uint64_t size;		/* UDP payload bytes */
	double pps, rate;	/* -1 when not given; pps 0: as fast as possible */
	uint64_t count;		/* packets to send or have refused; 0: until duration */
	double duration;	/* seconds; 0: until count */
	uint64_t batch;
};

/* The sender's socket, its batch of payloads and what it counted. */
struct sender {
	int fd;
	uint8_t *bufs;		/* batch payloads of size bytes each */
	struct iovec *iovs;
	struct mmsghdr *msgs;
	uint64_t sent;		/* packets the kernel took; the next sequence number */
	uint64_t slots;		/* packets sent or refused */
	uint64_t errors;	/* packets refused with ENOBUFS or EAGAIN */
	int64_t oversleep_ns;	/* moving mean of how late clock_nanosleep wakes */
};

struct recv_opts {
	uint64_t port, count, idle_ms, warmup; /* count 0: no limit */
	double duration;	/* seconds from the first packet; 0: no limit */
	const char *delays_path;
};

/* What the receiver counted. It owns seen and delays. */
struct recv_stats {
	uint64_t received, duplicates, reordered, malformed;
	uint64_t max_seq;	/* valid once received > 0 */
	uint64_t frame_bytes, first_frame_bytes;
	int64_t first_rx, last_rx; /* kernel receive times, CLOCK_REALTIME ns */
	uint64_t *seen;		/* bitmap of sequence numbers */
	size_t seen_words;
	int64_t *delays;	/* ns, of the packets after the warmup, in order of arrival */
	size_t ndelays, delays_cap;
};

/* One command-line option: where its value goes and which values it takes. */
struct opt {
	const char *name;
	enum { OPT_ADDR, OPT_UINT, OPT_REAL, OPT_SI, OPT_PATH } kind; /* UINT and SI take k, M, G */
	double min, max;
	void *dst;		/* struct sockaddr_in, uint64_t, double or const char * */
	const char *want;	/* what a good value is, for the error message */
};

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static struct timespec ns_to_timespec(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / NSEC, .tv_nsec = ns % NSEC };
}

static void usage(void)
{
	fputs("udpbench: a UDP load generator and receiver for link benchmarks\n\n"
	      "udpbench send --to IP:PORT [--size BYTES] [--pps N | --rate BITS_PER_S]\n"
	      "              [--count N | --duration SECONDS] [--batch N]\n"
	      "  --size      UDP payload bytes, 16..65507 (default 18): sequence number and\n"
	      "              CLOCK_REALTIME send time in ns, big-endian, then zeros\n"
	      "  --pps       packets per second; 0 or neither option: as fast as possible\n"
	      "  --rate      bits per second of Ethernet frames of payload + 42 bytes (UDP 8 +\n"
	      "              IPv4 20 + Ethernet 14; no FCS, preamble or gap)\n"
	      "  --count     packets to send, refused ones included; --duration: seconds\n"
	      "              (default 10). Paced, the packets due in that time, late ones\n"
	      "              caught up with until 1% past it\n"
	      "  --batch     packets per sendmmsg, 1..1024 (default 64)\n"
	      "  Paced sends wait for absolute deadlines (clock_nanosleep, then a spin of 50 us\n"
	      "  or more) and send one packet per deadline, or a few when deadlines would come\n"
	      "  closer than 20 us; a late sender catches up, so the average rate is exact.\n"
	      "  Prints {\"sent\":N,\"send_errors\":E,\"seconds\":S,\"pps\":P}; a packet the kernel\n"
	      "  refuses (ENOBUFS, EAGAIN) is a send error and takes no sequence number.\n\n"
	      "udpbench recv --port PORT [--duration SECONDS | --count N] [--idle-ms MS]\n"
	      "              [--delays FILE] [--warmup N]\n"
	      "  Binds 0.0.0.0:PORT; stops --duration seconds after the first packet, after\n"
	      "  --count packets, or when none came for --idle-ms (default 1000) after the\n"
	      "  first. Delay: kernel receive time (SO_TIMESTAMPNS) minus the payload's send\n"
	      "  time, so sender and receiver must share CLOCK_REALTIME (one host).\n"
	      "  --warmup    leave the first N packets out of the delay statistics\n"
	      "  --delays    write the others' delays to FILE in us (%.3f), one a line, in\n"
	      "              order of arrival, for CDF plots\n"
	      "  Prints {\"received\":N,\"lost\":L,\"reordered\":R,\"duplicates\":D,\"seconds\":S,\n"
	      "  \"pps\":P,\"bits_per_s\":B,\"delay_us\":{\"min\",\"median\",\"p90\",\"p99\",\"p999\",\n"
	      "  \"max\",\"mean\"}}. lost: highest sequence number + 1 - distinct packets (one\n"
	      "  sender; losses after the last packet received go unseen). reordered: packets\n"
	      "  below the highest sequence number so far. seconds: first to last receive time;\n"
	      "  pps and bits_per_s: the packets after the first over it. Percentiles are\n"
	      "  nearest-rank, null without delays.\n\n"
	      "Counts, sizes and rates take a k, M or G suffix: 10M is 10000000.\n"
	      "Exit status: 0 done, 1 runtime error, 2 bad arguments.\n",
	      stdout);
}

/* Say what is wrong with the command line; returns UB_USAGE for the caller to exit with. */
__attribute__((format(printf, 1, 2))) static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("udpbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (udpbench --help)\n", stderr);
	return UB_USAGE;
}

/* Parse a number in [min, max], with a k/M/G suffix when si (10M is 1e7); a whole one into *u when u is not NULL,
 * else into *d. Returns 0 or -EINVAL. */
static int parse_num(const char *s, double min, double max, bool si, double *d, uint64_t *u)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno)
		return -EINVAL;
	if (si && *end && !end[1] && strchr("kMG", *end))
		v *= *end == 'k' ? 1e3 : *end == 'M' ? 1e6 : 1e9, end++;
	if (*end || !isfinite(v) || v < min || v > max || (u && v != floor(v)))
		return -EINVAL;
	if (u)
		*u = (uint64_t)v;
	else
		*d = v;
	return 0;
}

/* Parse IPv4:PORT. Returns 0 or -EINVAL. */
static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	const char *colon = strrchr(s, ':');
	char ip[INET_ADDRSTRLEN];
	uint64_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, colon - s);
	ip[colon - s] = '\0';
	*sa = (struct sockaddr_in){ .sin_family = AF_INET };
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1 || parse_num(colon + 1, 1, 65535, false, NULL, &port))
		return -EINVAL;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

/* Parse argv[1..] (argv[0] is the mode) into the table's destinations. Returns 0, or UB_USAGE after saying which
 * argument is wrong; --help prints the usage and exits. */
static int opts_parse(int argc, char **argv, const struct opt *opts, size_t n)
{
	const struct opt *op;
	const char *val;
	int i, err = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage();
			exit(UB_OK);
		}
		for (op = opts; op < opts + n && strcmp(op->name, argv[i]); op++)
			;
		if (op == opts + n)
			return usage_err("%s: unknown option '%s'", argv[0], argv[i]);
		if (++i == argc)
			return usage_err("%s needs a value: %s", op->name, op->want);
		val = argv[i];
		if (op->kind == OPT_ADDR)
			err = parse_addr(val, op->dst);
		else if (op->kind != OPT_PATH)
			err = parse_num(val, op->min, op->max, op->kind != OPT_REAL, op->kind == OPT_UINT ? NULL : op->dst,
					op->kind == OPT_UINT ? op->dst : NULL);
		else
			*(const char **)op->dst = val;
		if (err)
			return usage_err("%s: %s, got '%s'", op->name, op->want, val);
	}
	return 0;
}

/* Parse the send options into o. Returns 0, or UB_USAGE after saying what is wrong. */
static int send_parse(int argc, char **argv, struct send_opts *o)
{
	const struct opt opts[] = {
		{ "--to", OPT_ADDR, 0, 0, &o->to, "expected IPv4:PORT" },
		{ "--size", OPT_UINT, UB_HDR_LEN, 65507, &o->size, "expected bytes from 16 to 65507" },
		{ "--pps", OPT_SI, 0, 1e9, &o->pps, "expected packets per second from 0 to 1G" },
		{ "--rate", OPT_SI, 0, 1e12, &o->rate, "expected bits per second from 0 to 1000G" },
		{ "--count", OPT_UINT, 1, 1e18, &o->count, "expected a count of at least 1" },
		{ "--duration", OPT_REAL, 1e-6, 1e7, &o->duration, "expected seconds above 0" },
		/* 1024 is UIO_MAXIOV, the kernel's limit for sendmmsg */
		{ "--batch", OPT_UINT, 1, 1024, &o->batch, "expected packets from 1 to 1024" },
	};
	int err;

	*o = (struct send_opts){ .size = 18, .pps = -1, .rate = -1, .batch = 64 };
	err = opts_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (err)
		return err;
	if (o->to.sin_family != AF_INET)
		return usage_err("send needs --to IP:PORT, the receiver");
	if (o->rate >= 0 && o->pps >= 0)
		return usage_err("--pps and --rate: give one, not both");
	if (o->count && o->duration > 0)
		return usage_err("--count and --duration: give one, not both");
	if (o->rate >= 0)
		o->pps = o->rate / ((double)(o->size + UB_FRAME_EXTRA) * 8);
	if (!o->count && o->duration <= 0)
		o->duration = 10;
	return 0;
}

/* Free what sender_open made; accepts a half-made sender. */
static void sender_close(struct sender *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->msgs);
	free(s->iovs);
	free(s->bufs);
}

/* Open the socket and a batch of messages to o->to (which must outlive s). Returns 0 or a negative errno, *what
 * naming the step; call sender_close either way. */
static int sender_open(struct sender *s, const struct send_opts *o, const char **what)
{
	size_t i;

	*s = (struct sender){ .fd = -1 };
	*what = "allocating the batch";
	s->bufs = calloc(o->batch, o->size);
	s->iovs = calloc(o->batch, sizeof(*s->iovs));
	s->msgs = calloc(o->batch, sizeof(*s->msgs));
	if (!s->bufs || !s->iovs || !s->msgs)
		return -ENOMEM;
	for (i = 0; i < o->batch; i++) {
		s->iovs[i] = (struct iovec){ .iov_base = s->bufs + i * o->size, .iov_len = o->size };
		/* Not connect()ed: an ICMP port unreachable from a receiver not up yet then fails no send. */
		s->msgs[i].msg_hdr = (struct msghdr){ .msg_name = (void *)&o->to, .msg_namelen = sizeof(o->to),
						      .msg_iov = &s->iovs[i], .msg_iovlen = 1 };
	}
	*what = "socket";
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/* The default 50 us of timer slack would swamp the pacing. */
	*what = "prctl(PR_SET_TIMERSLACK)";
	return prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) < 0 ? -errno : 0;
}

/*
 * Send n (<= batch) packets numbered from s->sent, all stamped with one send time taken just before sendmmsg. A
 * packet refused with ENOBUFS or EAGAIN is a send error: its slot is used up but its sequence number goes to the next
 * packet, so the receiver's loss counts only the network's. Packets after a partial send are left for the next call.
 * Returns 0 or a negative errno.
 */
static int sender_burst(struct sender *s, const struct send_opts *o, unsigned int n)
{
	uint64_t now = htobe64((uint64_t)clock_ns(CLOCK_REALTIME)), seq;
	unsigned int i;
	int r;

	for (i = 0; i < n; i++) {
		seq = htobe64(s->sent + i);
		memcpy(s->bufs + i * o->size, &seq, 8);
		memcpy(s->bufs + i * o->size + 8, &now, 8);
	}
	r = sendmmsg(s->fd, s->msgs, n, 0);
	if (r < 0 && errno != EINTR) {
		if (errno != ENOBUFS && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		s->errors++;
		s->slots++;
	} else if (r > 0) {
		s->sent += (unsigned int)r;
		s->slots += (unsigned int)r;
	}
	return 0;
}

/*
 * Wait until CLOCK_MONOTONIC reaches deadline: sleep, then spin. clock_nanosleep wakes 30-50 us late on a VM even
 * with 1 ns of timer slack, so the spin covers 50 us plus the mean oversleep, but at most max_spin: a sender that
 * spins through most of its time gets preempted on a busy machine, which is later still.
 */
static void sender_wait(struct sender *s, int64_t deadline, int64_t max_spin)
{
	int64_t wake = deadline - MIN(UB_SPIN_NS + s->oversleep_ns, max_spin), late;
	struct timespec ts;

	wake = MIN(wake, deadline - UB_SPIN_NS);
	if (wake > clock_ns(CLOCK_MONOTONIC)) {
		ts = ns_to_timespec(wake);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		/* A preemption says little about the timer: count at most 200 us of it. */
		late = clock_ns(CLOCK_MONOTONIC) - wake;
		late = MIN(late, 4 * UB_SPIN_NS);
		s->oversleep_ns += (late - s->oversleep_ns) / 16;
	}
	while (clock_ns(CLOCK_MONOTONIC) < deadline)
		;
}

/*
 * Send until limit slots or the end time. Paced (pps > 0), slot k is due at start + k / pps; each wake-up sends the
 * slots due by then, at least chunk of them, so a late wake-up catches up and the average rate stays exact.
 * Unpaced, it sends full batches as fast as the kernel takes them. Returns 0 or a negative errno.
 */
static int sender_run(struct sender *s, const struct send_opts *o, uint64_t limit, int64_t start, int64_t end)
{
	double ns_per_pkt = o->pps > 0 ? 1e9 / o->pps : 0;
	uint64_t chunk = o->pps > 0 ? MIN((uint64_t)ceil(UB_MIN_GAP_NS / ns_per_pkt), o->batch) : o->batch, due, n;
	int64_t now;
	int err;

	while (s->slots < limit) {
		if (o->pps > 0)
			sender_wait(s, start + (int64_t)((double)s->slots * ns_per_pkt),
				    (int64_t)((double)chunk * ns_per_pkt / 2));
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= end)
			break;
		due = o->pps > 0 ? (uint64_t)((double)(now - start) / ns_per_pkt) + 1 : 0;
		n = due > s->slots + chunk ? due - s->slots : chunk;
		err = sender_burst(s, o, (unsigned int)MIN(MIN(n, o->batch), limit - s->slots));
		if (err)
			return err;
	}
	return 0;
}

static int send_main(int argc, char **argv)
{
	struct send_opts o;
	struct sender s;
	const char *what;
	uint64_t limit;
	int64_t start, end;
	double secs;
	int err;

	err = send_parse(argc, argv, &o);
	if (err)
		return err;
	err = sender_open(&s, &o, &what);
	if (err)
		goto out_close;
	/*
	 * Paced, the duration is the slots due in it: a sender preempted near the end still sends those (stopping
	 * short would skew the receiver's rate twice as much), but one that cannot keep up stops 1% after the end.
	 */
	limit = o.count ? o.count : o.pps > 0 ? (uint64_t)ceil(o.pps * o.duration - 1e-6) : UINT64_MAX;
	start = clock_ns(CLOCK_MONOTONIC);
	end = o.duration > 0 ? start + (int64_t)(o.duration * (o.pps > 0 ? 1.01e9 : 1e9)) : INT64_MAX;
	what = "sendmmsg";
	err = sender_run(&s, &o, limit, start, end);
	if (err)
		goto out_close;
	secs = (double)(clock_ns(CLOCK_MONOTONIC) - start) / 1e9;
	printf("{\"sent\":%llu,\"send_errors\":%llu,\"seconds\":%.6f,\"pps\":%.1f}\n", (unsigned long long)s.sent,
	       (unsigned long long)s.errors, secs, secs > 0 ? (double)s.sent / secs : 0.0);
out_close:
	sender_close(&s);
	if (err)
		fprintf(stderr, "udpbench: send to %s:%u: %s: %s\n", inet_ntoa(o.to.sin_addr), ntohs(o.to.sin_port),
			what, strerror(-err));
	return err ? UB_RUNTIME : UB_OK;
}

/* Parse the recv options into o. Returns 0, or UB_USAGE after saying what is wrong. */
static int recv_parse(int argc, char **argv, struct recv_opts *o)
{
	const struct opt opts[] = {
		{ "--port", OPT_UINT, 1, 65535, &o->port, "expected a port from 1 to 65535" },
		{ "--duration", OPT_REAL, 1e-6, 1e7, &o->duration, "expected seconds above 0" },
		{ "--count", OPT_UINT, 1, 1e18, &o->count, "expected a count of at least 1" },
		{ "--idle-ms", OPT_UINT, 1, 86400000, &o->idle_ms, "expected milliseconds from 1 to 86400000" },
		{ "--delays", OPT_PATH, 0, 0, &o->delays_path, "expected a file name" },
		{ "--warmup", OPT_UINT, 0, 1e18, &o->warmup, "expected a count of packets" },
	};
	int err;

	*o = (struct recv_opts){ .idle_ms = 1000 };
	err = opts_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (err)
		return err;
	if (!o->port)
		return usage_err("recv needs --port PORT");
	if (o->count && o->duration > 0)
		return usage_err("--count and --duration: give one, not both");
	return 0;
}

/* Grow *p, an array of *cap elements of size bytes, to hold at least need (doubling, zero-filled). 0 or -ENOMEM. */
static int array_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 1024;
	void *q;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return 0;
	if (n > SIZE_MAX / size || !(q = realloc(*p, n * size)))
		return -ENOMEM;
	memset((char *)q + *cap * size, 0, (n - *cap) * size);
	*p = q;
	*cap = n;
	return 0;
}

/*
 * Count one datagram: buf holds its first bytes (at least UB_HDR_LEN of them when len, the datagram's full length,
 * is that long); rx is its kernel receive time. Sets *done when the run ends: before this packet for --duration,
 * with it for --count. Returns 0 or -ENOMEM.
 */
static int recv_take(struct recv_stats *st, const struct recv_opts *o, const uint64_t *buf, size_t len, int64_t rx,
		     bool *done)
{
	uint64_t seq = be64toh(buf[0]);
	bool dup;
	int err;

	if (len < UB_HDR_LEN || seq >= UB_MAX_SEQ) {
		st->malformed++;
		return 0;
	}
	if (st->received && o->duration > 0 && rx - st->first_rx >= (int64_t)(o->duration * 1e9)) {
		*done = true;
		return 0;
	}
	err = array_grow((void **)&st->seen, &st->seen_words, seq / 64 + 1, sizeof(*st->seen));
	if (err)
		return err;
	dup = st->seen[seq / 64] >> (seq % 64) & 1;
	st->seen[seq / 64] |= 1ULL << (seq % 64);
	if (!st->received) {
		st->first_rx = st->last_rx = rx;
		st->first_frame_bytes = len + UB_FRAME_EXTRA;
		st->max_seq = seq;
	}
	st->duplicates += dup;
	st->reordered += !dup && seq < st->max_seq;
	st->max_seq = seq > st->max_seq ? seq : st->max_seq;
	st->last_rx = rx > st->last_rx ? rx : st->last_rx;
	st->frame_bytes += len + UB_FRAME_EXTRA;
	if (++st->received > o->warmup) {
		err = array_grow((void **)&st->delays, &st->delays_cap, st->ndelays + 1, sizeof(*st->delays));
		if (err)
			return err;
		st->delays[st->ndelays++] = rx - (int64_t)be64toh(buf[1]);
	}
	*done = o->count && st->received >= o->count;
	return 0;
}

/* Open the receiving socket, bound to 0.0.0.0:port, timestamping. Returns it or a negative errno, *what the step. */
static int recv_open(const struct recv_opts *o, const char **what)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	int fd, one = 1, size = UB_RCVBUF, err;

	*what = "socket";
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* SO_RCVBUFFORCE passes net.core.rmem_max but needs CAP_NET_ADMIN; without it take what rmem_max allows. */
	*what = "setsockopt(SO_RCVBUF)";
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		goto out_close;
	*what = "setsockopt(SO_TIMESTAMPNS)";
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		goto out_close;
	*what = "bind";
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out_close;
	return fd;
out_close:
	err = -errno;
	close(fd);
	return err;
}

/* The kernel receive time of a message (SCM_TIMESTAMPNS), or now when it has none. */
static int64_t recv_time(struct msghdr *mh)
{
	struct cmsghdr *c;
	struct timespec ts;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
		}
	}
	return clock_ns(CLOCK_REALTIME);
}

/*
 * Wait for the socket to become readable, at most until the idle time or the duration ends; sets *done when one
 * has ended with nothing to read. Before the first packet it waits without limit. Returns 0 or a negative errno.
 */
static int recv_wait(int fd, const struct recv_opts *o, const struct recv_stats *st, int64_t last_mono, bool *done)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left = 0, d;
	struct timespec ts;
	int r;

	if (st->received) {
		left = (int64_t)o->idle_ms * 1000000 - (clock_ns(CLOCK_MONOTONIC) - last_mono);
		if (o->duration > 0) {
			d = st->first_rx + (int64_t)(o->duration * 1e9) - clock_ns(CLOCK_REALTIME);
			left = MIN(left, d);
		}
		ts = ns_to_timespec(left > 0 ? left : 0);
	}
	/* Only a poll that timed out ends the run: packets that came while we were descheduled still count. */
	r = ppoll(&pfd, 1, st->received ? &ts : NULL, NULL);
	if (r < 0 && errno != EINTR)
		return -errno;
	*done = r == 0;
	return 0;
}

/* Receive and count packets until the run ends. Returns 0 or a negative errno, *what the step that failed. */
static int recv_run(const struct recv_opts *o, struct recv_stats *st, const char **what)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
		struct cmsghdr align;
	} ctl[UB_RECV_BATCH];
	struct mmsghdr msgs[UB_RECV_BATCH];
	struct iovec iovs[UB_RECV_BATCH];
	uint64_t bufs[UB_RECV_BATCH][8];
	int64_t last_mono = 0;
	bool done = false;
	int fd, err = 0, i, n;

	fd = recv_open(o, what);
	if (fd < 0)
		return fd;
	while (!done && !err) {
		for (i = 0; i < UB_RECV_BATCH; i++) {
			iovs[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
			msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iovs[i], .msg_iovlen = 1,
							   .msg_control = ctl[i].buf, .msg_controllen = sizeof(ctl[i]) };
		}
		/* MSG_TRUNC: msg_len is the datagram's length, though only its first 64 bytes are copied. */
		n = recvmmsg(fd, msgs, UB_RECV_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			*what = "ppoll";
			err = recv_wait(fd, o, st, last_mono, &done);
		} else if (n < 0 && errno != EINTR) {
			*what = "recvmmsg";
			err = -errno;
		} else if (n > 0) {
			last_mono = clock_ns(CLOCK_MONOTONIC);
			*what = "recording the packets";
			for (i = 0; i < n && !done && !err; i++)
				err = recv_take(st, o, bufs[i], msgs[i].msg_len, recv_time(&msgs[i].msg_hdr), &done);
		}
	}
	close(fd);
	return err;
}

/* Write delays (ns) to path in us, one a line. Returns 0 or a negative errno. */
static int delays_write(const char *path, const int64_t *d, size_t n)
{
	FILE *f = fopen(path, "we");
	size_t i;
	int err = 0;

	if (!f)
		return -errno;
	for (i = 0; i < n; i++)
		fprintf(f, "%.3f\n", (double)d[i] / 1e3);
	if (ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank p-quantile of sorted d (n > 0), in us. */
static double quantile_us(const int64_t *d, size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);

	return (double)d[k ? k - 1 : 0] / 1e3;
}

/* Print the recv JSON line. Sorts st->delays in place, so write the delays file first. */
static void recv_report(struct recv_stats *st)
{
	uint64_t lost = st->received ? st->max_seq + 1 - (st->received - st->duplicates) : 0;
	double secs = (double)(st->last_rx - st->first_rx) / 1e9, sum = 0;
	const int64_t *d = st->delays;
	size_t i, n = st->ndelays;

	printf("{\"received\":%llu,\"lost\":%llu,\"reordered\":%llu,\"duplicates\":%llu,\"seconds\":%.6f,"
	       "\"pps\":%.1f,\"bits_per_s\":%.0f,\"delay_us\":",
	       (unsigned long long)st->received, (unsigned long long)lost, (unsigned long long)st->reordered,
	       (unsigned long long)st->duplicates, secs, secs > 0 ? (double)(st->received - 1) / secs : 0.0,
	       secs > 0 ? (double)(st->frame_bytes - st->first_frame_bytes) * 8 / secs : 0.0);
	if (!n) {
		puts("{\"min\":null,\"median\":null,\"p90\":null,\"p99\":null,\"p999\":null,\"max\":null,\"mean\":null}}");
		return;
	}
	qsort(st->delays, n, sizeof(*d), cmp_i64);
	for (i = 0; i < n; i++)
		sum += (double)d[i];
	printf("{\"min\":%.3f,\"median\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f}}\n",
	       quantile_us(d, n, 0), quantile_us(d, n, 0.5), quantile_us(d, n, 0.9), quantile_us(d, n, 0.99),
	       quantile_us(d, n, 0.999), quantile_us(d, n, 1), sum / (double)n / 1e3);
}

static int recv_main(int argc, char **argv)
{
	struct recv_stats st = { 0 };
	struct recv_opts o;
	const char *what;
	int err;

	err = recv_parse(argc, argv, &o);
	if (err)
		return err;
	err = recv_run(&o, &st, &what);
	if (!err && o.delays_path) {
		what = o.delays_path;
		err = delays_write(o.delays_path, st.delays, st.ndelays);
	}
	if (err) {
		fprintf(stderr, "udpbench: recv on port %u: %s: %s\n", (unsigned int)o.port, what, strerror(-err));
		goto out_free;
	}
	if (st.malformed)
		fprintf(stderr, "udpbench: recv: ignored %llu datagrams that were not udpbench's\n",
			(unsigned long long)st.malformed);
	recv_report(&st);
out_free:
	free(st.seen);
	free(st.delays);
	return err ? UB_RUNTIME : UB_OK;
}

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} modes[] = {
	{ "send", send_main },
	{ "recv", recv_main },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage_err("say send or recv");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage();
		return UB_OK;
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			return modes[i].main(argc - 1, argv + 1);
	return usage_err("unknown mode '%s'; say send or recv", argv[1]);
}
