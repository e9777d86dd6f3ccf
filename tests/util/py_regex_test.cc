#include <gtest/gtest.h>

#include "util/error.h"
#include "util/py_regex.h"

namespace retort {
namespace {

using Strings = std::vector<std::optional<std::string>>;

// Expected values are what CPython 3.11's `re` returns for the same call.

TEST(PyRegex, FindallShapesFollowGroupCount) {
  EXPECT_EQ(py_re_findall(R"(\d+)", "a1b22c333"), Json::parse(R"(["1","22","333"])"));
  EXPECT_EQ(py_re_findall(R"(#### (\-?[0-9\.\,]+))", "so #### 1,234.5\n#### -7"),
            Json::parse(R"(["1,234.5","-7"])"));
  // Several groups give tuples; an unmatched group is "".
  EXPECT_EQ(py_re_findall(R"((a)|(b))", "ab"), Json::parse(R"([["a",""],["","b"]])"));
  EXPECT_EQ(py_re_findall("x", "abc"), Json::array());
}

TEST(PyRegex, EmptyMatchesFollowPython37Rules) {
  // re.sub('x*', '-', 'abxd') == '-a-b--d-'
  EXPECT_EQ(py_re_sub("x*", "-", "abxd"), "-a-b--d-");
  // re.findall(r'|a', 'a') == ['', 'a', '']
  EXPECT_EQ(py_re_findall("|a", "a"), Json::parse(R"(["","a",""])"));
  // re.split(r'\b', 'a b') == ['', 'a', ' ', 'b', '']
  EXPECT_EQ(py_re_split(R"(\b)", "a b"), (Strings{"", "a", " ", "b", ""}));
}

TEST(PyRegex, SplitOnWhitespaceCountsWordsLikeLmEval) {
  // len(re.split(r"\s+", " a b ")) == 4
  EXPECT_EQ(py_re_split(R"(\s+)", " a b ").size(), 4u);
  EXPECT_EQ(py_re_split(R"(\s+)", "one two\tthree").size(), 3u);
  // Groups are kept, unmatched ones as None.
  EXPECT_EQ(py_re_split(R"((,)|(;))", "a,b;c"),
            (Strings{"a", ",", std::nullopt, "b", std::nullopt, ";", "c"}));
  EXPECT_EQ(py_re_split(",", "a,b,c", 1), (Strings{"a", "b,c"}));
}

TEST(PyRegex, SubUnderstandsPythonTemplates) {
  EXPECT_EQ(py_re_sub(R"((\w+) (\w+))", R"(\2 \1)", "hello world"), "world hello");
  EXPECT_EQ(py_re_sub(R"((?P<first>\w+) (\w+))", R"(\g<2>-\g<first>-\g<0>)", "ab cd"),
            "cd-ab-ab cd");
  EXPECT_EQ(py_re_sub("a", R"(\n\t\\)", "a"), "\n\t\\");
  // Unknown non-letter escapes are kept with their backslash.
  EXPECT_EQ(py_re_sub("a", R"(\.)", "a"), "\\.");
  // An unmatched group expands to "".
  EXPECT_EQ(py_re_sub(R"((x)?y)", R"([\1])", "y"), "[]");
  EXPECT_EQ(py_re_sub("a", "b", "aaaa", 2), "bbaa");
  EXPECT_THROW(py_re_sub("(a)", R"(\2)", "a"), Error);
  EXPECT_THROW(py_re_sub("a", R"(\q)", "a"), Error);
}

TEST(PyRegex, UnicodeClassesAreUnicodeAware) {
  EXPECT_EQ(py_re_findall(R"(\w+)", "héllo wörld"), Json::parse(R"(["héllo","wörld"])"));
  EXPECT_EQ(py_re_findall(R"(\d)", "٣4"), Json::parse(R"(["٣","4"])"));
  // Python's \s includes \x1c-\x1f and U+3000, and excludes U+180E.
  EXPECT_EQ(py_re_split(R"(\s)",
                        "a\x1f"
                        "b\u3000c")
                .size(),
            3u);
  EXPECT_EQ(py_re_split(R"(\s)",
                        "a\u180e"
                        "b")
                .size(),
            1u);
  EXPECT_EQ(py_re_split(R"([\s,])", "a,b c").size(), 3u);
  EXPECT_TRUE(py_re_search(R"(\S)", "\u3000x"));
  // Case-insensitive matching of non-ASCII letters.
  EXPECT_TRUE(py_re_fullmatch("(?i)ÉTÉ", "été"));
  // (?a) makes \w ASCII-only.
  EXPECT_EQ(py_re_findall(R"((?a)\w+)", "héllo"), Json::parse(R"(["h","llo"])"));
}

TEST(PyRegex, PythonOnlySyntaxIsTranslated) {
  // \Z is the very end (PCRE2's \Z would also match before a final newline).
  EXPECT_FALSE(py_re_search(R"(a\Z)", "a\n"));
  EXPECT_TRUE(py_re_search(R"(a\Z)", "a"));
  // $ still matches before a final newline, as in Python.
  EXPECT_TRUE(py_re_search("a$", "a\n"));
  EXPECT_TRUE(py_re_fullmatch(R"(\u00e9)", "é"));
  EXPECT_TRUE(py_re_fullmatch("a{,2}", "aa"));
  EXPECT_FALSE(py_re_fullmatch("a{,2}", "aaa"));
  EXPECT_TRUE(py_re_fullmatch("(?P<x>a)(?P=x)", "aa"));
  EXPECT_TRUE(py_re_fullmatch("[[]", "["));
}

TEST(PyRegex, MatchSearchFullmatch) {
  auto rx = PyRegex::compile(R"((\d+)-(\d+))");
  EXPECT_EQ(rx->group_count(), 2);
  auto m = rx->search("x 12-34 y");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->start(), 2u);
  EXPECT_EQ(*m->groups[2], "34");
  EXPECT_FALSE(rx->match("x 12-34"));
  EXPECT_TRUE(rx->match("12-34 y"));
  EXPECT_FALSE(rx->fullmatch("12-34 y"));
  EXPECT_TRUE(rx->fullmatch("12-34"));
  EXPECT_TRUE(py_re_search("(?m)^b", "a\nb"));
  EXPECT_FALSE(py_re_search("^b", "a\nb"));
  EXPECT_TRUE(py_re_search("(?s)a.b", "a\nb"));
  EXPECT_FALSE(py_re_search("a.b", "a\nb"));
  EXPECT_TRUE(py_re_search("A", "a", kPyReIgnoreCase));
}

TEST(PyRegex, InvalidPatternNamesPatternAndPosition) {
  try {
    PyRegex::compile("(ab");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(e.what_failed().find("'(ab'"), std::string::npos) << e.what_failed();
    EXPECT_NE(e.what_failed().find("position 3"), std::string::npos) << e.what_failed();
  }
}

TEST(PyRegex, CompileIsCached) {
  EXPECT_EQ(PyRegex::compile("abc+"), PyRegex::compile("abc+"));
  EXPECT_NE(PyRegex::compile("abc+"), PyRegex::compile("abc+", kPyReIgnoreCase));
}

TEST(PyRegex, EscapeMatchesPython37) {
  EXPECT_EQ(py_re_escape("a.b (c)*"), R"(a\.b\ \(c\)\*)");
  EXPECT_EQ(py_re_escape("é_1"), "é_1");
}

}  // namespace
}  // namespace retort
