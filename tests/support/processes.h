#pragma once
// Starting programs, finding a free port and temporary directories, for the test suites and the
// benchmarks alike (no test framework here: the benchmarks link it too).

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cmdgate::test {

// execv(argv[0], argv), for a forked child; _exit(127) when it fails.
[[noreturn]] void exec_argv(const std::vector<std::string>& argv);

// Starts argv without waiting, its stdout and stderr appended to `output`; returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const std::string& output = "/dev/null");

// What a shell command line wrote to its stdout (end it with 2>&1 for stderr too) and its exit
// status (-1: it did not exit, or could not be started).
struct CommandOutput {
  int status = -1;
  std::string out;
};
[[nodiscard]] CommandOutput run_shell(const std::string& command_line);

// A fresh directory under /tmp (mode 0755, so that other users' processes can run what it
// holds), removed with everything in it when this goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A TCP port on loopback that nothing listened on a moment ago; 0 when none could be had.
uint16_t free_port();

std::string read_file(const std::string& path);  // empty when it cannot be read

}  // namespace cmdgate::test
