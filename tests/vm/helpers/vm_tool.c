/* Guest-side helper for the VM suite (tests/vm): what busybox cannot do.
 *
 *   exec PATH [ARG...]           execv(PATH); when execve fails, print "execve: <ERRNO>" and exit 0:
 *                                the caller carries on.
 *   as UID [--cap-kill] CMD...   run CMD as uid and gid UID with no supplementary groups;
 *                                --cap-kill keeps CAP_KILL (ambient), which passes the kernel's
 *                                permission check for signals to any process.
 *   ptrace-child PATH [ARG...]   fork and exec PATH, wait until it stops (parked), then
 *                                PTRACE_SEIZE it as its parent (allowed by Yama) and print
 *                                "ptrace: OK" or "ptrace: <ERRNO>"; the child is then killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int usage(void) {
  fprintf(stderr, "usage: cg_vm_tool exec PATH [ARG...] | as UID [--cap-kill] CMD [ARG...] | "
                  "ptrace-child PATH [ARG...]\n");
  return 2;
}

static int do_exec(char** argv) {
  execv(argv[0], argv);
  printf("execve: %s\n", strerrorname_np(errno));
  return 0;
}

static int keep_cap_kill(void) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0}};
  data[0].effective = data[0].permitted = data[0].inheritable = 1u << CAP_KILL;
  if (syscall(SYS_capset, &hdr, data) != 0) {
    perror("capset");
    return -1;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) != 0) {
    perror("PR_CAP_AMBIENT_RAISE");
    return -1;
  }
  return 0;
}

static int do_as(int argc, char** argv) {
  if (argc < 2)
    return usage();
  uid_t uid = (uid_t)strtoul(argv[0], NULL, 10);
  int cap_kill = strcmp(argv[1], "--cap-kill") == 0;
  char** cmd = argv + 1 + cap_kill;
  if (cmd[0] == NULL)
    return usage();
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || setgroups(0, NULL) != 0 ||
      setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) {
    perror("dropping to the test user");
    return 1;
  }
  if (cap_kill ? keep_cap_kill() != 0 : prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
    return 1;
  execvp(cmd[0], cmd);
  perror(cmd[0]);
  return 127;
}

static int do_ptrace_child(char** argv) {
  pid_t child = fork();
  if (child < 0) {
    perror("fork");
    return 1;
  }
  if (child == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  if (waitpid(child, &status, WUNTRACED) != child || !WIFSTOPPED(status)) {
    printf("ptrace: child did not stop (status %#x)\n", status);
    return 1;
  }
  long rc = ptrace(PTRACE_SEIZE, child, NULL, NULL);
  printf("ptrace: %s\n", rc == 0 ? "OK" : strerrorname_np(errno));
  fflush(stdout);
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3)
    return usage();
  if (strcmp(argv[1], "exec") == 0)
    return do_exec(argv + 2);
  if (strcmp(argv[1], "as") == 0)
    return do_as(argc - 2, argv + 2);
  if (strcmp(argv[1], "ptrace-child") == 0)
    return do_ptrace_child(argv + 2);
  return usage();
}
