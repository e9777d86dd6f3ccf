// Mathematical equivalence of two answers (see math_equiv.h for the rules and tolerances).
#include "scoring/math_equiv.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "scoring/math_expr.h"

namespace retort::math {

using detail::K;
using detail::Node;
using detail::NodeP;

namespace {

enum class Tri { kEq, kNe, kUnk };

constexpr double kRelTol = 1e-9;
constexpr double kAbsTol = 1e-12;

// Values the free variables take: a few irregular reals of both signs and magnitudes, so
// that different polynomials, rational functions and radicals do not coincide by chance.
constexpr double kPoints[] = {0.5377, 1.8339,  -2.2588, 0.8622, 0.3188,  -1.3077, 3.5784,
                              2.7694, -1.3499, 3.0349,  0.7254, -0.0631, 0.7147,  -0.2050};
constexpr int kNumPoints = 6;

NodeP make(K k, std::vector<NodeP> c) {
  auto n = std::make_shared<Node>();
  n->k = k;
  n->c = std::move(c);
  return n;
}

bool close(std::complex<double> a, std::complex<double> b) {
  bool ainf = std::isinf(a.real()) || std::isinf(a.imag());
  bool binf = std::isinf(b.real()) || std::isinf(b.imag());
  if (ainf || binf) return ainf && binf && a == b;
  double scale = std::max(std::abs(a), std::abs(b));
  return std::abs(a - b) <= kRelTol * scale + kAbsTol;
}

bool finite(std::complex<double> v) {
  return std::isfinite(v.real()) && std::isfinite(v.imag());
}
bool infinite(std::complex<double> v) {
  return (std::isinf(v.real()) && !std::isnan(v.imag())) || std::isinf(v.imag());
}

detail::Env env_at(const std::vector<std::string>& vars, int point) {
  detail::Env env;
  for (size_t j = 0; j < vars.size(); ++j)
    env[vars[j]] = kPoints[(static_cast<size_t>(point) * 5 + j * 3) % std::size(kPoints)];
  return env;
}

std::vector<std::string> vars_of(const Node& a, const Node& b) {
  std::vector<std::string> v;
  detail::collect_vars(a, v);
  detail::collect_vars(b, v);
  return v;
}

std::string digits_of_int_literal(const Node& n) {
  if (n.k != K::kNum || !n.int_literal) return "";
  size_t nz = n.text.find_first_not_of('0');
  return nz == std::string::npos ? "0" : n.text.substr(nz);
}

// A number written as a decimal: 1.732, -0.0833, 2.3148 \times 10^{-3}, 1.5e-3.
struct Decimal {
  double value = 0;
  int places = 0;  // decimal places of the value (after the power of ten)
  int significant = 0;
};

std::optional<Decimal> decimal_literal(const Node& n) {
  if (n.k == K::kNeg) {
    auto d = decimal_literal(*n.c[0]);
    if (d) d->value = -d->value;
    return d;
  }
  int exp10 = 0;
  const Node* m = &n;
  if (n.k == K::kMul && n.c[1]->k == K::kPow && n.c[1]->c[0]->k == K::kNum &&
      n.c[1]->c[0]->text == "10") {
    auto e = detail::eval_exact(*n.c[1]->c[1]);
    if (!e || e->d != 1 || e->n > 300 || e->n < -300) return std::nullopt;
    exp10 = static_cast<int>(e->n);
    m = n.c[0].get();
  }
  if (m->k != K::kNum) return std::nullopt;
  const std::string& t = m->text;
  size_t dot = t.find('.');
  if (dot == std::string::npos) return std::nullopt;
  size_t e = t.find_first_of("eE");
  if (e != std::string::npos) exp10 += std::atoi(t.c_str() + e + 1);
  std::string digits =
      t.substr(0, dot) + t.substr(dot + 1, e == std::string::npos ? e : e - dot - 1);
  Decimal d;
  d.places = static_cast<int>((e == std::string::npos ? t.size() : e) - dot - 1) - exp10;
  size_t nz = digits.find_first_not_of('0');
  d.significant = nz == std::string::npos ? 0 : static_cast<int>(digits.size() - nz);
  d.value = std::strtod(t.c_str(), nullptr) * std::pow(10.0, exp10);
  return d;
}

// A decimal with at least 4 significant digits stands for an exact value it is the rounding
// or the truncation of, at its own last digit: 1.732 for \sqrt{3}, 0.6667 and 0.6666 for
// 2/3, 2.6667 for 8/3. Fewer digits never do (0.333 is not 1/3, 3.14 is not pi), nor does
// a decimal against another decimal (16386.17 is not 16386.2). Graders disagree here
// (Math-Verify rounds both sides to a chosen precision, Qwen's grader uses a relative
// tolerance of 1e-4); this rule keeps only what the digits written actually claim.
constexpr int kApproxDigits = 4;

bool approximates(const Node& dec, const Node& exact) {
  auto d = decimal_literal(dec);
  if (!d || d->significant < kApproxDigits || decimal_literal(exact)) return false;
  if (exact.k == K::kNum) return false;  // an integer written as such is exact
  auto v = detail::eval_num(exact, {});
  if (!finite(v) || std::abs(v.imag()) > 1e-12 * std::max(1.0, std::abs(v.real()))) return false;
  double x = v.real();
  double step = std::pow(10.0, -d->places);
  double slack = 1e-9 * step + 1e-15 * std::abs(x);
  if (std::abs(x - d->value) <= 0.5 * step + slack) return true;  // rounded
  bool same_sign = (x >= 0) == (d->value >= 0);
  double cut = std::abs(x) - std::abs(d->value);
  return same_sign && cut >= -slack && cut < step;  // truncated
}

bool has_i(const Node& n) {
  if (n.k == K::kI) return true;
  for (const auto& c : n.c)
    if (has_i(*c)) return true;
  return false;
}

bool non_real(std::complex<double> v) {
  return std::abs(v.imag()) > 1e-9 * std::max(1.0, std::abs(v.real()));
}

Tri cmp_scalar(const Node& a, const Node& b) {
  std::vector<std::string> vars = vars_of(a, b);
  if (vars.empty()) {
    std::string da = digits_of_int_literal(a), db = digits_of_int_literal(b);
    if (!da.empty() && !db.empty()) return da == db ? Tri::kEq : Tri::kNe;
    auto ea = detail::eval_exact(a);
    auto eb = detail::eval_exact(b);
    if (ea && eb && ea->n == eb->n && ea->d == eb->d) return Tri::kEq;
    if (approximates(a, b) || approximates(b, a)) return Tri::kEq;
    if (ea && eb) return Tri::kNe;
    auto va = detail::eval_num(a, {});
    auto vb = detail::eval_num(b, {});
    if (infinite(va) || infinite(vb)) return va == vb ? Tri::kEq : Tri::kNe;
    if (!finite(va) || !finite(vb)) return finite(va) != finite(vb) ? Tri::kNe : Tri::kUnk;
    return close(va, vb) ? Tri::kEq : Tri::kNe;
  }
  // Without i in either answer the variables are real: a point where a side leaves the real
  // numbers (x^{1/2} at negative x) is outside its domain and proves nothing either way.
  bool real_only = !has_i(a) && !has_i(b);
  int agreed = 0, skipped = 0;
  for (int p = 0; p < kNumPoints; ++p) {
    detail::Env env = env_at(vars, p);
    auto va = detail::eval_num(a, env);
    auto vb = detail::eval_num(b, env);
    if (!finite(va) && !finite(vb)) continue;
    if (finite(va) != finite(vb)) return Tri::kNe;
    if (real_only && (non_real(va) || non_real(vb))) {
      ++skipped;
      continue;
    }
    if (!close(va, vb)) return Tri::kNe;
    ++agreed;
  }
  if (skipped > 0 && agreed < 2) return Tri::kUnk;
  return agreed > 0 ? Tri::kEq : Tri::kUnk;
}

// The expression sides of "l = r" scaled: equal equations have proportional l - r.
Tri cmp_equation(const Node& l1, const Node& r1, const Node& l2, const Node& r2) {
  NodeP f =
      make(K::kAdd, {std::make_shared<Node>(l1), make(K::kNeg, {std::make_shared<Node>(r1)})});
  NodeP g =
      make(K::kAdd, {std::make_shared<Node>(l2), make(K::kNeg, {std::make_shared<Node>(r2)})});
  std::vector<std::string> vars = vars_of(*f, *g);
  if (vars.empty()) return Tri::kUnk;
  std::complex<double> ratio;
  int agreed = 0;
  for (int p = 0; p < kNumPoints; ++p) {
    detail::Env env = env_at(vars, p);
    auto fa = detail::eval_num(*f, env);
    auto ga = detail::eval_num(*g, env);
    if (!finite(fa) || !finite(ga)) continue;
    bool fz = std::abs(fa) < 1e-12, gz = std::abs(ga) < 1e-12;
    if (fz && gz) continue;
    if (fz != gz) return Tri::kNe;
    auto r = fa / ga;
    if (agreed == 0)
      ratio = r;
    else if (!close(r, ratio))
      return Tri::kNe;
    ++agreed;
  }
  return agreed >= 2 ? Tri::kEq : Tri::kUnk;
}

bool is_var(const Node& n) {
  return n.k == K::kVar;
}

NodeP neg_inf() {
  return make(K::kNeg, {make(K::kInf, {})});
}

struct Interval {
  NodeP lo, hi;
  bool lo_closed = false, hi_closed = false;
  std::string var;  // the variable an inequality bounds ("" for brackets)
};

bool is_inequality(const std::string& op) {
  return op == "<" || op == "<=" || op == ">" || op == ">=";
}

NodeP substitute(const NodeP& n, const std::string& var, const NodeP& value) {
  if (n->k == K::kVar && n->text == var) return value;
  if (n->c.empty()) return n;
  auto copy = std::make_shared<Node>(*n);
  for (auto& c : copy->c) c = substitute(c, var, value);
  return copy;
}

NodeP number(const char* text) {
  auto n = std::make_shared<Node>();
  n->k = K::kNum;
  n->text = text;
  n->int_literal = true;
  return n;
}

// "l op r" where l - r is linear in its one variable, a·x + b with a != 0 ("-x > -1",
// "2x + 1 >= 0"): the bound -b/a as an expression (exact when a and b are rational) and
// whether dividing by a reverses the inequality.
struct LinearBound {
  NodeP bound;
  bool flips = false;
  std::string var;
};

std::optional<LinearBound> linear_bound(const NodeP& l, const NodeP& r) {
  std::vector<std::string> vars = vars_of(*l, *r);
  if (vars.size() != 1 || !detail::is_scalar(*l) || !detail::is_scalar(*r)) return std::nullopt;
  NodeP h = make(K::kAdd, {l, make(K::kNeg, {r})});
  auto at = [&](double t) { return detail::eval_num(*h, {{vars[0], t}}); };
  auto h0 = at(0), h1 = at(1);
  std::complex<double> a = h1 - h0;
  if (!finite(h0) || !finite(h1) || non_real(h0) || non_real(h1) || std::abs(a) < 1e-12)
    return std::nullopt;
  for (double t : {2.0, -1.5, 3.25})
    if (!close(at(t), h0 + a * t)) return std::nullopt;
  NodeP b_node = substitute(h, vars[0], number("0"));
  NodeP a_node = make(K::kAdd, {substitute(h, vars[0], number("1")), make(K::kNeg, {b_node})});
  return LinearBound{make(K::kDiv, {make(K::kNeg, {b_node}), a_node}), a.real() < 0, vars[0]};
}

// An interval from brackets ("[1, 2)", and "(1, 2)" when tuple_ok) or from an inequality
// bounding one variable ("x > 2", "1 < x <= 3").
std::optional<Interval> as_interval(const NodeP& n, bool tuple_ok) {
  if (n->k == K::kTuple && n->c.size() == 2) {
    if (n->open == '(' && n->close == ')' && !tuple_ok) return std::nullopt;
    return Interval{n->c[0], n->c[1], n->open == '[', n->close == ']', ""};
  }
  if (n->k != K::kRel) return std::nullopt;
  for (const auto& op : n->ops)
    if (!is_inequality(op)) return std::nullopt;
  auto lower_op = [](const std::string& op) { return op == "<" || op == "<="; };
  if (n->c.size() == 2) {
    const std::string& op = n->ops[0];
    bool closed = op == "<=" || op == ">=";
    if (is_var(*n->c[0]) && !is_var(*n->c[1])) {
      const std::string& x = n->c[0]->text;
      if (lower_op(op)) return Interval{neg_inf(), n->c[1], false, closed, x};  // x < a
      return Interval{n->c[1], make(K::kInf, {}), closed, false, x};            // x > a
    }
    if (is_var(*n->c[1]) && !is_var(*n->c[0])) {
      const std::string& x = n->c[1]->text;
      if (lower_op(op)) return Interval{n->c[0], make(K::kInf, {}), closed, false, x};  // a < x
      return Interval{neg_inf(), n->c[0], false, closed, x};                            // a > x
    }
    if (auto lb = linear_bound(n->c[0], n->c[1])) {  // a·x + b < 0, read as x < -b/a
      if (lower_op(op) != lb->flips) return Interval{neg_inf(), lb->bound, false, closed, lb->var};
      return Interval{lb->bound, make(K::kInf, {}), closed, false, lb->var};
    }
    return std::nullopt;
  }
  if (n->c.size() == 3 && is_var(*n->c[1])) {
    bool up0 = lower_op(n->ops[0]), up1 = lower_op(n->ops[1]);
    if (up0 != up1) return std::nullopt;
    bool c0 = n->ops[0] == "<=" || n->ops[0] == ">=";
    bool c1 = n->ops[1] == "<=" || n->ops[1] == ">=";
    if (up0) return Interval{n->c[0], n->c[2], c0, c1, n->c[1]->text};
    return Interval{n->c[2], n->c[0], c1, c0, n->c[1]->text};
  }
  return std::nullopt;
}

bool is_infinite_bound(const Node& n) {
  return n.k == K::kInf || (n.k == K::kNeg && n.c[0]->k == K::kInf);
}

Tri cmp(const NodeP& a, const NodeP& b);

Tri cmp_interval(const Interval& x, const Interval& y) {
  // "x > 2" is not "y > 2"; "x > 2" is (2, \infty).
  if (!x.var.empty() && !y.var.empty() && x.var != y.var) return Tri::kNe;
  Tri lo = cmp_scalar(*x.lo, *y.lo);
  Tri hi = cmp_scalar(*x.hi, *y.hi);
  if (lo == Tri::kNe || hi == Tri::kNe) return Tri::kNe;
  bool lo_ok = x.lo_closed == y.lo_closed || is_infinite_bound(*x.lo);
  bool hi_ok = x.hi_closed == y.hi_closed || is_infinite_bound(*x.hi);
  if (!lo_ok || !hi_ok) return Tri::kNe;
  return lo == Tri::kEq && hi == Tri::kEq ? Tri::kEq : Tri::kUnk;
}

Tri cmp_ordered(const std::vector<NodeP>& x, const std::vector<NodeP>& y) {
  if (x.size() != y.size()) return Tri::kNe;
  Tri out = Tri::kEq;
  for (size_t i = 0; i < x.size(); ++i) {
    Tri t = cmp(x[i], y[i]);
    if (t == Tri::kNe) return Tri::kNe;
    if (t == Tri::kUnk) out = Tri::kUnk;
  }
  return out;
}

// Multisets: every item of x matches a distinct item of y.
Tri cmp_unordered(const std::vector<NodeP>& x, const std::vector<NodeP>& y) {
  if (x.size() != y.size()) return Tri::kNe;
  std::vector<bool> used(y.size(), false);
  bool unknown = false;
  for (const auto& xi : x) {
    bool found = false;
    for (size_t j = 0; j < y.size(); ++j) {
      if (used[j]) continue;
      Tri t = cmp(xi, y[j]);
      if (t == Tri::kEq) {
        used[j] = true;
        found = true;
        break;
      }
      if (t == Tri::kUnk) unknown = true;
    }
    if (!found) return unknown ? Tri::kUnk : Tri::kNe;
  }
  return Tri::kEq;
}

// The sign choices of every ± in a scalar expression: "\\frac{-1 \\pm \\sqrt{5}}{2}" has two
// values. At most 16 variants; an expression without ± has itself only.
std::vector<NodeP> pm_variants(const NodeP& n) {
  if (n->k == K::kPm) {
    std::vector<NodeP> out;
    for (const auto& a : pm_variants(n->c[0]))
      for (const auto& b : pm_variants(n->c[1])) {
        out.push_back(make(K::kAdd, {a, b}));
        out.push_back(make(K::kAdd, {a, make(K::kNeg, {b})}));
      }
    return out;
  }
  std::vector<std::vector<NodeP>> per_child;
  bool any = false;
  for (const auto& c : n->c) {
    per_child.push_back(pm_variants(c));
    any = any || per_child.back().size() > 1;
  }
  if (!any) return {n};
  std::vector<NodeP> out{n};
  for (size_t i = 0; i < per_child.size(); ++i) {
    std::vector<NodeP> next;
    for (const auto& partial : out)
      for (const auto& v : per_child[i]) {
        if (next.size() >= 16) break;
        auto copy = std::make_shared<Node>(*partial);
        copy->c[i] = v;
        next.push_back(copy);
      }
    out = std::move(next);
  }
  return out;
}

bool has_pm(const Node& n) {
  if (n.k == K::kPm) return true;
  for (const auto& c : n.c)
    if (has_pm(*c)) return true;
  return false;
}

// Rewrites what has an equivalent plainer form: an expression with ± into the set of its
// values, "x = a ± b" into the set of its two equations, \text{} holding mathematics into
// that mathematics.
NodeP unwrap(const NodeP& n) {
  // "\\{1 \\pm \\sqrt{5}, -2\\}": a ± item of a set or list stands for its values.
  if ((n->k == K::kList || n->k == K::kSet) && has_pm(*n)) {
    auto flat = std::make_shared<Node>(*n);
    flat->c.clear();
    for (const auto& item : n->c) {
      if (detail::is_scalar(*item) || item->k == K::kPm) {
        for (const auto& v : pm_variants(item)) flat->c.push_back(v);
      } else {
        flat->c.push_back(item);
      }
    }
    return flat;
  }
  if (has_pm(*n) && n->k != K::kRel && n->k != K::kList && n->k != K::kSet && n->k != K::kTuple) {
    std::vector<NodeP> vs = pm_variants(n);
    return make(K::kSet, std::move(vs));
  }
  if (n->k == K::kRel && n->c.size() == 2 && n->ops[0] == "=" && has_pm(*n->c[1])) {
    std::vector<NodeP> eqs;
    for (const auto& v : pm_variants(n->c[1])) {
      auto e = std::make_shared<Node>(*n);
      e->c = {n->c[0], v};
      eqs.push_back(e);
    }
    return make(K::kSet, std::move(eqs));
  }
  if (n->k == K::kText) {
    try {
      std::string inner = detail::normalize(n->text);
      if (inner != n->text || inner.find("\\text") == std::string::npos) {
        NodeP p = detail::parse(inner);
        if (p->k != K::kText) return p;
      }
    } catch (const detail::ParseError&) {
    }
  }
  return n;
}

bool all_equal_ops(const Node& rel) {
  for (const auto& op : rel.ops)
    if (op != "=") return false;
  return true;
}

// A variable, or a tuple of variables ("(x, y) = (1, 2)").
bool names_unknowns(const Node& n) {
  if (is_var(n)) return true;
  if (n.k != K::kTuple) return false;
  for (const auto& c : n.c)
    if (!is_var(*c)) return false;
  return true;
}

// "f(x)" on the left of a definition, f(x) = 2x + 3 (parsed as the product f·x).
bool function_head(const Node& n) {
  return n.k == K::kMul && is_var(*n.c[0]) && (is_var(*n.c[1]) || names_unknowns(*n.c[1]));
}

// rel_is_gold: the relation is the target. "m + n = 116" as a reply answers 116; as a
// target, "2x + z = 1" is an equation that "1" alone does not give.
Tri cmp_rel_other(const Node& rel, const NodeP& s, bool rel_is_gold) {
  if (!all_equal_ops(rel)) return Tri::kNe;
  // "x = 5" (or a chain "x = 10/2 = 5"), "f(x) = 2x + 3" against the value alone.
  const Node& front = *rel.c.front();
  if (names_unknowns(front) || function_head(front)) return cmp(rel.c.back(), s);
  if (names_unknowns(*rel.c.back())) return cmp(rel.c.front(), s);
  if (!detail::is_scalar(*s)) return Tri::kNe;
  // "2 \\cdot 5 = 10" against 10 holds; an equation in unknowns ("a + 3z = 0", "7 = 11a + c")
  // is not its right-hand side.
  std::vector<std::string> v;
  for (const auto& side : rel.c) detail::collect_vars(*side, v);
  detail::collect_vars(*s, v);
  if (v.empty()) return cmp(rel.c.back(), s);
  std::vector<std::string> last;
  detail::collect_vars(*rel.c.back(), last);
  detail::collect_vars(*s, last);
  if (!rel_is_gold && last.empty()) return cmp(rel.c.back(), s);
  return Tri::kNe;
}

Tri cmp_rel(const Node& x, const Node& y) {
  bool ex = all_equal_ops(x), ey = all_equal_ops(y);
  if (ex != ey) return Tri::kNe;
  if (ex) {
    const Node& fx = *x.c.front();
    const Node& fy = *y.c.front();
    if (is_var(fx) && is_var(fy) && fx.text == fy.text) return cmp(x.c.back(), y.c.back());
    // "f(x) = 2x + 3" and "y = 2x + 3" define the same function.
    if ((function_head(fx) || function_head(fy)) && (is_var(fx) || function_head(fx)) &&
        (is_var(fy) || function_head(fy)))
      return cmp(x.c.back(), y.c.back());
    if (x.c.size() == 2 && y.c.size() == 2) {
      if (!detail::is_scalar(*x.c[0]) || !detail::is_scalar(*x.c[1]) ||
          !detail::is_scalar(*y.c[0]) || !detail::is_scalar(*y.c[1]))
        return Tri::kUnk;
      Tri t = cmp_equation(*x.c[0], *x.c[1], *y.c[0], *y.c[1]);
      if (t != Tri::kUnk) return t;
    }
    std::vector<NodeP> xs = x.c, ys = y.c;
    return cmp_ordered(xs, ys);
  }
  // Inequalities: as intervals when they bound one variable, else side by side.
  auto ix = as_interval(std::make_shared<Node>(x), false);
  auto iy = as_interval(std::make_shared<Node>(y), false);
  if (ix && iy) return cmp_interval(*ix, *iy);
  if (x.ops == y.ops) return cmp_ordered(x.c, y.c);
  return Tri::kNe;
}

bool is_collection(const Node& n) {
  return n.k == K::kSet || n.k == K::kList;
}

bool interval_like(const Node& n) {
  if (n.k == K::kUnion) return true;
  if (n.k == K::kTuple && n.c.size() == 2 && (n.open == '[' || n.close == ']')) return true;
  if (n.k == K::kRel) {
    for (const auto& op : n.ops)
      if (!is_inequality(op)) return false;
    return true;
  }
  return false;
}

// The pieces of a union; a finite set in it ("\\{-1\\} \\cup [0, 7)") gives one closed
// one-point interval per element.
std::vector<NodeP> union_parts(const NodeP& n) {
  std::vector<NodeP> parts = n->k == K::kUnion ? n->c : std::vector<NodeP>{n};
  std::vector<NodeP> out;
  for (const auto& p : parts) {
    if (p->k == K::kSet && n->k == K::kUnion) {
      for (const auto& e : p->c) {
        auto point = std::make_shared<Node>();
        point->k = K::kTuple;
        point->open = '[';
        point->close = ']';
        point->c = {e, e};
        out.push_back(point);
      }
    } else {
      out.push_back(p);
    }
  }
  return out;
}

Tri cmp_intervals(const NodeP& a, const NodeP& b) {
  std::vector<NodeP> pa = union_parts(a), pb = union_parts(b);
  if (pa.size() != pb.size()) return Tri::kNe;
  std::vector<Interval> ia, ib;
  for (const auto& p : pa) {
    auto i = as_interval(p, true);
    if (!i) return Tri::kNe;
    ia.push_back(*i);
  }
  for (const auto& p : pb) {
    auto i = as_interval(p, true);
    if (!i) return Tri::kNe;
    ib.push_back(*i);
  }
  std::vector<bool> used(ib.size(), false);
  for (const auto& x : ia) {
    bool found = false;
    for (size_t j = 0; j < ib.size() && !found; ++j)
      if (!used[j] && cmp_interval(x, ib[j]) == Tri::kEq) used[j] = found = true;
    if (!found) return Tri::kNe;
  }
  return Tri::kEq;
}

// A list whose items are all "v = value" with distinct variables v.
bool names_distinct_unknowns(const Node& list) {
  std::vector<std::string> seen;
  for (const auto& item : list.c) {
    if (item->k != K::kRel || item->c.size() != 2 || item->ops[0] != "=" || !is_var(*item->c[0]))
      return false;
    const std::string& v = item->c[0]->text;
    if (std::find(seen.begin(), seen.end(), v) != seen.end()) return false;
    seen.push_back(v);
  }
  return !seen.empty();
}

Tri cmp_by_name(const Node& x, const Node& y) {
  if (x.c.size() != y.c.size()) return Tri::kNe;
  Tri out = Tri::kEq;
  for (const auto& xi : x.c) {
    const Node* match = nullptr;
    for (const auto& yi : y.c)
      if (yi->c[0]->text == xi->c[0]->text) match = yi.get();
    if (!match) return Tri::kNe;
    Tri t = cmp(xi->c[1], match->c[1]);
    if (t == Tri::kNe) return Tri::kNe;
    if (t == Tri::kUnk) out = Tri::kUnk;
  }
  return out;
}

Tri cmp(const NodeP& a0, const NodeP& b0) {
  NodeP a = unwrap(a0), b = unwrap(b0);
  bool sa = detail::is_scalar(*a), sb = detail::is_scalar(*b);
  if (sa && sb) return cmp_scalar(*a, *b);
  if (a->k == K::kText || b->k == K::kText) {
    if (a->k == K::kText && b->k == K::kText)
      return detail::text_form(a->text) == detail::text_form(b->text) ? Tri::kEq : Tri::kNe;
    return Tri::kNe;
  }
  if (a->k == K::kRel && b->k == K::kRel) return cmp_rel(*a, *b);
  if (a->k == K::kRel && (sb || all_equal_ops(*a))) return cmp_rel_other(*a, b, true);
  if (b->k == K::kRel && (sa || all_equal_ops(*b))) return cmp_rel_other(*b, a, false);
  if (interval_like(*a) || interval_like(*b)) return cmp_intervals(a, b);
  if (a->k == K::kTuple && b->k == K::kTuple) {
    if (a->open != b->open || a->close != b->close) return Tri::kNe;
    return cmp_ordered(a->c, b->c);
  }
  if ((a->k == K::kTuple && b->k == K::kList) || (a->k == K::kList && b->k == K::kTuple))
    return cmp_ordered(a->c, b->c);
  if (a->k == K::kList && b->k == K::kList) {
    // "x = 1, y = 2, z = 3": values named by distinct variables are ordered by them.
    bool na = names_distinct_unknowns(*a), nb = names_distinct_unknowns(*b);
    if (na && nb) return cmp_by_name(*a, *b);
    if (na) return cmp_ordered(a->c, b->c);
    if (nb) return cmp_ordered(a->c, b->c);
  }
  if (is_collection(*a) && is_collection(*b)) return cmp_unordered(a->c, b->c);
  if (a->k == K::kMatrix && b->k == K::kMatrix) {
    if (a->rows != b->rows || a->cols != b->cols) return Tri::kNe;
    return cmp_ordered(a->c, b->c);
  }
  // A vector written as a one-column or one-row matrix against a tuple.
  if ((a->k == K::kMatrix && b->k == K::kTuple) || (a->k == K::kTuple && b->k == K::kMatrix)) {
    const Node& m = a->k == K::kMatrix ? *a : *b;
    if (m.rows == 1 || m.cols == 1) return cmp_ordered(a->c, b->c);
    return Tri::kNe;
  }
  // One value against a one-element set or list ("5" against "\{5\}").
  if (sa && is_collection(*b) && b->c.size() == 1) return cmp(a, b->c[0]);
  if (sb && is_collection(*a) && a->c.size() == 1) return cmp(a->c[0], b);
  return Tri::kNe;
}

// "28\\%", "28 %", "28 percent": normalisation drops the sign, so 28% reads as 28.
bool mentions_percent(std::string_view raw) {
  if (raw.find('%') != std::string_view::npos) return true;
  std::string low(raw);
  for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return low.find("percent") != std::string::npos || low.find(" pct") != std::string::npos;
}

// A percentage is also its number over 100 (28% = 0.28), when only one side is written as
// a percentage: 28% equals 28 and 0.28, never 2.8.
Tri cmp_percent(std::string_view gold, std::string_view pred, const NodeP& g, const NodeP& p) {
  bool gp = mentions_percent(gold), pp = mentions_percent(pred);
  if (gp == pp) return Tri::kNe;
  const NodeP& pct = gp ? g : p;
  if (!detail::is_scalar(*pct)) return Tri::kNe;
  NodeP over = make(K::kDiv, {pct, number("100")});
  return gp ? cmp(over, p) : cmp(g, over);
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kEqual:
      return "equal";
    case Verdict::kNotEqual:
      return "not_equal";
    case Verdict::kUnparseable:
      return "unparseable";
  }
  return "unparseable";
}

std::string normalize_answer(std::string_view answer) {
  return detail::normalize(answer);
}

EquivResult math_equiv(std::string_view gold, std::string_view pred) {
  EquivResult r;
  r.gold_normalized = detail::normalize(gold);
  r.pred_normalized = detail::normalize(pred);
  if (r.pred_normalized.empty()) return r;
  if (r.gold_normalized == r.pred_normalized) {
    r.verdict = Verdict::kEqual;
    return r;
  }
  NodeP g, p;
  try {
    g = unwrap(detail::parse(r.gold_normalized));
  } catch (const detail::ParseError&) {
  }
  try {
    p = unwrap(detail::parse(r.pred_normalized));
  } catch (const detail::ParseError&) {
  }
  bool g_math = g && g->k != K::kText;
  bool p_math = p && p->k != K::kText;
  // Text compares as written, or as the parser kept it (a base numeral without leading
  // zeros: 0110_2 is 110_2).
  bool text_equal = detail::text_form(r.gold_normalized) == detail::text_form(r.pred_normalized) ||
                    (g && p && g->k == K::kText && p->k == K::kText &&
                     detail::text_form(g->text) == detail::text_form(p->text));
  if (!g_math || !p_math) {
    if (text_equal)
      r.verdict = Verdict::kEqual;
    else
      r.verdict = !p_math && g_math ? Verdict::kUnparseable : Verdict::kNotEqual;
    return r;
  }
  Tri t = cmp(g, p);
  if (t != Tri::kEq && cmp_percent(gold, pred, g, p) == Tri::kEq) t = Tri::kEq;
  switch (t) {
    case Tri::kEq:
      r.verdict = Verdict::kEqual;
      break;
    case Tri::kNe:
      r.verdict = Verdict::kNotEqual;
      break;
    case Tri::kUnk:
      r.verdict = text_equal ? Verdict::kEqual : Verdict::kUnparseable;
      break;
  }
  return r;
}

ScoredReply score_reply(std::string_view gold, std::string_view reply, bool cut_off) {
  ScoredReply s;
  s.extracted = extract_answer(strip_thinking(reply), cut_off);
  Extraction g = extract_gold(gold);
  s.equiv = math_equiv(g.answer, s.extracted.answer);
  return s;
}

}  // namespace retort::math
