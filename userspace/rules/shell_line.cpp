// Lists, pipelines, compound commands, redirections and here-documents of a `bash -c` line; the
// words themselves are read in shell_words.cpp.

#include "rules/shell_line.h"

#include <algorithm>

#include "rules/shell_parser.h"

namespace cmdgate::rules {
namespace shell {

Error Parser::fail(std::string_view what) const {
  return Error::format("{} at byte {}", what, i_);
}

void Parser::skip_blanks() {
  while (!eof() && (is_blank(peek()) || (peek() == '\\' && peek(1) == '\n'))) {
    i_ += is_blank(peek()) ? 1 : 2;
  }
}

Status Parser::nested(char stop) {
  if (depth_ >= kMaxNesting) {
    return fail("commands nested too deep");
  }
  Parser sub(s_, env_, out_, depth_ + 1, i_);
  sub.cwd_unknown_ = cwd_unknown_;
  Status s = sub.list(stop);
  i_ = sub.i_;
  return s;
}

Status Parser::list(char stop) {
  if (depth_ > kMaxNesting) {
    return fail("commands nested too deep");
  }
  for (;;) {
    skip_blanks();
    if (eof()) {
      if (stop != 0) {
        return fail(fmt::format("missing '{}'", stop));
      }
      return {};
    }
    const char c = peek();
    if (c == '#') {
      while (!eof() && peek() != '\n') {
        ++i_;
      }
    } else if (c == '\n') {
      ++i_;
      if (Status s = heredoc_bodies(); !s) {
        return s;
      }
    } else if (c == ';') {
      if (peek(1) == ';') {
        return fail("';;' outside a case (case ... esac is not read)");
      }
      ++i_;
    } else if (c == '&' && peek(1) != '>') {
      i_ += peek(1) == '&' ? 2 : 1;
    } else if (c == '|') {
      i_ += (peek(1) == '|' || peek(1) == '&') ? 2 : 1;
    } else if (c == ')') {
      if (stop != ')') {
        return fail("unexpected ')'");
      }
      ++i_;
      return {};
    } else if (c == '(' && peek(1) == '(') {
      if (Status s = skip_arithmetic(); !s) {
        return s;
      }
    } else if (c == '(') {
      ++i_;
      if (Status s = nested(')'); !s) {  // a subshell: its assignments and cd stay inside
        return s;
      }
    } else if (Status s = command(); !s) {
      return s;
    }
  }
}

size_t Parser::assignment_name_end() const {
  if (!is_name_start(peek())) {
    return 0;
  }
  size_t end = i_ + 1;
  while (end < s_.size() && is_name_char(s_[end])) {
    ++end;
  }
  if (end < s_.size() && s_[end] == '=') {
    return end;
  }
  return end + 1 < s_.size() && s_[end] == '+' && s_[end + 1] == '=' ? end : 0;
}

bool Parser::at_redirection() const {
  size_t k = i_;
  while (k < s_.size() && s_[k] >= '0' && s_[k] <= '9') {
    ++k;
  }
  if (k < s_.size() && (s_[k] == '<' || s_[k] == '>')) {
    return !(k == i_ && k + 1 < s_.size() && s_[k + 1] == '(');  // <(...) is a word
  }
  return k == i_ && peek() == '&' && peek(1) == '>';
}

Status Parser::redirection() {
  while (!eof() && peek() >= '0' && peek() <= '9') {
    ++i_;
  }
  const std::string_view rest = s_.substr(i_);
  for (const std::string_view op : {"<<<", "<<-", "<<", "&>>", "&>", ">>", ">&", ">|", "<&", "<>",
                                    "<", ">"}) {
    if (!rest.starts_with(op)) {
      continue;
    }
    i_ += op.size();
    skip_blanks();
    const size_t start = i_;
    WordBuilder b(false);
    if (Status s = word(b); !s) {
      return s;
    }
    const std::vector<ShellWord> target = b.finish();
    if (target.empty()) {
      return fail(fmt::format("'{}' without a word after it", op));
    }
    if (op == "<<" || op == "<<-") {
      const std::string_view raw = s_.substr(start, i_ - start);
      heredocs_.push_back({target.front().text, op == "<<-",
                           raw.find_first_of("'\"\\") == std::string_view::npos});
    }
    return {};
  }
  return fail("unreadable redirection");
}

// After a newline: the bodies of the here-documents opened on the line it ends.
Status Parser::heredoc_bodies() {
  for (const PendingHeredoc& h : heredocs_) {
    const size_t body = i_;
    size_t end = s_.size();
    while (!eof()) {
      size_t eol = s_.find('\n', i_);
      eol = eol == std::string_view::npos ? s_.size() : eol;
      std::string_view line = s_.substr(i_, eol - i_);
      const size_t here = i_;
      i_ = std::min(eol + 1, s_.size());
      while (h.strip_tabs && line.starts_with('\t')) {
        line.remove_prefix(1);
      }
      if (line == h.delimiter) {
        end = here;
        break;
      }
    }
    if (h.expand) {
      Parser text(s_.substr(body, end - body), env_, out_, depth_ + 1);
      if (Status s = text.expand_heredoc_body(); !s) {
        return Error::format("in the here-document at byte {}: {}", body, s.error().message);
      }
    }
  }
  heredocs_.clear();
  return {};
}

// A reserved word at the start of a command. `ends_command`: nothing more to read as this one.
Status Parser::keyword(std::string_view raw, bool& ends_command) {
  ends_command = false;
  if (raw == "case" || raw == "esac" || raw == "coproc" || raw == "select") {
    return fail(fmt::format("'{}' is not read", raw));
  }
  if (raw == "for") {
    skip_blanks();
    if (peek() == '(' && peek(1) == '(') {
      ends_command = true;
      return skip_arithmetic();
    }
    WordBuilder name(false);
    if (Status s = word(name); !s) {
      return s;
    }
    const auto n = name.finish();
    if (n.empty()) {
      return fail("'for' without a name");
    }
    env_.vars[n.front().text] = std::nullopt;  // takes values the line does not spell out
    skip_blanks();
    if (s_.substr(i_).starts_with("in") && (i_ + 2 >= s_.size() || is_meta(s_[i_ + 2]))) {
      i_ += 2;
      for (skip_blanks(); !eof() && peek() != ';' && peek() != '\n'; skip_blanks()) {
        WordBuilder item;  // read for the commands its substitutions run
        if (Status s = word(item); !s) {
          return s;
        }
        if (is_meta(peek()) && !is_blank(peek()) && peek() != ';' && peek() != '\n') {
          return fail("unexpected operator in a 'for' list");
        }
      }
    }
    ends_command = true;
    return {};
  }
  if (raw == "function") {
    skip_blanks();
    WordBuilder name(false);
    if (Status s = word(name); !s) {
      return s;
    }
    ends_command = true;
    return {};
  }
  if (raw == "[[") {  // a test: its words are read for the substitutions in them
    for (skip_blanks(); !eof() && !s_.substr(i_).starts_with("]]"); skip_blanks()) {
      if (is_meta(peek())) {
        ++i_;  // && || < > ( ) inside [[ ]] are operators of the test
        continue;
      }
      WordBuilder w;
      if (Status s = word(w); !s) {
        return s;
      }
    }
    if (eof()) {
      return fail("missing ']]'");
    }
    i_ += 2;
    ends_command = true;
  }
  return {};  // ! { } if then elif else fi while until do done time: the next word is a command
}

bool is_keyword(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "!", "{", "}", "if", "then", "elif", "else", "fi", "while", "until", "do", "done", "time",
      "for", "function", "[[", "case", "esac", "coproc", "select"};
  return std::find(std::begin(kWords), std::end(kWords), w) != std::end(kWords);
}

Status Parser::command() {
  ShellCommand cmd;
  cmd.cwd = env_.cwd;
  cmd.cwd_unknown = cwd_unknown_;
  for (;;) {
    skip_blanks();
    if (eof()) {
      break;
    }
    const char c = peek();
    if (at_redirection()) {
      if (Status s = redirection(); !s) {
        return s;
      }
      continue;
    }
    if (c == '\n' || c == ';' || c == '&' || c == '|' || c == ')' || c == '#') {  // # starts a comment
      break;
    }
    if (c == '(') {
      // name() { ...; }: a function definition; its body is read as commands that may run.
      size_t k = i_ + 1;
      while (k < s_.size() && is_blank(s_[k])) {
        ++k;
      }
      if (cmd.words.size() != 1 || k >= s_.size() || s_[k] != ')') {
        return fail("unexpected '('");
      }
      i_ = k + 1;
      return {};
    }
    if (const size_t end = cmd.words.empty() ? assignment_name_end() : 0; end != 0) {
      std::string name(s_.substr(i_, end - i_));
      i_ = end + (s_[end] == '+' ? 2 : 1);
      if (peek() == '(') {
        return fail(fmt::format("array assignment to {} is not read", name));
      }
      WordBuilder value(false);
      if (Status s = word(value); !s) {
        return s;
      }
      auto v = value.finish();
      cmd.assignments.emplace_back(std::move(name), v.empty() ? ShellWord{} : v.front());
      continue;
    }
    const size_t start = i_;
    WordBuilder b;
    if (Status s = word(b); !s) {
      return s;
    }
    const std::string_view raw = s_.substr(start, i_ - start);
    if (cmd.words.empty() && is_keyword(raw)) {
      bool ends = false;
      if (Status s = keyword(raw, ends); !s) {
        return s;
      }
      if (ends) {
        return {};
      }
      continue;
    }
    for (ShellWord& w : b.finish()) {
      cmd.words.push_back(std::move(w));
    }
  }
  if (cmd.words.empty()) {
    for (const auto& [name, value] : cmd.assignments) {  // shell variables from here on
      env_.vars[name] = value.unknown ? std::nullopt : std::optional(value.text);
    }
    return {};
  }
  builtin_effects(cmd.words);
  out_.push_back(std::move(cmd));
  return {};
}

// The builtins that change how later words expand or where later programs are found.
void Parser::builtin_effects(const std::vector<ShellWord>& words) {
  const std::string& name = words.front().text;
  if (name == "cd" || name == "pushd") {
    size_t k = 1;
    while (k < words.size() && words[k].text.starts_with('-') && words[k].text != "-") {
      ++k;
    }
    const auto home = env_.vars.find("HOME");
    if (k < words.size() && !words[k].unknown && words[k].text != "-") {
      env_.cwd = join_path(env_.cwd, words[k].text);
    } else if (k >= words.size() && home != env_.vars.end() && home->second) {
      env_.cwd = *home->second;
    } else {
      cwd_unknown_ = true;
    }
    return;
  }
  const bool declares = name == "export" || name == "declare" || name == "typeset" ||
                        name == "local" || name == "readonly";
  for (size_t k = 1; k < words.size(); ++k) {
    const std::string& w = words[k].text;
    const size_t eq = w.find('=');
    if (declares && eq != std::string::npos && eq > 0 && is_name_start(w[0])) {
      env_.vars[w.substr(0, eq)] =
          words[k].unknown ? std::nullopt : std::optional(w.substr(eq + 1));
    } else if (name == "unset") {
      env_.vars.erase(w);
    } else if ((name == "read" || name == "mapfile" || name == "readarray") && !w.empty() &&
               is_name_start(w[0])) {
      env_.vars[w] = std::nullopt;
    }
  }
}

}  // namespace shell

Result<std::vector<ShellCommand>> parse_shell_line(std::string_view line, const ShellEnv& env) {
  std::vector<ShellCommand> out;
  shell::Parser parser(line, env, out, 0);
  if (Status s = parser.list(0); !s) {
    return s.error();
  }
  return out;
}

std::string join_path(const std::string& cwd, const std::string& dir) {
  std::vector<std::string> parts;
  auto add = [&](const std::string& p) {
    size_t at = 0;
    while (at <= p.size()) {
      const size_t slash = std::min(p.find('/', at), p.size());
      const std::string part = p.substr(at, slash - at);
      if (part == "..") {
        if (!parts.empty()) {
          parts.pop_back();
        }
      } else if (!part.empty() && part != ".") {
        parts.push_back(part);
      }
      at = slash + 1;
    }
  };
  if (!dir.starts_with('/')) {
    add(cwd);
  }
  add(dir);
  std::string out;
  for (const auto& p : parts) {
    out += "/" + p;
  }
  return out.empty() ? "/" : out;
}

}  // namespace cmdgate::rules
