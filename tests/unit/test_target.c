/*
 * test_target: struct target (core/target.c) on child processes this test
 * starts: a Go fixture stopped by ptrace right after its exec (so it is a
 * live Go process that runs no code), opened as a target (executable,
 * name, reader, load bias checked against the child's own memory through
 * /proc/PID/mem, the reader shared through the cache), then target_check
 * on a child that is alive, that exec'd another binary, that is a zombie,
 * that was reaped, and on a pid whose start time changed (reuse). Also a
 * thread id resolved to its process, and a pid that is not there.
 */
#include "testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "core/target.h"
#include "gofixture.h"
#include "proc/proc.h"

/* Start FIXTURE stopped at its exec; 0 if that is not possible here. */
/* Run PATH stopped at its first instruction (ptrace); 0 if that failed. */
static pid_t start_stopped_path(const char *path)
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };

		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
			_exit(99);
		execv(path, argv);
		_exit(98);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 0;
	}
	return pid;
}

static pid_t start_stopped(const char *fixture)
{
	char rel[64], path[PATH_MAX];

	snprintf(rel, sizeof(rel), "build/fixtures/%s", fixture);
	if (!tu_fixture(rel, path, sizeof(path)))
		return 0;
	return start_stopped_path(path);
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* N bytes of PID's memory at ADDR, read through /proc/PID/mem. */
static bool read_mem(pid_t pid, uint64_t addr, void *buf, size_t n)
{
	char path[64];
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	ok = pread(fd, buf, n, (off_t)addr) == (ssize_t)n;
	close(fd);
	return ok;
}

static void check_open(const char *fixture, bool pie)
{
	pid_t pid = start_stopped(fixture);
	struct target t, t2;
	struct target_cache *cache;
	pid_t tid_of = -1;
	char err[512], label[128], want[128], code[32];
	uint64_t entry, st;
	const uint8_t *file;

	TU_REQUIRE(pid > 0, "cannot start a ptrace-stopped fixture (make fixtures; ptrace)");
	cache = target_cache_new();
	assert_non_null(cache);
	if (target_open(pid, cache, &t, &tid_of, err, sizeof(err)) != 0) {
		stop_child(pid);
		fail_msg("target_open %s: %s", fixture, err);
	}
	assert_int_equal(tid_of, 0);
	assert_int_equal(t.pid, pid);
	assert_string_equal(t.name, fixture);
	assert_non_null(strstr(t.exe, "/build/fixtures/"));
	assert_non_null(t.gb);
	assert_int_equal(t.state, TARGET_ALIVE);
	assert_true(proc_starttime(pid, &st));
	assert_int_equal(t.starttime, st);
	snprintf(want, sizeof(want), "pid %d (%s)", (int)pid, fixture);
	assert_string_equal(target_label(&t, label, sizeof(label)), want);
	/* The bias maps link addresses to the child's: main.main's code is there. */
	if (pie)
		assert_true(t.bias != 0 && t.bias % 4096 == 0);
	else
		assert_int_equal(t.bias, 0);
	entry = gf_entry(t.gb, "main.main");
	file = elfimg_vptr(t.gb->img, entry, sizeof(code));
	assert_non_null(file);
	assert_true(read_mem(pid, entry + t.bias, code, sizeof(code)));
	assert_memory_equal(code, file, sizeof(code));
	assert_int_equal(target_check(&t), TARGET_ALIVE);
	/* A second target of the same executable shares the reader. */
	assert_int_equal(target_open(pid, cache, &t2, NULL, err, sizeof(err)), 0);
	assert_ptr_equal(t2.gb, t.gb);
	target_close(&t2);
	assert_null(t2.gb);
	/* Without a cache, its own reader. */
	assert_int_equal(target_open(pid, NULL, &t2, NULL, err, sizeof(err)), 0);
	assert_ptr_not_equal(t2.gb, t.gb);
	target_close(&t2);
	/* A pid reused by another process has another start time. */
	t2 = t;
	t2.starttime++;
	assert_int_equal(target_check(&t2), TARGET_EXITED);
	/* Killed: a zombie first (no exe), then gone. */
	kill(pid, SIGKILL);
	for (int i = 0; i < 500; i++) {
		char s[64];
		struct stat sb;

		snprintf(s, sizeof(s), "/proc/%d/exe", (int)pid);
		if (stat(s, &sb) != 0)
			break;
		usleep(10000);
	}
	assert_int_equal(target_check(&t), TARGET_EXITED);
	waitpid(pid, NULL, 0);
	assert_int_equal(target_check(&t), TARGET_EXITED);
	target_close(&t);
	target_cache_free(cache);
}

static void test_open_exec(void **state)
{
	(void)state;
	check_open("hello", false);
}

static void test_open_pie(void **state)
{
	(void)state;
	check_open("hello-pie", true);
}

/* A child running sh, which execs sleep when told: ALIVE, then EXECED. */
static void test_check_exec(void **state)
{
	int fds[2];
	pid_t pid;
	struct target t;
	uint64_t dev, ino;
	bool changed = false;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", "read x; exec sleep 30", (char *)NULL);
		_exit(98);
	}
	close(fds[0]);
	/* Wait until the child is sh (not this test binary any more). */
	for (int i = 0; i < 500; i++) {
		char exe[PATH_MAX], link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
		n = readlink(link, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = 0;
			if (!strstr(exe, "test_target"))
				break;
		}
		usleep(10000);
	}
	/* What target_open records, for a process that is not Go. */
	memset(&t, 0, sizeof(t));
	t.pid = pid;
	assert_true(proc_starttime(pid, &t.starttime));
	assert_true(proc_exe_id(pid, &t.exe_dev, &t.exe_ino));
	assert_true(proc_startstack(pid, &t.startstack));
	assert_int_equal(target_check(&t), TARGET_ALIVE);
	assert_int_equal(write(fds[1], "\n", 1), 1);
	for (int i = 0; i < 500 && !changed; i++) {
		changed = proc_exe_id(pid, &dev, &ino) && (dev != t.exe_dev || ino != t.exe_ino);
		if (!changed)
			usleep(10000);
	}
	close(fds[1]);
	if (!changed) {
		stop_child(pid);
		fail_msg("the child did not exec sleep");
	}
	assert_int_equal(target_check(&t), TARGET_EXECED);
	stop_child(pid);
	assert_int_equal(target_check(&t), TARGET_EXITED);
}

static void *idle_thread(void *arg)
{
	pid_t *tid = arg;

	*tid = (pid_t)syscall(SYS_gettid);
	pause();
	return NULL;
}

/* A newline in the executable's name: shown as '?', kept raw for exact matches. */
static void test_open_odd_name(void **state)
{
	char fix[PATH_MAX], odd[PATH_MAX + 16], err[512];
	struct target t;
	pid_t pid;

	(void)state;
	TU_REQUIRE(tu_fixture("build/fixtures/hello", fix, sizeof(fix)), "no fixture (make fixtures)");
	snprintf(odd, sizeof(odd), "%.*s/gs\nodd", (int)(strrchr(fix, '/') - fix), fix);
	unlink(odd);
	TU_REQUIRE(link(fix, odd) == 0, "cannot link the fixture under an odd name");
	pid = start_stopped_path(odd);
	unlink(odd);
	TU_REQUIRE(pid > 0, "cannot start a ptrace-stopped fixture (ptrace)");
	if (target_open(pid, NULL, &t, NULL, err, sizeof(err)) != 0) {
		stop_child(pid);
		fail_msg("target_open: %s", err);
	}
	stop_child(pid);
	assert_string_equal(t.raw_name, "gs\nodd");
	assert_string_equal(t.name, "gs?odd");
	target_close(&t);
}

static void test_open_errors(void **state)
{
	struct target t;
	char err[512], want[64];
	pid_t tid = 0, tid_of = -1;
	pthread_t th;

	(void)state;
	/* A thread id: resolved to its process (this test, which is not Go). */
	assert_int_equal(pthread_create(&th, NULL, idle_thread, &tid), 0);
	for (int i = 0; i < 500 && !__atomic_load_n(&tid, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	assert_true(tid > 0 && tid != getpid());
	assert_int_equal(target_open(tid, NULL, &t, &tid_of, err, sizeof(err)), -1);
	assert_int_equal(tid_of, tid);
	snprintf(want, sizeof(want), "pid %d (", (int)getpid());
	if (!strstr(err, want))
		fail_msg("thread %d: '%s' lacks '%s'", (int)tid, err, want);
	pthread_cancel(th);
	pthread_join(th, NULL);
	/* No such process. */
	assert_int_equal(target_open(4194304, NULL, &t, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "no such process: 4194304");
	assert_null(t.gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_exec),
		cmocka_unit_test(test_open_pie),
		cmocka_unit_test(test_check_exec),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_odd_name),
	};

	return cmocka_run_group_tests_name("target", tests, NULL, NULL);
}
