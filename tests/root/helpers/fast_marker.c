/* Test program: the marker without libc or a loader. Its first instructions create the file
 * named by argv[1] (open(O_CREAT)), then it exits 0; nothing runs before them. A process that
 * was woken for even a few microseconds leaves the file behind. Static, no start files. */
__attribute__((naked, noreturn)) void _start(void) {
  __asm__ volatile(
      "mov 16(%rsp), %rdi\n\t" /* argv[1] (NULL when absent: open fails, EFAULT) */
      "mov $0101, %esi\n\t"    /* O_WRONLY | O_CREAT */
      "mov $0644, %edx\n\t"
      "mov $2, %eax\n\t" /* SYS_open */
      "syscall\n\t"
      "xor %edi, %edi\n\t"
      "mov $231, %eax\n\t" /* SYS_exit_group */
      "syscall\n\t"
      "hlt\n\t");
}
