// Python value semantics: every expected string here is what CPython 3.11 prints.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "util/error.h"
#include "util/pyvalue.h"

namespace retort {
namespace {

TEST(PyFloatRepr, ShortestRoundTripInPythonLayout) {
  EXPECT_EQ(py_float_repr(1.0), "1.0");
  EXPECT_EQ(py_float_repr(0.1), "0.1");
  EXPECT_EQ(py_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(py_float_repr(1e-5), "1e-05");
  EXPECT_EQ(py_float_repr(1.5e-5), "1.5e-05");
  EXPECT_EQ(py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(py_float_repr(1e16), "1e+16");
  EXPECT_EQ(py_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(py_float_repr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(py_float_repr(-0.0), "-0.0");
  EXPECT_EQ(py_float_repr(-2.5), "-2.5");
  EXPECT_EQ(py_float_repr(1e100), "1e+100");
  EXPECT_EQ(py_float_repr(5e-324), "5e-324");
  EXPECT_EQ(py_float_repr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(py_float_repr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(py_float_repr(std::nan("")), "nan");
  EXPECT_EQ(py_float_repr(123.456), "123.456");
}

TEST(PyStr, ScalarsAndContainers) {
  EXPECT_EQ(py_str(Json("text")), "text");
  EXPECT_EQ(py_str(Json(1)), "1");
  EXPECT_EQ(py_str(Json(1.0)), "1.0");
  EXPECT_EQ(py_str(Json(true)), "True");
  EXPECT_EQ(py_str(Json(false)), "False");
  EXPECT_EQ(py_str(Json(nullptr)), "None");
  EXPECT_EQ(py_str(Json::parse(R"(["a", "it's", 1, 2.5, null, true])")),
            R"(['a', "it's", 1, 2.5, None, True])");
  EXPECT_EQ(py_str(Json::parse(R"({"a": 1, "b": [1, {"c": "d"}]})")),
            R"({'a': 1, 'b': [1, {'c': 'd'}]})");
  EXPECT_EQ(py_str(Json::array()), "[]");
  EXPECT_EQ(py_str(Json::object()), "{}");
  EXPECT_EQ(py_str(Json::parse("18446744073709551615")), "18446744073709551615");
}

TEST(PyRepr, StringQuotingAndEscapes) {
  EXPECT_EQ(py_repr(Json("abc")), "'abc'");
  EXPECT_EQ(py_repr(Json("it's")), "\"it's\"");
  EXPECT_EQ(py_repr(Json("say \"hi\"")), "'say \"hi\"'");
  EXPECT_EQ(py_repr(Json("it's \"x\"")), "'it\\'s \"x\"'");
  EXPECT_EQ(py_repr(Json("a\\b")), "'a\\\\b'");
  EXPECT_EQ(py_repr(Json("l1\nl2\r\t")), "'l1\\nl2\\r\\t'");
  EXPECT_EQ(py_repr(Json(std::string("\x01\x1f\x7f", 3))), "'\\x01\\x1f\\x7f'");
  EXPECT_EQ(py_repr(Json("caf\u00e9 \u65e5\u672c \U0001F600")),
            "'caf\u00e9 \u65e5\u672c \U0001F600'");
  // Non-printable non-ASCII: NBSP, zero-width space, line separator, ideographic space.
  EXPECT_EQ(py_repr(Json("\u00a0\u200b\u2028\u3000")), "'\\xa0\\u200b\\u2028\\u3000'");
  EXPECT_EQ(py_repr(Json("\u0085")), "'\\x85'");
  // Runs of plain characters between escapes, strings inside a list and a dict key.
  EXPECT_EQ(py_repr(Json::array({"it's", "a\\b", "say \"hi\"", "tab\there", "caf\u00e9", "\x7f",
                                 "both ' and \"", "plain text, no escapes", ""})),
            R"(["it's", 'a\\b', 'say "hi"', 'tab\there', 'café', '\x7f', 'both \' and "', )"
            R"('plain text, no escapes', ''])");
  EXPECT_EQ(py_repr(Json::object({{"k'ey", "v"}, {"a", Json::array({"x\\", 1})}})),
            R"({"k'ey": 'v', 'a': ['x\\', 1]})");
}

TEST(PyJsonDumps, MatchesPythonDefaults) {
  Json v = Json::parse(R"({"role": "user", "content": "Q: 1+1?\nA:", "n": [1, 2.0, null, true]})");
  EXPECT_EQ(py_json_dumps(v),
            R"({"role": "user", "content": "Q: 1+1?\nA:", "n": [1, 2.0, null, true]})");
  EXPECT_EQ(py_json_dumps(Json::array()), "[]");
  EXPECT_EQ(py_json_dumps(Json::object(), 2), "{}");
  EXPECT_EQ(py_json_dumps(Json(1e-5)), "1e-05");
  EXPECT_EQ(py_json_dumps(Json(std::nan(""))), "NaN");
  EXPECT_EQ(py_json_dumps(Json(-std::numeric_limits<double>::infinity())), "-Infinity");
}

TEST(PyJsonDumps, IndentTwo) {
  Json v = Json::parse(R"({"a": [1, {"b": []}], "c": {}})");
  EXPECT_EQ(py_json_dumps(v, 2),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": {}\n}");
  EXPECT_EQ(py_json_dumps(Json::parse("[1]"), 0), "[\n1\n]");
}

TEST(PyJsonDumps, EnsureAsciiBothWays) {
  Json v("caf\u00e9 \U0001F600 \"q\" \\ \b\f\n\r\t\x01\x7f");
  EXPECT_EQ(py_json_dumps(v, -1, false),
            "\"caf\u00e9 \U0001F600 \\\"q\\\" \\\\ \\b\\f\\n\\r\\t\\u0001\x7f\"");
  EXPECT_EQ(py_json_dumps(v, -1, true),
            "\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\b\\f\\n\\r\\t\\u0001\\u007f\"");
}

TEST(PyJsonDumps, SortKeys) {
  Json v = Json::parse(R"({"b": 1, "a": {"d": 1, "c": 2}})");
  EXPECT_EQ(py_json_dumps(v, -1, false, true), R"({"a": {"c": 2, "d": 1}, "b": 1})");
  EXPECT_EQ(py_json_dumps(v), R"({"b": 1, "a": {"d": 1, "c": 2}})");
}

TEST(PyLiteralEval, Scalars) {
  EXPECT_EQ(py_literal_eval("1"), Json(1));
  EXPECT_EQ(py_literal_eval("-17"), Json(-17));
  EXPECT_EQ(py_literal_eval("+3"), Json(3));
  EXPECT_EQ(py_literal_eval("2.5"), Json(2.5));
  EXPECT_EQ(py_literal_eval("-1e-05"), Json(-1e-5));
  EXPECT_EQ(py_literal_eval(".5"), Json(0.5));
  EXPECT_EQ(py_literal_eval("0x1F"), Json(31));
  EXPECT_EQ(py_literal_eval("1_000"), Json(1000));
  EXPECT_EQ(py_literal_eval("True"), Json(true));
  EXPECT_EQ(py_literal_eval("None"), Json(nullptr));
  EXPECT_TRUE(py_literal_eval("1.0").is_number_float());
  EXPECT_TRUE(py_literal_eval("1").is_number_integer());
}

TEST(PyLiteralEval, Strings) {
  EXPECT_EQ(py_literal_eval("'a'"), Json("a"));
  EXPECT_EQ(py_literal_eval("\"it's\""), Json("it's"));
  EXPECT_EQ(py_literal_eval(R"('it\'s\n\t\\ \x41\u00e9\U0001F600\101')"),
            Json("it's\n\t\\ A\u00e9\U0001F600A"));
  EXPECT_EQ(py_literal_eval(R"(r'a\nb')"), Json("a\\nb"));
  EXPECT_EQ(py_literal_eval("'''tri'ple\n'''"), Json("tri'ple\n"));
  EXPECT_EQ(py_literal_eval("'a' \"b\"  'c'"), Json("abc"));
  EXPECT_EQ(py_literal_eval(R"('\d')"), Json("\\d"));
}

TEST(PyLiteralEval, Containers) {
  EXPECT_EQ(py_literal_eval("['a', 'b', 'c']"), Json::parse(R"(["a","b","c"])"));
  EXPECT_EQ(py_literal_eval("[]"), Json::array());
  EXPECT_EQ(py_literal_eval("(1, 2)"), Json::parse("[1,2]"));
  EXPECT_EQ(py_literal_eval("(1,)"), Json::parse("[1]"));
  EXPECT_EQ(py_literal_eval("(1)"), Json(1));
  EXPECT_EQ(py_literal_eval("{'a': [1, (2, 3)], 'b': {}}"),
            Json::parse(R"({"a":[1,[2,3]],"b":{}})"));
  EXPECT_EQ(py_literal_eval("{1: 'x'}"), Json::parse(R"({"1":"x"})"));
  EXPECT_EQ(py_literal_eval("{1, 2, 1}"), Json::parse("[1,2]"));
  EXPECT_EQ(py_literal_eval("[1, 2,\n 3,]"), Json::parse("[1,2,3]"));
  EXPECT_EQ(py_literal_eval("  [1]  \n"), Json::parse("[1]"));
}

TEST(PyLiteralEval, ChoicesRoundTripThroughRepr) {
  Json choices =
      Json::parse(R"(["it's", "say \"hi\"", "a\\b\nc", "caf\u00e9", "\u00a0x", "both ' and \""])");
  EXPECT_EQ(py_literal_eval(py_str(choices)), choices);
}

TEST(PyLiteralEval, RejectsNonLiterals) {
  EXPECT_THROW(py_literal_eval("abc"), Error);
  EXPECT_THROW(py_literal_eval("1 + 2"), Error);
  EXPECT_THROW(py_literal_eval("[1, 2"), Error);
  EXPECT_THROW(py_literal_eval("'unterminated"), Error);
  EXPECT_THROW(py_literal_eval("f'x'"), Error);
  EXPECT_THROW(py_literal_eval(""), Error);
  EXPECT_THROW(py_literal_eval("foo()"), Error);
  EXPECT_THROW(py_literal_eval("012"), Error);
}

TEST(PyStrings, IsDigit) {
  EXPECT_TRUE(py_isdigit("0123"));
  EXPECT_TRUE(py_isdigit("\u00b2\u00b3"));  // superscripts
  EXPECT_TRUE(py_isdigit("\u0663"));        // Arabic-Indic three
  EXPECT_TRUE(py_isdigit("\u2460"));        // circled one
  EXPECT_FALSE(py_isdigit(""));
  EXPECT_FALSE(py_isdigit("-1"));
  EXPECT_FALSE(py_isdigit("1.5"));
  EXPECT_FALSE(py_isdigit("\u00bd"));  // one half
  EXPECT_FALSE(py_isdigit("\u2469"));  // circled ten
  EXPECT_FALSE(py_isdigit(" 1"));
}

TEST(PyStrings, StripUsesUnicodeWhitespace) {
  EXPECT_EQ(py_rstrip("Q: x\nA: \t\n"), "Q: x\nA:");
  EXPECT_EQ(py_rstrip("x\u00a0\u3000\u2028\x1c\u0085"), "x");
  EXPECT_EQ(py_rstrip("x\u200b"), "x\u200b");  // zero-width space is not whitespace
  EXPECT_EQ(py_lstrip(" \u2003x "), "x ");
  EXPECT_EQ(py_strip("\n  a b  \n"), "a b");
  EXPECT_EQ(py_strip("   "), "");
  EXPECT_EQ(py_rstrip(""), "");
}

TEST(PyStrings, LenCountsCodePoints) {
  EXPECT_EQ(py_len(""), 0u);
  EXPECT_EQ(py_len("abc"), 3u);
  EXPECT_EQ(py_len("caf\u00e9"), 4u);
  EXPECT_EQ(py_len("\U0001F600\u65e5"), 2u);
}

TEST(PyTruthy, PythonRules) {
  EXPECT_FALSE(py_truthy(Json(nullptr)));
  EXPECT_FALSE(py_truthy(Json(0)));
  EXPECT_FALSE(py_truthy(Json(0.0)));
  EXPECT_FALSE(py_truthy(Json("")));
  EXPECT_FALSE(py_truthy(Json::array()));
  EXPECT_FALSE(py_truthy(Json::object()));
  EXPECT_TRUE(py_truthy(Json("0")));
  EXPECT_TRUE(py_truthy(Json::parse("[0]")));
}

}  // namespace
}  // namespace retort

namespace retort {
namespace {

TEST(PyDecodeEscape, DecodesPythonStringEscapes) {
  auto dec = [](std::string_view s) {
    std::string out;
    size_t end = py_decode_escape(s, 0, out);
    return end == std::string_view::npos ? std::string("<bad>") : out + "|" + std::to_string(end);
  };
  EXPECT_EQ(dec("x41rest"), "A|3");
  EXPECT_EQ(dec("u00e9"), "\xC3\xA9|5");
  EXPECT_EQ(dec("U0001F600"), "\xF0\x9F\x98\x80|9");
  EXPECT_EQ(dec("101"), "A|3");
  EXPECT_EQ(dec("n"), "\n|1");
  EXPECT_EQ(dec("\n"), "|1");    // escaped newline: line continuation
  EXPECT_EQ(dec("q"), "\\q|1");  // unknown escapes keep their backslash
  EXPECT_EQ(dec("xZZ"), "<bad>");
  EXPECT_EQ(dec("u12"), "<bad>");
  EXPECT_EQ(dec("U00110000"), "<bad>");
}

TEST(PyDecodeEscape, LiteralEvalAndTemplatesShareIt) {
  EXPECT_EQ(py_literal_eval(R"('caf\u00e9\x21')"), Json("café!"));
  EXPECT_THROW(py_literal_eval(R"('\xZZ')"), Error);
}

}  // namespace
}  // namespace retort
