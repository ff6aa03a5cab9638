#include "pipeline/record_decoder.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <random>
#include <vector>

#include "pipeline_fakes.h"
#include "probe/abi_check.h"

namespace cmdgate {
namespace {

std::vector<std::byte> exec_record(const std::string& path, const std::vector<std::string>& argv,
                                   uint32_t flags = 0) {
  return test::exec_record_bytes({.path = path, .argv = argv, .flags = flags});
}

TEST(RecordDecoder, DecodesAnExecRecord) {
  auto bytes = exec_record("/usr/bin/target", {"target", "-x", ""});
  auto rec = decode_record(bytes);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  const auto& e = std::get<ExecEvent>(*rec);
  EXPECT_EQ(e.path, "/usr/bin/target");
  EXPECT_EQ(e.argv, (std::vector<std::string>{"target", "-x", ""}));
  EXPECT_EQ(e.file.dev, makedev(8, 1));
  EXPECT_EQ(e.file.ino, 42u);
  EXPECT_EQ(e.uid, 1001u);
  EXPECT_EQ(e.comm, "target");
  ASSERT_EQ(e.lineage.size(), 1u);
  EXPECT_EQ(e.lineage[0].comm, "bash");
  EXPECT_EQ(e.verdict, rules::KernelVerdict::kEvaluate);
}

// (uint32_t)-1 is the kernel's "never set"; any other value, 0 included, is an id.
TEST(RecordDecoder, AuditIdsAreTheRecordsAndUnsetMeansNone) {
  auto rec = decode_record(test::exec_record_bytes({.loginuid = 1000, .sessionid = UINT32_MAX}));
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_EQ(std::get<ExecEvent>(*rec).loginuid, 1000u);
  EXPECT_EQ(std::get<ExecEvent>(*rec).sessionid, std::nullopt);

  rec = decode_record(test::exec_record_bytes({.loginuid = 0, .sessionid = 7}));
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_EQ(std::get<ExecEvent>(*rec).loginuid, 0u);
  EXPECT_EQ(std::get<ExecEvent>(*rec).sessionid, 7u);
}

TEST(RecordDecoder, TruncatedArgsKeepTheirLastPiece) {
  auto bytes = exec_record("/bin/x", {"x", "abc"});
  bytes.pop_back();  // drop the final NUL: as when the kernel cuts argv
  cg_exec_record r;
  std::memcpy(&r, bytes.data(), sizeof(r));
  r.args_len -= 1;
  r.hdr.size -= 1;
  std::memcpy(bytes.data(), &r, sizeof(r));
  auto rec = decode_record(bytes);
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  EXPECT_EQ(std::get<ExecEvent>(*rec).argv, (std::vector<std::string>{"x", "abc"}));
}

TEST(RecordDecoder, RejectsMalformedRecords) {
  auto good = exec_record("/bin/x", {"x"});
  {
    auto short_record = good;
    short_record.resize(10);
    EXPECT_FALSE(decode_record(short_record).ok());
  }
  {
    auto wrong_size = good;
    wrong_size.push_back(std::byte{0});
    EXPECT_FALSE(decode_record(wrong_size).ok());
  }
  {
    auto bad_len = good;
    cg_exec_record r;
    std::memcpy(&r, bad_len.data(), sizeof(r));
    r.path_len = 60000;
    std::memcpy(bad_len.data(), &r, sizeof(r));
    auto rec = decode_record(bad_len);
    ASSERT_FALSE(rec.ok());
    EXPECT_NE(rec.error().message.find("path"), std::string::npos);
  }
  {
    auto unterminated = good;
    cg_exec_record r;
    std::memcpy(&r, unterminated.data(), sizeof(r));
    unterminated[sizeof(r) + r.path_len - 1] = std::byte{'x'};
    EXPECT_FALSE(decode_record(unterminated).ok());
  }
  {
    auto bad_type = good;
    cg_record_header h;
    std::memcpy(&h, bad_type.data(), sizeof(h));
    h.type = 99;
    std::memcpy(bad_type.data(), &h, sizeof(h));
    EXPECT_FALSE(decode_record(bad_type).ok());
  }
}

TEST(RecordDecoder, DecodesExitAndEscapeRecords) {
  cg_exit_record x{};
  x.hdr = {CG_RECORD_EXIT, 0, sizeof(x), 5};
  x.exec_id = 77;
  x.tgid = 10;
  std::vector<std::byte> bytes(sizeof(x));
  std::memcpy(bytes.data(), &x, sizeof(x));
  auto rec = decode_record(bytes);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(std::get<ExitEvent>(*rec).exec_id, 77u);

  cg_escape_record esc{};
  esc.hdr = {CG_RECORD_ESCAPE, 0, sizeof(esc), 6};
  esc.target_tgid = 10;
  esc.sender_tgid = 11;
  esc.kill_sent = 1;
  bytes.resize(sizeof(esc));
  std::memcpy(bytes.data(), &esc, sizeof(esc));
  rec = decode_record(bytes);
  ASSERT_TRUE(rec.ok());
  EXPECT_TRUE(std::get<EscapeEvent>(*rec).kill_sent);
}

// Random bytes must never crash the decoder.
TEST(RecordDecoder, SurvivesRandomBytes) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> bytes(rng() % 800);
    for (auto& b : bytes) {
      b = static_cast<std::byte>(rng());
    }
    if (bytes.size() >= sizeof(cg_record_header) && rng() % 2) {
      cg_record_header h{static_cast<uint16_t>(1 + rng() % 3), 0,
                         static_cast<uint32_t>(bytes.size()), 0};
      std::memcpy(bytes.data(), &h, sizeof(h));
    }
    (void)decode_record(bytes);
  }
}

}  // namespace
}  // namespace cmdgate
