// Internal to src/template: the syntax tree a Template is parsed into once, and the parser
// entry point. Positions are byte offsets into the (newline-normalised) source; they become
// line:column only when an error is reported.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "template/template.h"
#include "util/json.h"

namespace retort::tmpl {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind : uint8_t {
  kConst,    // value
  kName,     // name
  kList,     // items
  kTuple,    // items (tuples are lists at run time)
  kDict,     // items: key, value, key, value, ...
  kAttr,     // target.name
  kItem,     // target[items[0]]
  kSlice,    // target[items[0]:items[1]:items[2]] (null parts omitted)
  kCall,     // target(args)
  kFilter,   // target | name(args); target is null inside {% filter %} and block set
  kTest,     // target is [not] name(args)
  kNeg,      // -target
  kPos,      // +target
  kNot,      // not target
  kBinary,   // items[0] op items[1]
  kAnd,      // items[0] and items[1]
  kOr,       // items[0] or items[1]
  kCompare,  // items[0] cmp_ops[0] items[1] cmp_ops[1] items[2] ...
  kConcat,   // items[0] ~ items[1] ~ ...
  kCond,     // items[0] if items[1] else items[2] (items[2] may be null)
};

enum class BinOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CmpOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Arg {
  std::string name;  // empty for a positional argument
  ExprPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::kConst;
  uint32_t pos = 0;
  std::string name;
  Json value;
  ExprPtr target;
  std::vector<ExprPtr> items;
  std::vector<Arg> args;
  std::vector<CmpOp> cmp_ops;
  BinOp bin_op = BinOp::kAdd;
  bool negated = false;  // kTest: `is not`
};

enum class StmtKind : uint8_t {
  kText,         // text
  kOutput,       // {{ expr }}
  kIf,           // branches, else_body
  kFor,          // targets in expr [if cond]: body, else_body
  kSet,          // targets = expr, or targets[0].attr = expr
  kSetBlock,     // {% set targets[0] [| filter] %}body{% endset %}
  kMacro,        // {% macro targets[0](params) %}body{% endmacro %}
  kFilterBlock,  // {% filter filter %}body{% endfilter %}
  kBreak,
  kContinue,
  kBlock,  // a transparent block such as {% generation %}: body
};

struct Stmt;
using Body = std::vector<Stmt>;

struct IfBranch {
  ExprPtr cond;
  Body body;
};

struct Param {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  uint32_t pos = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr cond;
  ExprPtr filter;
  std::vector<IfBranch> branches;
  Body body;
  Body else_body;
  std::vector<std::string> targets;
  std::string attr;
  std::vector<Param> params;
};

// Line and column (both 1-based) of byte offset pos in source.
std::pair<int, int> line_col(std::string_view source, uint32_t pos);

// "<name>:<line>:<col>" for error messages.
std::string where(std::string_view name, std::string_view source, uint32_t pos);

// Parses normalised source into a body; throws retort::Error on a syntax error.
Body parse_template(std::string_view source, const std::string& name,
                    const TemplateOptions& options);

}  // namespace retort::tmpl
