#pragma once
// The reader behind parse_shell_line (shell_line.h): lists and commands in shell_line.cpp, words
// and their expansions in shell_words.cpp. Internal to those two files.

#include <string>
#include <string_view>
#include <vector>

#include "rules/shell_line.h"

namespace cmdgate::rules::shell {

// One word being built. Unquoted expansions are split on blanks as bash splits them; quoted
// parts are kept whole, and an empty quoted part still makes a word ("").
class WordBuilder {
 public:
  explicit WordBuilder(bool split = true) : split_(split) {}
  void literal(std::string_view text, bool unknown = false);
  void expansion(std::string_view value, bool unknown, bool quoted);
  void mark_present() { present_ = true; }
  void break_word();  // "$@" inside double quotes: one word per parameter
  [[nodiscard]] std::vector<ShellWord> finish();

 private:
  bool split_;
  bool present_ = false;
  ShellWord current_;
  std::vector<ShellWord> done_;
};

struct PendingHeredoc {
  std::string delimiter;
  bool strip_tabs = false;  // <<-
  bool expand = false;      // unquoted delimiter: $(...) and `...` in the body run
};

class Parser {
 public:
  // Commands go to `out`; `env` is this (sub)shell's own state.
  Parser(std::string_view text, ShellEnv env, std::vector<ShellCommand>& out, int depth,
         size_t start = 0)
      : s_(text), i_(start), env_(std::move(env)), out_(out), depth_(depth) {}

  // A list until the end of the text (stop = 0) or the matching `stop` character, consumed.
  Status list(char stop);
  [[nodiscard]] size_t position() const { return i_; }
  [[nodiscard]] const ShellEnv& env() const { return env_; }

  // shell_words.cpp
  Status word(WordBuilder& b);
  Status expand_heredoc_body();

 private:
  [[nodiscard]] bool eof() const { return i_ >= s_.size(); }
  [[nodiscard]] char peek(size_t ahead = 0) const {
    return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0';
  }
  [[nodiscard]] Error fail(std::string_view what) const;
  void skip_blanks();
  Status command();
  Status keyword(std::string_view raw, bool& ends_command);
  Status redirection();
  [[nodiscard]] bool at_redirection() const;
  [[nodiscard]] size_t assignment_name_end() const;
  Status heredoc_bodies();
  void builtin_effects(const std::vector<ShellWord>& words);
  Status nested(char stop);  // $(...), (...), <(...): a subshell over the same text

  // shell_words.cpp
  Status single_quoted(WordBuilder& b);
  Status double_quoted(WordBuilder& b);
  Status dollar(WordBuilder& b, bool quoted);
  Status braced_parameter(WordBuilder& b, bool quoted);
  Status backquoted(WordBuilder& b);
  Status ansi_c_quoted(WordBuilder& b);
  Status skip_arithmetic();
  void tilde(WordBuilder& b);
  void parameter(WordBuilder& b, std::string_view name, bool quoted);

  std::string_view s_;
  size_t i_;
  ShellEnv env_;
  std::vector<ShellCommand>& out_;
  int depth_;
  bool cwd_unknown_ = false;
  std::vector<PendingHeredoc> heredocs_;
};

inline constexpr int kMaxNesting = 32;

[[nodiscard]] inline bool is_blank(char c) { return c == ' ' || c == '\t'; }
[[nodiscard]] inline bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
[[nodiscard]] inline bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
// Characters that end an unquoted word.
[[nodiscard]] inline bool is_meta(char c) {
  return is_blank(c) || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' ||
         c == '<' || c == '>';
}

}  // namespace cmdgate::rules::shell
