/*
 * test_procparse: the /proc text parsers behind the file readers
 * (proc_stat_parse_buf, proc_status_parse_buf, proc_schedstat_parse_buf,
 * proc_maps_parse_buf, syscalls_parse_buf, fdinfo_net_parse_buf,
 * cgroup_mountinfo_parse_buf) on hand-written text
 * whose every field the test chose, and on this process's own files
 * against independent truths: getpid(), a socket's getsockname(), the
 * schedstat files summed here, stat(2) of /proc/self/exe, the address of
 * a function of this binary.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "proc/cgroup.h"
#include "proc/fdinfo.h"
#include "proc/proc.h"
#include "proc/syscalls.h"

static void test_stat(void **state)
{
	/* A comm holding ") " and spaces: the last ')' ends it. */
	const char *s = "4242 (a) b) c) S 1 4242 4242 0 -1 4194560 120 0 3 0 5 6 0 0 20 0 9 0 "
			"777777 1000 200\n";
	struct proc_stat st;
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(proc_stat_parse_buf(s, strlen(s), &st), 0);
	assert_true(st.has_comm);
	assert_string_equal(st.comm, "a) b) c");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.flags, 4194560);
	assert_int_equal(st.majflt, 3);
	assert_int_equal(st.starttime, 777777);
	assert_int_equal(st.nfields, 4);
	/* Cut short: what is there is read. */
	assert_int_equal(proc_stat_parse_buf(s, 41, &st), 0);
	assert_int_equal(st.nfields, 2);
	assert_int_equal(st.flags, 4194560);
	/* Nothing after ')' (the old reader looked one byte past the text). */
	assert_int_equal(proc_stat_parse_buf("1 (x)", 5, &st), -1);
	assert_int_equal(proc_stat_parse_buf("no parens", 9, &st), -1);
	assert_int_equal(proc_stat_parse_buf("", 0, &st), -1);
	/* LEN bounds the text: no NUL needed. */
	assert_int_equal(proc_stat_parse_buf("1 (x) R 0 1 1 0 -1 64XXXX", 22, &st), 0);
	assert_int_equal(st.flags, 64);
	/* A comm longer than the field is cut. */
	assert_int_equal(proc_stat_parse_buf("1 (0123456789012345678901234567890123456789) R 0",
					     48, &st), 0);
	assert_int_equal(strlen(st.comm), sizeof(st.comm) - 1);
	/* This process: its own start time, what proc_starttime reads. */
	buf = (char *)tu_read_file("/proc/self/stat", &len);
	assert_non_null(buf);
	assert_int_equal(proc_stat_parse_buf(buf, len, &st), 0);
	assert_int_equal(st.nfields, 5);
	assert_int_equal(st.state, 'R');
	assert_true(st.startstack != 0);
	{
		uint64_t t;

		assert_true(proc_starttime(getpid(), &t));
		assert_int_equal(st.starttime, t);
	}
	free(buf);
}

static void test_status(void **state)
{
	const char *s = "Name:\tserver\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4243\n"
			"PPid:\t1\nTgidX:\t9\n";
	long long v = 0;
	char *buf;
	size_t len;

	(void)state;
	assert_true(proc_status_parse_buf(s, strlen(s), "Tgid", &v));
	assert_int_equal(v, 4242);
	assert_true(proc_status_parse_buf(s, strlen(s), "Pid", &v));
	assert_int_equal(v, 4243);
	assert_true(proc_status_parse_buf(s, strlen(s), "PPid", &v));
	assert_int_equal(v, 1);
	assert_false(proc_status_parse_buf(s, strlen(s), "Name", &v));  /* not a number */
	assert_false(proc_status_parse_buf(s, strlen(s), "Threads", &v));
	assert_false(proc_status_parse_buf(s, strlen(s), "Tgi", &v));
	/* LEN cuts the text in the middle of "Tgid:\t4242". */
	assert_false(proc_status_parse_buf(s, 38, "Tgid", &v));
	buf = (char *)tu_read_file("/proc/self/status", &len);
	assert_non_null(buf);
	assert_true(proc_status_parse_buf(buf, len, "Tgid", &v));
	assert_int_equal(v, getpid());
	assert_int_equal(proc_tgid(getpid()), getpid());
	free(buf);
}

static void test_schedstat(void **state)
{
	uint64_t run = 0, wait = 0, sum = 0, got = 0;
	char path[512];
	DIR *d;
	struct dirent *de;

	(void)state;
	assert_true(proc_schedstat_parse_buf("123 456 7\n", 10, &run, &wait));
	assert_int_equal(run, 123);
	assert_int_equal(wait, 456);
	assert_false(proc_schedstat_parse_buf("123", 3, &run, &wait));
	assert_false(proc_schedstat_parse_buf("123 456", 4, &run, &wait));
	/* Our threads' run-queue delays, summed here, then by proc_run_delay:
	 * the second read is later, so not smaller. */
	d = opendir("/proc/self/task");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *buf;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", de->d_name);
		buf = (char *)tu_read_file(path, &len);
		if (buf && proc_schedstat_parse_buf(buf, len, &run, &wait))
			sum += wait;
		free(buf);
	}
	closedir(d);
	assert_true(proc_run_delay(getpid(), &got));
	assert_true(got >= sum);
	assert_false(proc_run_delay(4194304, &got));
}

static void test_maps(void **state)
{
	const char *l = "00400000-00461000 r-xp 00001000 fe:01 1234567                 "
			"/srv/my server (deleted)\nffff-0 ---p 0 0:0 0\n";
	struct proc_map m;
	struct stat sb;
	char *buf, *line;
	size_t len;
	bool found = false;
	uint64_t here = (uint64_t)(uintptr_t)&test_maps;

	(void)state;
	assert_true(proc_maps_parse_buf(l, strlen(l), &m));
	assert_int_equal(m.start, 0x400000);
	assert_int_equal(m.end, 0x461000);
	assert_string_equal(m.perms, "r-xp");
	assert_int_equal(m.offset, 0x1000);
	assert_int_equal(m.major, 0xfe);
	assert_int_equal(m.minor, 1);
	assert_int_equal(m.ino, 1234567);
	assert_false(proc_maps_parse_buf(l, 30, &m)); /* cut before the inode */
	assert_false(proc_maps_parse_buf("garbage", 7, &m));
	/* This process: the mapping holding this function is of /proc/self/exe. */
	assert_int_equal(stat("/proc/self/exe", &sb), 0);
	buf = (char *)tu_read_file("/proc/self/maps", &len);
	assert_non_null(buf);
	for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t n = strchr(line, '\n') ? (size_t)(strchr(line, '\n') - line) : strlen(line);

		assert_true(proc_maps_parse_buf(line, n, &m));
		if (here >= m.start && here < m.end) {
			assert_int_equal(m.ino, sb.st_ino);
			assert_int_equal(makedev(m.major, m.minor), sb.st_dev);
			assert_true(m.perms[2] == 'x');
			found = true;
		}
	}
	assert_true(found);
	free(buf);
}

static void test_syscall_file(void **state)
{
	long nr = -1;
	char *buf;
	size_t len;

	(void)state;
	assert_true(syscalls_parse_buf("7 0x3 0xc000123000 0x1000 0x0 0x0 0x7ffd 0x46a2e3\n", 45,
				       &nr));
	assert_int_equal(nr, 7);
	assert_false(syscalls_parse_buf("running\n", 8, &nr));
	assert_false(syscalls_parse_buf("-1 0x7ffd 0x46a2e3\n", 19, &nr));
	assert_false(syscalls_parse_buf("", 0, &nr));
	assert_true(syscalls_parse_buf("232", 2, &nr)); /* LEN bounds it */
	assert_int_equal(nr, 23);
	/* Reading our own: this thread is running, not blocked in a call. */
	buf = (char *)tu_read_file("/proc/thread-self/syscall", &len);
	if (buf) {
		assert_false(syscalls_parse_buf(buf, len, &nr) && nr != SYS_read);
		free(buf);
	}
}

static void test_net(void **state)
{
	const char *tcp =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   "
		"uid  timeout inode\n"
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     "
		"0        0 12345 1 0000000000000000 100 0 0 10 0\n"
		"   1: 0100007F:1F90 0200007F:D431 01 00000000:00000000 00:00000000 00000000     "
		"0        0 12346 1 0000000000000000 20 4 30 10 -1\n";
	const char *tcp6 =
		"   0: 00000000000000000000000001000000:0050 0000000000000000FFFF00000100007F:C350 "
		"01 00000000:00000000 00:00000000 00000000     0        0 777 1\n";
	struct fdinfo fi;
	int fd;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sa);
	struct stat sb;
	char *buf, want[128];
	size_t len;

	(void)state;
	memset(&fi, 0, sizeof(fi));
	assert_true(fdinfo_net_parse_buf(tcp, strlen(tcp), "tcp", 12345, &fi));
	assert_string_equal(fi.desc, "tcp 127.0.0.1:8080 (listening)");
	memset(&fi, 0, sizeof(fi));
	assert_true(fdinfo_net_parse_buf(tcp, strlen(tcp), "tcp", 12346, &fi));
	assert_string_equal(fi.desc, "tcp 127.0.0.1:8080 -> 127.0.0.2:54321");
	assert_false(fdinfo_net_parse_buf(tcp, strlen(tcp), "tcp", 999, &fi));
	memset(&fi, 0, sizeof(fi));
	assert_true(fdinfo_net_parse_buf(tcp6, strlen(tcp6), "tcp6", 777, &fi));
	assert_string_equal(fi.desc, "tcp6 [::1]:80 -> [::ffff:127.0.0.1]:50000");
	/* A listening socket of ours, found by inode in our own table. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	assert_int_equal(fstat(fd, &sb), 0);
	buf = (char *)tu_read_file("/proc/self/net/tcp", &len);
	assert_non_null(buf);
	memset(&fi, 0, sizeof(fi));
	assert_true(fdinfo_net_parse_buf(buf, len, "tcp", (unsigned long)sb.st_ino, &fi));
	snprintf(want, sizeof(want), "tcp 127.0.0.1:%u (listening)", ntohs(sa.sin_port));
	assert_string_equal(fi.desc, want);
	free(buf);
	/* And through the file reader. */
	assert_true(fdinfo_get(getpid(), fd, &fi));
	assert_string_equal(fi.desc, want);
	close(fd);
}

static void test_mountinfo(void **state)
{
	const char *mi =
		"22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
		"33 22 0:29 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
		"34 22 0:30 /docker/abc /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
		"31 22 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
		"32 22 0:28 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
		"35 22 0:31 / /other/memory rw - cgroup cgroup rw,memory\n"
		"30 22 0:26 / /sys/fs/cgroup/unified rw shared:9 - cgroup2 cgroup2 rw,nsdelegate";
	struct cgroup_mounts m;

	(void)state;
	memset(&m, 0, sizeof(m));
	cgroup_mountinfo_parse_buf(mi, strlen(mi), &m);
	/* Mounted at their root only; the first one wins; a last line without '\n'. */
	assert_string_equal(m.cpu, "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(m.memory, "/sys/fs/cgroup/memory");
	assert_string_equal(m.v2, "/sys/fs/cgroup/unified");
	/* "cpuacct" alone is not "cpu". */
	memset(&m, 0, sizeof(m));
	cgroup_mountinfo_parse_buf("1 1 0:1 / /a rw - cgroup cgroup rw,cpuacct\n", 42, &m);
	assert_string_equal(m.cpu, "");
	/* No " - " separator: ignored. */
	memset(&m, 0, sizeof(m));
	cgroup_mountinfo_parse_buf("1 1 0:1 / /a rw cgroup2 cgroup2 rw\n", 35, &m);
	assert_string_equal(m.v2, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_schedstat),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_syscall_file),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_mountinfo),
	};

	return cmocka_run_group_tests_name("procparse", tests, NULL, NULL);
}
