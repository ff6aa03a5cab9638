#include "rules/predicate_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/model.h"

namespace cmdgate::rules {
namespace {

TEST(PredicateList, AnUnusedPredicateCostsOnePointer) {
  static_assert(sizeof(PredicateList<std::string>) == sizeof(void*));
  const PredicateList<std::string> none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.begin(), none.end());
  EXPECT_TRUE(none.values().empty());
  // Every rule of a policy holds a Match: it must stay a small fraction of the vectors it replaced.
  EXPECT_LE(sizeof(Match), 11 * sizeof(void*) + 8);
}

TEST(PredicateList, ACopyIsDeepAndEqual) {
  PredicateList<std::string> a{"/bin/a", "/bin/b"};
  PredicateList<std::string> b = a;
  EXPECT_EQ(a, b);
  b.push_back("/bin/c");
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_NE(a, b);
  EXPECT_EQ(b.back(), "/bin/c");
  a = b;
  EXPECT_EQ(a.values(), (std::vector<std::string>{"/bin/a", "/bin/b", "/bin/c"}));
}

TEST(PredicateList, AssigningNothingEmptiesIt) {
  PredicateList<uint32_t> uids{0, 1000};
  uids = std::vector<uint32_t>{};
  EXPECT_TRUE(uids.empty());
  EXPECT_EQ(uids, PredicateList<uint32_t>{});
  static_cast<void>(uids.edit());  // asked for, nothing added: still empty
  EXPECT_TRUE(uids.empty());
  EXPECT_EQ(uids, PredicateList<uint32_t>{});
}

TEST(PredicateList, EditChangesInPlace) {
  PredicateList<uint32_t> gids{3, 1, 2};
  std::vector<uint32_t>& v = gids.edit();
  v.erase(v.begin());
  EXPECT_EQ(gids.values(), (std::vector<uint32_t>{1, 2}));
  gids.clear();
  EXPECT_TRUE(gids.empty());
}

TEST(PredicateList, AMovedFromListIsEmpty) {
  PredicateList<std::string> a{"x"};
  PredicateList<std::string> b = std::move(a);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): what a moved-from list reads as
}

}  // namespace
}  // namespace cmdgate::rules
