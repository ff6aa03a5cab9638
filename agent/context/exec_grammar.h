#pragma once
// What the kernel and the dynamic loader read out of an exec, parsed the way they parse it, so
// the daemon judges the files they will run and not the ones a command line merely names.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cmdgate {

// A "#!" line as binfmt_script reads it: the interpreter, and at most one argument (the rest of
// the line, trimmed). nullopt when `head` (the file's first bytes) is not a script the kernel
// would run: no "#!", or an interpreter name cut by the kernel's buffer.
struct Shebang {
  std::string interpreter;
  std::optional<std::string> arg;
};
[[nodiscard]] std::optional<Shebang> parse_shebang(std::string_view head);

// The bytes binfmt_script looks at.
inline constexpr size_t kShebangBytes = 256;

// A dynamic loader's command line (glibc's ld.so, musl's): its options, then the program it maps
// and runs, then that program's arguments. Unknown "--" options are taken as flags: judging a
// program the loader might refuse to run is the safe mistake.
struct LoaderCall {
  std::optional<std::string> program;       // as named; absent: nothing is run (--help, ...)
  std::optional<std::string> library_path;  // --library-path: replaces LD_LIBRARY_PATH
  std::vector<std::string> argv;            // the program's argv, argv[0] per --argv0
};
[[nodiscard]] LoaderCall parse_loader_call(std::span<const std::string_view> argv);

// Where a loader looks for a program named without a '/': the library path (the option's, else
// LD_LIBRARY_PATH), then the system's library directories.
[[nodiscard]] std::vector<std::string> loader_search_dirs(const LoaderCall& call,
                                                          std::string_view environ);

}  // namespace cmdgate
