/* SPDX-License-Identifier: Apache-2.0 */
/* The uevent parser, the sysfs scan and the listener against this machine's real kernel. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "harness.h"
#include "loop/loop.h"
#include "uevent/listener.h"
#include "uevent/uevent.h"

/* Builds a datagram from NUL-separated fields given as one string with '|' separators. */
static size_t msg(char *buf, size_t cap, const char *fields)
{
	size_t n = strlen(fields);
	if (n + 1 > cap)
		FAIL("message too long");
	memcpy(buf, fields, n + 1);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '|')
			buf[i] = '\0';
	return n + 1;
}

#define LOOP0 "/devices/virtual/block/loop0"

TEST(parse_kernel_datagram)
{
	char b[1024];
	size_t n = msg(b, sizeof(b),
		       "add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|MAJOR=7|MINOR=0|"
		       "DEVNAME=loop0|DEVTYPE=disk|DISKSEQ=9|SEQNUM=1234");
	struct uevent ev;
	ASSERT_EQ(uevent_parse(b, n, &ev, NULL), 0);
	ASSERT_EQ(ev.action, UEVENT_ACTION_ADD);
	ASSERT_STREQ(ev.devpath, LOOP0);
	ASSERT_STREQ(ev.subsystem, "block");
	ASSERT_STREQ(ev.devname, "loop0");
	ASSERT_STREQ(ev.devtype, "disk");
	ASSERT_EQ(ev.major, 7);
	ASSERT_EQ(ev.minor, 0);
	ASSERT_EQ(ev.seqnum, 1234);
	ASSERT_FALSE(ev.synthesized);
	/* No trailing NUL is tolerated (the last field ends with the datagram). */
	ASSERT_EQ(uevent_parse(b, n - 1, &ev, NULL), 0);
	ASSERT_EQ(ev.seqnum, 1234);

	n = msg(b, sizeof(b),
		"change@/devices/virtual/net/lo|ACTION=change|DEVPATH=/devices/virtual/net/lo|"
		"SUBSYSTEM=net|INTERFACE=lo|IFINDEX=1|SEQNUM=5");
	ASSERT_EQ(uevent_parse(b, n, &ev, NULL), 0);
	ASSERT_EQ(ev.action, UEVENT_ACTION_CHANGE);
	ASSERT_STREQ(ev.interface, "lo");
	ASSERT_EQ(ev.major, -1);
}

TEST(parse_rejects_garbage)
{
	static const char *const bad[] = {
		"",
		"add" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block", /* no '@' */
		"add@/devices/x|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block", /* header path */
		"remove@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block", /* header action */
		"eat@" LOOP0 "|ACTION=eat|DEVPATH=" LOOP0 "|SUBSYSTEM=block", /* unknown action */
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0, /* no SUBSYSTEM */
		"add@" LOOP0 "|ACTION=add|SUBSYSTEM=block", /* no DEVPATH */
		"add@" LOOP0 "|DEVPATH=" LOOP0 "|SUBSYSTEM=block", /* no ACTION */
		"add@/devices/../x|ACTION=add|DEVPATH=/devices/../x|SUBSYSTEM=block",
		"add@/devices/./x|ACTION=add|DEVPATH=/devices/./x|SUBSYSTEM=block",
		"add@/devices//x|ACTION=add|DEVPATH=/devices//x|SUBSYSTEM=block",
		"add@/devices/x/|ACTION=add|DEVPATH=/devices/x/|SUBSYSTEM=block",
		"add@devices/x|ACTION=add|DEVPATH=devices/x|SUBSYSTEM=block",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|DEVPATH=" LOOP0 "|SUBSYSTEM=block",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|SEQNUM=12a",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|SEQNUM=",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0
		"|SUBSYSTEM=block|SEQNUM=99999999999999999999999",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|MAJOR=-1",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|MINOR=4294967296",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|DEVNAME=/etc/passwd",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|DEVNAME=../etc",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=bl/ock",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|garbage",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|=x",
		"add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|INTERFACE=a/b",
		"libudev|add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char b[1024];
		size_t n = msg(b, sizeof(b), bad[i]);
		struct uevent ev;
		_cleanup_error_ agent_error_t *err = NULL;
		int r = uevent_parse(b, i == 0 ? 0 : n, &ev, &err);
		if (r >= 0)
			FAIL("accepted bad uevent #%zu: %s", i, bad[i]);
		ASSERT_NOT_NULL(err);
	}
	/* Oversized values are refused, never truncated. */
	char b[UEVENT_MSG_MAX + 16], t[UEVENT_MSG_MAX], path[700];
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(t, sizeof(t), "add@%s|ACTION=add|DEVPATH=%s|SUBSYSTEM=block", path, path);
	size_t len = msg(b, sizeof(b), t);
	struct uevent ev;
	ASSERT_EQ(uevent_parse(b, len, &ev, NULL), -E2BIG);
	memset(b, 'x', sizeof(b));
	ASSERT_EQ(uevent_parse(b, UEVENT_MSG_MAX + 1, &ev, NULL), -E2BIG);
}

/* xorshift: a fixed seed keeps the fuzz run reproducible. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_invariants(const struct uevent *ev)
{
	ASSERT_TRUE(memchr(ev->devpath, '\0', sizeof(ev->devpath)) != NULL);
	ASSERT_TRUE(memchr(ev->subsystem, '\0', sizeof(ev->subsystem)) != NULL);
	ASSERT_TRUE(memchr(ev->devname, '\0', sizeof(ev->devname)) != NULL);
	ASSERT_TRUE(memchr(ev->interface, '\0', sizeof(ev->interface)) != NULL);
	ASSERT_TRUE(ev->devpath[0] == '/');
	ASSERT_TRUE(ev->subsystem[0] != '\0');
	ASSERT_TRUE(ev->action != UEVENT_ACTION_UNKNOWN);
	ASSERT_TRUE(strstr(ev->devpath, "/../") == NULL);
}

TEST_TIMEOUT(parse_fuzz_random_and_mutated, 60)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	static const char alphabet[] = "add@/=ACTIONDEVPATHSUBSYSTEMSEQNUM\0\0\0..019azAZ|";
	char base[512];
	size_t blen = msg(base, sizeof(base),
			  "add@" LOOP0 "|ACTION=add|DEVPATH=" LOOP0 "|SUBSYSTEM=block|MAJOR=7|"
			  "MINOR=0|DEVNAME=loop0|SEQNUM=77");
	unsigned accepted = 0;
	for (int iter = 0; iter < 200000; iter++) {
		/* Heap copies of the exact length, so ASan sees any read past the end. */
		size_t len;
		char *b;
		if (iter % 2 == 0) {
			len = rnd(&s) % 600;
			b = malloc(len ? len : 1);
			ASSERT_NOT_NULL(b);
			for (size_t i = 0; i < len; i++)
				b[i] = (iter % 4 == 0) ? (char)rnd(&s)
						       : alphabet[rnd(&s) % (sizeof(alphabet) - 1)];
		} else {
			len = blen - (rnd(&s) % 8 == 0 ? rnd(&s) % blen : 0);
			b = malloc(len ? len : 1);
			ASSERT_NOT_NULL(b);
			memcpy(b, base, len);
			unsigned flips = 1 + rnd(&s) % 4;
			for (unsigned f = 0; f < flips && len; f++)
				b[rnd(&s) % len] = (char)rnd(&s);
		}
		struct uevent ev;
		if (uevent_parse(b, len, &ev, NULL) == 0) {
			check_invariants(&ev);
			accepted++;
		}
		free(b);
	}
	/* Some mutations (e.g. in MINOR's value digits or unknown keys) stay valid. */
	ASSERT_TRUE(accepted > 0);
}

TEST(sysfs_reads_present_device)
{
	struct uevent ev;
	_cleanup_error_ agent_error_t *err = NULL;
	if (access("/sys/devices/virtual/net/lo/uevent", R_OK) != 0)
		SKIP("no /sys/devices/virtual/net/lo");
	ASSERT_EQ(uevent_from_sysfs("/sys", "/devices/virtual/net/lo", &ev, &err), 0);
	ASSERT_STREQ(ev.subsystem, "net");
	ASSERT_STREQ(ev.interface, "lo");
	ASSERT_STREQ(ev.devpath, "/devices/virtual/net/lo");
	ASSERT_EQ(ev.action, UEVENT_ACTION_ADD);
	ASSERT_TRUE(ev.synthesized);
	ASSERT_EQ(uevent_from_sysfs("/sys", "/devices/virtual/net/nope-xyz", &ev, NULL), -ENOENT);
	ASSERT_EQ(uevent_from_sysfs("/sys", "/devices/../etc", &ev, NULL), -EINVAL);

	/* The scan walks /sys/class/<subsystem>. */
	struct uevent_match m = {.subsystem = "net", .devpath_suffix = "/net/lo"};
	ASSERT_EQ(uevent_scan_sysfs("/sys", &m, &ev, NULL), 1);
	ASSERT_STREQ(ev.devpath, "/devices/virtual/net/lo");
	/* Block devices, found through /sys/dev/block with no subsystem given. */
	struct uevent_match mb = {.devpath_suffix = "/block/loop0", .need_devname = true};
	if (access("/sys/devices/virtual/block/loop0", F_OK) == 0) {
		ASSERT_EQ(uevent_scan_sysfs("/sys", &mb, &ev, NULL), 1);
		ASSERT_STREQ(ev.devname, "loop0");
		ASSERT_EQ(ev.major, 7);
	}
	/* A match that does not accept "add" never matches a present device. */
	m.actions = UEVENT_ACTION_BIT(UEVENT_ACTION_CHANGE);
	ASSERT_EQ(uevent_scan_sysfs("/sys", &m, &ev, NULL), 0);
	struct uevent_match none = {.subsystem = "net", .devpath_suffix = "/net/nope-xyz"};
	ASSERT_EQ(uevent_scan_sysfs("/sys", &none, &ev, NULL), 0);
}

/* --- listener ----------------------------------------------------------------------------- */

struct got {
	int calls;
	struct uevent ev;
	bool had_ev;
	int errnum;
	char msg[512];
	uint64_t at_ms;
};

static void on_got(const struct uevent *ev, agent_error_t *err, void *userdata)
{
	struct got *g = userdata;
	g->calls++;
	g->at_ms = loop_now_ms();
	if (ev) {
		g->ev = *ev;
		g->had_ev = true;
	}
	if (err) {
		g->errnum = err->errnum;
		snprintf(g->msg, sizeof(g->msg), "%s", err->msg);
		agent_error_free(err);
	}
}

static void run_until(struct loop *l, const int *calls, int want, uint64_t max_ms)
{
	uint64_t end = loop_now_ms() + max_ms;
	while (*calls < want && loop_now_ms() < end)
		ASSERT_TRUE(loop_run_once(l, 50) >= 0);
}

static void listener(struct loop **l, struct uevent_listener **ul, const char *sysroot,
		     unsigned flags)
{
	ASSERT_EQ(loop_new(l), 0);
	_cleanup_error_ agent_error_t *err = NULL;
	int r = uevent_listener_new(*l, sysroot, flags, ul, &err);
	if (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT)
		SKIP("no NETLINK_KOBJECT_UEVENT here");
	if (r < 0)
		FAIL("listener: %s", err ? err->msg : "?");
}

TEST(wait_finds_present_device_at_once)
{
	struct loop *l;
	struct uevent_listener *ul;
	listener(&l, &ul, NULL, 0);
	struct got g = {0};
	struct uevent_match m = {
		.subsystem = "net", .devpath = "/devices/virtual/net/lo", .need_interface = true};
	uint64_t t0 = loop_now_ms();
	ASSERT_EQ(uevent_wait(ul, &m, 5000, on_got, &g, NULL, NULL), 0);
	ASSERT_EQ(g.calls, 0); /* never from inside uevent_wait */
	run_until(l, &g.calls, 1, 2000);
	ASSERT_EQ(g.calls, 1);
	ASSERT_TRUE(g.had_ev);
	ASSERT_TRUE(g.ev.synthesized);
	ASSERT_STREQ(g.ev.interface, "lo");
	ASSERT_TRUE(g.at_ms - t0 < 500);
	ASSERT_EQ(uevent_listener_pending(ul), 0);
	/* uevent_find answers synchronously. */
	struct uevent ev;
	ASSERT_EQ(uevent_find(ul, &m, &ev, NULL), 1);
	ASSERT_STREQ(ev.devpath, "/devices/virtual/net/lo");
	uevent_listener_free(ul);
	loop_free(l);
}

TEST(wait_gets_kernel_change_event)
{
	struct loop *l;
	struct uevent_listener *ul;
	listener(&l, &ul, NULL, 0);
	struct got g = {0};
	/* CHANGE only: the present device must not satisfy it, only the real event. */
	struct uevent_match m = {.subsystem = "net",
				 .devpath = "/devices/virtual/net/lo",
				 .actions = UEVENT_ACTION_BIT(UEVENT_ACTION_CHANGE)};
	ASSERT_EQ(uevent_wait(ul, &m, 5000, on_got, &g, NULL, NULL), 0);
	ASSERT_TRUE(loop_run_once(l, 100) >= 0);
	ASSERT_EQ(g.calls, 0);
	ASSERT_EQ(write_file("/sys/class/net/lo/uevent", "change"), 0);
	run_until(l, &g.calls, 1, 3000);
	ASSERT_EQ(g.calls, 1);
	ASSERT_TRUE(g.had_ev);
	ASSERT_EQ(g.ev.action, UEVENT_ACTION_CHANGE);
	ASSERT_FALSE(g.ev.synthesized);
	ASSERT_TRUE(g.ev.seqnum > 0);
	ASSERT_STREQ(g.ev.interface, "lo");
	struct uevent_stats st;
	uevent_listener_stats(ul, &st);
	ASSERT_TRUE(st.accepted >= 1);
	ASSERT_EQ(st.waits_fired, 1);
	uevent_listener_free(ul);
	loop_free(l);
}

TEST(wait_gets_loop_device_add_and_change)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		SKIP("no /dev/loop-control: %s", strerror(errno));
	int idx = -1;
	char sys[128];
	for (int i = 200; i < 400 && idx < 0; i++) {
		snprintf(sys, sizeof(sys), "/sys/devices/virtual/block/loop%d", i);
		if (access(sys, F_OK) != 0)
			idx = i;
	}
	ASSERT_TRUE(idx >= 0);
	struct loop *l;
	struct uevent_listener *ul;
	listener(&l, &ul, NULL, 0);

	char suffix[64], name[32];
	snprintf(suffix, sizeof(suffix), "/block/loop%d", idx);
	snprintf(name, sizeof(name), "loop%d", idx);
	struct got g = {0};
	struct uevent_match m = {
		.what = name, .subsystem = "block", .devpath_suffix = suffix, .need_devname = true};
	ASSERT_EQ(uevent_wait(ul, &m, 5000, on_got, &g, NULL, NULL), 0);
	ASSERT_TRUE(loop_run_once(l, 50) >= 0);
	ASSERT_EQ(g.calls, 0); /* not there yet */
	if (ioctl(ctl, LOOP_CTL_ADD, idx) < 0) {
		int e = errno;
		uevent_listener_free(ul);
		SKIP("LOOP_CTL_ADD: %s", strerror(e));
	}
	run_until(l, &g.calls, 1, 3000);
	ASSERT_EQ(g.calls, 1);
	ASSERT_TRUE(g.had_ev);
	ASSERT_FALSE(g.ev.synthesized);
	ASSERT_EQ(g.ev.action, UEVENT_ACTION_ADD);
	ASSERT_STREQ(g.ev.devname, name);
	ASSERT_EQ(g.ev.major, 7);

	/* Attaching a backing file makes the kernel send "change". */
	char file[] = "/tmp/uevent-loop-XXXXXX";
	int ffd = mkostemp(file, O_CLOEXEC);
	ASSERT_TRUE(ffd >= 0);
	ASSERT_EQ(ftruncate(ffd, 1 << 20), 0);
	char dev[64];
	snprintf(dev, sizeof(dev), "/dev/loop%d", idx);
	int lfd = open(dev, O_RDWR | O_CLOEXEC);
	struct got gc = {0};
	struct uevent_match mc = m;
	mc.actions = UEVENT_ACTION_BIT(UEVENT_ACTION_CHANGE);
	ASSERT_EQ(uevent_wait(ul, &mc, 5000, on_got, &gc, NULL, NULL), 0);
	int configured = -1;
	if (lfd >= 0) {
		struct loop_config cfg = {.fd = (unsigned)ffd};
		configured = ioctl(lfd, LOOP_CONFIGURE, &cfg);
	}
	if (configured == 0) {
		run_until(l, &gc.calls, 1, 3000);
		ASSERT_EQ(gc.calls, 1);
		ASSERT_EQ(gc.ev.action, UEVENT_ACTION_CHANGE);
		ASSERT_STREQ(gc.ev.devname, name);
		ioctl(lfd, LOOP_CLR_FD, 0);
	}
	if (lfd >= 0)
		close(lfd);
	close(ffd);
	unlink(file);

	/* A removal drops the device: a later wait does not find it. */
	struct got gr = {0};
	struct uevent_match mr = m;
	mr.actions = UEVENT_ACTION_BIT(UEVENT_ACTION_REMOVE);
	ASSERT_EQ(uevent_wait(ul, &mr, 5000, on_got, &gr, NULL, NULL), 0);
	for (int tries = 0; tries < 50 && ioctl(ctl, LOOP_CTL_REMOVE, idx) < 0; tries++)
		usleep(20000);
	run_until(l, &gr.calls, 1, 3000);
	ASSERT_EQ(gr.calls, 1);
	ASSERT_EQ(gr.ev.action, UEVENT_ACTION_REMOVE);
	struct uevent ev;
	ASSERT_EQ(uevent_find(ul, &m, &ev, NULL), 0);
	close(ctl);
	uevent_listener_free(ul);
	loop_free(l);
	if (configured != 0)
		SKIP("add/remove checked; LOOP_CONFIGURE unavailable, change not checked");
}

TEST(wait_times_out_naming_the_device)
{
	struct loop *l;
	struct uevent_listener *ul;
	listener(&l, &ul, NULL, 0);
	struct got g = {0};
	struct uevent_match m = {.what = "virtio-blk disk at PCI path 1f/1f",
				 .subsystem = "block",
				 .devpath_suffix = "/block/never-there"};
	uint64_t t0 = loop_now_ms();
	ASSERT_EQ(uevent_wait(ul, &m, 300, on_got, &g, NULL, NULL), 0);
	run_until(l, &g.calls, 1, 3000);
	ASSERT_EQ(g.calls, 1);
	ASSERT_FALSE(g.had_ev);
	ASSERT_EQ(g.errnum, ETIMEDOUT);
	ASSERT_TRUE(strstr(g.msg, "Timeout after 300 ms") != NULL);
	ASSERT_TRUE(strstr(g.msg, "virtio-blk disk at PCI path 1f/1f") != NULL);
	ASSERT_TRUE(g.at_ms - t0 >= 300);
	ASSERT_TRUE(g.at_ms - t0 < 1500);
	ASSERT_EQ(uevent_listener_pending(ul), 0);

	/* Without a `what`, the message is built from the match. */
	struct got g2 = {0};
	struct uevent_match m2 = {.subsystem = "block", .devpath_suffix = "/block/never-there"};
	ASSERT_EQ(uevent_wait(ul, &m2, 50, on_got, &g2, NULL, NULL), 0);
	run_until(l, &g2.calls, 1, 3000);
	ASSERT_TRUE(strstr(g2.msg, "/block/never-there") != NULL);
	struct uevent_stats st;
	uevent_listener_stats(ul, &st);
	ASSERT_EQ(st.waits_timed_out, 2);
	uevent_listener_free(ul);
	loop_free(l);
}

TEST(cancel_and_limits)
{
	struct loop *l;
	struct uevent_listener *ul;
	listener(&l, &ul, NULL, 0);
	struct got a = {0}, b = {0};
	struct uevent_match m = {.subsystem = "block", .devpath_suffix = "/block/never-there"};
	struct uevent_waiter *wa = NULL, *wb = NULL;
	ASSERT_EQ(uevent_wait(ul, &m, 100, on_got, &a, &wa, NULL), 0);
	ASSERT_EQ(uevent_wait(ul, &m, 150, on_got, &b, &wb, NULL), 0);
	ASSERT_EQ(uevent_listener_pending(ul), 2);
	ASSERT_NULL(uevent_wait_cancel(ul, wa));
	ASSERT_EQ(uevent_listener_pending(ul), 1);
	run_until(l, &b.calls, 1, 3000);
	ASSERT_EQ(b.calls, 1);
	ASSERT_TRUE(loop_run_once(l, 100) >= 0);
	ASSERT_EQ(a.calls, 0);
	ASSERT_NULL(uevent_wait_cancel(ul, NULL));

	/* A present device's pending "at once" completion can be cancelled too. */
	struct got c = {0};
	struct uevent_match lo = {.subsystem = "net", .devpath = "/devices/virtual/net/lo"};
	struct uevent_waiter *wc = NULL;
	ASSERT_EQ(uevent_wait(ul, &lo, 1000, on_got, &c, &wc, NULL), 0);
	uevent_wait_cancel(ul, wc);
	ASSERT_TRUE(loop_run_once(l, 50) >= 0);
	ASSERT_EQ(c.calls, 0);

	/* Bounded table. */
	struct got many = {0};
	for (int i = 0; i < UEVENT_MAX_WAITERS; i++)
		ASSERT_EQ(uevent_wait(ul, &m, 60000, on_got, &many, NULL, NULL), 0);
	_cleanup_error_ agent_error_t *err = NULL;
	ASSERT_EQ(uevent_wait(ul, &m, 60000, on_got, &many, NULL, &err), -ENOSPC);
	ASSERT_NOT_NULL(err);
	/* Too long a string in a match. */
	char longs[UEVENT_DEVPATH_MAX + 8];
	memset(longs, 'x', sizeof(longs));
	longs[sizeof(longs) - 1] = '\0';
	uevent_listener_free(ul); /* drops all without calling them */
	ASSERT_EQ(many.calls, 0);
	loop_free(l);
	listener(&l, &ul, NULL, 0);
	struct uevent_match ml = {.devpath_suffix = longs};
	ASSERT_EQ(uevent_wait(ul, &ml, 100, on_got, &many, NULL, NULL), -EINVAL);
	uevent_listener_free(ul);
	loop_free(l);
}

TEST(non_kernel_sender_is_dropped)
{
	struct loop *l;
	struct uevent_listener *ul;
	listener(&l, &ul, NULL, 0);
	struct got g = {0};
	struct uevent_match m = {.subsystem = "block", .devpath = "/devices/virtual/block/fake0"};
	ASSERT_EQ(uevent_wait(ul, &m, 5000, on_got, &g, NULL, NULL), 0);

	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	ASSERT_TRUE(s >= 0);
	char b[512];
	size_t n = msg(b, sizeof(b),
		       "add@/devices/virtual/block/fake0|ACTION=add|DEVPATH=/devices/virtual/block/"
		       "fake0|SUBSYSTEM=block|DEVNAME=fake0|SEQNUM=1");
	struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = uevent_listener_portid(ul)};
	ASSERT_EQ(sendto(s, b, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	close(s);
	uint64_t end = loop_now_ms() + 500;
	struct uevent_stats st = {0};
	while (st.dropped_sender == 0 && loop_now_ms() < end) {
		ASSERT_TRUE(loop_run_once(l, 50) >= 0);
		uevent_listener_stats(ul, &st);
	}
	ASSERT_EQ(st.dropped_sender, 1);
	ASSERT_EQ(g.calls, 0);

	/* The same bytes through the kernel path would have matched. */
	ASSERT_EQ(uevent_listener_process(ul, b, n), 0);
	ASSERT_EQ(g.calls, 1);
	/* Garbage through that path is rejected and completes nothing. */
	struct got g2 = {0};
	ASSERT_EQ(uevent_wait(ul, &m, 5000, on_got, &g2, NULL, NULL), 0);
	ASSERT_TRUE(loop_run_once(l, 20) >= 0);
	g2.calls = 0; /* fake0 is cached now: that wait completed at once */
	struct uevent_match m3 = {.subsystem = "block", .devpath = "/devices/virtual/block/fake1"};
	struct got g3 = {0};
	ASSERT_EQ(uevent_wait(ul, &m3, 5000, on_got, &g3, NULL, NULL), 0);
	ASSERT_TRUE(uevent_listener_process(ul, "\x01\x02garbage", 9) < 0);
	ASSERT_TRUE(uevent_listener_process(ul, "add@/devices/virtual/block/fake1", 33) < 0);
	ASSERT_EQ(g3.calls, 0);
	uevent_listener_stats(ul, &st);
	ASSERT_EQ(st.dropped_parse, 2);
	uevent_listener_free(ul);
	loop_free(l);
}

TEST(cache_follows_add_and_remove_in_fake_sysfs)
{
	char root[] = "/tmp/uevent-sys-XXXXXX";
	ASSERT_NOT_NULL(mkdtemp(root));
	char p[256];
	snprintf(p, sizeof(p), "%s/devices/virtio-mmio/virtio0/block/vdb", root);
	ASSERT_EQ(mkdir_p(p, 0755), 0);
	struct loop *l;
	struct uevent_listener *ul;
	listener(&l, &ul, root, 0);
	char b[512];
	size_t n =
		msg(b, sizeof(b),
		    "add@/devices/virtio-mmio/virtio0/block/vdb|ACTION=add|"
		    "DEVPATH=/devices/virtio-mmio/virtio0/block/vdb|SUBSYSTEM=block|DEVNAME=vdb");
	ASSERT_EQ(uevent_listener_process(ul, b, n), 0);
	struct uevent_match m = {
		.subsystem = "block", .devpath_suffix = "/block/vdb", .need_devname = true};
	struct uevent ev;
	ASSERT_EQ(uevent_find(ul, &m, &ev, NULL), 1);
	ASSERT_STREQ(ev.devname, "vdb");
	ASSERT_FALSE(ev.synthesized);
	/* A cached device that vanished from sysfs (its "remove" lost) is not reported. */
	ASSERT_EQ(rm_rf(p), 0);
	ASSERT_EQ(uevent_find(ul, &m, &ev, NULL), 0);
	ASSERT_EQ(mkdir_p(p, 0755), 0);
	ASSERT_EQ(uevent_listener_process(ul, b, n), 0);
	ASSERT_EQ(uevent_find(ul, &m, &ev, NULL), 1);
	n = msg(b, sizeof(b),
		"remove@/devices/virtio-mmio/virtio0/block/vdb|ACTION=remove|"
		"DEVPATH=/devices/virtio-mmio/virtio0/block/vdb|SUBSYSTEM=block|DEVNAME=vdb");
	ASSERT_EQ(uevent_listener_process(ul, b, n), 0);
	ASSERT_EQ(uevent_find(ul, &m, &ev, NULL), 0);
	uevent_listener_free(ul);
	loop_free(l);
	rm_rf(root);
}

TEST(memory_block_is_onlined_on_add)
{
	char root[] = "/tmp/uevent-sys-XXXXXX";
	ASSERT_NOT_NULL(mkdtemp(root));
	char p[256];
	snprintf(p, sizeof(p), "%s/devices/system/memory/memory9", root);
	ASSERT_EQ(mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/devices/system/memory/memory9/online", root);
	FILE *f = fopen(p, "w");
	ASSERT_NOT_NULL(f);
	fputs("0\n", f);
	fclose(f);
	struct loop *l;
	struct uevent_listener *ul;
	listener(&l, &ul, root, UEVENT_LISTENER_ONLINE_MEMORY);
	char b[512];
	size_t n = msg(b, sizeof(b),
		       "add@/devices/system/memory/memory9|ACTION=add|"
		       "DEVPATH=/devices/system/memory/memory9|SUBSYSTEM=memory");
	ASSERT_EQ(uevent_listener_process(ul, b, n), 0);
	char buf[8] = "";
	f = fopen(p, "r");
	ASSERT_NOT_NULL(f);
	ASSERT_NOT_NULL(fgets(buf, sizeof(buf), f));
	fclose(f);
	ASSERT_EQ(buf[0], '1');
	struct uevent_stats st;
	uevent_listener_stats(ul, &st);
	ASSERT_EQ(st.memory_onlined, 1);
	uevent_listener_free(ul);
	loop_free(l);
	rm_rf(root);
}

struct chain {
	struct uevent_listener *ul;
	int calls;
	struct got second;
};

/* A callback may arm the next wait. */
static void on_chain(const struct uevent *ev, agent_error_t *err, void *userdata)
{
	struct chain *c = userdata;
	c->calls++;
	agent_error_free(err);
	struct uevent_match m = {.subsystem = "block", .devpath_suffix = "/block/never-there"};
	ASSERT_EQ(uevent_wait(c->ul, &m, 50, on_got, &c->second, NULL, NULL), 0);
}

TEST(callback_may_arm_another_wait)
{
	struct loop *l;
	struct chain c = {0};
	listener(&l, &c.ul, NULL, 0);
	struct uevent_match m = {.subsystem = "net", .devpath = "/devices/virtual/net/lo"};
	ASSERT_EQ(uevent_wait(c.ul, &m, 1000, on_chain, &c, NULL, NULL), 0);
	run_until(l, &c.second.calls, 1, 3000);
	ASSERT_EQ(c.calls, 1);
	ASSERT_EQ(c.second.calls, 1);
	ASSERT_EQ(c.second.errnum, ETIMEDOUT);
	uevent_listener_free(c.ul);
	loop_free(l);
}
