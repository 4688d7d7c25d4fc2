/*
 * test_proc: PID parsing, target resolution and its error sentences
 * (gone, zombie, kernel thread, permission), thread counts, and the load
 * bias of this very test process checked against the kernel's auxv.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/types.h>

#include "gobin/elfimg.h"
#include "proc/proc.h"

static void test_parse_pid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		pid_t pid;
	} cases[] = {
		{ "1", true, 1 },
		{ "007", true, 7 },
		{ "4194304", true, 4194304 }, /* PID_MAX_LIMIT */
		{ "4194305", false, 0 },
		{ "99999999999999999999999999", false, 0 },
		{ "0", false, 0 },
		{ "00", false, 0 },
		{ "", false, 0 },
		{ "-1", false, 0 },
		{ "+1", false, 0 },
		{ " 1", false, 0 },
		{ "1 ", false, 0 },
		{ "1a", false, 0 },
		{ "0x10", false, 0 },
		{ "１", false, 0 }, /* a fullwidth digit is not a digit */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t pid = -42;
		bool ok = proc_parse_pid(cases[i].s, &pid);

		if (ok != cases[i].ok)
			fail_msg("proc_parse_pid(\"%s\") = %d", cases[i].s, ok);
		assert_int_equal(pid, ok ? cases[i].pid : -42);
	}
	assert_false(proc_parse_pid(NULL, &(pid_t){ 0 }));
}

static void *idle_thread(void *arg)
{
	int *fds = arg;
	char c;

	/* Park until the test closes the pipe. */
	while (read(fds[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void test_alive_and_threads(void **state)
{
	pthread_t th;
	int fds[2];
	pid_t child;

	(void)state;
	assert_true(proc_alive(getpid()));
	assert_int_equal(proc_thread_count(getpid()), 1);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pthread_create(&th, NULL, idle_thread, fds), 0);
	assert_int_equal(proc_thread_count(getpid()), 2);
	close(fds[1]);
	pthread_join(th, NULL);
	close(fds[0]);
	assert_int_equal(proc_thread_count(getpid()), 1);

	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_false(proc_alive(child));
	assert_int_equal(proc_thread_count(child), -1);
}

static void test_target_path(void **state)
{
	struct proc_target t;
	char err[256] = "", dir[] = "/tmp/goscope-proc-XXXXXX", cwd[PATH_MAX];
	int fd;

	(void)state;
	assert_int_equal(proc_target_parse("/bin/sh", &t, err, sizeof(err)), 0);
	assert_int_equal(t.pid, 0);
	assert_string_equal(t.open_path, "/bin/sh");
	assert_string_equal(t.exe, "/bin/sh");

	/* A missing path is still a path: opening it reports the problem. */
	assert_int_equal(proc_target_parse("./no/such/file", &t, err, sizeof(err)), 0);
	assert_int_equal(t.pid, 0);
	assert_string_equal(t.open_path, "./no/such/file");

	/* Out-of-range digits are not a PID either. */
	assert_int_equal(proc_target_parse("99999999999", &t, err, sizeof(err)), 0);
	assert_int_equal(t.pid, 0);

	/* An existing file whose name is all digits is a file, not a PID. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	fd = open("1", O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(proc_target_parse("1", &t, err, sizeof(err)), 0);
	assert_int_equal(t.pid, 0);
	assert_string_equal(t.open_path, "1");
	unlink("1");
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
}

static void test_target_self(void **state)
{
	struct proc_target t;
	char arg[32], err[256] = "", exe[PATH_MAX], want_open[64];
	ssize_t n;

	(void)state;
	assert_int_equal(prctl(PR_SET_NAME, "goscope-self", 0, 0, 0), 0);
	snprintf(arg, sizeof(arg), "%d", (int)getpid());
	if (proc_target_parse(arg, &t, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(t.pid, getpid());
	snprintf(want_open, sizeof(want_open), "/proc/%d/exe", (int)getpid());
	assert_string_equal(t.open_path, want_open);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = 0;
	assert_string_equal(t.exe, exe);
	assert_string_equal(t.comm, "goscope-self");
}

/* A comm holding ") (" must not confuse the /proc/PID/stat parser. */
static void test_target_tricky_comm(void **state)
{
	struct proc_target t;
	char arg[32], err[256] = "", c;
	int fds[2], ready[2];
	pid_t child;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(fds[1]);
		close(ready[0]);
		prctl(PR_SET_NAME, "a) S 1 (b", 0, 0, 0);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	snprintf(arg, sizeof(arg), "%d", (int)child);
	assert_int_equal(proc_target_parse(arg, &t, err, sizeof(err)), 0);
	assert_string_equal(t.comm, "a) S 1 (b");
	close(fds[1]);
	close(ready[0]);
	assert_int_equal(waitpid(child, NULL, 0), child);
}

static void test_target_gone(void **state)
{
	struct proc_target t;
	char arg[32], err[256] = "";
	pid_t child;

	(void)state;
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	snprintf(arg, sizeof(arg), "%d", (int)child);
	assert_int_equal(proc_target_parse(arg, &t, err, sizeof(err)), -1);
	assert_int_equal(t.pid, child);
	assert_non_null(strstr(err, "no such process"));
	assert_non_null(strstr(err, arg));
}

/* Read the state letter of /proc/PID/stat (after the last ')'). */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	size_t n;
	char *rp;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

static void test_target_zombie(void **state)
{
	struct proc_target t;
	char arg[32], err[256] = "";
	pid_t child;

	(void)state;
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	/* Not reaped yet: wait (bounded) for the kernel to mark it Z. */
	for (int i = 0; i < 2000 && proc_state(child) != 'Z'; i++)
		usleep(1000);
	assert_int_equal(proc_state(child), 'Z');
	snprintf(arg, sizeof(arg), "%d", (int)child);
	assert_int_equal(proc_target_parse(arg, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no executable"));
	assert_int_equal(waitpid(child, NULL, 0), child);
}

static void test_target_kthread(void **state)
{
	struct proc_target t;
	char err[256] = "", comm[64] = "";
	FILE *f = fopen("/proc/2/comm", "r");

	(void)state;
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
	}
	/* In a PID namespace, pid 2 is an ordinary process (or none). */
	TU_REQUIRE(strcmp(comm, "kthreadd\n") == 0, "pid 2 is not kthreadd here");
	assert_int_equal(proc_target_parse("2", &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "kernel thread"));
	assert_non_null(strstr(err, "kthreadd"));
	assert_string_equal(t.comm, "kthreadd");
}

/* As nobody, another user's process is unreadable: say so. */
static void test_target_permission(void **state)
{
	char err[256] = "", arg[32];
	int fds[2];
	pid_t child;
	ssize_t n;

	(void)state;
	TU_REQUIRE(getuid() == 0, "needs root to become nobody");
	snprintf(arg, sizeof(arg), "%d", (int)getpid());
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct proc_target t;
		char e[256] = "";

		close(fds[0]);
		if (setgid(65534) != 0 || setuid(65534) != 0) {
			snprintf(e, sizeof(e), "SKIP");
		} else if (proc_target_parse(arg, &t, e, sizeof(e)) == 0) {
			snprintf(e, sizeof(e), "unexpected success");
		}
		if (write(fds[1], e, strlen(e)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], err, sizeof(err) - 1);
	close(fds[0]);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_true(n > 0);
	err[n] = 0;
	TU_REQUIRE(strcmp(err, "SKIP") != 0, "cannot setuid here");
	assert_non_null(strstr(err, "permission denied"));
	assert_non_null(strstr(err, "CAP_SYS_PTRACE"));
}

/*
 * This test binary is an ELF executable too: its load bias, found
 * through /proc/self/maps, is what the kernel says AT_ENTRY is minus the
 * e_entry the file declares.
 */
static void test_load_bias_self(void **state)
{
	char err[256] = "";
	struct elfimg *img = NULL;
	uint64_t bias = 1, e_entry;
	uint8_t hdr[64];
	int fd;

	(void)state;
	fd = open("/proc/self/exe", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	close(fd);
	assert_int_equal(hdr[EI_CLASS], ELFCLASS64);
	memcpy(&e_entry, hdr + 24, 8); /* e_entry; host byte order */

	if (elfimg_open("/proc/self/exe", &img, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	if (proc_load_bias(getpid(), img, &bias, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(bias, getauxval(AT_ENTRY) - e_entry);
	print_message("  bias 0x%llx (%s)\n", (unsigned long long)bias,
		      elfimg_is_pie(img) ? "PIE" : "not PIE");
	elfimg_close(img);
}

static void test_load_bias_gone(void **state)
{
	char err[256] = "";
	struct elfimg *img = NULL;
	uint64_t bias = 1;
	pid_t child;

	(void)state;
	if (elfimg_open("/proc/self/exe", &img, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(proc_load_bias(child, img, &bias, err, sizeof(err)), -1);
	assert_int_equal(bias, 0);
	assert_non_null(strstr(err, "no such process"));
	elfimg_close(img);
}

/* Another executable than the one the process runs: not in its maps. */
static void test_load_bias_wrong_exe(void **state)
{
	const struct tu_elf_sec secs[] = {
		{ ".text", 0, SHF_ALLOC | SHF_EXECINSTR, 0x401000, "\xc3", 1 },
	};
	const struct tu_elf e = { .secs = secs, .nsecs = 1 };
	char err[256] = "";
	struct elfimg *img = NULL;
	uint64_t bias = 1;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = tu_elf_build(&e, &len, NULL);
	assert_int_equal(elfimg_open_mem(buf, len, &img, NULL, 0), 0);
	/*
	 * The maps lines match the exe's inode, but this image has segments
	 * at other file offsets: at worst a bias, never a crash.
	 */
	if (proc_load_bias(getpid(), img, &bias, err, sizeof(err)) != 0)
		assert_non_null(strstr(err, "not found"));
	elfimg_close(img);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_pid),
		cmocka_unit_test(test_alive_and_threads),
		cmocka_unit_test(test_target_path),
		cmocka_unit_test(test_target_self),
		cmocka_unit_test(test_target_tricky_comm),
		cmocka_unit_test(test_target_gone),
		cmocka_unit_test(test_target_zombie),
		cmocka_unit_test(test_target_kthread),
		cmocka_unit_test(test_target_permission),
		cmocka_unit_test(test_load_bias_self),
		cmocka_unit_test(test_load_bias_gone),
		cmocka_unit_test(test_load_bias_wrong_exe),
	};

	return cmocka_run_group_tests_name("proc", tests, NULL, NULL);
}
