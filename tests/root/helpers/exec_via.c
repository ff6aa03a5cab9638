/* Test program: execs a program by a route an attacker might choose instead of its path.
 *
 *   cg_exec_via fd PROG ARGS...            execveat(open(PROG), "", AT_EMPTY_PATH): the kernel
 *                                          names a script "/dev/fd/N" for its interpreter
 *   cg_exec_via chroot-here DIR PROG ARGS...  chroot(DIR) without chdir, then execv(PROG): a
 *                                          working directory outside the root
 *
 * Exits 127 when the exec fails (errno on stderr). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "cg_exec_via: %s: %s\n", what, strerror(errno));
  return 127;
}

int main(int argc, char** argv) {
  extern char** environ;
  if (argc >= 3 && strcmp(argv[1], "fd") == 0) {
    int fd = open(argv[2], O_RDONLY); /* not O_CLOEXEC: the interpreter opens /dev/fd/N */
    if (fd < 0)
      return fail("open");
    syscall(SYS_execveat, fd, "", argv + 2, environ, AT_EMPTY_PATH);
    return fail("execveat");
  }
  if (argc >= 4 && strcmp(argv[1], "chroot-here") == 0) {
    if (chroot(argv[2]) != 0)
      return fail("chroot");
    execv(argv[3], argv + 3);
    return fail("execv");
  }
  fprintf(stderr, "usage: cg_exec_via fd PROG ARGS... | chroot-here DIR PROG ARGS...\n");
  return 2;
}
