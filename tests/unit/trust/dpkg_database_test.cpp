// The dpkg database reader on a tree laid out as dpkg lays out /var/lib/dpkg, with usrmerge's
// /bin -> usr/bin, a diversion, a package without md5sums and a file another package took over.
#include "trust/dpkg_database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "trust/md5.h"

namespace cmdgate::trust {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// RFC 1321's test suite: what dpkg's md5sums files would hold for these contents.
constexpr std::string_view kMd5Abc = "900150983cd24fb0d6963f7d28e17f72";
constexpr std::string_view kMd5Empty = "d41d8cd98f00b204e9800998ecf8427e";
constexpr std::string_view kMd5A = "0cc175b9c0f1b6a831c399e269772661";
constexpr std::string_view kMd5Digest = "f96b697d7cb7938d525a2f31aaf161d0";  // "message digest"
constexpr std::string_view kMd5Alphabet = "c3fcd3d76192e4007dfb496cca67e13b";

class DpkgDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cmdgate-dpkg.XXXXXX";
    root_ = ::mkdtemp(tmpl);
    admin_ = root_ + "/var/lib/dpkg";
    fs::create_directories(admin_ + "/info");
    fs::create_directories(root_ + "/usr/bin");
    fs::create_directory_symlink("usr/bin", root_ + "/bin");

    // coreutils lists its files under /bin, where they were before usrmerge.
    write_info("coreutils.list", "/.\n/bin\n/bin/true\n/usr/bin/env\n");
    write_info("coreutils.md5sums",
               fmt::format("{}  bin/true\n{}  usr/bin/env\n", kMd5Abc, kMd5Empty));
    // A Multi-Arch package with no md5sums at all.
    write_info("nosums:amd64.list", "/usr/bin/nosums\n");
    // tool's /usr/bin/tool is diverted by wrapper, which ships its own /usr/bin/tool.
    write_info("tool.list", "/usr/bin/tool\n");
    write_info("tool.md5sums", fmt::format("{}  usr/bin/tool\n", kMd5A));
    write_info("wrapper.list", "/usr/bin/tool\n");
    write_info("wrapper.md5sums", fmt::format("{} *usr/bin/tool\n", kMd5Digest));
    write(admin_ + "/diversions", "/usr/bin/tool\n/usr/bin/tool.real\nwrapper\n");
    // old's md5sums still names /usr/bin/moved, which new took over (dpkg updated old's list).
    write_info("old.list", "/usr/share/old\n");
    write_info("old.md5sums", fmt::format("{}  usr/bin/moved\n", kMd5Alphabet));
  }
  void TearDown() override { fs::remove_all(root_); }

  static void write(const std::string& path, std::string_view text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  void write_info(const std::string& name, std::string_view text) const {
    write(admin_ + "/info/" + name, text);
  }

  DpkgDatabase load() const {
    auto db = DpkgDatabase::load(admin_, root_);
    EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
    return db.ok() ? std::move(*db) : DpkgDatabase{};
  }
  std::string load_error() const {
    auto db = DpkgDatabase::load(admin_, root_);
    EXPECT_FALSE(db.ok());
    return db.ok() ? "" : db.error().message;
  }

  std::string root_;
  std::string admin_;
};

TEST(Md5, MatchesRfc1321) {
  EXPECT_EQ(md5_of("abc").value(), md5_of(std::string("ab") + "c").value());
  const auto hex = [](const Md5& d) {
    std::string out;
    for (uint8_t b : d) {
      out += fmt::format("{:02x}", b);
    }
    return out;
  };
  EXPECT_EQ(hex(md5_of("abc").value()), kMd5Abc);
  EXPECT_EQ(hex(md5_of("").value()), kMd5Empty);
  EXPECT_EQ(hex(md5_of("abcdefghijklmnopqrstuvwxyz").value()), kMd5Alphabet);
}

TEST_F(DpkgDatabaseTest, AnUnmodifiedPackageFileIsTrustedAndAModifiedOneIsNot) {
  const DpkgDatabase db = load();
  std::string package;
  EXPECT_EQ(db.judge("/usr/bin/env", md5_of("").value(), &package), PackageStanding::kTrusted);
  EXPECT_EQ(package, "coreutils");
  // One byte appended.
  EXPECT_EQ(db.judge("/usr/bin/env", md5_of("\n").value()), PackageStanding::kModified);
  // The same content somewhere no package owns.
  EXPECT_EQ(db.judge("/usr/local/bin/env", md5_of("").value()), PackageStanding::kNotOwned);
}

TEST_F(DpkgDatabaseTest, AFileListedUnderAUsrmergeAliasIsFoundWhereItIs) {
  const DpkgDatabase db = load();
  EXPECT_EQ(db.judge("/usr/bin/true", md5_of("abc").value()), PackageStanding::kTrusted);
  EXPECT_EQ(db.judge("/usr/bin/true", md5_of("abd").value()), PackageStanding::kModified);
  // The exec reports the resolved path, never the alias.
  EXPECT_EQ(db.judge("/bin/true", md5_of("abc").value()), PackageStanding::kNotOwned);
}

TEST_F(DpkgDatabaseTest, WithoutARecordedChecksumAFileIsNotTrusted) {
  const DpkgDatabase db = load();
  std::string package;
  EXPECT_EQ(db.judge("/usr/bin/nosums", md5_of("").value(), &package),
            PackageStanding::kNoChecksum);
  EXPECT_EQ(package, "nosums:amd64");
}

TEST_F(DpkgDatabaseTest, ADivertedFileIsJudgedWhereTheDiversionPutIt) {
  const DpkgDatabase db = load();
  std::string package;
  // At the diverted path: the diverting package's own file.
  EXPECT_EQ(db.judge("/usr/bin/tool", md5_of("message digest").value(), &package),
            PackageStanding::kTrusted);
  EXPECT_EQ(package, "wrapper");
  // tool's file is not trusted at /usr/bin/tool, only where dpkg put it.
  EXPECT_EQ(db.judge("/usr/bin/tool", md5_of("a").value()), PackageStanding::kModified);
  EXPECT_EQ(db.judge("/usr/bin/tool.real", md5_of("a").value(), &package),
            PackageStanding::kTrusted);
  EXPECT_EQ(package, "tool");
}

TEST_F(DpkgDatabaseTest, AChecksumOfAFileThePackageNoLongerListsVouchesForNothing) {
  const DpkgDatabase db = load();
  EXPECT_EQ(db.judge("/usr/bin/moved", md5_of("abcdefghijklmnopqrstuvwxyz").value()),
            PackageStanding::kNotOwned);
}

TEST_F(DpkgDatabaseTest, AMalformedLineFailsTheLoadWithItsPlace) {
  write_info("coreutils.md5sums",
             fmt::format("{}  bin/true\n{}x  usr/bin/env\n", kMd5Abc, kMd5Empty.substr(0, 31)));
  EXPECT_EQ(load_error(), admin_ +
                              "/info/coreutils.md5sums:2:32: expected an MD5 digest (32 "
                              "hexadecimal digits)");
  write_info("coreutils.md5sums", fmt::format("{}\tbin/true\n", kMd5Abc));
  EXPECT_EQ(load_error(), admin_ +
                              "/info/coreutils.md5sums:1:33: expected two spaces and a "
                              "path after the digest");
  write_info("coreutils.md5sums", "");
  write_info("coreutils.list", "/.\nbin/true\n");
  EXPECT_EQ(load_error(), admin_ + "/info/coreutils.list:2:1: expected an absolute path");
}

TEST_F(DpkgDatabaseTest, AnIncompleteDiversionFailsTheLoad) {
  write(admin_ + "/diversions", "/usr/bin/tool\n/usr/bin/tool.real\nwrapper\n/usr/bin/x\n");
  EXPECT_THAT(load_error(), HasSubstr("/diversions:4:1: incomplete diversion"));
}

TEST_F(DpkgDatabaseTest, AMissingDatabaseIsAnError) {
  auto db = DpkgDatabase::load(root_ + "/nowhere", root_);
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.error().message, HasSubstr(root_ + "/nowhere/info: No such file or directory"));
}

TEST_F(DpkgDatabaseTest, TheHostsDatabaseReads) {
  // The project builds and runs on Debian (scripts/deps): a host without dpkg's database fails.
  auto db = DpkgDatabase::load(std::string(kDpkgAdminDir));
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_GT(db->package_count(), 0u);
}

}  // namespace
}  // namespace cmdgate::trust
