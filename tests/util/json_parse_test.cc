// parse_json_fast must give exactly what Json::parse gives (value, every value's type, member
// order, dump) whenever it returns true, and must return true for the rows real datasets
// hold (otherwise the fast path is never taken). Checked on fixed tricky documents and on
// thousands of generated ones, valid and broken.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "util/json.h"
#include "util/json_parse.h"

namespace retort {
namespace {

// Same type at every level, same member order, same bits in every double (so -0.0 and 0.0
// differ, as their dumps do).
bool same(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
        if (i.key() != j.key() || !same(*i, *j)) return false;
      return true;
    }
    case Json::value_t::array: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i])) return false;
      return true;
    }
    case Json::value_t::number_float: {
      double x = a.get<double>(), y = b.get<double>();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    default:
      return a == b;
  }
}

std::string show(const std::string& text) {
  return Json(text).dump(-1, ' ', true, Json::error_handler_t::replace);
}

// Either fast-parse declines, or it agrees with nlohmann in every way. Returns whether the
// fast path took the document. `reused`, a parser that has read other documents before
// (some of them broken, left off half-way), must give what a fresh one gives.
bool check_agrees(const std::string& text, FastJsonParser* reused = nullptr) {
  Json fast = "untouched";
  bool took = parse_json_fast(text, fast);
  Json slow = Json::parse(text, nullptr, false);
  if (reused) {
    Json again = "untouched";
    EXPECT_EQ(reused->parse(text, again), took) << show(text);
    EXPECT_TRUE(same(again, fast)) << show(text);
  }
  if (!took) {
    EXPECT_EQ(fast, Json("untouched")) << "declined but changed its output: " << show(text);
    return false;
  }
  EXPECT_FALSE(slow.is_discarded()) << "accepted what nlohmann rejects: " << show(text);
  if (slow.is_discarded()) return true;
  EXPECT_TRUE(fast == slow) << show(text);
  EXPECT_TRUE(same(fast, slow)) << show(text) << "\nfast: " << fast.dump()
                                << "\nslow: " << slow.dump();
  EXPECT_EQ(fast.dump(), slow.dump()) << show(text);
  return true;
}

TEST(ParseJsonFast, TakesOrdinaryDatasetRows) {
  // What dataset files hold: a do-nothing parser that always declines fails here.
  for (
      const char* row : {
          R"({"question": "What is 17 plus 17? Think step by step.", "answer": "17 + 17 = 34\n#### 34"})",
          R"({"id": 7, "score": 0.25, "choices": ["A", "B", "C", "D"], "label": 2, "ok": true, "note": null})",
          R"({"text": "caf\u00e9 \u65e5\u672c \ud83d\ude00 \"quoted\" \\ back\/slash\ttab", "raw": "café 日本 😀"})",
          R"({"nested": {"a": [1, [2, [3, {"b": -4.5e-3}]]], "c": {}}, "empty": [], "neg": -17})",
          "\xEF\xBB\xBF{\"bom\": 1}",
          " \t{\"padded\": [ 1 , 2 ] }\r",
          R"([{"a": 1}, {"a": 2}])",
      }) {
    Json out;
    EXPECT_TRUE(parse_json_fast(row, out)) << row;
    EXPECT_TRUE(check_agrees(row)) << row;
  }
}

TEST(ParseJsonFast, DuplicateKeysKeepFirstPositionAndLastValue) {
  Json out;
  ASSERT_TRUE(
      parse_json_fast(R"({"a": 1, "b": 2, "a": {"x": [3]}, "c": 4, "\u0061": "last"})", out));
  EXPECT_EQ(out.dump(), R"({"a":"last","b":2,"c":4})");
  ASSERT_TRUE(parse_json_fast(R"({"k": {"x": 1}, "k": {"y": 2}})", out));
  EXPECT_EQ(out.dump(), R"({"k":{"y":2}})");  // replaced, not merged
  for (const char* d : {R"({"a": 1, "b": 2, "a": {"x": [3]}, "c": 4, "\u0061": "last"})",
                        R"({"k": {"x": 1}, "k": {"y": 2}})", R"({"a":[1],"a":[]})"})
    EXPECT_TRUE(check_agrees(d)) << d;
}

TEST(ParseJsonFast, NumbersHaveNlohmannsTypesAndValues) {
  struct Case {
    const char* text;
    Json::value_t type;
    const char* dump;
  };
  const Case cases[] = {
      {"0", Json::value_t::number_unsigned, "0"},
      {"-0", Json::value_t::number_integer, "0"},
      {"-0.0", Json::value_t::number_float, "-0.0"},
      {"0.0", Json::value_t::number_float, "0.0"},
      {"17", Json::value_t::number_unsigned, "17"},
      {"-17", Json::value_t::number_integer, "-17"},
      {"9223372036854775807", Json::value_t::number_unsigned, "9223372036854775807"},
      {"9223372036854775808", Json::value_t::number_unsigned, "9223372036854775808"},
      {"18446744073709551615", Json::value_t::number_unsigned, "18446744073709551615"},
      {"18446744073709551616", Json::value_t::number_float, "1.8446744073709552e+19"},
      {"-9223372036854775808", Json::value_t::number_integer, "-9223372036854775808"},
      {"-9223372036854775809", Json::value_t::number_float, "-9.223372036854776e+18"},
      {"1e2", Json::value_t::number_float, "100.0"},
      {"1E+2", Json::value_t::number_float, "100.0"},
      {"2.5", Json::value_t::number_float, "2.5"},
      {"-1.5e-3", Json::value_t::number_float, "-0.0015"},
      {"0.30000000000000004", Json::value_t::number_float, "0.30000000000000004"},
      {"1.7976931348623157e308", Json::value_t::number_float, "1.7976931348623157e+308"},
  };
  for (const Case& c : cases) {
    Json out;
    ASSERT_TRUE(parse_json_fast(c.text, out)) << c.text;
    EXPECT_EQ(out.type(), c.type) << c.text;
    EXPECT_EQ(out.dump(), c.dump) << c.text;
    check_agrees(c.text);
  }
  // Overflow is nlohmann's error and the fast path declines it; underflow and deep nesting
  // it may decline or agree.
  for (const char* text : {"1E400", "-1e400", "[1e309]", "-1e-400", "1e-400", "4.9e-324",
                           "2.2250738585072014e-308", "123456789012345678901234567890"})
    check_agrees(text);
  Json out;
  EXPECT_FALSE(parse_json_fast("1E400", out));
}

TEST(ParseJsonFast, DeclinesMalformedTextAndLeavesOutputAlone) {
  for (const std::string& d : std::vector<std::string>{"",
                                                       " ",
                                                       "{",
                                                       "[1,]",
                                                       "{\"a\":1,}",
                                                       "{a:1}",
                                                       "01",
                                                       "-",
                                                       "1.",
                                                       "1e",
                                                       "+1",
                                                       "tru",
                                                       "truex",
                                                       "\"tab\tinside\"",
                                                       "\"\\uD800\"",
                                                       "\"\\uDC00\"",
                                                       "\"\\uD800\\u0041\"",
                                                       "\"\xff\"",
                                                       "\"\xc3\"",
                                                       "\"\xed\xa0\x80\"",
                                                       "\"\xc0\xaf\"",
                                                       "{} {}",
                                                       "[1]]",
                                                       "{\"a\":1}x",
                                                       "NaN",
                                                       "[-]",
                                                       "{,}",
                                                       "\xEF\xBB",
                                                       "'x'",
                                                       "{\"a\":1}\n{\"b\":2}"}) {
    Json out = "untouched";
    EXPECT_FALSE(parse_json_fast(d, out)) << show(d);
    EXPECT_EQ(out, Json("untouched"));
    EXPECT_FALSE(check_agrees(d));
  }
}

TEST(ParseJsonFast, OddButValidInputsAgree) {
  std::string deep(2000, '[');
  deep += std::string(2000, ']');
  for (const std::string& d : std::vector<std::string>{
           deep, std::string("{\"a\":1}\0garbage", 15), std::string("[1]\0", 4), "\"\\u0000\"",
           "\"\xf4\x8f\xbf\xbf\"", "\"\\uDBFF\\uDFFF\"", "\"\\/\"", "  \n\r\t 5 \n", "[]", "{}",
           "\"\"", "[[[[[]]]]]", "{\"\":\"\"}"})
    check_agrees(d);
}

// Random documents from a small grammar: nested containers, keys drawn from a small pool
// (some spelt with escapes, so duplicates), every number shape, escapes, multibyte UTF-8,
// whitespace. `broken` adds pieces nlohmann rejects.
class DocGen {
 public:
  explicit DocGen(uint64_t seed) : rng_(seed) {}

  std::string doc(bool broken) {
    broken_ = broken;
    risky_ = false;
    std::string out = ws();
    value(out, 0);
    out += ws();
    return out;
  }
  // The last document holds a number the fast path may leave to nlohmann (underflow,
  // overflow).
  bool risky() const { return risky_; }
  uint64_t pick(uint64_t n) { return rng_() % n; }

 private:
  std::string ws() {
    static const char* kWs[] = {"", "", "", " ", "\n", " \t", "\r\n  "};
    return kWs[pick(7)];
  }

  void value(std::string& out, int depth) {
    uint64_t k = pick(depth < 4 ? 10 : 7);
    switch (k) {
      case 0:
      case 1:
        string(out);
        return;
      case 2:
      case 3:
        number(out);
        return;
      case 4:
        out += "true";
        return;
      case 5:
        out += pick(2) ? "false" : "null";
        return;
      case 6:
        if (depth < 4) break;
        string(out);
        return;
      default:
        break;
    }
    bool obj = (k % 2) == 0;
    out += obj ? '{' : '[';
    size_t n = pick(5);
    for (size_t i = 0; i < n; ++i) {
      if (i) out += ',';
      out += ws();
      if (obj) {
        static const char* kKeys[] = {"\"a\"",          "\"b\"",      "\"\\u0061\"",
                                      "\"question\"",   "\"answer\"", "\"caf\xc3\xa9\"",
                                      "\"caf\\u00e9\"", "\"\""};
        out += kKeys[pick(8)];
        out += ws() + ":" + ws();
      }
      value(out, depth + 1);
      out += ws();
    }
    out += obj ? '}' : ']';
  }

  void number(std::string& out) {
    static const char* kEdges[] = {"9223372036854775807",
                                   "9223372036854775808",
                                   "18446744073709551615",
                                   "18446744073709551616",
                                   "-9223372036854775808",
                                   "-9223372036854775809",
                                   "-0",
                                   "0",
                                   "-0.0",
                                   "0.0",
                                   "1.7976931348623157e308",
                                   "99999999999999999999999999"};
    if (pick(4) == 0) {
      out += kEdges[pick(12)];
      return;
    }
    if (pick(2)) out += '-';
    size_t digits = 1 + pick(pick(4) == 0 ? 25 : 6);
    out += static_cast<char>('1' + pick(9));
    for (size_t i = 1; i < digits; ++i) out += static_cast<char>('0' + pick(10));
    if (digits == 1 && pick(3) == 0) out.back() = '0';
    if (pick(2)) {
      out += '.';
      size_t frac = 1 + pick(8);
      for (size_t i = 0; i < frac; ++i) out += static_cast<char>('0' + pick(10));
    }
    if (pick(3) == 0) {
      out += pick(2) ? 'e' : 'E';
      if (int s = static_cast<int>(pick(3)); s) out += s == 1 ? '+' : '-';
      int exp = static_cast<int>(pick(4) == 0 ? pick(420) : pick(30));
      if (exp > 280) risky_ = true;
      out += std::to_string(exp);
    }
    if (broken_ && pick(20) == 0) out += pick(2) ? "." : "e";
  }

  void string(std::string& out) {
    static const char* kPieces[] = {"plain",
                                    " ",
                                    "17 + 17 = 34",
                                    "\\\"",
                                    "\\\\",
                                    "\\/",
                                    "\\b",
                                    "\\f",
                                    "\\n",
                                    "\\r",
                                    "\\t",
                                    "\\u00e9",
                                    "\\u65E5",
                                    "\\ud83d\\ude00",
                                    "\\u0000",
                                    "\\u001f",
                                    "\\uFFFF",
                                    "\xc3\xa9",
                                    "\xe6\x97\xa5",
                                    "\xf0\x9f\x98\x80",
                                    "\xf4\x8f\xbf\xbf",
                                    "\xef\xbb\xbf",
                                    "#### 34",
                                    "\x7f"};
    static const char* kBroken[] = {"\xff",  "\xc3",    "\xed\xa0\x80",    "\xc0\xaf",
                                    "\t",    "\\ud800", "\\udc00x",        "\\x",
                                    "\\u12", "\x01",    "\xf4\x90\x80\x80"};
    out += '"';
    size_t n = pick(6);
    for (size_t i = 0; i < n; ++i) {
      if (broken_ && pick(12) == 0)
        out += kBroken[pick(11)];
      else
        out += kPieces[pick(24)];
    }
    out += '"';
  }

  std::mt19937_64 rng_;
  bool broken_ = false;
  bool risky_ = false;
};

TEST(ParseJsonFast, GeneratedDocumentsAgreeWithNlohmann) {
  DocGen gen(20261207);
  FastJsonParser reused;
  int taken = 0, valid = 0;
  for (int n = 0; n < 4000; ++n) {
    std::string d = gen.doc(false);
    bool took = check_agrees(d, &reused);
    ASSERT_FALSE(::testing::Test::HasFailure()) << "case " << n;
    if (!Json::accept(d)) continue;
    ++valid;
    taken += took;
    // Valid documents without overflow/underflow risks are all the fast path's.
    if (!gen.risky()) {
      ASSERT_TRUE(took) << "case " << n << ": " << show(d);
    }
  }
  EXPECT_GT(valid, 3000);
  EXPECT_GT(taken, 3000);
}

TEST(ParseJsonFast, BrokenAndMutatedDocumentsAreDeclinedOrAgree) {
  DocGen gen(7);
  FastJsonParser reused;
  int rejected = 0, taken = 0;
  for (int n = 0; n < 4000; ++n) {
    std::string d = gen.doc(true);
    if (n % 2) {  // a few byte edits too
      static const char kBytes[] = "{}[]\":,0-.eE\\u \n\x01\xff\xc3";
      for (uint64_t e = 1 + gen.pick(2); e > 0 && !d.empty(); --e) {
        size_t at = gen.pick(d.size());
        if (gen.pick(2))
          d[at] = kBytes[gen.pick(sizeof kBytes - 1)];
        else
          d.erase(at, 1);
      }
    }
    rejected += !Json::accept(d);
    taken += check_agrees(d, &reused);
    ASSERT_FALSE(::testing::Test::HasFailure()) << "case " << n;
  }
  EXPECT_GT(rejected, 1000);  // the generator really makes broken text
  EXPECT_GT(taken, 500);
}

}  // namespace
}  // namespace retort
