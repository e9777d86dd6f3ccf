// Internal to scoring/math_*: the expression tree math answers parse into, the parser, and
// exact / numeric evaluation. Users go through math_equiv.h.
#pragma once

#include <complex>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace retort::math::detail {

enum class K {
  // scalars
  kNum,
  kVar,
  kPi,
  kE,
  kI,
  kInf,
  kAdd,
  kNeg,
  kMul,
  kDiv,
  kPow,
  kFact,
  kFunc,
  kAbs,
  kPm,  // a ± b
  // structures
  kTuple,
  kSet,
  kList,
  kUnion,
  kRel,
  kMatrix,
  kText
};

struct Node;
using NodeP = std::shared_ptr<const Node>;

struct Node {
  K k = K::kNum;
  std::string text;              // kNum literal, kVar / kFunc name, kText content
  std::vector<NodeP> c;          // children
  std::vector<std::string> ops;  // kRel: "=", "<", "<=", ">", ">=", "!="
  char open = 0, close = 0;      // kTuple brackets
  int rows = 0, cols = 0;        // kMatrix
  bool int_literal = false;      // a bare integer as written (for mixed numbers)
};

// Thrown by the parser; "text" when the answer reads as words rather than mathematics.
struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// String normalisation (see math_equiv.h).
std::string normalize(std::string_view s);
// Parses a normalised answer; throws ParseError.
NodeP parse(const std::string& normalized);
// Lowercased text form for word answers.
std::string text_form(std::string_view normalized);

// An exact rational with numerator and denominator below 1e18 in magnitude.
struct Rat {
  __int128 n = 0, d = 1;
};
std::optional<Rat> eval_exact(const Node& n);
using Env = std::map<std::string, std::complex<double>>;
std::complex<double> eval_num(const Node& n, const Env& env);
void collect_vars(const Node& n, std::vector<std::string>& out);
bool is_scalar(const Node& n);

}  // namespace retort::math::detail
