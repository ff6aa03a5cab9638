// The #! line and the loader command line, parsed as the kernel and ld.so parse them.

#include "context/exec_grammar.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cmdgate {
namespace {

std::optional<Shebang> shebang(const std::string& text) { return parse_shebang(text); }

TEST(Shebang, InterpreterAndOneArgument) {
  auto s = shebang("#!/bin/sh -e -x\necho hi\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->interpreter, "/bin/sh");
  EXPECT_EQ(s->arg, "-e -x");  // the kernel passes the rest of the line as one argument
  s = shebang("#!  \t/usr/bin/env   python3  \r\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->interpreter, "/usr/bin/env");
  EXPECT_EQ(s->arg, "python3");
  s = shebang("#!/bin/bash\n");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->arg);
  s = shebang("#!relative/interp");  // no newline, whole file short: still a script
  ASSERT_TRUE(s);
  EXPECT_EQ(s->interpreter, "relative/interp");
}

TEST(Shebang, NotAScriptTheKernelWouldRun) {
  EXPECT_FALSE(shebang(""));
  EXPECT_FALSE(shebang("\x7f" "ELF"));
  EXPECT_FALSE(shebang("#!\n"));
  EXPECT_FALSE(shebang("#!   \t\n"));
  EXPECT_FALSE(shebang(" #!/bin/sh\n"));
  // An interpreter name running past the kernel's buffer is refused (ENOEXEC)...
  EXPECT_FALSE(shebang("#!/" + std::string(300, 'a')));
  // ...but a long argument is cut and the script runs.
  auto s = shebang("#!/bin/sh " + std::string(300, 'a'));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->interpreter, "/bin/sh");
  EXPECT_EQ(s->arg->size(), kShebangBytes - 1 - 2 - 8);
}

TEST(Shebang, ANulEndsTheLine) {
  auto s = shebang(std::string("#!/bin/sh\0/evil\n", 16));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->interpreter, "/bin/sh");
}

LoaderCall call(std::vector<std::string_view> argv) { return parse_loader_call(argv); }

TEST(LoaderCall, TheProgramFollowsTheOptions) {
  auto c = call({"/lib64/ld-linux-x86-64.so.2", "/usr/bin/id", "-u"});
  ASSERT_TRUE(c.program);
  EXPECT_EQ(*c.program, "/usr/bin/id");
  EXPECT_EQ(c.argv, (std::vector<std::string>{"/usr/bin/id", "-u"}));

  c = call({"ld.so", "--library-path", "/tmp/x", "--preload", "/tmp/p.so", "--inhibit-cache",
            "--argv0", "innocent", "./payload", "a", "b"});
  ASSERT_TRUE(c.program);
  EXPECT_EQ(*c.program, "./payload");
  EXPECT_EQ(c.library_path, "/tmp/x");
  EXPECT_EQ(c.argv, (std::vector<std::string>{"innocent", "a", "b"}));

  c = call({"ld-musl", "--library-path=/tmp/y", "--", "--looks-like-an-option"});
  ASSERT_TRUE(c.program);
  EXPECT_EQ(*c.program, "--looks-like-an-option");
  EXPECT_EQ(c.library_path, "/tmp/y");

  // Unknown options are skipped: judging a program the loader might refuse is the safe error.
  c = call({"ld.so", "--future-flag", "/bin/x"});
  ASSERT_TRUE(c.program);
  EXPECT_EQ(*c.program, "/bin/x");

  // A static-pie program's own arguments: the first non-option is taken as a program.
  c = call({"/sbin/ldconfig", "-p"});
  ASSERT_TRUE(c.program);
  EXPECT_EQ(*c.program, "-p");
}

TEST(LoaderCall, NothingRuns) {
  EXPECT_FALSE(call({"ld.so"}).program);
  EXPECT_FALSE(call({"ld.so", "--help", "/bin/x"}).program);
  EXPECT_FALSE(call({"ld.so", "--list-tunables"}).program);
  EXPECT_FALSE(call({"ld.so", "--library-path"}).program);
  EXPECT_FALSE(call({"ld.so", "--"}).program);
}

TEST(LoaderCall, SearchDirectories) {
  LoaderCall c = call({"ld.so", "prog"});
  const std::string env("HOME=/root\0LD_LIBRARY_PATH=/opt/a::/opt/b;/opt/c\0LD_LIBRARY_PATH=/no\0",
                        60);
  auto dirs = loader_search_dirs(c, env);
  ASSERT_GE(dirs.size(), 4u);
  EXPECT_EQ(dirs[0], "/opt/a");
  EXPECT_EQ(dirs[1], ".");
  EXPECT_EQ(dirs[2], "/opt/b");
  EXPECT_EQ(dirs[3], "/opt/c");
  EXPECT_EQ(dirs.back(), "/usr/lib");
  // The option replaces the environment's path.
  c = call({"ld.so", "--library-path", "/lp", "prog"});
  dirs = loader_search_dirs(c, env);
  EXPECT_EQ(dirs[0], "/lp");
  EXPECT_NE(dirs[1], "/opt/a");
}

}  // namespace
}  // namespace cmdgate
