#include "context/exec_grammar.h"

#include <algorithm>
#include <array>

namespace cmdgate {
namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (blank(s.back()) || s.back() == '\r' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

// Options that take the next argument (or "=value" in musl's spelling).
constexpr std::array<std::string_view, 7> kValued = {
    "--library-path", "--inhibit-rpath", "--audit",       "--preload",
    "--argv0",        "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"};
// Options after which the loader runs no program at all.
constexpr std::array<std::string_view, 4> kNoProgram = {"--help", "--version", "--list-tunables",
                                                        "--list-diagnostics"};

}  // namespace

std::optional<Shebang> parse_shebang(std::string_view head) {
  if (!head.starts_with("#!")) {
    return std::nullopt;
  }
  // The kernel's buffer holds kShebangBytes, zeros past the end of a shorter file.
  const bool filled = head.size() >= kShebangBytes;
  head = head.substr(2, kShebangBytes - 2);
  const size_t nl = head.find('\n');
  // Without a newline the line ends before the buffer's last byte, or at the file's end.
  const bool whole_line = nl != std::string_view::npos || !filled;
  std::string_view line = nl != std::string_view::npos ? head.substr(0, nl)
                          : filled                     ? head.substr(0, head.size() - 1)
                                                       : head;
  // The kernel stops at a NUL as at the end of its buffer.
  line = line.substr(0, line.find('\0'));
  std::string_view rest = line;
  while (!rest.empty() && blank(rest.front())) {
    rest.remove_prefix(1);
  }
  size_t name_end = 0;
  while (name_end < rest.size() && !blank(rest[name_end])) {
    ++name_end;
  }
  if (name_end == 0) {
    return std::nullopt;
  }
  // A line longer than the buffer runs only if the interpreter's name ended inside it.
  if (!whole_line && name_end == rest.size()) {
    return std::nullopt;
  }
  Shebang s;
  s.interpreter = std::string(rest.substr(0, name_end));
  const std::string_view arg = trim(rest.substr(name_end));
  if (!arg.empty()) {
    s.arg = std::string(arg);
  }
  return s;
}

LoaderCall parse_loader_call(std::span<const std::string_view> argv) {
  LoaderCall call;
  std::optional<std::string> argv0;
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (!a.starts_with("--")) {
      break;
    }
    if (std::find(kNoProgram.begin(), kNoProgram.end(), a) != kNoProgram.end()) {
      return call;
    }
    const size_t eq = a.find('=');
    const std::string_view name = a.substr(0, eq);
    if (std::find(kValued.begin(), kValued.end(), name) == kValued.end()) {
      continue;  // a flag (--list, --verify, --inhibit-cache) or unknown
    }
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < argv.size()) {
      value = argv[++i];
    } else {
      return call;  // an option missing its value: the loader stops with a usage message
    }
    if (name == "--library-path") {
      call.library_path = std::string(*value);
    } else if (name == "--argv0") {
      argv0 = std::string(*value);
    }
  }
  if (i >= argv.size()) {
    return call;
  }
  call.program = std::string(argv[i]);
  call.argv.push_back(argv0 ? *argv0 : *call.program);
  for (size_t k = i + 1; k < argv.size(); ++k) {
    call.argv.emplace_back(argv[k]);
  }
  return call;
}

std::vector<std::string> loader_search_dirs(const LoaderCall& call, std::string_view environ) {
  std::optional<std::string_view> path;
  if (call.library_path) {
    path = *call.library_path;
  } else {
    size_t start = 0;
    while (start < environ.size()) {
      size_t end = environ.find('\0', start);
      if (end == std::string_view::npos) {
        end = environ.size();
      }
      const std::string_view var = environ.substr(start, end - start);
      if (var.starts_with("LD_LIBRARY_PATH=")) {
        path = var.substr(16);  // the first one wins, as in the loader's own scan
        break;
      }
      start = end + 1;
    }
  }
  std::vector<std::string> dirs;
  if (path) {
    size_t start = 0;
    while (start <= path->size()) {
      size_t end = path->find_first_of(":;", start);
      if (end == std::string_view::npos) {
        end = path->size();
      }
      // An empty element is the working directory.
      const std::string_view dir = path->substr(start, end - start);
      dirs.emplace_back(dir.empty() ? "." : dir);
      start = end + 1;
    }
  }
  for (const char* d : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
                        "/usr/lib64", "/lib", "/usr/lib"}) {
    dirs.emplace_back(d);
  }
  return dirs;
}

}  // namespace cmdgate
