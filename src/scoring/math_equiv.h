// Math answers: extraction from a model's reply, normalisation, and mathematical
// equivalence. This is the contract other code (metrics, `retort score math`, tasks) uses.
//
//   reply ──strip_thinking──► final text ──extract_answer──► answer (+ the rule used)
//   gold, answer ──math_equiv──► equal / not equal / unparseable (+ both normalised forms)
//
// Equivalence parses both answers (LaTeX or plain text) into expression trees and compares
// mathematics, not strings:
//   - numbers: integers, decimals, fractions, mixed numbers (2\frac{1}{2}), scientific
//     notation; compared as exact rationals when both sides are rational.
//   - other scalars (radicals, powers, pi, e, i, functions, variables): evaluated as complex
//     numbers at fixed points for the free variables; equal when every point agrees within
//     a relative tolerance of 1e-9 (|a-b| <= 1e-9·max(|a|,|b|) + 1e-12); with no i in
//     either answer, points where a side is not real (x^{1/2} at x < 0) are skipped.
//   - a decimal of at least 4 significant digits equals an exact value it is the rounding or
//     the truncation of at its last digit (1.732 = \sqrt{3}, 0.6666 = 2/3); shorter ones
//     never do (0.333 is not 1/3, 3.14 is not pi), nor two different decimals.
//   - a percentage (28\%, 28 percent) equals its number and its number/100 (28, 0.28).
//   - tuples (ordered), sets and bare lists (unordered; "x = 1, y = 2" ordered by name),
//     intervals and unions of intervals and points (endpoints and openness), inequalities
//     (as intervals when they bound one variable, linearly: -x > -1 is x < 1), equations
//     (sides proportional; "x = 5" or "f(x) = 5" against "5" compares 5; a reply
//     "m + n = 116" answers 116, a target "2x + z = 1" is not "1"), ± (as a set of two),
//     matrices (shape and entries), base numerals (204_5: same digits, same base), and text
//     answers (case-insensitive, \text{} removed).
// Normalisation before parsing removes what carries no mathematics: $, \left/\right, spacing
// commands, \dfrac/\tfrac, degrees, percent, dollar signs, units in \text{} or as known unit
// words after a number, thousands separators (1,000 and 1{,}000), "x \in".
#pragma once

#include <string>
#include <string_view>

namespace retort::math {

// How an answer was found in a reply.
enum class ExtractRule {
  kBoxed,       // the last \boxed{...} (or "\boxed 5")
  kFbox,        // the last \fbox{...}
  kAnswerIs,    // "final answer is ...", "the answer is ...", "answer: ..."
  kHashes,      // "#### ..."
  kLastMath,    // the last $...$ or \(...\) span that reads as mathematics
  kLastNumber,  // the last number in the text
  kWhole,       // the whole (short) text, for gold answers and bare replies
  kNone,        // no answer found
};
const char* rule_name(ExtractRule rule);

// The part of a reply after reasoning: the text after the last "</think>"; empty when a
// "<think>" is never closed (the reply was cut off while thinking); else the reply itself.
std::string strip_thinking(std::string_view reply);

struct Extraction {
  std::string answer;  // the extracted answer, not yet normalised ("" when none)
  ExtractRule rule = ExtractRule::kNone;
};

// The final answer of a reply, from its final text only (call strip_thinking first when the
// reply may contain thinking). Rules in order: last \boxed/\fbox (nested braces), "answer
// is", "####", a bare answer, the last inline math span, the last number. A reply with
// none of them has no answer (kNone).
// cut_off: the reply stopped at the token limit (finish_reason "length"). Only an explicit
// final answer (\boxed, \fbox, "answer is", "####") counts then: the whole text, its last
// math span or its last number is wherever the limit fell, not an answer (kNone).
Extraction extract_answer(std::string_view text, bool cut_off = false);

// A gold answer as datasets store it: the last \boxed{} when present (a full solution),
// else the whole string (rule kWhole).
Extraction extract_gold(std::string_view gold);

// String normalisation alone (the first step of math_equiv), for logs and diffs.
std::string normalize_answer(std::string_view answer);

enum class Verdict { kEqual, kNotEqual, kUnparseable };
const char* verdict_name(Verdict v);

struct EquivResult {
  Verdict verdict = Verdict::kUnparseable;
  std::string gold_normalized;
  std::string pred_normalized;
};

// Compares two extracted answers. kUnparseable when pred is empty or one side cannot be
// read as mathematics while the other is mathematics (text answers compare as text).
EquivResult math_equiv(std::string_view gold, std::string_view pred);

// Convenience: extract from a whole reply (thinking stripped), then compare with gold.
struct ScoredReply {
  Extraction extracted;
  EquivResult equiv;
};
ScoredReply score_reply(std::string_view gold, std::string_view reply, bool cut_off = false);

// lm-eval's hendrycks_math string rules (utils.py strip_string / is_equiv, the rule
// Evalchemy's AIME/AMC/MATH500 use), kept so a published number can be reproduced:
// last_boxed_only_string + remove_boxed, and strip_string(a) == strip_string(b) with the
// raw-compare fallback where Python raises.
std::string hendrycks_last_boxed_answer(std::string_view text);  // "" when none
bool hendrycks_is_equiv(std::string_view a, std::string_view b);
// The answer candidate of lm-eval's hendrycks_math and aime process_results: with at least
// two '$' in the reply, the text between the first and the last; else the whole reply.
std::string hendrycks_dollar_candidate(std::string_view reply);

}  // namespace retort::math
