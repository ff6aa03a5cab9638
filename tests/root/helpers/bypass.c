/* Test program: routes an unprivileged attacker tries to make a parked (or denied) program run.
 * Every mode first drops to UID (its gid too) when UID is not 0, and starts a session of its own,
 * so that the test process stays outside the requesting tree (it may approve).
 *
 *   cg_bypass orphan UID N HOLD_MS PROG MARKER_PREFIX
 *       Makes a process group of N copies of `PROG MARKER_PREFIX.i`, with SIGHUP ignored (ignored
 *       signals survive execve), waits until all are stopped (parked) plus HOLD_MS, then orphans
 *       the group: its last member with a parent outside it exits, and the kernel sends the group
 *       SIGHUP and SIGCONT itself, from exit_notify() with interrupts off.
 *       Prints "target PID" per copy, then "status PID killed-by-SIG|exit-CODE|stopped".
 *
 *   cg_bypass argv-swap UID OLD NEW PROG ARGS...
 *       Runs PROG ARGS (ARGS contains OLD); once it is stopped (parked) or already continued,
 *       overwrites OLD with NEW (same length) in its argv through /proc/PID/mem, as the same
 *       user may (a dynamically linked PROG reads argv only after its loader ran). Prints
 *       "target PID" at once and "rewrote" after the write; exits with PROG's status
 *       (128 + signal when it was killed).
 *
 *   cg_bypass routes UID DIR PROG
 *       Execs `PROG DIR/ROUTE.marker` by each route in turn, from a child: a memfd (fexecve), an
 *       O_TMPFILE file (by descriptor, and linked in), an unlinked copy (execveat), a non-leader
 *       thread, vfork, a chain of 30 symlinks. Prints "ROUTE STATUS" (128 + signal if killed).
 *
 *   cg_bypass run UID PROG ARGS...
 *       Runs PROG ARGS as its child; prints "target PID"; exits with PROG's status.
 *
 *   cg_bypass swap-on-continue UID FROM TO PROG ARGS...
 *       Runs PROG ARGS as its child and renames FROM over TO the moment the child is continued
 *       (waitid WCONTINUED): the file the program opens by name after its verdict is another.
 *       Prints "target PID", "swapped" if it did; exits with PROG's status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "cg_bypass: %s: %s\n", what, strerror(errno));
  return 2;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char state_of(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return '?';
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return '?';
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  return p && p[1] && p[2] ? p[2] : '?';
}

static int wait_stopped(pid_t pid, double seconds) {
  const double deadline = now() + seconds;
  while (now() < deadline) {
    if (state_of(pid) == 'T')
      return 1;
    usleep(500);
  }
  return 0;
}

static int become(const char* uid_text) {
  uid_t uid = (uid_t)atoi(uid_text);
  setsid();
  if (uid != 0 && (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0))
    return fail("dropping privileges");
  return 0;
}

static int status_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static pid_t start(char** argv) {
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static int orphan(int argc, char** argv) {
  if (argc != 7)
    return 2;
  if (become(argv[2]))
    return 2;
  const int n = atoi(argv[3]);
  const int hold_ms = atoi(argv[4]);
  if (n < 1 || n > 64)
    return 2;
  /* We reap the group once its parent is gone: a subreaper in another session, so the group
   * counts as orphaned whatever runs above us. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
    return fail("PR_SET_CHILD_SUBREAPER");
  int pids[2];
  if (pipe(pids) != 0)
    return fail("pipe");
  pid_t x = fork();
  if (x == 0) {
    close(pids[0]);
    setsid(); /* X: a session of its own; Y's group inside it has its parent X outside it */
    pid_t y = fork();
    if (y == 0) {
      setpgid(0, 0);
      signal(SIGHUP, SIG_IGN); /* inherited through execve: the kernel's SIGHUP does nothing */
      pid_t t[64];
      for (int i = 0; i < n; ++i) {
        char marker[4096];
        snprintf(marker, sizeof(marker), "%s.%d", argv[6], i);
        char* args[] = {argv[5], marker, NULL};
        t[i] = start(args);
        if (write(pids[1], &t[i], sizeof(t[i])) != sizeof(t[i]))
          _exit(3);
      }
      for (int i = 0; i < n; ++i)
        if (!wait_stopped(t[i], 10))
          _exit(4);
      usleep((useconds_t)hold_ms * 1000);
      _exit(0); /* the group's last link outside: SIGHUP + SIGCONT to every member */
    }
    close(pids[1]);
    int st;
    waitpid(y, &st, 0);
    usleep(200 * 1000);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 5);
  }
  close(pids[1]);
  pid_t t[64];
  int got = 0;
  while (got < n && read(pids[0], &t[got], sizeof(t[got])) == sizeof(t[got])) {
    printf("target %d\n", t[got]);
    ++got;
  }
  fflush(stdout);
  int st;
  waitpid(x, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fprintf(stderr, "cg_bypass: the group's parent failed (%d)\n", st);
  /* The members are ours now; give each a few seconds, then kill what is left (still parked). */
  const double deadline = now() + 5;
  int done[64] = {0};
  int left = got;
  while (left > 0 && now() < deadline) {
    for (int i = 0; i < got; ++i) {
      if (done[i])
        continue;
      int s;
      if (waitpid(t[i], &s, WNOHANG) == t[i]) {
        done[i] = 1;
        --left;
        if (WIFSIGNALED(s))
          printf("status %d killed-by-%d\n", t[i], WTERMSIG(s));
        else
          printf("status %d exit-%d\n", t[i], WEXITSTATUS(s));
      }
    }
    usleep(1000);
  }
  for (int i = 0; i < got; ++i) {
    if (!done[i]) {
      printf("status %d stopped\n", t[i]);
      kill(t[i], SIGKILL);
      waitpid(t[i], NULL, 0);
    }
  }
  return 0;
}

static int argv_swap(int argc, char** argv) {
  if (argc < 6)
    return 2;
  if (become(argv[2]))
    return 2;
  const char* old = argv[3];
  const char* new = argv[4];
  const size_t len = strlen(old);
  if (strlen(new) != len)
    return 2;
  pid_t pid = start(argv + 5);
  /* Told by the kernel (we are its parent) that it stopped, or was continued already: either
   * way its exec, and the argv the kernel recorded, are behind it, and a dynamically linked
   * program is still in its loader, far from reading argv. */
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  if (waitid(P_PID, (id_t)pid, &si, WSTOPPED | WCONTINUED | WEXITED | WNOWAIT) != 0)
    return fail("waitid");
  printf("target %d\n", pid);
  fflush(stdout);
  if (si.si_code != CLD_STOPPED && si.si_code != CLD_CONTINUED)
    return fail("the program never stopped");
  /* arg_start and arg_end: fields 48 and 49 of /proc/PID/stat. */
  char path[64], buf[4096];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  if (n <= 0)
    return fail("stat");
  buf[n] = 0;
  close(fd);
  char* p = strrchr(buf, ')') + 2; /* field 3 */
  unsigned long long arg_start = 0, arg_end = 0;
  for (int field = 3; p && field < 48; ++field)
    p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
  if (!p || sscanf(p, "%llu %llu", &arg_start, &arg_end) != 2 || arg_end <= arg_start ||
      arg_end - arg_start > (1 << 20))
    return fail("arg_start");
  snprintf(path, sizeof(path), "/proc/%d/mem", pid);
  fd = open(path, O_RDWR);
  if (fd < 0)
    return fail("open mem");
  size_t size = arg_end - arg_start;
  char* args = malloc(size);
  if (pread(fd, args, size, (off_t)arg_start) != (ssize_t)size)
    return fail("read mem");
  int rewrote = 0;
  for (size_t at = 0; at + len <= size; ++at) {
    if (memcmp(args + at, old, len) == 0) {
      if (pwrite(fd, new, len, (off_t)(arg_start + at)) != (ssize_t)len)
        return fail("write mem");
      rewrote = 1;
      at += len - 1;
    }
  }
  close(fd);
  printf(rewrote ? "rewrote\n" : "not-found\n");
  fflush(stdout);
  int st;
  waitpid(pid, &st, 0);
  return status_code(st);
}

static int swap_on_continue(int argc, char** argv) {
  if (argc < 6)
    return 2;
  if (become(argv[2]))
    return 2;
  pid_t pid = start(argv + 5);
  printf("target %d\n", pid);
  fflush(stdout);
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WCONTINUED) != 0)
      return fail("waitid");
    if (si.si_code == CLD_CONTINUED) {
      if (rename(argv[3], argv[4]) == 0)
        printf("swapped\n");
      fflush(stdout);
      continue;
    }
    return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
  }
}


/* Copies the file at from into fd; 0 on success. */
static int copy_into(const char* from, int fd) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return -1;
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (write(fd, buf, (size_t)n) != n)
      return -1;
  close(in);
  return n < 0 ? -1 : 0;
}

static void* exec_from_thread(void* arg) {
  char** argv = arg;
  execv(argv[0], argv);
  _exit(127);
}

/* Execs PROG (argv[0] of args) by ROUTE in a child; returns the child's status code. */
static int exec_by(const char* route, const char* scratch, char** args) {
  extern char** environ;
  fflush(stdout);
  if (strcmp(route, "vfork") == 0) {
    pid_t pid = vfork();
    if (pid == 0) {
      execv(args[0], args);
      _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return status_code(st);
  }
  pid_t pid = fork();
  if (pid != 0) {
    int st;
    waitpid(pid, &st, 0);
    return status_code(st);
  }
  if (strcmp(route, "memfd") == 0) {
    int fd = memfd_create("innocent", 0);
    if (fd < 0 || copy_into(args[0], fd) != 0)
      _exit(126);
    fexecve(fd, args, environ);
  } else if (strcmp(route, "tmpfile-linked") == 0 || strcmp(route, "tmpfile") == 0) {
    int fd = open(scratch, O_TMPFILE | O_RDWR, 0755);
    if (fd < 0 || copy_into(args[0], fd) != 0)
      _exit(126);
    char self[64];
    snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
    int ro = open(self, O_RDONLY);
    if (strcmp(route, "tmpfile-linked") == 0) {
      char linked[4096];
      snprintf(linked, sizeof(linked), "%s/linked", scratch);
      unlink(linked);
      if (linkat(AT_FDCWD, self, AT_FDCWD, linked, AT_SYMLINK_FOLLOW) != 0)
        _exit(126);
      close(fd);
      close(ro);
      execve(linked, args, environ);
    } else {
      close(fd); /* no writer left: not ETXTBSY */
      syscall(SYS_execveat, ro, "", args, environ, AT_EMPTY_PATH);
    }
  } else if (strcmp(route, "deleted") == 0) {
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s/deleted", scratch);
    int fd = open(copy, O_CREAT | O_TRUNC | O_WRONLY, 0755);
    if (fd < 0 || copy_into(args[0], fd) != 0)
      _exit(126);
    close(fd);
    int ro = open(copy, O_RDONLY);
    unlink(copy);
    syscall(SYS_execveat, ro, "", args, environ, AT_EMPTY_PATH);
  } else if (strcmp(route, "thread") == 0) {
    pthread_t t;
    pthread_create(&t, NULL, exec_from_thread, args);
    pause();
  } else if (strcmp(route, "symlinks") == 0) {
    char from[4096], to[4096];
    snprintf(to, sizeof(to), "%s", args[0]);
    for (int i = 0; i < 30; ++i) { /* the kernel follows 40 */
      snprintf(from, sizeof(from), "%s/link%d", scratch, i);
      unlink(from);
      if (symlink(to, from) != 0)
        _exit(126);
      snprintf(to, sizeof(to), "%s", from);
    }
    execv(to, args);
  }
  _exit(127);
}

static int routes(int argc, char** argv) {
  if (argc < 5)
    return 2;
  if (become(argv[2]))
    return 2;
  static const char* kRoutes[] = {"memfd", "tmpfile", "tmpfile-linked", "deleted",
                                  "thread", "vfork",   "symlinks"};
  for (size_t i = 0; i < sizeof(kRoutes) / sizeof(kRoutes[0]); ++i) {
    char marker[4096];
    char* args[] = {argv[4], marker, NULL};
    snprintf(marker, sizeof(marker), "%s/%s.marker", argv[3], kRoutes[i]);
    printf("%s %d\n", kRoutes[i], exec_by(kRoutes[i], argv[3], args));
  }
  return 0;
}

static int run_as(int argc, char** argv) {
  if (argc < 4)
    return 2;
  if (become(argv[2]))
    return 2;
  pid_t pid = start(argv + 3);
  printf("target %d\n", pid);
  fflush(stdout);
  int st;
  waitpid(pid, &st, 0);
  return status_code(st);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 2 && strcmp(argv[1], "orphan") == 0)
    return orphan(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "argv-swap") == 0)
    return argv_swap(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "routes") == 0)
    return routes(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "run") == 0)
    return run_as(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "swap-on-continue") == 0)
    return swap_on_continue(argc, argv);
  fprintf(stderr,
          "usage: cg_bypass orphan UID N HOLD_MS PROG MARKER_PREFIX\n"
          "       cg_bypass argv-swap UID OLD NEW PROG ARGS...\n"
          "       cg_bypass run UID PROG ARGS...\n"
          "       cg_bypass swap-on-continue UID FROM TO PROG ARGS...\n");
  return 2;
}
