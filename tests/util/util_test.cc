#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

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

TEST(Hash, Sha256FedInPiecesEqualsTheWholeAndStartsAgain) {
  Sha256 sha;
  EXPECT_EQ(sha.add("ab").add("").add("c").hex(), sha256_hex("abc"));
  // hex() began the next digest: the same object serves another key.
  EXPECT_EQ(sha.add("abc").hex(), sha256_hex("abc"));
  EXPECT_EQ(sha.hex(), sha256_hex(""));
}

TEST(Strings, ReadFileReadsWholeFilesAndNamesWhatFailed) {
  char dir_template[] = "/tmp/retort-read-file-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  for (size_t n : {size_t{0}, size_t{1}, size_t{70000}}) {
    std::string text(n, 'x');
    for (size_t i = 0; i < n; i += 7) text[i] = static_cast<char>('a' + i % 26);
    write_file_atomic(dir + "/f", text);
    EXPECT_EQ(read_file(dir + "/f"), text) << n;
  }
  try {
    read_file(dir + "/missing");
    ADD_FAILURE() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("cannot open file"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(dir + "/missing"), std::string::npos) << e.message();
  }
  try {
    read_file(dir);  // a directory opens, but cannot be read
    ADD_FAILURE() << "no error for a directory";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("cannot read file"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(dir), std::string::npos) << e.message();
  }
  std::filesystem::remove_all(dir);
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
