#include "rules/regex_options.h"

namespace cmdgate::rules {

RE2::Options re2_options(PatternFlavor flavor) {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_log_errors(false);
  o.set_dot_nl(flavor == PatternFlavor::kGlob);
  return o;
}

}  // namespace cmdgate::rules
