#include <gtest/gtest.h>

#include "sim/script.h"
#include "sim/state.h"
#include "sim/tokenizer.h"
#include "util/error.h"

namespace retort::sim {
namespace {

std::vector<std::string> pieces_of(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& p : split_pieces(text)) out.push_back(text.substr(p.offset, p.size));
  return out;
}

TEST(SimTokenizer, SplitsLikeGpt2) {
  EXPECT_EQ(pieces_of("Hello, world!"), (std::vector<std::string>{"Hello", ",", " world", "!"}));
  EXPECT_EQ(pieces_of("a  b"), (std::vector<std::string>{"a", " ", " b"}));
  EXPECT_EQ(pieces_of("x\n\ny"), (std::vector<std::string>{"x", "\n\n", "y"}));
  EXPECT_EQ(pieces_of("2+2 = 4."), (std::vector<std::string>{"2", "+", "2", " =", " 4", "."}));
  EXPECT_EQ(pieces_of(" end "), (std::vector<std::string>{" end", " "}));
  EXPECT_EQ(pieces_of("héllo wörld"), (std::vector<std::string>{"héllo", " wörld"}));
  EXPECT_TRUE(pieces_of("").empty());
}

TEST(SimTokenizer, PiecesConcatenateToTheText) {
  const std::string text = "  Mixed\t text, with (punctuation)... and\r\n  new lines 123abc ";
  std::string joined;
  for (const auto& p : pieces_of(text)) joined += p;
  EXPECT_EQ(joined, text);
}

TEST(SimTokenizer, IdsAreStableAndDecodeWhenSeen) {
  EXPECT_EQ(token_id(" world"), token_id(" world"));
  EXPECT_LT(token_id(" world"), kVocabSize);
  EXPECT_NE(token_id("world"), token_id(" world"));
  Tokenizer tok;
  auto ids = tok.encode("The answer is 42.");
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(tok.decode(ids), "The answer is 42.");
  Tokenizer fresh;
  EXPECT_EQ(fresh.piece_of(token_id("unseen")), "<unk>");
  EXPECT_EQ(fresh.piece_of(kVocabSize + 5), "<unk>");
}

TEST(SimScript, FirstMatchWinsPerKind) {
  Script s = Script::parse(
      "# comment\n"
      "\n"
      R"({"pattern": "capital of France", "reply": "Paris"})"
      "\n"
      R"({"pattern": "(?i)CAPITAL", "reply": "somewhere"})"
      "\n"
      R"({"pattern": "Answer: B$", "prompt_logprob": -0.05})"
      "\n"
      R"({"pattern": "(?s)first.*second", "reply": "both"})"
      "\n",
      "rules.jsonl");
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(s.reply_for("What is the capital of France?"), "Paris");
  EXPECT_EQ(s.reply_for("the Capital of Peru"), "somewhere");
  EXPECT_EQ(s.reply_for("first\nthen second"), "both");
  EXPECT_FALSE(s.reply_for("nothing here"));
  EXPECT_EQ(s.prompt_logprob_for("Q: ...\nAnswer: B"), -0.05);
  EXPECT_FALSE(s.prompt_logprob_for("Answer: C"));
}

TEST(SimScript, BadLinesNameFileAndLine) {
  auto where_of = [](const std::string& text) {
    try {
      Script::parse(text, "rules.jsonl");
    } catch (const Error& e) {
      return e.where() + " | " + e.what_failed();
    }
    return std::string("no error");
  };
  EXPECT_NE(where_of("\n{not json\n").find("rules.jsonl:2"), std::string::npos);
  EXPECT_NE(where_of(R"({"pattern": "(unclosed", "reply": "x"})").find("rules.jsonl:1 | bad regex"),
            std::string::npos);
  EXPECT_NE(where_of(R"({"pattern": "x"})").find("neither"), std::string::npos);
  EXPECT_NE(where_of(R"({"pattern": "x", "reply": "y", "extra": 1})").find("unknown key"),
            std::string::npos);
  EXPECT_NE(where_of(R"({"reply": "y"})").find("no \"pattern\""), std::string::npos);
  EXPECT_NE(where_of(R"({"pattern": "x", "prompt_logprob": 0.5})").find("<= 0"), std::string::npos);
}

TEST(SimState, SchedulerQueuesFifoBeyondTheLimit) {
  using TP = SeqScheduler::TimePoint;
  SeqScheduler s(2);
  std::vector<int> granted;
  std::vector<TP> starts;
  for (int i = 0; i < 4; ++i) {
    if (s.acquire([&granted, &starts, i](TP at) {
          granted.push_back(i);
          starts.push_back(at);
        }))
      granted.push_back(i);
  }
  EXPECT_EQ(granted, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.running(), 2);
  EXPECT_EQ(s.waiting(), 2);
  // A waiter gets the time the slot was freed on the model's clock, not the time of the call.
  TP t0 = std::chrono::steady_clock::now() - std::chrono::milliseconds(3);
  s.release(t0);
  EXPECT_EQ(granted, (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0], t0);
  s.release(t0);
  s.release(t0);
  s.release(t0);
  EXPECT_EQ(granted, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(s.running(), 0);
  EXPECT_EQ(s.waiting(), 0);
}

TEST(SimState, PrefixCacheCountsSharedLeadingBlocks) {
  PrefixCache cache;
  std::vector<uint32_t> a(40), b(40);
  for (uint32_t i = 0; i < 40; ++i) a[i] = b[i] = i;
  b[20] = 999;  // differs in the second block
  EXPECT_EQ(cache.lookup_and_insert(a), 0u);
  EXPECT_EQ(cache.lookup_and_insert(a), 32u);  // two whole blocks of 16
  EXPECT_EQ(cache.lookup_and_insert(b), 16u);
}

TEST(SimState, BodyTrackerCountsAttemptsAndSuccesses) {
  BodyTracker t;
  BodyKey k = body_key("/v1/completions", "{}");
  EXPECT_EQ(t.arrive(k).attempt, 0u);
  auto second = t.arrive(k);
  EXPECT_EQ(second.attempt, 1u);
  EXPECT_FALSE(second.already_succeeded);
  EXPECT_FALSE(t.succeed(k));
  EXPECT_TRUE(t.arrive(k).already_succeeded);
  EXPECT_TRUE(t.succeed(k));
  EXPECT_EQ(t.unique_bodies(), 1u);
  EXPECT_FALSE(body_key("/v1/completions", "{}") == body_key("/v1/chat/completions", "{}"));
  double u = uniform01(1, k, 0);
  EXPECT_EQ(u, uniform01(1, k, 0));
  EXPECT_NE(u, uniform01(2, k, 0));
  EXPECT_NE(u, uniform01(1, k, 1));
}

}  // namespace
}  // namespace retort::sim
