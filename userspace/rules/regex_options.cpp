#include "rules/regex_options.h"

#include <string>

#include "rules/re2_fold_guard.h"

namespace cmdgate::rules {

RE2::Options re2_options(PatternFlavor flavor) {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_log_errors(false);
  o.set_dot_nl(flavor == PatternFlavor::kGlob);
  return o;
}

std::unique_ptr<RE2> compile_single_re2(std::string_view pattern, PatternFlavor flavor) {
  const RE2::Options o = re2_options(flavor);
  if (!RE2(pattern, o).ok()) {
    return nullptr;  // judged as written: the guard is for valid patterns
  }
  const std::string guarded = guard_case_folding(pattern);
  auto plain = std::make_unique<RE2>(guarded, o);
  if (!plain->ok()) {
    return nullptr;
  }
  auto wrapped = std::make_unique<RE2>("(?s:.)*?(?:" + guarded + ")", o);
  // The wrapper only fails to parse around patterns ending inside \Q...: keep those plain.
  return wrapped->ok() ? std::move(wrapped) : std::move(plain);
}

}  // namespace cmdgate::rules
