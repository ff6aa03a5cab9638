#include "rules/hyperscan_matcher.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <stdexcept>

#include "common/forked_call.h"
#include "rules/hyperscan_syntax.h"

namespace cmdgate::rules {
namespace {

std::atomic<uint64_t> g_next_serial{1};

// Per-thread scratch, valid for every database whose serial is remembered here. Checking an
// unknown database costs a hs_alloc_scratch() call, which mallocs a temporary even when the
// scratch is already big enough, so the hot path must find the serial: the ring holds 64, enough
// for several policies (at most six databases each) used in turn by one thread. A forgotten
// serial costs one more check, not a wrong answer.
class ThreadScratch {
 public:
  ~ThreadScratch() {
    if (scratch_ != nullptr) {
      hs_free_scratch(scratch_);
    }
  }
  hs_scratch_t* for_database(const hs_database_t* db, uint64_t serial) {
    if (serial == last_) {  // consecutive scans (argv elements) use the same database
      return scratch_;
    }
    for (uint64_t s : known_) {
      if (s == serial) {
        last_ = serial;
        return scratch_;
      }
    }
    if (hs_alloc_scratch(db, &scratch_) != HS_SUCCESS) {
      return nullptr;
    }
    known_[next_++ % known_.size()] = serial;
    last_ = serial;
    return scratch_;
  }

 private:
  hs_scratch_t* scratch_ = nullptr;
  uint64_t last_ = 0;
  std::array<uint64_t, 64> known_{};
  size_t next_ = 0;
};

thread_local ThreadScratch t_scratch;

int on_hs_match(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
                unsigned int /*flags*/, void* context) {
  static_cast<MatchSink*>(context)->on_match(id);
  return 0;
}

struct Compiled {
  hs_database_t* db = nullptr;
  std::vector<uint32_t> rejected;  // positions (in the caller's pattern list) Hyperscan refused
};

// Compiles what Hyperscan accepts. Hyperscan names only the first bad expression per attempt;
// after a few such retries every remaining expression is vetted on its own (slow per pattern,
// but cheaper than many whole-database recompiles).
// exprs[i] is the caller's pattern positions[i], reported to the sink as ids[i].
Compiled compile_database(const std::vector<std::string>& exprs,
                          const std::vector<uint32_t>& positions, const std::vector<uint32_t>& ids,
                          unsigned flags) {
  constexpr int kRetriesBeforeVetting = 4;
  Compiled out;
  std::vector<size_t> live(exprs.size());
  for (size_t i = 0; i < live.size(); ++i) {
    live[i] = i;
  }
  for (int attempt = 0; !live.empty(); ++attempt) {
    if (attempt == kRetriesBeforeVetting) {
      std::vector<size_t> kept;
      for (size_t i : live) {
        hs_expr_info_t* info = nullptr;
        hs_compile_error_t* err = nullptr;
        if (hs_expression_info(exprs[i].c_str(), flags, &info, &err) == HS_SUCCESS) {
          free(info);  // NOLINT: allocated by Hyperscan with malloc
          kept.push_back(i);
        } else {
          hs_free_compile_error(err);
          out.rejected.push_back(positions[i]);
        }
      }
      live = std::move(kept);
      continue;
    }
    std::vector<const char*> c_exprs;
    std::vector<unsigned> c_flags(live.size(), flags);
    std::vector<unsigned> c_ids;
    for (size_t i : live) {
      c_exprs.push_back(exprs[i].c_str());
      c_ids.push_back(ids[i]);
    }
    hs_compile_error_t* err = nullptr;
    const hs_error_t rc =
        hs_compile_multi(c_exprs.data(), c_flags.data(), c_ids.data(),
                         static_cast<unsigned>(live.size()), HS_MODE_BLOCK, nullptr, &out.db, &err);
    if (rc == HS_SUCCESS) {
      return out;
    }
    const int bad = err != nullptr ? err->expression : -1;
    hs_free_compile_error(err);
    if (bad < 0 || static_cast<size_t>(bad) >= live.size()) {
      // Not one expression's fault (size limits, unsupported CPU): RE2 takes them all.
      for (size_t i : live) {
        out.rejected.push_back(positions[i]);
      }
      live.clear();
    } else {
      out.rejected.push_back(positions[live[static_cast<size_t>(bad)]]);
      live.erase(live.begin() + bad);
    }
  }
  return out;
}

// Far beyond what a policy's patterns take to compile; only a pathological one reaches it, and
// then the policy keeps the engine it has.
constexpr std::chrono::seconds kChildCompileDeadline{120};

// What a child sends back: the number of rejected positions, the positions, then the serialized
// database (nothing when Hyperscan took no pattern).
std::string serialize(const Compiled& c) {
  const auto count = static_cast<uint32_t>(c.rejected.size());
  std::string out(sizeof count + c.rejected.size() * sizeof(uint32_t), '\0');
  std::memcpy(out.data(), &count, sizeof count);
  std::memcpy(out.data() + sizeof count, c.rejected.data(), c.rejected.size() * sizeof(uint32_t));
  if (c.db != nullptr) {
    char* bytes = nullptr;
    size_t length = 0;
    if (hs_serialize_database(c.db, &bytes, &length) != HS_SUCCESS) {
      throw std::runtime_error("hs_serialize_database");  // the child's exit status says so
    }
    out.append(bytes, length);
    free(bytes);  // NOLINT: allocated by Hyperscan with malloc
  }
  return out;
}

// The child's answer, checked: every position it names is one of the database's, and a pattern
// is either in the database or rejected, never neither. positions ascend.
Result<Compiled> deserialize(std::string_view bytes, const std::vector<uint32_t>& positions) {
  uint32_t count = 0;
  if (bytes.size() < sizeof count) {
    return Error{"the child's answer is truncated"};
  }
  std::memcpy(&count, bytes.data(), sizeof count);
  bytes.remove_prefix(sizeof count);
  if (count > positions.size() || bytes.size() < size_t{count} * sizeof(uint32_t)) {
    return Error::format("the child's answer names {} rejected patterns of {}", count,
                         positions.size());
  }
  Compiled c;
  c.rejected.resize(count);
  std::memcpy(c.rejected.data(), bytes.data(), size_t{count} * sizeof(uint32_t));
  bytes.remove_prefix(size_t{count} * sizeof(uint32_t));
  for (uint32_t pos : c.rejected) {
    if (!std::binary_search(positions.begin(), positions.end(), pos)) {
      return Error::format("the child's answer rejects pattern {}, which it was not given", pos);
    }
  }
  if (bytes.empty()) {
    std::vector<uint32_t> distinct = c.rejected;
    std::sort(distinct.begin(), distinct.end());
    if (std::unique(distinct.begin(), distinct.end()) - distinct.begin() !=
        static_cast<std::ptrdiff_t>(positions.size())) {
      return Error{"the child's answer has no database but keeps patterns for one"};
    }
    return c;
  }
  if (hs_error_t rc = hs_deserialize_database(bytes.data(), bytes.size(), &c.db);
      rc != HS_SUCCESS) {
    return Error::format("the child's database does not load (Hyperscan error {})", rc);
  }
  return c;
}

Result<Compiled> compile_in_child(const std::vector<std::string>& exprs,
                                  const std::vector<uint32_t>& positions,
                                  const std::vector<uint32_t>& ids, unsigned flags) {
  auto answer = run_in_child(
      [&] {
        Compiled c = compile_database(exprs, positions, ids, flags);
        std::string out = serialize(c);
        hs_free_database(c.db);
        return out;
      },
      kChildCompileDeadline);
  if (!answer) {
    return answer.error().context("compiling the Hyperscan database in a child");
  }
  auto c = deserialize(*answer, positions);
  if (!c) {
    return c.error().context("compiling the Hyperscan database in a child");
  }
  return c;
}

}  // namespace

Result<std::unique_ptr<HyperscanMatcher>> HyperscanMatcher::create(
    std::span<const std::string> patterns, std::span<const uint32_t> ids, PatternFlavor flavor,
    CompileSite where) {
  std::unique_ptr<HyperscanMatcher> m(new HyperscanMatcher());
  std::vector<std::string> hs_exprs;
  std::vector<uint32_t> hs_ids;
  std::vector<std::string> rest_patterns;
  std::vector<uint32_t> rest_ids;
  // Hyperscan reports the id it was given; compile_database works in positions.
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (auto t = translate_for_hyperscan(patterns[i])) {
      hs_exprs.push_back(std::move(*t));
      hs_ids.push_back(static_cast<uint32_t>(i));
    } else {
      rest_patterns.push_back(patterns[i]);
      rest_ids.push_back(ids[i]);
    }
  }
  const unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY |
                         (flavor == PatternFlavor::kGlob ? HS_FLAG_DOTALL : 0u);
  const std::vector<uint32_t> db_positions = hs_ids;
  for (uint32_t& id : hs_ids) {
    id = ids[id];
  }
  Compiled c;
  if (where == kInChild && !hs_exprs.empty()) {
    auto in_child = compile_in_child(hs_exprs, db_positions, hs_ids, flags);
    if (!in_child) {
      return in_child.error();
    }
    c = std::move(*in_child);
  } else {
    c = compile_database(hs_exprs, db_positions, hs_ids, flags);
  }
  std::vector<bool> rejected(patterns.size(), false);
  for (uint32_t pos : c.rejected) {
    rejected[pos] = true;
    rest_patterns.push_back(patterns[pos]);
    rest_ids.push_back(ids[pos]);
  }
  if (c.db != nullptr) {
    m->db_ = c.db;
    m->serial_ = g_next_serial.fetch_add(1, std::memory_order_relaxed);
    std::vector<std::string> in_db;
    std::vector<uint32_t> in_db_ids;
    for (uint32_t pos : db_positions) {
      if (!rejected[pos]) {
        in_db.push_back(patterns[pos]);
        in_db_ids.push_back(ids[pos]);
      }
    }
    m->hs_count_ = in_db_ids.size();
    m->emergency_ = std::make_unique<Re2Singles>(std::move(in_db), std::move(in_db_ids), flavor);
  }
  if (!rest_patterns.empty()) {
    auto rest = Re2SetMatcher::create(std::move(rest_patterns), std::move(rest_ids), flavor);
    if (!rest.ok()) {
      return rest.error();
    }
    m->rest_ = std::move(rest).value();
  }
  return m;
}

HyperscanMatcher::~HyperscanMatcher() {
  if (db_ != nullptr) {
    hs_free_database(db_);
  }
}

void HyperscanMatcher::scan(std::string_view text, MatchSink& sink) const {
  if (db_ != nullptr) {
    hs_scratch_t* scratch = t_scratch.for_database(db_, serial_);
    // Hyperscan takes an unsigned length and a non-null pointer even for empty input.
    const char* data = text.empty() ? "" : text.data();
    if (scratch == nullptr || text.size() > UINT_MAX ||
        hs_scan(db_, data, static_cast<unsigned>(text.size()), 0, scratch, on_hs_match, &sink) !=
            HS_SUCCESS) {
      emergency_->scan(text, sink);
    }
  }
  if (rest_ != nullptr) {
    rest_->scan(text, sink);
  }
}

MatcherStats HyperscanMatcher::stats() const {
  return {hs_count_, rest_ != nullptr ? rest_->stats().re2_patterns : 0, 0};
}

}  // namespace cmdgate::rules
