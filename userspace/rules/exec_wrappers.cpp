// The option syntax of the shells and wrappers exec_trace.cpp follows: enough of each to find
// the command it runs, its environment and its directory. An option that makes it run nothing
// (sudo -l, ionice -p, command -v) ends the trace there.

#include "rules/exec_wrappers.h"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

namespace cmdgate::rules {
namespace {

struct Options {
  std::string_view short_with_value;            // letters whose value follows (attached or not)
  std::vector<std::string_view> long_with_value;  // "--name VALUE" (also "--name=VALUE")
};

using OnOption = std::function<void(std::string_view option, const ShellWord* value)>;

// The index of the first operand at or after k. "-xVALUE", "-x VALUE", "--name=VALUE",
// "--name VALUE", clusters of flags ("-fsS"), and "--" are understood.
size_t skip_options(const std::vector<ShellWord>& argv, size_t k, const Options& o,
                    const OnOption& seen = {}) {
  std::vector<ShellWord> values;  // attached values, kept alive for `seen`
  values.reserve(argv.size() * 2);
  while (k < argv.size()) {
    const std::string& t = argv[k].text;
    if (t == "--") {
      return k + 1;
    }
    if (t.size() < 2 || t[0] != '-') {
      return k;
    }
    if (t.starts_with("--")) {
      const size_t eq = t.find('=');
      const std::string_view name = std::string_view(t).substr(0, eq);
      const bool takes = std::find(o.long_with_value.begin(), o.long_with_value.end(), name) !=
                         o.long_with_value.end();
      const ShellWord* value = nullptr;
      if (eq != std::string::npos) {
        values.push_back({t.substr(eq + 1), argv[k].unknown});
        value = &values.back();
      } else if (takes && k + 1 < argv.size()) {
        value = &argv[++k];
      }
      if (seen) {
        seen(name, value);
      }
      ++k;
      continue;
    }
    for (size_t j = 1; j < t.size(); ++j) {
      const std::string option = std::string("-") + t[j];
      if (o.short_with_value.find(t[j]) == std::string_view::npos) {
        if (seen) {
          seen(option, nullptr);
        }
        continue;
      }
      const ShellWord* value = nullptr;
      if (j + 1 < t.size()) {
        values.push_back({t.substr(j + 1), argv[k].unknown});
        value = &values.back();
      } else if (k + 1 < argv.size()) {
        value = &argv[++k];
      }
      if (seen) {
        seen(option, value);
      }
      break;
    }
    ++k;
  }
  return k;
}

std::vector<ShellWord> from(const std::vector<ShellWord>& argv, size_t k) {
  return {argv.begin() + static_cast<std::ptrdiff_t>(std::min(k, argv.size())), argv.end()};
}

// NAME=VALUE operands (env, sudo) set the command's environment.
size_t take_assignments(const std::vector<ShellWord>& argv, size_t k, ShellEnv& env) {
  for (; k < argv.size(); ++k) {
    const std::string& t = argv[k].text;
    const size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0 || t.starts_with('-')) {
      return k;
    }
    env.vars[t.substr(0, eq)] = argv[k].unknown ? std::nullopt : std::optional(t.substr(eq + 1));
  }
  return k;
}

void shell(WrapperSink& sink, const std::vector<ShellWord>& argv, const ShellEnv& env, int self,
           int depth, std::optional<uint32_t> uid) {
  size_t k = 1;
  bool command_mode = false;
  while (k < argv.size()) {
    const std::string& t = argv[k].text;
    if (t == "--" || t == "-") {
      ++k;
      break;
    }
    if (t.starts_with("--")) {
      k += (t == "--rcfile" || t == "--init-file") ? 2 : 1;
    } else if ((t.starts_with('-') || t.starts_with('+')) && t.size() > 1) {
      command_mode = command_mode || (t[0] == '-' && t.find('c') != std::string::npos);
      k += (t == "-o" || t == "+o" || t == "-O" || t == "+O") ? 2 : 1;
    } else {
      break;
    }
  }
  if (!command_mode) {
    sink.note(fmt::format("{} reads commands from {}: each is judged when it runs",
                          argv.front().text, k < argv.size() ? argv[k].text : "its input"));
    return;
  }
  if (k >= argv.size()) {
    sink.note(fmt::format("{} -c without a command (nothing runs)", argv.front().text));
    return;
  }
  if (argv[k].unknown) {
    sink.unknown(fmt::format("{} -c '{}': the commands are only known when it runs",
                             argv.front().text, argv[k].text));
    return;
  }
  ShellEnv inner = env;
  inner.positional = from(argv, k + 1);
  if (inner.positional.empty()) {
    inner.positional.push_back(argv.front());
  }
  sink.line(argv[k].text, inner, self, depth, uid);
}

}  // namespace

void follow_wrapper(WrapperSink& sink, const std::string& image,
                    const std::vector<ShellWord>& argv, const ShellEnv& env, bool cwd_unknown,
                    int self, int depth, std::optional<uint32_t> uid) {
  std::string name = image.substr(image.rfind('/') + 1);
  if (name == "busybox" && !argv.empty()) {  // a multi-call binary is what argv[0] names
    name = argv.front().text.substr(argv.front().text.rfind('/') + 1);
  }
  static const std::vector<std::string_view> kShells = {"bash", "sh",   "dash",  "zsh", "ksh",
                                                        "ksh93", "mksh", "rbash", "lksh", "posh"};
  if (std::find(kShells.begin(), kShells.end(), name) != kShells.end()) {
    shell(sink, argv, env, self, depth, uid);
    return;
  }
  ShellEnv next = env;
  bool runs = true;
  auto chdir = [&](const ShellWord* dir) {
    if (dir == nullptr || dir->unknown) {
      cwd_unknown = true;
    } else {
      next.cwd = join_path(next.cwd, dir->text);
    }
  };
  size_t k = 1;
  std::vector<ShellWord> command;
  if (name == "env") {
    std::vector<ShellWord> split;
    k = skip_options(argv, 1, {"uCS", {"--unset", "--chdir", "--split-string"}},
                     [&](std::string_view o, const ShellWord* v) {
                       if (o == "-i" || o == "--ignore-environment") {
                         next.vars.clear();
                       } else if ((o == "-u" || o == "--unset") && v != nullptr) {
                         next.vars.erase(v->text);
                       } else if (o == "-C" || o == "--chdir") {
                         chdir(v);
                       } else if ((o == "-S" || o == "--split-string") && v != nullptr) {
                         auto words = parse_shell_line(v->text, next);
                         if (!words || words->size() != 1 || v->unknown) {
                           sink.unknown(fmt::format("env -S '{}' is not read", v->text));
                           runs = false;
                         } else {
                           split = words->front().words;
                         }
                       }
                     });
    k = take_assignments(argv, k, next);
    command = split;
    const auto rest = from(argv, k);
    command.insert(command.end(), rest.begin(), rest.end());
  } else if (name == "sudo" || name == "doas") {
    k = skip_options(argv, 1,
                     {name == "sudo" ? "ugCDhprtUT" : "uC",
                      {"--user", "--group", "--close-from", "--chdir", "--host", "--prompt",
                       "--role", "--type", "--other-user", "--command-timeout"}},
                     [&](std::string_view o, const ShellWord* v) {
                       static const std::vector<std::string_view> kNoCommand = {
                           "-e", "-l", "-V", "-v", "-K", "--edit", "--list", "--version",
                           "--validate", "--remove-timestamp"};
                       if (std::find(kNoCommand.begin(), kNoCommand.end(), o) != kNoCommand.end()) {
                         runs = false;
                       } else if (o == "-D" || o == "--chdir") {
                         chdir(v);
                       }
                     });
    // Debian's sudoers: secure_path, and HOME of the target user (root unless -u says).
    next.vars["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin";
    next.vars["HOME"] = "/root";
    uid = 0;
    k = take_assignments(argv, k, next);
    command = from(argv, k);
  } else if (name == "nohup" || name == "setsid") {
    command = from(argv, skip_options(argv, 1, {}));
  } else if (name == "timeout") {
    k = skip_options(argv, 1, {"sk", {"--signal", "--kill-after"}});
    command = from(argv, k + 1);  // after the duration
  } else if (name == "nice") {
    command = from(argv, skip_options(argv, 1, {"n", {"--adjustment"}}));
  } else if (name == "ionice") {
    k = skip_options(argv, 1, {"cnpPu", {"--class", "--classdata", "--pid", "--pgid", "--uid"}},
                     [&](std::string_view o, const ShellWord*) {
                       runs = runs && o != "-p" && o != "-P" && o != "-u" && o != "--pid" &&
                              o != "--pgid" && o != "--uid";
                     });
    command = from(argv, k);
  } else if (name == "stdbuf") {
    command = from(argv, skip_options(argv, 1, {"ioe", {"--input", "--output", "--error"}}));
  } else if (name == "time") {
    command = from(argv, skip_options(argv, 1, {"fo", {"--format", "--output"}}));
  } else if (name == "watch") {
    bool direct = false;
    k = skip_options(argv, 1, {"n", {"--interval"}}, [&](std::string_view o, const ShellWord*) {
      direct = direct || o == "-x" || o == "--exec";
    });
    command = from(argv, k);
    if (!direct && !command.empty()) {  // watch runs `sh -c "ARGS..."`
      std::string text;
      for (const ShellWord& w : command) {
        text += (text.empty() ? "" : " ") + w.text;
      }
      sink.exec({{"sh", false}, {"-c", false}, {text, false}}, next, cwd_unknown, self, depth,
                uid);
      return;
    }
  } else if (name == "xargs") {
    std::optional<std::string> replace;
    k = skip_options(argv, 1,
                     {"aEILnPsd",
                      {"--arg-file", "--eof", "--max-lines", "--max-args", "--max-procs",
                       "--max-chars", "--delimiter"}},
                     [&](std::string_view o, const ShellWord* v) {
                       if (o == "-I" && v != nullptr) {
                         replace = v->text;
                       } else if (o == "-i" || o == "--replace") {
                         replace = "{}";
                       }
                     });
    command = from(argv, k);
    if (command.empty()) {
      command.push_back({"echo", false});
    }
    // The arguments xargs reads from its input are only known when it runs.
    bool replaced = false;
    for (ShellWord& w : command) {
      if (replace && w.text.find(*replace) != std::string::npos) {
        w.unknown = replaced = true;
      }
    }
    if (!replaced) {
      command.push_back({"<input>", true});
    }
  } else {
    return;
  }
  if (runs) {
    sink.exec(command, next, cwd_unknown, self, depth, uid);
  }
}

}  // namespace cmdgate::rules
