#include "rules/re2_set_matcher.h"

#include "rules/re2_fold_guard.h"

namespace cmdgate::rules {
namespace {

// The set's program and DFA grow on demand; the default 8 MiB budget is too small for sets of
// tens of thousands of patterns, and a DFA that runs out of budget costs a slow scan.
constexpr int64_t kSetMaxMem = int64_t{1} << 30;

RE2::Options set_options(PatternFlavor flavor) {
  RE2::Options o = re2_options(flavor);
  o.set_max_mem(kSetMaxMem);
  return o;
}

}  // namespace

Re2SetMatcher::Re2SetMatcher(std::vector<std::string> patterns, std::vector<uint32_t> ids,
                             PatternFlavor flavor)
    : singles_(std::move(patterns), std::move(ids), flavor),
      set_(set_options(flavor), RE2::UNANCHORED) {}

Result<std::unique_ptr<Re2SetMatcher>> Re2SetMatcher::create(std::vector<std::string> patterns,
                                                             std::vector<uint32_t> ids,
                                                             PatternFlavor flavor) {
  std::unique_ptr<Re2SetMatcher> m(new Re2SetMatcher(std::move(patterns), std::move(ids), flavor));
  for (const std::string& p : m->singles_.patterns()) {
    std::string error;
    if (m->set_.Add(guard_case_folding(p), &error) < 0) {
      return Error::format("pattern '{}': {}", p, error);
    }
  }
  if (!m->set_.Compile()) {
    return Error::format("RE2::Set of {} patterns exceeds its memory budget",
                         m->singles_.patterns().size());
  }
  return m;
}

void Re2SetMatcher::scan(std::string_view text, MatchSink& sink) const {
  // RE2::Set::Match clears and refills the vector; keeping it per thread saves its allocation
  // (the set still allocates its own match set internally on every call).
  thread_local std::vector<int> hits;
  RE2::Set::ErrorInfo error{};
  if (set_.Match(text, &hits, &error)) {
    const std::vector<uint32_t>& ids = singles_.ids();
    for (int h : hits) {
      sink.on_match(ids[static_cast<size_t>(h)]);
    }
  } else if (error.kind != RE2::Set::kNoError) {
    singles_.scan(text, sink);
  }
}

}  // namespace cmdgate::rules
