// What ContextBuilder makes of trust = "package": a file dpkg vouches for, one it does not, and
// one it cannot tell about (unknown, never untrusted and never trusted).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "context/context_builder.h"
#include "pipeline_fakes.h"
#include "trust/dpkg_database.h"
#include "trust/md5.h"

namespace cmdgate {
namespace {

namespace fs = std::filesystem;

std::string hex(const trust::Md5& d) {
  std::string out;
  for (uint8_t b : d) {
    out += fmt::format("{:02x}", b);
  }
  return out;
}

class ContextTrust : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-ctx-trust.XXXXXX";
    root_ = ::mkdtemp(tmpl);
    fs::create_directories(root_ + "/info");
    std::ofstream(root_ + "/info/target.list") << "/usr/bin/target\n";
    std::ofstream(root_ + "/info/target.md5sums")
        << hex(trust::md5_of("installed").value()) << "  usr/bin/target\n";
    auto db = trust::DpkgDatabase::load(root_, root_);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    event_.path = "/usr/bin/target";
    event_.file = {1, 100};
    event_.argv = {"target"};
  }
  void TearDown() override { fs::remove_all(root_); }

  // Builds the executed file's context with the given content digest.
  const rules::ExecContext& build(std::optional<trust::Md5> md5, const trust::DpkgDatabase* db) {
    ExecFiles files;
    files.argv = event_.argv;
    files.exe_md5 = md5;
    in_ = std::make_unique<EvalInput>();
    contexts_.build(event_, rules::kNeedTrust, std::move(files), *in_, db);
    return in_->exe;
  }

  std::string root_;
  trust::DpkgDatabase db_;
  ExecEvent event_;
  test::FakeProcFs proc_;
  ExePathCache exe_paths_{proc_};
  ContextBuilder contexts_{proc_, exe_paths_};
  std::unique_ptr<EvalInput> in_;
};

TEST_F(ContextTrust, TheInstalledContentIsTrusted) {
  const rules::ExecContext& c = build(trust::md5_of("installed").value(), &db_);
  EXPECT_EQ(c.trust, rules::kTrustPackage);
  EXPECT_EQ(c.unknown, 0u);
}

TEST_F(ContextTrust, ChangedContentIsKnownNotToBeTrusted) {
  const rules::ExecContext& c = build(trust::md5_of("installed\n").value(), &db_);
  EXPECT_EQ(c.trust, 0);
  EXPECT_EQ(c.unknown, 0u);
}

TEST_F(ContextTrust, UnreadContentOrAnUnreadDatabaseIsUnknown) {
  const rules::ExecContext& unread = build(std::nullopt, &db_);
  EXPECT_EQ(unread.unknown, uint32_t{rules::kUnknownTrust});
  ASSERT_EQ(in_->gaps.size(), 1u);
  EXPECT_EQ(in_->gaps[0],
            "package trust of /usr/bin/target unknown: the file's MD5 could not be computed");

  const rules::ExecContext& no_db = build(trust::md5_of("installed").value(), nullptr);
  EXPECT_EQ(no_db.unknown, uint32_t{rules::kUnknownTrust});
  ASSERT_EQ(in_->gaps.size(), 1u);
  EXPECT_EQ(in_->gaps[0],
            "package trust of /usr/bin/target unknown: dpkg's database could not be read");
}

TEST_F(ContextTrust, APolicyWithoutTrustRulesReadsNothing) {
  ExecFiles files;
  files.argv = event_.argv;
  EvalInput in;
  contexts_.build(event_, 0, std::move(files), in, nullptr);
  EXPECT_EQ(in.exe.unknown, 0u);
  EXPECT_TRUE(in.gaps.empty());
}

}  // namespace
}  // namespace cmdgate
