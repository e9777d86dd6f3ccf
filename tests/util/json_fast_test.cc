// The DOM-free JSON pieces on the request path: JsonWriter/append_json_string must print
// the bytes nlohmann's dump prints (cache keys depend on it) and JsonScanner must accept
// exactly what nlohmann's strict parser accepts and decode strings the same way. Each is
// checked against nlohmann on fixed tricky cases and on many mutated documents.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "util/json.h"
#include "util/json_scan.h"
#include "util/json_writer.h"

namespace retort {
namespace {

std::string nlohmann_dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool scanner_accepts(const std::string& text) {
  JsonScanner js(text);
  return js.skip_value() && js.finish();
}

const std::vector<std::string>& tricky_strings() {
  static const std::vector<std::string> v = {
      "",
      "plain",
      "quote \" backslash \\ slash /",
      std::string("nul \0 inside", 12),
      "\b\f\n\r\t\x01\x1f\x7f",
      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
      "bad \xff end",
      "truncated \xc3",
      "overlong \xc0\xaf and \xe0\x80\xaf",
      "surrogate \xed\xa0\x80",
      "above max \xf4\x90\x80\x80",
      "lone continuation \x80\x80 x",
      "\xef\xbb\xbf bom inside",
  };
  return v;
}

TEST(JsonWriter, StringsMatchNlohmannDump) {
  for (const std::string& s : tricky_strings()) {
    std::string out;
    append_json_string(out, s);
    EXPECT_EQ(out, nlohmann_dump(Json(s)))
        << "input: " << Json(s).dump(-1, ' ', true, Json::error_handler_t::replace);
  }
}

TEST(JsonWriter, RandomBytesMatchNlohmannDump) {
  std::mt19937 rng(7);
  const std::string alphabet =
      std::string("ab\"\\\n\x01\x7f", 8) + "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\xff\x80\xed\xa0";
  for (int n = 0; n < 3000; ++n) {
    std::string s;
    size_t len = rng() % 12;
    for (size_t i = 0; i < len; ++i) s += alphabet[rng() % alphabet.size()];
    std::string out;
    append_json_string(out, s);
    ASSERT_EQ(out, nlohmann_dump(Json(s))) << "case " << n;
  }
}

TEST(JsonWriter, StructuresMatchNlohmannDump) {
  Json expected = Json::object();
  expected["model"] = "m";
  expected["messages"] = Json::array({Json{{"role", "user"}, {"content", "hi\n"}}});
  expected["max_tokens"] = 16;
  expected["temperature"] = 0.7;
  expected["stop"] = Json::array({"\n\n", "Q:"});
  expected["flag"] = true;
  expected["nested"] = {{"a", Json::array()}, {"b", nullptr}, {"c", -3}, {"d", 1e-05}};
  expected["empty"] = Json::object();

  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("model");
  w.value("m");
  w.key("messages");
  w.begin_array();
  w.begin_object();
  w.key("role");
  w.value("user");
  w.key("content");
  w.value("hi\n");
  w.end_object();
  w.end_array();
  w.key("max_tokens");
  w.value(16);
  w.key("temperature");
  w.json(Json(0.7));
  w.key("stop");
  w.begin_array();
  w.value("\n\n");
  w.value("Q:");
  w.end_array();
  w.key("flag");
  w.value(true);
  w.key("nested");
  w.json(expected["nested"]);
  w.key("empty");
  w.begin_object();
  w.end_object();
  w.end_object();
  EXPECT_EQ(out, nlohmann_dump(expected));
}

const std::vector<std::string>& documents() {
  static const std::vector<std::string> v = {
      R"({"id":"cmpl-1","choices":[{"index":0,"text":" hi","logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":16}})",
      R"({"a":[1,-2,3.5,-0.0,1e5,1E-5,2.5e+10,0],"b":{"c":{"d":[[],{}]}},"e":"\u00e9\ud83d\ude00\n\t\"","f":true,"g":false,"h":null})",
      " \t\r\n[ 1 , { \"k\" : [ ] } , \"x\" ] \n",
      "\xEF\xBB\xBF{\"bom\":1}",
      "\"just a string\"",
      "-12.5e-3",
      "[1e-400, 1.7e308, 123456789012345678901234567890]",
      "null",
      R"({"dup":1,"dup":2})",
      R"(["\/\b\f\n\r\t\\\"", "\uABCD", "\uD800\uDC00"])",
  };
  return v;
}

const std::vector<std::string>& malformed() {
  static const std::vector<std::string> v = {
      "",
      " ",
      "{",
      "}",
      "[",
      "[1,]",
      "{\"a\":1,}",
      "{\"a\" 1}",
      "{a:1}",
      "[1 2]",
      "01",
      "-",
      "1.",
      ".5",
      "1e",
      "1e+",
      "+1",
      "tru",
      "truex",
      "nul",
      "[true false]",
      "\"unterminated",
      "\"tab\tinside\"",
      "\"bad escape \\x\"",
      "\"\\u12\"",
      "\"\\uD800\"",
      "\"\\uDC00\"",
      "\"\\uD800\\u0041\"",
      "\"\xff\"",
      "\"\xc3\"",
      "\"\xed\xa0\x80\"",
      "{} {}",
      "[1]]",
      "{\"a\":1}x",
      "1e309",
      "[-1e400]",
      "NaN",
      "Infinity",
      "[-]",
      "[1,,2]",
      "{,}",
      "\xEF\xBB",
      "'single'",
  };
  return v;
}

TEST(JsonScanner, AcceptsWhatNlohmannAccepts) {
  for (const auto& d : documents()) EXPECT_TRUE(scanner_accepts(d)) << d;
  for (const auto& d : malformed()) {
    EXPECT_FALSE(Json::accept(d)) << "test case is not malformed: " << d;
    EXPECT_FALSE(scanner_accepts(d)) << d;
  }
}

TEST(JsonScanner, MutatedDocumentsAgreeWithNlohmann) {
  std::mt19937 rng(11);
  static const char kAscii[] = "{}[]\":,0123456789-+.eEtrufalsn\\u \n\x01";
  const std::string bytes = std::string(kAscii, sizeof kAscii) + "\xc3\xa9\xff";  // the NUL too
  int accepted = 0;
  for (int n = 0; n < 100000; ++n) {
    std::string d = documents()[rng() % documents().size()];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !d.empty(); ++e) {
      size_t at = rng() % d.size();
      switch (rng() % 3) {
        case 0:
          d[at] = bytes[rng() % bytes.size()];
          break;
        case 1:
          d.erase(at, 1);
          break;
        default:
          d.insert(at, 1, bytes[rng() % bytes.size()]);
      }
    }
    bool want = Json::accept(d);
    accepted += want;
    ASSERT_EQ(scanner_accepts(d), want) << "case " << n << ": " << d;
  }
  EXPECT_GT(accepted, 100);  // the mutations leave a fair share valid
}

TEST(JsonScanner, ReadsMembersAndDecodesStringsLikeNlohmann) {
  std::string doc =
      R"({"s":"a\"b\\c\/d\u00e9\ud83d\ude00\n","n":-42,"f":2.5,"big":123456789012345678901,"arr":[1,{"x":[]},"y"],"t":true})";
  Json dom = Json::parse(doc);
  JsonScanner js(doc);
  ASSERT_TRUE(js.enter_object());
  std::string key, str;
  std::vector<std::string> keys;
  while (js.next_key(key)) {
    keys.push_back(key);
    if (key == "s") {
      ASSERT_TRUE(js.read_string(str));
      EXPECT_EQ(str, dom["s"].get<std::string>());
    } else if (key == "n") {
      int64_t v = 0;
      ASSERT_TRUE(js.read_int(v));
      EXPECT_EQ(v, -42);
    } else if (key == "f") {
      int64_t v = 0;
      EXPECT_FALSE(js.read_int(v));  // not an integer, but the text is fine
      EXPECT_TRUE(js.ok());
    } else if (key == "big") {
      int64_t v = 0;
      EXPECT_FALSE(js.read_int(v));  // out of range
      EXPECT_TRUE(js.ok());
    } else if (key == "arr") {
      ASSERT_TRUE(js.enter_array());
      int n = 0;
      while (js.next_element()) {
        ASSERT_TRUE(js.skip_value());
        ++n;
      }
      EXPECT_EQ(n, 3);
    } else {
      ASSERT_TRUE(js.skip_value());
    }
  }
  EXPECT_TRUE(js.ok());
  EXPECT_TRUE(js.finish());
  EXPECT_EQ(keys, (std::vector<std::string>{"s", "n", "f", "big", "arr", "t"}));
}

TEST(JsonScanner, NumbersReadAsNlohmannReadsThem) {
  for (const char* text : {"0", "-0.0", "0.1", "-1.5e-3", "1e-400", "2.2250738585072014e-308",
                           "4.9e-324", "1.7976931348623157e308", "123456789012345678901234567890",
                           "-9223372036854775808", "0.30000000000000004", "-2.718281828459045"}) {
    JsonScanner js(text);
    double v = 1234;
    ASSERT_TRUE(js.read_double(v)) << text;
    EXPECT_EQ(v, Json::parse(text).get<double>()) << text;
    EXPECT_EQ(std::signbit(v), std::signbit(Json::parse(text).get<double>())) << text;
  }
}

TEST(JsonScanner, DeepNestingDoesNotOverflow) {
  std::string deep(200000, '[');
  deep += std::string(200000, ']');
  EXPECT_TRUE(scanner_accepts(deep));
  EXPECT_FALSE(scanner_accepts(deep.substr(1)));
}

}  // namespace
}  // namespace retort
