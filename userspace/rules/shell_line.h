#pragma once
// What bash would run for one command line (`bash -c LINE`), read without running it: the simple
// commands in the order bash starts them, each word expanded as far as the line alone tells
// (quotes, backslashes, $'...', parameters the caller knows, ~). Used by `cmdgate explain` to
// judge every program a shell line would exec, as the kernel sees each of them.
//
// Not a full bash: `case`, arithmetic and brace expansion are not evaluated. What cannot be read
// is an error (fail closed: the caller must treat the line as held, not as harmless), and a word
// whose value the line does not tell (a command substitution's output, a loop variable) is
// marked unknown rather than guessed.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cmdgate::rules {

struct ShellWord {
  std::string text;      // bytes, not necessarily UTF-8; unknown parts are kept as written
  bool unknown = false;  // part of the value is only known when the line runs
  friend bool operator==(const ShellWord&, const ShellWord&) = default;
};

struct ShellCommand {
  // NAME=value words before the command: its own environment (PATH= changes the lookup).
  std::vector<std::pair<std::string, ShellWord>> assignments;
  std::vector<ShellWord> words;  // non-empty; words[0] is the program or builtin
  std::string cwd;               // the directory it starts in (after `cd`s the line made)
  bool cwd_unknown = false;      // a `cd` the line cannot tell the target of
};

// What a line starts from. A variable absent from `vars` is unset (expands to nothing, as in
// bash); one mapped to nullopt is set to a value the line does not tell.
struct ShellEnv {
  std::map<std::string, std::optional<std::string>> vars;
  std::vector<ShellWord> positional;  // $0, $1, ... (`bash -c LINE NAME ARGS...`)
  std::string cwd = "/";
};

// The commands of `line`, including those in $(...), `...`, <(...) and subshells, each before
// the command that uses its output. Errors say what could not be read and at which byte offset.
[[nodiscard]] Result<std::vector<ShellCommand>> parse_shell_line(std::string_view line,
                                                                  const ShellEnv& env);

// The directory `dir` names from `cwd`, lexically (".." drops a component; no symlinks read).
[[nodiscard]] std::string join_path(const std::string& cwd, const std::string& dir);

}  // namespace cmdgate::rules
