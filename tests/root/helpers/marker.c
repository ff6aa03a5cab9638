/* Test program: its first action is to create the file named by argv[1]; then it prints argv[2]
 * (if any) and exits with the status in argv[3] (default 0). If it was killed before its first
 * instruction, the file never exists. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc > 1 && argv[1][0] != '\0') {
    int fd = open(argv[1], O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0)
      close(fd);
  }
  if (argc > 2)
    printf("%s\n", argv[2]);
  return argc > 3 ? atoi(argv[3]) : 0;
}
