// `cmdgate suggest` and `cmdgate replay` (the built CLI) over a decision log written by the
// daemon's own pipeline and serializer (tests/support/pipeline_fakes.h) for execs of real files,
// so that the log is what cmdgated writes, not hand-written JSON.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "pipeline_fakes.h"
#include "processes.h"
#include "rules/parser.h"

namespace cmdgate {
namespace {

test::CommandOutput run(const std::string& args) {
  return test::run_shell(std::string(CMDGATE_CLI_PATH) + " " + args + " 2>&1");
}

rules::FileId identity(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return {st.st_dev, st.st_ino};
}

constexpr const char* kMonitorRules = R"(
mode = "monitor"
default_action = "allow"
[[rule]]
id = "no-true"
action = "deny"
path = "/usr/bin/true"
[[rule]]
id = "ask-escapes"
action = "ask"
path = "/usr/bin/env"
args = "\u001b"
)";

class DecisionLogReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() +
           fmt::format("replay-{}-{}/", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ::mkdir(dir_.c_str(), 0700);
    rules_ = dir_ + "rules.toml";
    log_ = dir_ + "decisions.jsonl";
    std::ofstream(rules_) << kMonitorRules;
    store_ = std::make_unique<PolicyStore>(PolicySource{{rules_}, std::nullopt}, names_, files_);
    auto s = store_->build(rules::MatchEngine::kAuto);
    ASSERT_TRUE(s.ok()) << s.error().message;
    s->generation = store_->next_generation();
    store_->commit(std::move(*s));
    f_ = std::make_unique<test::PipelineOnFakes>(*store_);
  }

  // What the kernel records when `uid` runs the real file at `path`.
  void exec(const std::string& path, uint32_t uid, std::vector<std::string> argv) {
    ExecEvent e = f_->parked_exec(tgid_++, std::move(argv));
    e.path = path;
    e.file = identity(path);
    e.uid = e.euid = uid;
    e.gid = uid;
    f_->pipeline.on_exec(e);
  }

  void write_log() {
    std::ofstream out(log_);
    for (const std::string& line : f_->lines) {
      out << line << "\n";
    }
  }

  std::string dir_, rules_, log_;
  rules::SystemFileResolver files_;
  test::NoNames names_;
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<test::PipelineOnFakes> f_;
  uint32_t tgid_ = 100;
};

TEST_F(DecisionLogReplay, SuggestedRulesLoadAndLetEveryWouldBlockedExecRun) {
  exec("/usr/bin/true", 1000, {"true"});
  exec("/usr/bin/true", 1000, {"true", "again"});
  exec("/usr/bin/true", 0, {"true"});
  // Bytes that are not UTF-8 and a terminal escape: judged as they ran, shown escaped.
  exec("/usr/bin/env", 1000, {"env", "\xff\x1b[2K"});
  exec("/usr/bin/env", 1000, {"env", "plain"});
  write_log();
  ASSERT_EQ(f_->lines.size(), 5u);

  const test::CommandOutput same = run(fmt::format("replay --rules {} --from {}", rules_, log_));
  EXPECT_EQ(same.status, 0) << same.out;
  EXPECT_NE(same.out.find("5 decisions replayed: 0 change, 5 unchanged, 0 cannot be judged"),
            std::string::npos)
      << same.out;

  const test::CommandOutput suggested = run(fmt::format("suggest --from {} --rules {}", log_, rules_));
  ASSERT_EQ(suggested.status, 0) << suggested.out;
  EXPECT_NE(suggested.out.find("# Covers 2 execs: would_deny by rule no-true (2).\n"),
            std::string::npos)
      << suggested.out;
  EXPECT_NE(suggested.out.find("# e.g. env $'\\xff\\x1b[2K'\n"), std::string::npos)
      << suggested.out;
  const std::string suggestion = dir_ + "suggested.toml";
  std::ofstream(suggestion) << suggested.out;
  // The real parser takes it, next to the rules it was made for.
  auto set = rules::load_rules({rules_, suggestion}, names_);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_EQ(set->rules.size(), 5u);
  EXPECT_EQ(set->rules[0].id, "suggested-allow-env-uid1000");
  EXPECT_EQ(set->rules[0].priority, 1);
  EXPECT_EQ(set->rules[0].match.uids, std::vector<uint32_t>{1000});

  const test::CommandOutput replayed =
      run(fmt::format("replay --rules {} --rules {} --from {}", rules_, suggestion, log_));
  EXPECT_EQ(replayed.status, 1) << replayed.out;
  EXPECT_NE(replayed.out.find("5 decisions replayed: 4 change, 1 unchanged, 0 cannot be judged"),
            std::string::npos)
      << replayed.out;
  EXPECT_NE(replayed.out.find(":1: would_deny (rule no-true) -> allow (rule "
                              "suggested-allow-true-uid1000): true\n"),
            std::string::npos)
      << replayed.out;
  EXPECT_NE(replayed.out.find(":4: would_ask (rule ask-escapes) -> allow (rule "
                              "suggested-allow-env-uid1000): env $'\\xff\\x1b[2K'\n"),
            std::string::npos)
      << replayed.out;
}

// A fact the new rules read that the log does not hold is unknown, never "no match".
TEST_F(DecisionLogReplay, AMissingFactIsCannotJudgeNotNoMatch) {
  exec("/usr/bin/true", 1000, {"true"});
  write_log();
  const std::string hashed = dir_ + "hashed.toml";
  std::ofstream(hashed) << R"(
mode = "monitor"
[[rule]]
id = "by-hash"
action = "deny"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
)";
  const test::CommandOutput r = run(fmt::format("replay --rules {} --from {}", hashed, log_));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(":1: cannot judge: missing sha256 (not computed when it ran): true (was "
                       "would_deny by rule no-true)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("0 change, 0 unchanged, 1 cannot be judged"), std::string::npos) << r.out;
}

TEST_F(DecisionLogReplay, ABadLineIsAnErrorNamingItsPlace) {
  exec("/usr/bin/true", 1000, {"true"});
  f_->lines.push_back("{\"type\": \"exec\", oops");
  write_log();
  for (const char* command : {"replay --rules {} --from {}", "suggest --rules {} --from {}"}) {
    const test::CommandOutput r = run(fmt::format(fmt::runtime(command), rules_, log_));
    EXPECT_EQ(r.status, 2) << r.out;
    // path:line:column
    EXPECT_NE(r.out.find(log_ + ":2:18: not JSON"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace cmdgate
