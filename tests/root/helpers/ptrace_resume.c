/* Test program: tries to make a stopped (parked) process run through ptrace alone, with no
 * SIGCONT, as an attacker would.
 *
 *   cg_ptrace_resume attach PID            PTRACE_SEIZE, PTRACE_INTERRUPT, then PTRACE_CONT from
 *                                          every stop, until PID exits (or 10 s pass)
 *   cg_ptrace_resume traceme PROG ARGS...  runs PROG as a tracee (PTRACE_TRACEME, like strace or
 *                                          gdb) and continues it from every stop with no signal,
 *                                          so a SIGSTOP sent at its exec is swallowed
 *
 * Exit status: PROG's (or PID's, when it is this program's child) exit status; 128 + signal when
 * it was killed; 124 on timeout; 2 on usage or ptrace errors (errno on stderr). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "cg_ptrace_resume: %s: %s\n", what, strerror(errno));
  return 2;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Continues pid from every ptrace stop, suppressing every signal, until it is gone. */
static int drive(pid_t pid) {
  const double deadline = now() + 10;
  while (now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, __WALL | WNOHANG);
    if (r < 0)
      return errno == ECHILD ? 0 : fail("waitpid");
    if (r == 0) {
      usleep(1000);
      continue;
    }
    if (WIFEXITED(status))
      return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
      return 128 + WTERMSIG(status);
    if (WIFSTOPPED(status))
      ptrace(PTRACE_CONT, pid, 0, 0); /* data 0: the stopping signal is not delivered */
  }
  return 124;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "attach") == 0) {
    pid_t pid = (pid_t)atoi(argv[2]);
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0)
      return fail("PTRACE_SEIZE");
    if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) != 0 && errno != ESRCH)
      return fail("PTRACE_INTERRUPT");
    return drive(pid);
  }
  if (argc >= 3 && strcmp(argv[1], "traceme") == 0) {
    pid_t child = fork();
    if (child < 0)
      return fail("fork");
    if (child == 0) {
      if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
        _exit(2);
      execv(argv[2], argv + 2);
      _exit(127);
    }
    return drive(child);
  }
  fprintf(stderr, "usage: cg_ptrace_resume attach PID | traceme PROG ARGS...\n");
  return 2;
}
