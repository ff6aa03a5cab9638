// Building one word: literal parts, and expansions split on blanks as bash splits them.

#include "rules/shell_parser.h"

namespace cmdgate::rules::shell {

void WordBuilder::literal(std::string_view text, bool unknown) {
  current_.text += text;
  current_.unknown = current_.unknown || unknown;
  present_ = true;
}

void WordBuilder::expansion(std::string_view value, bool unknown, bool quoted) {
  // An unknown value is kept as one word: how bash would split it is unknown too.
  if (quoted || !split_ || unknown) {
    literal(value, unknown);
    return;
  }
  for (const char c : value) {
    if (is_blank(c) || c == '\n') {
      if (present_) {
        done_.push_back(std::move(current_));
        current_ = {};
        present_ = false;
      }
    } else {
      literal(std::string_view(&c, 1));
    }
  }
}

void WordBuilder::break_word() {
  done_.push_back(std::move(current_));
  current_ = {};
  present_ = true;
}

std::vector<ShellWord> WordBuilder::finish() {
  if (present_) {
    done_.push_back(std::move(current_));
  }
  current_ = {};
  present_ = false;
  return std::move(done_);
}

}  // namespace cmdgate::rules::shell
