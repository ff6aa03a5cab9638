#pragma once
// Programs that exec (part of) their own arguments: shells with -c, env, sudo, doas, nohup,
// timeout, xargs, nice, ionice, stdbuf, setsid, time, watch. Given the argv one of them was
// exec'd with, says what it runs next. Internal to exec_trace.cpp.

#include <optional>
#include <string>
#include <vector>

#include "rules/shell_line.h"

namespace cmdgate::rules {

// Where a wrapper's next exec goes (exec_trace.cpp's tracer).
class WrapperSink {
 public:
  virtual ~WrapperSink() = default;
  virtual void exec(const std::vector<ShellWord>& words, const ShellEnv& env, bool cwd_unknown,
                    int parent, int depth, std::optional<uint32_t> uid) = 0;
  virtual void line(const std::string& text, const ShellEnv& env, int parent, int depth,
                    std::optional<uint32_t> uid) = 0;
  virtual void unknown(std::string why) = 0;
  virtual void note(std::string what) = 0;
};

// `image` is the canonical path of the file exec'd with `argv` (its #! interpreter for a
// script); nothing happens unless it is a shell or a wrapper.
void follow_wrapper(WrapperSink& sink, const std::string& image,
                    const std::vector<ShellWord>& argv, const ShellEnv& env, bool cwd_unknown,
                    int self, int depth, std::optional<uint32_t> uid);

}  // namespace cmdgate::rules
