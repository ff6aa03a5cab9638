#pragma once
// What the parser's tests share: names that resolve without the system's databases, and parsing a
// document from text.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "rules/parser.h"

namespace cmdgate::rules::testing {

class FakeNames final : public NameResolver {
 public:
  std::optional<uint32_t> uid(const std::string& name) const override {
    return find({{"root", 0}, {"alice", 1000}, {"bob", 1001}}, name);
  }
  std::optional<uint32_t> gid(const std::string& name) const override {
    return find({{"root", 0}, {"wheel", 10}, {"staff", 50}}, name);
  }

 private:
  static std::optional<uint32_t> find(const std::map<std::string, uint32_t>& db,
                                      const std::string& name) {
    const auto it = db.find(name);
    return it == db.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }
};

inline const FakeNames kNames;

inline Result<RuleSet> parse(std::string_view text) {
  return parse_rules(text, "t.toml", kNames);
}

inline RuleSet parse_ok(std::string_view text) {
  auto set = parse(text);
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().message);
  return set.ok() ? std::move(*set) : RuleSet{};
}

inline std::string parse_error(std::string_view text) {
  auto set = parse(text);
  EXPECT_FALSE(set.ok()) << "parsed without error:\n" << text;
  return set.ok() ? "" : set.error().message;
}

inline std::vector<std::string> ids(const RuleSet& set) {
  std::vector<std::string> out;
  for (const Rule& r : set.rules) {
    out.push_back(r.id);
  }
  return out;
}

inline Sha256 digest_of(uint8_t first, uint8_t step) {
  Sha256 d{};
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = static_cast<uint8_t>(first + step * i);
  }
  return d;
}

}  // namespace cmdgate::rules::testing
