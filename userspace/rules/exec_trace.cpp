// Following one command to every program it would exec; see exec_trace.h. The wrappers' option
// syntax is in exec_wrappers.cpp.

#include "rules/exec_trace.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "common/fd.h"
#include "rules/exec_wrappers.h"
#include "rules/file_digest.h"

namespace cmdgate::rules {

std::optional<FileId> SystemExecHost::identity(const std::string& path) const {
  return SystemFileResolver().identity(path);
}
std::string SystemExecHost::canonical(const std::string& path) const {
  return SystemFileResolver().canonical(path);
}
std::vector<std::string> SystemExecHost::expand(const std::string& glob) const {
  return SystemFileResolver().expand(glob);
}

bool SystemExecHost::executable(const std::string& path) const {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::optional<std::string> SystemExecHost::shebang_line(const std::string& path) const {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  std::array<char, 256> buf{};  // the kernel reads at most 256 bytes of a #! line
  const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
  const std::string head(buf.data(), n > 0 ? static_cast<size_t>(n) : 0);
  if (!head.starts_with("#!")) {
    return std::nullopt;
  }
  return head.substr(0, head.find('\n'));
}

std::optional<Sha256> SystemExecHost::sha256(const std::string& path) const {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  auto digest = sha256_of_fd(fd.get());
  return digest ? std::optional<Sha256>(*digest) : std::nullopt;
}

std::vector<std::string> split_path_variable(const std::string& path) {
  std::vector<std::string> dirs;
  size_t at = 0;
  for (;;) {
    const size_t colon = path.find(':', at);
    dirs.push_back(path.substr(at, colon == std::string::npos ? std::string::npos : colon - at));
    if (colon == std::string::npos) {
      return dirs;
    }
    at = colon + 1;
  }
}

namespace {

// bash's PATH when none is set.
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr int kMaxExecDepth = 24;

std::string quoted(const std::vector<ShellWord>& words) {
  std::string out;
  for (const ShellWord& w : words) {
    out += (out.empty() ? "" : " ") + w.text;
  }
  return "'" + out + "'";
}

class Tracer final : public WrapperSink {
 public:
  Tracer(const ExecHost& host, ExecTrace& out) : host_(host), out_(out) {}

  void exec(const std::vector<ShellWord>& words, const ShellEnv& env, bool cwd_unknown,
            int parent, int depth, std::optional<uint32_t> uid) override;
  void line(const std::string& text, const ShellEnv& env, int parent, int depth,
            std::optional<uint32_t> uid) override;
  void unknown(std::string why) override { out_.unknowns.push_back(std::move(why)); }
  void note(std::string what) override { out_.notes.push_back(std::move(what)); }

 private:
  std::optional<std::string> lookup(const std::string& name, const ShellEnv& env) const;
  void simple(const ShellCommand& c, const ShellEnv& env, int parent, int depth,
              std::optional<uint32_t> uid);

  const ExecHost& host_;
  ExecTrace& out_;
};

std::optional<std::string> Tracer::lookup(const std::string& name, const ShellEnv& env) const {
  const auto it = env.vars.find("PATH");
  const std::string path = it != env.vars.end() && it->second ? *it->second : kDefaultPath;
  for (const std::string& dir : split_path_variable(path)) {
    const std::string candidate = join_path(env.cwd, dir.empty() ? "." : dir) + "/" + name;
    if (host_.executable(candidate)) {
      return candidate;
    }
  }
  return std::nullopt;
}

void Tracer::exec(const std::vector<ShellWord>& words, const ShellEnv& env, bool cwd_unknown,
                  int parent, int depth, std::optional<uint32_t> uid) {
  if (words.empty()) {
    return;
  }
  if (depth > kMaxExecDepth) {
    unknown(fmt::format("{}: execs nested more than {} deep are not followed", quoted(words),
                        kMaxExecDepth));
    return;
  }
  const ShellWord& program = words.front();
  if (program.unknown) {
    unknown(fmt::format("{}: the program is only known when the line runs", quoted(words)));
    return;
  }
  std::string path;
  if (program.text.find('/') != std::string::npos) {
    if (!program.text.starts_with('/') && cwd_unknown) {
      unknown(fmt::format("{}: relative to a directory the line does not tell", quoted(words)));
      return;
    }
    path = program.text.starts_with('/') ? program.text : join_path(env.cwd, program.text);
    if (!host_.executable(path)) {
      note(fmt::format("{}: no such executable file (nothing runs)", program.text));
      return;
    }
  } else if (auto found = lookup(program.text, env)) {
    path = *found;
  } else {
    note(fmt::format("{}: command not found (nothing runs)", program.text));
    return;
  }
  TracedExec t;
  t.path = path;
  t.uid = uid;
  t.parent = parent;
  std::vector<ShellWord> image_argv = words;
  if (const auto line = host_.shebang_line(path)) {
    // As the kernel runs a script: the interpreter, its one optional argument, the script's path.
    std::string rest = line->substr(2);
    rest.erase(0, rest.find_first_not_of(" \t"));
    const size_t blank = rest.find_first_of(" \t");
    const std::string interpreter = rest.substr(0, blank);
    std::string arg = blank == std::string::npos ? "" : rest.substr(blank);
    arg.erase(0, arg.find_first_not_of(" \t"));
    arg.erase(arg.find_last_not_of(" \t\r") + 1);
    if (interpreter.empty() || !host_.executable(interpreter)) {
      note(fmt::format("{}: bad interpreter '{}' (nothing runs)", path, interpreter));
      return;
    }
    image_argv = {ShellWord{interpreter, false}};
    if (!arg.empty()) {
      image_argv.push_back({arg, false});
    }
    image_argv.push_back({path, false});
    image_argv.insert(image_argv.end(), words.begin() + 1, words.end());
    t.script = path;
    t.path = interpreter;
  }
  for (const ShellWord& w : image_argv) {
    t.argv.push_back(w.text);
    t.unknown |= w.unknown ? kUnknownArgv : 0u;
  }
  out_.execs.push_back(std::move(t));
  const int self = static_cast<int>(out_.execs.size()) - 1;
  follow_wrapper(*this, host_.canonical(out_.execs.back().path), image_argv, env, cwd_unknown,
                 self, depth + 1, uid);
}

void Tracer::line(const std::string& text, const ShellEnv& env, int parent, int depth,
                  std::optional<uint32_t> uid) {
  auto commands = parse_shell_line(text, env);
  if (!commands) {
    unknown(fmt::format("cannot read the shell line '{}': {}", text, commands.error().message));
    return;
  }
  for (const ShellCommand& c : *commands) {
    simple(c, env, parent, depth, uid);
  }
}

bool is_builtin(const std::string& name) {
  static constexpr std::string_view kBuiltins[] = {
      ":",       ".",        "[",        "alias",   "bg",      "bind",     "break",  "builtin",
      "caller",  "cd",       "compgen",  "complete", "compopt", "continue", "declare", "dirs",
      "disown",  "echo",     "enable",   "exit",    "export",  "false",    "fc",     "fg",
      "getopts", "hash",     "help",     "history", "jobs",    "kill",     "let",    "local",
      "logout",  "mapfile",  "popd",     "printf",  "pushd",   "pwd",      "read",   "readarray",
      "readonly", "return",  "set",      "shift",   "shopt",   "source",   "suspend", "test",
      "times",   "trap",     "true",     "type",    "typeset", "ulimit",   "umask",  "unalias",
      "unset",   "wait"};
  return std::find(std::begin(kBuiltins), std::end(kBuiltins), name) != std::end(kBuiltins);
}

void Tracer::simple(const ShellCommand& c, const ShellEnv& env, int parent, int depth,
                    std::optional<uint32_t> uid) {
  ShellEnv own = env;
  own.cwd = c.cwd;
  for (const auto& [name, value] : c.assignments) {  // NAME=value cmd: cmd's own environment
    own.vars[name] = value.unknown ? std::nullopt : std::optional(value.text);
  }
  const ShellWord& first = c.words.front();
  std::vector<ShellWord> words = c.words;
  if (!first.unknown && first.text == "eval") {
    words.erase(words.begin());
    if (std::any_of(words.begin(), words.end(), [](const ShellWord& w) { return w.unknown; })) {
      unknown(fmt::format("{}: eval of text only known when the line runs", quoted(c.words)));
      return;
    }
    std::string text;
    for (const ShellWord& w : words) {
      text += (text.empty() ? "" : " ") + w.text;
    }
    line(text, own, parent, depth + 1, uid);
    return;
  }
  if (!first.unknown && (first.text == "exec" || first.text == "command")) {
    // exec [-cl] [-a NAME] CMD and command [-p] CMD run CMD; command -v/-V only look it up.
    size_t k = 1;
    for (; k < words.size() && words[k].text.starts_with('-') && words[k].text != "--"; ++k) {
      if (words[k].text.find_first_of("vV") != std::string::npos && first.text == "command") {
        return;
      }
      k += words[k].text == "-a" ? 1 : 0;
    }
    k += k < words.size() && words[k].text == "--" ? 1 : 0;
    words.erase(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(std::min(k, words.size())));
    if (words.empty()) {
      return;
    }
  } else if (!first.unknown && is_builtin(first.text)) {
    if (first.text == "source" || first.text == ".") {
      note(fmt::format("{}: runs a file's commands in the shell; each is judged when it runs",
                       quoted(c.words)));
    }
    return;
  }
  exec(words, own, c.cwd_unknown, parent, depth, uid);
}

}  // namespace

ExecTrace trace_execs(const ExecHost& host, const std::vector<std::string>& argv,
                      const ShellEnv& env) {
  ExecTrace out;
  Tracer tracer(host, out);
  std::vector<ShellWord> words;
  for (const std::string& a : argv) {
    words.push_back({a, false});
  }
  tracer.exec(words, env, false, -1, 0, std::nullopt);
  return out;
}

}  // namespace cmdgate::rules
