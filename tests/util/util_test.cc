#include <gtest/gtest.h>

#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort {
namespace {

TEST(Hash, Sha256MatchesKnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Error, MessageNamesWhereAndHint) {
  Error e("unknown key 'foo'", "tasks/x.yaml:3", "remove it");
  EXPECT_EQ(e.message(), "error: tasks/x.yaml:3: unknown key 'foo'\n  hint: remove it");
  EXPECT_EQ(Error("boom").message(), "error: boom");
}

TEST(Log, RedactsRegisteredSecrets) {
  log::add_secret("sk-test-secret-123");
  EXPECT_EQ(log::redact("key=sk-test-secret-123 and sk-test-secret-123"), "key=*** and ***");
  log::add_secret("ab");  // too short to mask
  EXPECT_EQ(log::redact("abc"), "abc");
}

TEST(Strings, SplitJoinTrim) {
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(join({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(trim("  x y \n"), "x y");
  EXPECT_TRUE(starts_with("hosted_vllm/x", "hosted_vllm/"));
  EXPECT_TRUE(ends_with("results.json", ".json"));
}

TEST(Strings, ClosestMatchesSuggestsNearNames) {
  std::vector<std::string> names{"gsm8k", "mmlu", "hellaswag", "arc_easy"};
  auto m = closest_matches("gsm8", names);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[0], "gsm8k");
  EXPECT_TRUE(closest_matches("zzzzzzzz", names).empty());
}

TEST(Json, KeepsInsertionOrder) {
  Json j = Json::parse(R"({"z":1,"a":2})");
  EXPECT_EQ(j.dump(), R"({"z":1,"a":2})");
}

TEST(SharedJson, CopiesShareUntilOneIsEdited) {
  SharedJson empty;
  EXPECT_EQ(*empty, Json::object());
  SharedJson a = Json{{"until", {"\n"}}, {"seed", 1}};
  SharedJson b = a;
  EXPECT_EQ(a.identity(), b.identity());  // a copy is a pointer, not a second object
  b.edit()["seed"] = 2;
  EXPECT_NE(a.identity(), b.identity());
  EXPECT_EQ(a["seed"], 1);  // the other copy keeps its value
  EXPECT_EQ(b["seed"], 2);
  EXPECT_EQ(b["until"], Json::array({"\n"}));
  const void* own = b.identity();
  b.edit()["x"] = true;  // not shared any more: changed in place
  EXPECT_EQ(b.identity(), own);
  EXPECT_THROW(a["missing"], nlohmann::json::out_of_range);
}

}  // namespace
}  // namespace retort
