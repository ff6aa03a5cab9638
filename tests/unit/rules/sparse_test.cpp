#include "rules/sparse.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "rules/model.h"

namespace cmdgate::rules {
namespace {

TEST(Sparse, AnEmptyFieldCostsOnePointer) {
  static_assert(sizeof(Sparse<std::string>) == sizeof(void*));
  const Sparse<std::string> none;
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(&none.get(), &Sparse<std::string>().get()) << "every empty field reads one value";
  Sparse<std::string> cleared = std::string("text");
  cleared = std::string();
  EXPECT_EQ(&cleared.get(), &none.get()) << "assigning nothing lets go of the value";
  // Every rule of a policy is kept while it is in force: its texts are three pointers, and
  // the whole rule stays well under the 288 bytes it had with std::string fields.
  EXPECT_LE(sizeof(Rule), 216u);
}

TEST(Sparse, AnUnsetOptionalIsNotAnEmptyOne) {
  Rule r;
  r.description = std::string("why");
  EXPECT_EQ(told(r), "why") << "no message: the caller is told the description";
  r.message = std::optional<std::string>("");
  EXPECT_TRUE(r.message->has_value()) << "an empty message is kept: it means tell nothing";
  EXPECT_EQ(told(r), "");
  r.message = std::optional<std::string>();
  EXPECT_FALSE(r.message->has_value());
  EXPECT_EQ(told(r), "why");
}

TEST(Sparse, ACopyIsDeepAndEqual) {
  Sparse<std::string> a = std::string("https://example.org/a");
  Sparse<std::string> b = a;
  EXPECT_EQ(a, b);
  EXPECT_NE(&a.get(), &b.get());
  b.edit() += "b";
  EXPECT_EQ(*a, "https://example.org/a");
  EXPECT_EQ(*b, "https://example.org/ab");
  EXPECT_NE(a, b);
  a = b;
  EXPECT_EQ(a, b);
}

TEST(Sparse, AMovedFromFieldIsEmpty) {
  Sparse<std::string> a = std::string("x");
  Sparse<std::string> b = std::move(a);
  EXPECT_EQ(*b, "x");
  EXPECT_TRUE(a->empty());  // NOLINT(bugprone-use-after-move): what a moved-from field reads as
}

}  // namespace
}  // namespace cmdgate::rules
