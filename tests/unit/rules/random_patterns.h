#pragma once
// Random regexes, globs and texts over small alphabets, so that random patterns actually match
// random texts. The alphabets deliberately include what the engines disagree on when handled
// carelessly: '\n' at the end, '\v', non-ASCII and invalid UTF-8 bytes, Latin-1 letters under
// (?i), and syntax Hyperscan must not see.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace cmdgate::rules::testing {

// CMDGATE_SEED when set, else the clock. Print it on failure (SCOPED_TRACE) to replay a run.
inline uint64_t test_seed() {
  if (const char* s = std::getenv("CMDGATE_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 0);
  }
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

// CMDGATE_PROPERTY_DIVISOR (default 1) divides how many random rule sets a property test draws.
// scripts/test sets it for the sanitizer builds, which hunt memory errors and races in the same
// code and run ten times slower; the plain unit run draws every set and checks the full counts.
inline int property_divisor() {
  const char* s = std::getenv("CMDGATE_PROPERTY_DIVISOR");
  const long d = s != nullptr ? std::strtol(s, nullptr, 10) : 1;
  return d > 1 ? static_cast<int>(d) : 1;
}
inline int property_sets(int full) {
  return std::max(1, full / property_divisor());
}

class Random {
 public:
  explicit Random(uint64_t seed) : rng_(seed) {}

  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

  std::string text(size_t max_len = 10) {
    static const std::string kBytes = std::string("abAB- /\n\v\t1_.") + "\xe9\xc9\xff";
    std::string s;
    const size_t n = below(max_len + 1);
    for (size_t i = 0; i < n; ++i) {
      s += kBytes[below(kBytes.size())];
    }
    return s;
  }

  std::string regex(int depth = 0) {
    std::string out = sequence(depth);
    if (depth < 2 && chance(0.2)) {
      out += "|" + sequence(depth);
    }
    return out;
  }

  std::string glob() {
    static const std::vector<std::string> kPieces = {"a",    "b",    "x",   "*",  "**", "?",
                                                     "[ab]", "[!a]", "\\*", "a*", "*b", "\xc3\xa9"};
    if (chance(0.15)) {  // pure prefix
      return pick(std::vector<std::string>{"/", "/a", "/a/", "/b/x", ""}) + "**";
    }
    std::string g;
    const size_t parts = 1 + below(3);
    for (size_t i = 0; i < parts; ++i) {
      g += "/" + pick(kPieces);
      if (chance(0.3)) {
        g += pick(kPieces);
      }
    }
    return g;
  }

  // Paths built from the glob alphabet, plus bytes that must not escape '*'.
  std::string path() {
    static const std::vector<std::string> kParts = {"a",        "b",    "x",    "ab", "xb", "*",
                                                    "\xc3\xa9", "\xff", "a\nb", "",   "?",  "\xc3"};
    std::string p;
    const size_t parts = below(4);
    for (size_t i = 0; i < parts; ++i) {
      p += "/" + pick(kParts);
    }
    return p.empty() && chance(0.5) ? "/" : p;
  }

 private:
  std::string sequence(int depth) {
    std::string out;
    const size_t n = 1 + below(3);
    for (size_t i = 0; i < n; ++i) {
      out += atom(depth);
    }
    return out;
  }

  std::string atom(int depth) {
    static const std::vector<std::string> kLiterals = {"a", "b",    "A",    "-", " ",
                                                       "/", "\xe9", "\xc9", "1"};
    static const std::vector<std::string> kClasses = {
        "[ab]", "[^a]",     "[a-c]", "[\\d]",  "[[:upper:]]",  "[\\s]", "[^\\s]",
        "[]a]", "[\\xe9b]", "[^/]",  "[\\w-]", "[[:^alpha:]]", "[-a]",  "[\\x00-\\x20]"};
    static const std::vector<std::string> kEscapes = {"\\s", "\\S",   "\\d",    "\\w", "\\W",
                                                      "\\v", "\\x41", "\\xe9",  "\\.", "\\-",
                                                      "\\n", "\\t",   "\\x{62}"};
    static const std::vector<std::string> kAnchors = {"^", "$", "\\A", "\\z", "\\b", "\\B"};
    static const std::vector<std::string> kRare = {"\\pL", "\\C",      "x{,2}",    "{",     "a$b",
                                                   "}",    "(?P<n>a)", "\\Qa.\\E", "(?U)a+"};
    static const std::vector<std::string> kQuantifiers = {"*",     "+",  "?",    "{2}",
                                                          "{1,2}", "*?", "{0,}", "+?"};
    std::string a;
    const size_t kind = below(100);
    if (kind < 35) {
      a = pick(kLiterals);
    } else if (kind < 43) {
      a = ".";
    } else if (kind < 55) {
      a = pick(kClasses);
    } else if (kind < 67) {
      a = pick(kEscapes);
    } else if (kind < 77) {
      return pick(kAnchors);  // never quantified
    } else if (kind < 90 && depth < 2) {
      static const std::vector<std::string> kOpen = {"(", "(?:", "(?i:", "(?s:"};
      a = pick(kOpen) + regex(depth + 1) + ")";
    } else if (kind < 96) {
      return pick(std::vector<std::string>{"(?i)", "(?s)"});
    } else {
      return pick(kRare);
    }
    if (chance(0.3)) {
      a += pick(kQuantifiers);
    }
    return a;
  }

  std::mt19937_64 rng_;
};

}  // namespace cmdgate::rules::testing
