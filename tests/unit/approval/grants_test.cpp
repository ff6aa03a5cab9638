#include "park/grants.h"

#include <gtest/gtest.h>

#include <map>

namespace cmdgate {
namespace {

using namespace std::chrono_literals;

// The system as a grant sees it: working directories by pid, script versions by path.
struct FakeFacts final : GrantFacts {
  std::map<uint32_t, WorkingDir> cwds;
  std::map<std::string, FileVersion> scripts;

  Result<WorkingDir> cwd(uint32_t tgid) const override {
    auto it = cwds.find(tgid);
    return it == cwds.end() ? Result<WorkingDir>(Error{"no cwd"}) : Result(it->second);
  }
  Result<FileVersion> script(uint32_t, const FileFact& s) const override {
    auto it = scripts.find(s.path);
    if (it == scripts.end() || it->second.id != s.id) {
      return Error{"replaced"};
    }
    return it->second;
  }
};

class GrantsTest : public ::testing::Test {
 protected:
  GrantsTest() {
    auto f = std::make_unique<FakeFacts>();
    facts_ = f.get();
    grants_ = std::make_unique<Grants>(std::move(f));
    facts_->cwds[100] = {"/srv/app", {7, 70}};
    facts_->cwds[200] = {"/srv/app", {7, 70}};
    request_.event = exec(100);
    request_.argv = {"git", "push", "--force"};
    request_.cwd = "/srv/app";
  }

  static ExecEvent exec(uint32_t tgid) {
    ExecEvent e;
    e.tgid = tgid;
    e.uid = 1000;
    e.file = {1, 2};
    e.ctime_sec = 50;
    e.ctime_nsec = 5;
    return e;
  }
  // A later exec of the same command, by process 200.
  ExecFiles same() const {
    ExecFiles f;
    f.argv = request_.argv;
    f.scripts = request_.scripts;
    f.exe_sha256 = request_.exe_sha256;
    return f;
  }
  bool allows(const ExecEvent& e, const ExecFiles& f, Grants::Time at = Grants::Time{} + 1min) {
    return grants_->allows(e, f, at);
  }

  FakeFacts* facts_;
  std::unique_ptr<Grants> grants_;
  PendingRequest request_;
};

TEST_F(GrantsTest, TheSameCommandOfTheSameUserInTheSamePlaceUntilExpiry) {
  ASSERT_TRUE(grants_->add(request_, Grants::Time{} + 10min).ok());
  EXPECT_TRUE(allows(exec(200), same()));
  EXPECT_FALSE(allows(exec(200), same(), Grants::Time{} + 11min));
  EXPECT_EQ(grants_->size(), 0u);
}

TEST_F(GrantsTest, AnythingElseAsksAgain) {
  ASSERT_TRUE(grants_->add(request_, Grants::Time{} + 10min).ok());
  ExecEvent other_user = exec(200);
  other_user.uid = 1001;
  EXPECT_FALSE(allows(other_user, same()));
  ExecEvent other_file = exec(200);
  other_file.file = {1, 3};
  EXPECT_FALSE(allows(other_file, same()));
  // The same file, written to since: its ctime moved.
  ExecEvent rebuilt = exec(200);
  rebuilt.ctime_nsec = 6;
  EXPECT_FALSE(allows(rebuilt, same()));
  ExecFiles more = same();
  more.argv.push_back("x");
  EXPECT_FALSE(allows(exec(200), more));
  // Argument boundaries matter: ["a b"] is not ["a", "b"].
  ExecFiles joined = same();
  joined.argv = {"git push", "--force"};
  EXPECT_FALSE(allows(exec(200), joined));
  // The same command elsewhere, or in another directory under the same name.
  facts_->cwds[300] = {"/tmp", {7, 71}};
  EXPECT_FALSE(allows(exec(300), same()));
  facts_->cwds[400] = {"/srv/app", {8, 70}};
  EXPECT_FALSE(allows(exec(400), same()));
  ExecFiles cut = same();
  cut.argv_cut = true;
  EXPECT_FALSE(allows(exec(200), cut));
  EXPECT_TRUE(allows(exec(200), same()));
}

TEST_F(GrantsTest, AnEditedOrReplacedScriptAsksAgain) {
  request_.scripts = {FileFact{{1, 9}, "/srv/app/deploy.sh", std::nullopt, 0, std::nullopt}};
  facts_->scripts["/srv/app/deploy.sh"] = {{1, 9}, 60, 0};
  ASSERT_TRUE(grants_->add(request_, Grants::Time{} + 10min).ok());
  EXPECT_TRUE(allows(exec(200), same()));
  facts_->scripts["/srv/app/deploy.sh"].ctime_sec = 61;  // edited in place
  EXPECT_FALSE(allows(exec(200), same()));
  facts_->scripts["/srv/app/deploy.sh"] = {{1, 10}, 60, 0};  // another file at the path
  ExecFiles replaced = same();
  replaced.scripts[0].id = {1, 10};
  EXPECT_FALSE(allows(exec(200), replaced));
  // A script that could not be identified is never covered, and cannot be granted.
  ExecFiles unknown = same();
  unknown.scripts[0].unknown = rules::kUnknownFile;
  EXPECT_FALSE(allows(exec(200), unknown));
  request_.scripts[0].unknown = rules::kUnknownFile;
  EXPECT_FALSE(grants_->add(request_, Grants::Time{} + 10min).ok());
}

TEST_F(GrantsTest, DigestsKnownOnBothSidesMustAgree) {
  rules::Sha256 a{};
  rules::Sha256 b{};
  b[0] = 1;
  request_.exe_sha256 = a;
  ASSERT_TRUE(grants_->add(request_, Grants::Time{} + 10min).ok());
  ExecFiles unknown = same();
  unknown.exe_sha256.reset();
  EXPECT_TRUE(allows(exec(200), unknown));
  ExecFiles differs = same();
  differs.exe_sha256 = b;
  EXPECT_FALSE(allows(exec(200), differs));
  EXPECT_TRUE(allows(exec(200), same()));
}

TEST_F(GrantsTest, ACommandThatCannotBeToldApartIsNotGranted) {
  request_.argv_cut = true;
  EXPECT_FALSE(grants_->add(request_, Grants::Time{} + 10min).ok());
  request_.argv_cut = false;
  request_.event.tgid = 999;  // its working directory cannot be read
  EXPECT_FALSE(grants_->add(request_, Grants::Time{} + 10min).ok());
  EXPECT_EQ(grants_->size(), 0u);
}

}  // namespace
}  // namespace cmdgate
