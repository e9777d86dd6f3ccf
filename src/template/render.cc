// The tree-walking renderer: values, scopes, operators, filters, tests, global functions
// and the Python methods templates call.
//
// Values point into JSON they do not own where they can (the render's variables, constants
// in the tree, or a shared owner such as a list built by the template), so looking up
// `doc.choices` copies nothing. Only values the template itself created are mutable
// (`[]`, `{}`, namespace(), dict()): list.append and `set ns.x` write through to them.
#include "template/render.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>

#include "template/pystring.h"
#include "util/error.h"
#include "util/pyvalue.h"

namespace retort::tmpl {

namespace {

struct LoopState {
  const std::vector<struct Value>* items;
  size_t index;
};

struct Value {
  enum class Kind : uint8_t { kUndefined, kJson, kNamespace, kMacro, kLoop };
  Kind kind = Kind::kUndefined;
  bool mut = false;                  // the JSON may be modified in place
  bool soft = false;                 // undefined that prints as "" even in strict mode
  std::shared_ptr<const Json> json;  // kJson, kNamespace
  const void* ref = nullptr;         // kMacro: Stmt; kLoop: LoopState; kUndefined: Expr

  bool is_json() const { return kind == Kind::kJson; }
  bool undefined() const { return kind == Kind::kUndefined; }
  const Json& j() const { return *json; }
};

Value borrow(const Json& j) {
  Value v;
  v.kind = Value::Kind::kJson;
  v.json = std::shared_ptr<const Json>(std::shared_ptr<const Json>(), &j);
  return v;
}

Value owned(Json j, bool mut = false) {
  Value v;
  v.kind = Value::Kind::kJson;
  v.mut = mut;
  v.json = std::make_shared<const Json>(std::move(j));
  return v;
}

Value make_undefined(const Expr* origin) {
  Value v;
  v.ref = origin;
  return v;
}

// A value inside parent. Children of mutable values are copied, so that later changes to
// the parent (which may reallocate it) cannot leave the child dangling.
Value child(const Value& parent, const Json& c, bool alias = false) {
  if (parent.mut && !alias) return owned(c, true);
  Value v;
  v.kind = Value::Kind::kJson;
  v.mut = parent.mut;
  v.json = std::shared_ptr<const Json>(parent.json, &c);
  return v;
}

Json& mutable_json(const Value& v) {
  return const_cast<Json&>(*v.json);
}

bool is_num(const Json& j) {
  return j.is_number() || j.is_boolean();
}
bool is_intlike(const Json& j) {
  return j.is_number_integer() || j.is_number_unsigned() || j.is_boolean();
}
int64_t as_int(const Json& j) {
  if (j.is_boolean()) return j.get<bool>() ? 1 : 0;
  if (j.is_number_unsigned()) return static_cast<int64_t>(j.get<uint64_t>());
  if (j.is_number_integer()) return j.get<int64_t>();
  return static_cast<int64_t>(j.get<double>());
}
double as_double(const Json& j) {
  if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
  if (j.is_number_unsigned()) return static_cast<double>(j.get<uint64_t>());
  if (j.is_number_integer()) return static_cast<double>(j.get<int64_t>());
  return j.get<double>();
}

const char* type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "NoneType";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "int";
    case Json::value_t::number_float:
      return "float";
    case Json::value_t::string:
      return "str";
    case Json::value_t::array:
      return "list";
    case Json::value_t::object:
      return "dict";
    default:
      return "object";
  }
}

bool json_eq(const Json& a, const Json& b) {
  if (is_num(a) && is_num(b)) {
    if (is_intlike(a) && is_intlike(b)) {
      if (a.is_number_unsigned() || b.is_number_unsigned()) {
        return as_double(a) == as_double(b) && as_int(a) == as_int(b);
      }
      return as_int(a) == as_int(b);
    }
    return as_double(a) == as_double(b);
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Json::value_t::string:
      return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    case Json::value_t::null:
      return true;
    case Json::value_t::array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!json_eq(a[i], b[i])) return false;
      }
      return true;
    case Json::value_t::object:
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        auto f = b.find(it.key());
        if (f == b.end() || !json_eq(it.value(), *f)) return false;
      }
      return true;
    default:
      return a == b;
  }
}

// Python ordering; nullopt when the types cannot be ordered.
std::optional<int> json_cmp(const Json& a, const Json& b) {
  if (is_num(a) && is_num(b)) {
    if (is_intlike(a) && is_intlike(b)) {
      int64_t x = as_int(a), y = as_int(b);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    double x = as_double(a), y = as_double(b);
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_array() && b.is_array()) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (json_eq(a[i], b[i])) continue;
      return json_cmp(a[i], b[i]);
    }
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
  }
  return std::nullopt;
}

// Python slice index adjustment (PySlice_AdjustIndices) for a sequence of length n.
std::vector<int64_t> slice_indices(int64_t n, std::optional<int64_t> start,
                                   std::optional<int64_t> stop, int64_t step) {
  int64_t lo, hi;
  if (step > 0) {
    lo = start ? *start : 0;
    hi = stop ? *stop : n;
    if (lo < 0) lo = std::max<int64_t>(0, lo + n);
    if (hi < 0) hi = std::max<int64_t>(0, hi + n);
    lo = std::min(lo, n);
    hi = std::min(hi, n);
  } else {
    lo = start ? *start : n - 1;
    hi = stop ? *stop : -1 - n;  // sentinel below every index
    if (lo < 0) lo = std::max<int64_t>(-1, lo + n);
    if (lo >= n) lo = n - 1;
    if (stop) {
      if (hi < 0) hi = std::max<int64_t>(-1, hi + n);
      if (hi >= n) hi = n - 1;
    } else {
      hi = -1;
    }
  }
  std::vector<int64_t> idx;
  if (step > 0) {
    for (int64_t i = lo; i < hi; i += step) idx.push_back(i);
  } else {
    for (int64_t i = lo; i > hi; i += step) idx.push_back(i);
  }
  return idx;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Parses Python int(str): optional whitespace and sign, digits with single underscores.
std::optional<int64_t> parse_py_int(std::string_view s, int base) {
  std::string t = py_strip(s);
  if (t.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (t[0] == '+' || t[0] == '-') {
    neg = t[0] == '-';
    ++i;
  }
  std::string digits;
  for (; i < t.size(); ++i) {
    if (t[i] == '_' && !digits.empty() && i + 1 < t.size() && t[i + 1] != '_') continue;
    digits += t[i];
  }
  if (digits.empty()) return std::nullopt;
  try {
    size_t used = 0;
    long long v = std::stoll(digits, &used, base);
    if (used != digits.size()) return std::nullopt;
    return neg ? -v : v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> parse_py_float(std::string_view s) {
  std::string t = py_strip(s);
  if (t.empty()) return std::nullopt;
  std::string lower = py_lower(t);
  std::string_view body = lower;
  double sign = 1;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    sign = body[0] == '-' ? -1 : 1;
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") return sign * std::numeric_limits<double>::infinity();
  if (body == "nan") return std::numeric_limits<double>::quiet_NaN();
  std::string clean;
  for (char c : t) {
    if (c != '_') clean += c;
  }
  char* end = nullptr;
  double d = std::strtod(clean.c_str(), &end);
  if (end == clean.c_str() || *end != '\0') return std::nullopt;
  if (clean.find_first_of("xXpP") != std::string::npos) return std::nullopt;
  return d;
}

enum class Flow { kNormal, kBreak, kContinue };

struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string_view, Value>> kw;
  uint32_t at = 0;

  const Value* get(size_t i, std::string_view name) const {
    if (i < pos.size()) return &pos[i];
    for (const auto& [k, v] : kw) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

class Renderer {
 public:
  Renderer(std::string_view source, const std::string& name, const TemplateOptions& opt,
           const Json& vars)
      : src_(source), name_(name), opt_(opt), vars_(vars) {
    frames_.emplace_back();
  }

  void run(const Body& body, std::string& out) { exec(body, out); }

 private:
  using Frame = std::vector<std::pair<std::string_view, Value>>;

  // Errors -------------------------------------------------------------------------

  [[noreturn]] void fail(uint32_t pos, const std::string& what,
                         const std::string& hint = "") const {
    throw Error(what, where(name_, src_, pos), hint);
  }

  std::string undefined_what(const Value& v) const {
    auto* e = static_cast<const Expr*>(v.ref);
    if (e == nullptr) return "undefined value";
    switch (e->kind) {
      case ExprKind::kName:
        return "undefined variable '" + e->name + "'";
      case ExprKind::kAttr:
        return "undefined attribute '" + e->name + "'";
      case ExprKind::kItem:
        if (!e->items.empty() && e->items[0]->kind == ExprKind::kConst) {
          return "undefined item [" + py_repr(e->items[0]->value) + "]";
        }
        return "undefined item";
      default:
        return "undefined value";
    }
  }

  [[noreturn]] void fail_undefined(const Value& v, uint32_t pos) const {
    auto* e = static_cast<const Expr*>(v.ref);
    std::string hint = e && e->kind == ExprKind::kName
                           ? "check the spelling against the document's fields, or guard it with "
                             "`is defined` or `| default(...)`"
                           : "guard it with `is defined` or `| default(...)`";
    fail(e ? e->pos : pos, undefined_what(v), hint);
  }

  // In strict mode any use of an undefined value fails.
  void check_defined(const Value& v, uint32_t pos) const {
    if (v.undefined() && opt_.strict_undefined && !v.soft) fail_undefined(v, pos);
  }

  // The value as JSON (for storing in containers and for filters that need data).
  const Json& need_json(const Value& v, uint32_t pos) const {
    if (v.is_json() || v.kind == Value::Kind::kNamespace) return v.j();
    if (v.undefined()) fail_undefined(v, pos);
    fail(pos, v.kind == Value::Kind::kMacro ? "a macro cannot be used as data"
                                            : "the loop object cannot be used as data");
  }

  Json to_json(const Value& v, uint32_t pos) const {
    if (v.undefined()) {
      check_defined(v, pos);
      return Json(nullptr);
    }
    return need_json(v, pos);
  }

  // Scopes -----------------------------------------------------------------------

  const Value* lookup_frames(std::string_view name) const {
    for (size_t i = frames_.size(); i-- > base_;) {
      for (auto it = frames_[i].rbegin(); it != frames_[i].rend(); ++it) {
        if (it->first == name) return &it->second;
      }
    }
    if (base_ > 0) {
      for (auto it = frames_[0].rbegin(); it != frames_[0].rend(); ++it) {
        if (it->first == name) return &it->second;
      }
    }
    return nullptr;
  }

  const Json* lookup_var(std::string_view name) const {
    if (!vars_.is_object()) return nullptr;
    for (auto it = vars_.begin(); it != vars_.end(); ++it) {
      if (it.key() == name) return &it.value();
    }
    return nullptr;
  }

  void assign(std::string_view name, Value v) {
    Frame& f = frames_.back();
    for (auto& [k, val] : f) {
      if (k == name) {
        val = std::move(v);
        return;
      }
    }
    f.emplace_back(name, std::move(v));
  }

  // Truth, text ------------------------------------------------------------------

  bool truthy(const Value& v, uint32_t pos) const {
    switch (v.kind) {
      case Value::Kind::kUndefined:
        check_defined(v, pos);
        return false;
      case Value::Kind::kJson:
        return py_truthy(v.j());
      default:
        return true;
    }
  }

  void append_str(std::string& out, const Value& v, uint32_t pos) const {
    switch (v.kind) {
      case Value::Kind::kUndefined:
        check_defined(v, pos);
        return;
      case Value::Kind::kJson:
        if (v.j().is_string()) {
          out += v.j().get_ref<const std::string&>();
        } else {
          out += py_str(v.j());
        }
        return;
      case Value::Kind::kNamespace:
        out += "<Namespace " + py_repr(v.j()) + ">";
        return;
      case Value::Kind::kMacro:
        out += "<Macro '" + static_cast<const Stmt*>(v.ref)->targets[0] + "'>";
        return;
      case Value::Kind::kLoop: {
        auto* ls = static_cast<const LoopState*>(v.ref);
        out += "<LoopContext " + std::to_string(ls->index + 1) + "/" +
               std::to_string(ls->items->size()) + ">";
        return;
      }
    }
  }

  std::string to_str(const Value& v, uint32_t pos) const {
    std::string s;
    append_str(s, v, pos);
    return s;
  }

  const std::string& need_str(const Value& v, uint32_t pos, const char* what) const {
    const Json& j = need_json(v, pos);
    if (!j.is_string()) {
      fail(pos, std::string(what) + " expects a string, got " + type_name(j));
    }
    return j.get_ref<const std::string&>();
  }

  int64_t need_int(const Value& v, uint32_t pos, const char* what) const {
    const Json& j = need_json(v, pos);
    if (!is_intlike(j)) fail(pos, std::string(what) + " expects an integer, got " + type_name(j));
    return as_int(j);
  }

  // Items of an iterable: lists (elements), dicts (keys), strings (characters).
  std::vector<Value> iterate(const Value& v, uint32_t pos) const {
    std::vector<Value> items;
    if (v.undefined()) {
      check_defined(v, pos);
      return items;
    }
    if (!v.is_json()) fail(pos, "this value is not iterable");
    const Json& j = v.j();
    if (j.is_array()) {
      Value base = v;
      if (v.mut) base = owned(j);  // iterate a snapshot: the body may append to the list
      items.reserve(j.size());
      for (const auto& e : base.j()) items.push_back(child(base, e));
    } else if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) items.push_back(owned(Json(it.key())));
    } else if (j.is_string()) {
      const std::string& s = j.get_ref<const std::string&>();
      for (size_t p = 0; p < s.size();) {
        size_t start = p;
        decode_utf8(s, p);
        items.push_back(owned(Json(s.substr(start, p - start))));
      }
    } else {
      fail(pos, std::string("'") + type_name(j) + "' object is not iterable");
    }
    return items;
  }

  // Expressions ------------------------------------------------------------------

  Value eval(const Expr& e, bool alias = false) {
    switch (e.kind) {
      case ExprKind::kConst:
        return borrow(e.value);
      case ExprKind::kName: {
        if (const Value* v = lookup_frames(e.name)) return *v;
        if (const Json* j = lookup_var(e.name)) return borrow(*j);
        return make_undefined(&e);
      }
      case ExprKind::kList:
      case ExprKind::kTuple: {
        Json arr = Json::array();
        for (const auto& item : e.items) arr.push_back(to_json(eval(*item), item->pos));
        return owned(std::move(arr), true);
      }
      case ExprKind::kDict: {
        Json obj = Json::object();
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          Value k = eval(*e.items[i]);
          std::string key = to_str(k, e.items[i]->pos);
          obj[key] = to_json(eval(*e.items[i + 1]), e.items[i + 1]->pos);
        }
        return owned(std::move(obj), true);
      }
      case ExprKind::kAttr:
        return get_attr(eval(*e.target, alias), e.name, e, alias);
      case ExprKind::kItem: {
        if (Value part; split_item(e, alias, part)) return part;
        Value obj = eval(*e.target, alias);
        Value key = eval(*e.items[0]);
        return get_item(obj, key, e, alias);
      }
      case ExprKind::kSlice:
        return eval_slice(e);
      case ExprKind::kCall:
        return eval_call(e);
      case ExprKind::kFilter:
        return eval_filter(e, nullptr);
      case ExprKind::kTest:
        return owned(Json(eval_test(e)));
      case ExprKind::kNeg:
      case ExprKind::kPos: {
        Value v = eval(*e.target);
        const Json& j = need_json(v, e.pos);
        if (!is_num(j)) {
          fail(e.pos, std::string("bad operand type for unary ") +
                          (e.kind == ExprKind::kNeg ? "-" : "+") + ": '" + type_name(j) + "'");
        }
        if (e.kind == ExprKind::kPos) return is_intlike(j) ? owned(Json(as_int(j))) : v;
        if (is_intlike(j)) return owned(Json(-as_int(j)));
        return owned(Json(-as_double(j)));
      }
      case ExprKind::kNot:
        return owned(Json(!truthy(eval(*e.target), e.pos)));
      case ExprKind::kAnd: {
        Value l = eval(*e.items[0]);
        if (!truthy(l, e.items[0]->pos)) return l;
        return eval(*e.items[1]);
      }
      case ExprKind::kOr: {
        Value l = eval(*e.items[0]);
        if (truthy(l, e.items[0]->pos)) return l;
        return eval(*e.items[1]);
      }
      case ExprKind::kBinary:
        return binary(e);
      case ExprKind::kCompare:
        return owned(Json(compare(e)));
      case ExprKind::kConcat: {
        std::string s;
        for (const auto& item : e.items) append_str(s, eval(*item), item->pos);
        return owned(Json(std::move(s)));
      }
      case ExprKind::kCond: {
        if (truthy(eval(*e.items[1]), e.items[1]->pos)) return eval(*e.items[0]);
        if (e.items[2]) return eval(*e.items[2]);
        // Jinja gives `a if c` without else its plain (non-strict) Undefined.
        Value u = make_undefined(&e);
        u.soft = true;
        return u;
      }
    }
    fail(e.pos, "unsupported expression");
  }

  Value get_attr(const Value& obj, const std::string& name, const Expr& e, bool alias) {
    switch (obj.kind) {
      case Value::Kind::kUndefined:
        fail_undefined(obj, e.pos);
      case Value::Kind::kLoop:
        return loop_attr(*static_cast<const LoopState*>(obj.ref), name, e);
      case Value::Kind::kNamespace:
      case Value::Kind::kJson: {
        const Json& j = obj.j();
        if (j.is_object()) {
          auto it = j.find(name);
          if (it != j.end()) return child(obj, *it, alias);
        }
        return make_undefined(&e);
      }
      default:
        return make_undefined(&e);
    }
  }

  Value loop_attr(const LoopState& ls, const std::string& name, const Expr& e) {
    int64_t i = static_cast<int64_t>(ls.index);
    int64_t n = static_cast<int64_t>(ls.items->size());
    if (name == "index") return owned(Json(i + 1));
    if (name == "index0") return owned(Json(i));
    if (name == "revindex") return owned(Json(n - i));
    if (name == "revindex0") return owned(Json(n - i - 1));
    if (name == "first") return owned(Json(i == 0));
    if (name == "last") return owned(Json(i == n - 1));
    if (name == "length") return owned(Json(n));
    if (name == "depth") return owned(Json(1));
    if (name == "depth0") return owned(Json(0));
    if (name == "previtem") return i > 0 ? (*ls.items)[ls.index - 1] : make_undefined(&e);
    if (name == "nextitem") return i + 1 < n ? (*ls.items)[ls.index + 1] : make_undefined(&e);
    return make_undefined(&e);
  }

  Value get_item(const Value& obj, const Value& key, const Expr& e, bool alias) {
    if (obj.undefined()) fail_undefined(obj, e.pos);
    if (obj.kind == Value::Kind::kLoop) {
      if (key.is_json() && key.j().is_string()) {
        return loop_attr(*static_cast<const LoopState*>(obj.ref), key.j().get<std::string>(), e);
      }
      return make_undefined(&e);
    }
    if (obj.kind != Value::Kind::kJson && obj.kind != Value::Kind::kNamespace) {
      return make_undefined(&e);
    }
    const Json& j = obj.j();
    const Json& k = need_json(key, e.items[0]->pos);
    if (j.is_object()) {
      if (!k.is_string()) return make_undefined(&e);
      auto it = j.find(k.get_ref<const std::string&>());
      return it == j.end() ? make_undefined(&e) : child(obj, *it, alias);
    }
    if (j.is_array() && is_intlike(k)) {
      int64_t i = as_int(k);
      int64_t n = static_cast<int64_t>(j.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return make_undefined(&e);
      return child(obj, j[static_cast<size_t>(i)], alias);
    }
    if (j.is_string() && is_intlike(k)) {
      const std::string& s = j.get_ref<const std::string&>();
      if (std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; })) {
        // ASCII: every byte is a code point.
        int64_t n = static_cast<int64_t>(s.size());
        int64_t i = as_int(k);
        if (i < 0) i += n;
        if (i < 0 || i >= n) return make_undefined(&e);
        return owned(Json(std::string(1, s[static_cast<size_t>(i)])));
      }
      std::vector<size_t> offs = code_point_offsets(s);
      int64_t n = static_cast<int64_t>(offs.size()) - 1;
      int64_t i = as_int(k);
      if (i < 0) i += n;
      if (i < 0 || i >= n) return make_undefined(&e);
      return owned(Json(s.substr(offs[static_cast<size_t>(i)],
                                 offs[static_cast<size_t>(i) + 1] - offs[static_cast<size_t>(i)])));
    }
    return make_undefined(&e);
  }

  Value eval_slice(const Expr& e) {
    Value obj = eval(*e.target);
    const Json& j = need_json(obj, e.target->pos);
    std::optional<int64_t> parts[3];
    for (int i = 0; i < 3; ++i) {
      if (!e.items[static_cast<size_t>(i)]) continue;
      Value v = eval(*e.items[static_cast<size_t>(i)]);
      const Json& pj = need_json(v, e.items[static_cast<size_t>(i)]->pos);
      if (pj.is_null()) continue;
      if (!is_intlike(pj)) fail(e.pos, "slice indices must be integers or None");
      parts[i] = as_int(pj);
    }
    int64_t step = parts[2] ? *parts[2] : 1;
    if (step == 0) fail(e.pos, "slice step cannot be zero");
    if (j.is_array()) {
      Json out = Json::array();
      for (int64_t i : slice_indices(static_cast<int64_t>(j.size()), parts[0], parts[1], step)) {
        out.push_back(j[static_cast<size_t>(i)]);
      }
      return owned(std::move(out), true);
    }
    if (j.is_string()) {
      const std::string& s = j.get_ref<const std::string&>();
      std::vector<size_t> offs = code_point_offsets(s);
      std::string out;
      for (int64_t i :
           slice_indices(static_cast<int64_t>(offs.size()) - 1, parts[0], parts[1], step)) {
        size_t k = static_cast<size_t>(i);
        out.append(s, offs[k], offs[k + 1] - offs[k]);
      }
      return owned(Json(std::move(out)));
    }
    fail(e.pos, std::string("'") + type_name(j) + "' object is not subscriptable");
  }

  Value binary(const Expr& e) {
    Value lv = eval(*e.items[0]);
    Value rv = eval(*e.items[1]);
    const Json& a = need_json(lv, e.items[0]->pos);
    const Json& b = need_json(rv, e.items[1]->pos);
    static const char* kSym[] = {"+", "-", "*", "/", "//", "%", "**"};
    auto type_error = [&]() {
      return std::string("unsupported operand types for ") + kSym[static_cast<int>(e.bin_op)] +
             ": '" + type_name(a) + "' and '" + type_name(b) + "'";
    };
    switch (e.bin_op) {
      case BinOp::kAdd:
        if (a.is_string() && b.is_string()) {
          return owned(Json(a.get_ref<const std::string&>() + b.get_ref<const std::string&>()));
        }
        if (a.is_array() && b.is_array()) {
          Json out = a;
          for (const auto& x : b) out.push_back(x);
          return owned(std::move(out), true);
        }
        break;
      case BinOp::kMul: {
        const Json* seq =
            a.is_string() || a.is_array() ? &a : (b.is_string() || b.is_array() ? &b : nullptr);
        const Json* times = seq == &a ? &b : &a;
        if (seq && is_intlike(*times)) {
          int64_t n = std::max<int64_t>(0, as_int(*times));
          if (seq->is_string()) {
            std::string out;
            for (int64_t i = 0; i < n; ++i) out += seq->get_ref<const std::string&>();
            return owned(Json(std::move(out)));
          }
          Json out = Json::array();
          for (int64_t i = 0; i < n; ++i) {
            for (const auto& x : *seq) out.push_back(x);
          }
          return owned(std::move(out), true);
        }
        break;
      }
      case BinOp::kMod:
        if (a.is_string()) {
          // Python printf-style formatting: "%s of %d" % (x, y).
          Args fa;
          fa.at = e.pos;
          if (b.is_array()) {
            for (const auto& x : b) fa.pos.push_back(borrow(x));
          } else {
            fa.pos.push_back(borrow(b));
          }
          size_t used = 0;
          std::string r = percent_format(a.get_ref<const std::string&>(), fa, e.pos, &used);
          if (!b.is_array() && !b.is_object() && used == 0) {
            fail(e.pos, "not all arguments converted during string formatting");
          }
          return owned(Json(std::move(r)));
        }
        break;
      default:
        break;
    }
    if (!is_num(a) || !is_num(b)) fail(e.pos, type_error());
    bool ints = is_intlike(a) && is_intlike(b);
    switch (e.bin_op) {
      case BinOp::kAdd:
        return ints ? owned(Json(as_int(a) + as_int(b))) : owned(Json(as_double(a) + as_double(b)));
      case BinOp::kSub:
        return ints ? owned(Json(as_int(a) - as_int(b))) : owned(Json(as_double(a) - as_double(b)));
      case BinOp::kMul:
        return ints ? owned(Json(as_int(a) * as_int(b))) : owned(Json(as_double(a) * as_double(b)));
      case BinOp::kDiv:
        if (as_double(b) == 0.0) fail(e.pos, "division by zero");
        return owned(Json(as_double(a) / as_double(b)));
      case BinOp::kFloorDiv:
        if (as_double(b) == 0.0) fail(e.pos, "integer division or modulo by zero");
        if (ints) {
          int64_t x = as_int(a), y = as_int(b);
          int64_t q = x / y;
          if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
          return owned(Json(q));
        }
        return owned(Json(std::floor(as_double(a) / as_double(b))));
      case BinOp::kMod:
        if (as_double(b) == 0.0) fail(e.pos, "integer division or modulo by zero");
        if (ints) {
          int64_t x = as_int(a), y = as_int(b);
          int64_t r = x % y;
          if (r != 0 && ((r < 0) != (y < 0))) r += y;
          return owned(Json(r));
        } else {
          double x = as_double(a), y = as_double(b);
          double r = std::fmod(x, y);
          if (r != 0 && ((r < 0) != (y < 0))) r += y;
          if (r == 0) r = std::copysign(0.0, y);
          return owned(Json(r));
        }
      case BinOp::kPow:
        if (ints && as_int(b) >= 0) {
          int64_t base = as_int(a), r = 1;
          for (int64_t i = 0; i < as_int(b); ++i) r *= base;
          return owned(Json(r));
        }
        return owned(Json(std::pow(as_double(a), as_double(b))));
    }
    fail(e.pos, type_error());
  }

  bool values_eq(const Value& a, const Value& b, uint32_t pos) const {
    if (a.undefined() || b.undefined()) {
      check_defined(a, pos);
      check_defined(b, pos);
      return a.undefined() && b.undefined();
    }
    if (a.kind != b.kind) return false;
    if (a.kind == Value::Kind::kJson) return json_eq(a.j(), b.j());
    if (a.kind == Value::Kind::kNamespace) return a.json.get() == b.json.get();
    return a.ref == b.ref;
  }

  bool contains(const Value& container, const Value& item, uint32_t pos) const {
    if (container.undefined()) {
      check_defined(container, pos);
      return false;
    }
    const Json& c = need_json(container, pos);
    if (c.is_string()) {
      const Json& x = need_json(item, pos);
      if (!x.is_string()) {
        fail(pos,
             std::string("'in <string>' requires string as left operand, not ") + type_name(x));
      }
      return c.get_ref<const std::string&>().find(x.get_ref<const std::string&>()) !=
             std::string::npos;
    }
    if (c.is_array()) {
      if (item.undefined()) {
        check_defined(item, pos);
        return false;
      }
      const Json& x = need_json(item, pos);
      for (const auto& e : c) {
        if (json_eq(e, x)) return true;
      }
      return false;
    }
    if (c.is_object()) {
      if (item.undefined()) {
        check_defined(item, pos);
        return false;
      }
      const Json& x = need_json(item, pos);
      return x.is_string() && c.contains(x.get_ref<const std::string&>());
    }
    fail(pos, std::string("argument of type '") + type_name(c) + "' is not iterable");
  }

  bool compare_op(CmpOp op, const Value& a, const Value& b, uint32_t pos) const {
    switch (op) {
      case CmpOp::kEq:
        return values_eq(a, b, pos);
      case CmpOp::kNe:
        return !values_eq(a, b, pos);
      case CmpOp::kIn:
        return contains(b, a, pos);
      case CmpOp::kNotIn:
        return !contains(b, a, pos);
      default:
        break;
    }
    const Json& x = need_json(a, pos);
    const Json& y = need_json(b, pos);
    std::optional<int> c = json_cmp(x, y);
    static const char* kSym[] = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"};
    if (!c) {
      if ((is_num(x) && is_num(y))) return false;  // NaN
      fail(pos, std::string("'") + kSym[static_cast<int>(op)] +
                    "' not supported between instances of '" + type_name(x) + "' and '" +
                    type_name(y) + "'");
    }
    switch (op) {
      case CmpOp::kLt:
        return *c < 0;
      case CmpOp::kLe:
        return *c <= 0;
      case CmpOp::kGt:
        return *c > 0;
      case CmpOp::kGe:
        return *c >= 0;
      default:
        return false;
    }
  }

  bool compare(const Expr& e) {
    Value left = eval(*e.items[0]);
    for (size_t i = 0; i < e.cmp_ops.size(); ++i) {
      Value right = eval(*e.items[i + 1]);
      if (!compare_op(e.cmp_ops[i], left, right, e.pos)) return false;
      left = std::move(right);
    }
    return true;
  }

  Args eval_args(const std::vector<Arg>& args, uint32_t at) {
    Args out;
    out.at = at;
    for (const auto& a : args) {
      if (a.name.empty()) {
        out.pos.push_back(eval(*a.value));
      } else {
        out.kw.emplace_back(a.name, eval(*a.value));
      }
    }
    return out;
  }

  // Calls ------------------------------------------------------------------------

  // e (a call of the attribute callee.name) on obj, evaluated and defined, with its args.
  Value call_on(const Value& obj, const Args& args, const Expr& e) {
    const Expr& callee = *e.target;
    if (obj.kind == Value::Kind::kLoop && callee.name == "cycle") {
      if (args.pos.empty()) fail(e.pos, "loop.cycle() needs at least one argument");
      auto* ls = static_cast<const LoopState*>(obj.ref);
      return args.pos[ls->index % args.pos.size()];
    }
    if (obj.kind == Value::Kind::kJson) {
      Value attr = get_attr(obj, callee.name, callee, false);
      if (attr.kind == Value::Kind::kMacro) return call_macro(attr, args, e.pos);
      return call_method(obj, callee.name, args, e);
    }
    if (obj.kind == Value::Kind::kNamespace) {
      fail(e.pos, "namespace attribute '" + callee.name + "' is not callable");
    }
    fail(e.pos, "'" + callee.name + "' is not callable");
  }

  static bool is_mutating_method(const std::string& m) {
    switch (m.size()) {
      case 3:
        return m == "pop";
      case 5:
        return m == "clear";
      case 6:
        return m == "append" || m == "extend" || m == "insert" || m == "update" || m == "remove";
      case 10:
        return m == "setdefault";
      default:
        return false;
    }
  }

  // `s.split(sep)[i]` / `s.rsplit(sep)[i]` with a constant index i, on a string: the one
  // part, without building the list (lm-eval's `answer.split('####')[-1]`). The same values
  // and errors as the call followed by the item look-up; false (nothing evaluated) when e
  // is not of that shape.
  bool split_item(const Expr& e, bool alias, Value& out) {
    const Expr& call = *e.target;
    // The index: an integer constant, or one negated (the parser reads -1 as -(1)).
    const Expr* idx = e.items[0].get();
    const bool negated = idx->kind == ExprKind::kNeg;
    if (negated) idx = idx->target.get();
    if (call.kind != ExprKind::kCall || idx->kind != ExprKind::kConst || !is_intlike(idx->value))
      return false;
    const int64_t index = negated ? -as_int(idx->value) : as_int(idx->value);
    const Expr& callee = *call.target;
    if (callee.kind != ExprKind::kAttr || (callee.name != "split" && callee.name != "rsplit"))
      return false;
    Value obj = eval(*callee.target, false);
    if (obj.undefined()) fail_undefined(obj, callee.pos);
    Args args = eval_args(call.args, call.pos);
    if (!obj.is_json() || !obj.j().is_string()) {
      Value list = call_on(obj, args, call);
      out = get_item(list, eval(*e.items[0]), e, alias);
      return true;
    }
    const std::string& s = obj.j().get_ref<const std::string&>();
    std::optional<std::string> sep = opt_str(args, 0, "sep", "split()");
    if (sep && sep->empty()) fail(call.pos, "empty separator");
    int64_t maxsplit = opt_int(args, 1, "maxsplit", -1, "split()");
    if (sep && maxsplit < 0 && callee.name == "split") {
      std::optional<std::string_view> part = py_split_part(s, *sep, index);
      // As an item of the list the call makes: a mutable value.
      out = part ? owned(Json(std::string(*part)), true) : make_undefined(&e);
      return true;
    }
    std::vector<std::string> parts =
        callee.name == "split" ? py_split(s, sep, maxsplit) : py_rsplit(s, sep, maxsplit);
    int64_t i = index;
    const int64_t n = static_cast<int64_t>(parts.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) {
      out = make_undefined(&e);
    } else {
      // As an item of the list the call makes: a mutable value.
      out = owned(Json(std::move(parts[static_cast<size_t>(i)])), true);
    }
    return true;
  }

  Value eval_call(const Expr& e) {
    const Expr& callee = *e.target;
    if (callee.kind == ExprKind::kAttr) {
      Value obj = eval(*callee.target, is_mutating_method(callee.name));
      if (obj.undefined()) fail_undefined(obj, callee.pos);
      Args args = eval_args(e.args, e.pos);
      return call_on(obj, args, e);
    }
    if (callee.kind == ExprKind::kName) {
      if (const Value* v = lookup_frames(callee.name)) {
        if (v->kind == Value::Kind::kMacro) {
          Value macro = *v;
          Args args = eval_args(e.args, e.pos);
          return call_macro(macro, args, e.pos);
        }
        fail(e.pos, "'" + callee.name + "' is not callable");
      }
      if (lookup_var(callee.name)) fail(e.pos, "'" + callee.name + "' is not callable");
      Args args = eval_args(e.args, e.pos);
      return call_global(callee.name, args, e);
    }
    Value f = eval(callee);
    if (f.kind == Value::Kind::kMacro) {
      Args args = eval_args(e.args, e.pos);
      return call_macro(f, args, e.pos);
    }
    if (f.undefined()) fail_undefined(f, e.pos);
    fail(e.pos, "this value is not callable");
  }

  Value call_macro(const Value& m, const Args& args, uint32_t pos) {
    auto* def = static_cast<const Stmt*>(m.ref);
    if (depth_ > 200) fail(pos, "macro recursion is too deep");
    if (args.pos.size() > def->params.size()) {
      fail(pos, "macro '" + def->targets[0] + "' takes " + std::to_string(def->params.size()) +
                    " arguments, got " + std::to_string(args.pos.size()));
    }
    for (const auto& [k, v] : args.kw) {
      bool known = false;
      for (const auto& p : def->params) known = known || p.name == k;
      if (!known)
        fail(pos, "macro '" + def->targets[0] + "' has no argument '" + std::string(k) + "'");
    }
    size_t saved_base = base_;
    frames_.emplace_back();
    base_ = frames_.size() - 1;
    ++depth_;
    std::string out;
    try {
      for (size_t i = 0; i < def->params.size(); ++i) {
        const Param& p = def->params[i];
        const Value* a = args.get(i, p.name);
        if (a) {
          assign(p.name, *a);
        } else if (p.default_value) {
          assign(p.name, eval(*p.default_value));
        } else {
          Value u;
          assign(p.name, u);
        }
      }
      exec(def->body, out);
    } catch (...) {
      frames_.pop_back();
      base_ = saved_base;
      --depth_;
      throw;
    }
    frames_.pop_back();
    base_ = saved_base;
    --depth_;
    return owned(Json(std::move(out)));
  }

  Value call_global(const std::string& name, const Args& args, const Expr& e) {
    uint32_t pos = e.pos;
    if (name == "range") {
      std::vector<int64_t> n;
      for (const auto& a : args.pos) n.push_back(need_int(a, pos, "range()"));
      if (n.empty() || n.size() > 3) fail(pos, "range() takes 1 to 3 arguments");
      int64_t start = n.size() == 1 ? 0 : n[0];
      int64_t stop = n.size() == 1 ? n[0] : n[1];
      int64_t step = n.size() == 3 ? n[2] : 1;
      if (step == 0) fail(pos, "range() step must not be zero");
      Json out = Json::array();
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (out.size() >= 100000) fail(pos, "range() is too large");
        out.push_back(i);
      }
      return owned(std::move(out), true);
    }
    if (name == "dict" || name == "namespace") {
      Json obj = Json::object();
      for (const auto& a : args.pos) {
        const Json& j = need_json(a, pos);
        if (!j.is_object()) fail(pos, name + "() takes keyword arguments or a mapping");
        for (auto it = j.begin(); it != j.end(); ++it) obj[it.key()] = it.value();
      }
      for (const auto& [k, v] : args.kw) obj[std::string(k)] = to_json(v, pos);
      Value out = owned(std::move(obj), true);
      if (name == "namespace") out.kind = Value::Kind::kNamespace;
      return out;
    }
    if (name == "raise_exception") {
      std::string msg = args.pos.empty() ? "raise_exception() called" : to_str(args.pos[0], pos);
      fail(pos, msg, "the template rejected its input (raise_exception)");
    }
    if (name == "strftime_now") {
      if (args.pos.empty()) fail(pos, "strftime_now() needs a format");
      const std::string& fmt = need_str(args.pos[0], pos, "strftime_now()");
      std::time_t t = std::time(nullptr);
      std::tm tm{};
      localtime_r(&t, &tm);
      char buf[256];
      size_t n = std::strftime(buf, sizeof(buf), fmt.c_str(), &tm);
      return owned(Json(std::string(buf, n)));
    }
    if (name == "len") {
      if (args.pos.size() != 1) fail(pos, "len() takes one argument");
      return owned(Json(length_of(args.pos[0], pos)));
    }
    Value u = make_undefined(e.target.get());
    fail_undefined(u, e.target->pos);
  }

  int64_t length_of(const Value& v, uint32_t pos) const {
    if (v.undefined()) {
      check_defined(v, pos);
      return 0;
    }
    const Json& j = need_json(v, pos);
    if (j.is_string()) return static_cast<int64_t>(py_len(j.get_ref<const std::string&>()));
    if (j.is_array() || j.is_object()) return static_cast<int64_t>(j.size());
    fail(pos, std::string("object of type '") + type_name(j) + "' has no len()");
  }

  std::optional<std::string> opt_str(const Args& a, size_t i, std::string_view kw,
                                     const char* what) const {
    const Value* v = a.get(i, kw);
    if (!v) return std::nullopt;
    const Json& j = need_json(*v, a.at);
    if (j.is_null()) return std::nullopt;
    if (!j.is_string()) fail(a.at, std::string(what) + " expects a string, got " + type_name(j));
    return j.get<std::string>();
  }

  int64_t opt_int(const Args& a, size_t i, std::string_view kw, int64_t dflt,
                  const char* what) const {
    const Value* v = a.get(i, kw);
    if (!v) return dflt;
    const Json& j = need_json(*v, a.at);
    if (j.is_null()) return dflt;
    return need_int(*v, a.at, what);
  }

  bool opt_bool(const Args& a, size_t i, std::string_view kw, bool dflt) const {
    const Value* v = a.get(i, kw);
    return v ? truthy(*v, a.at) : dflt;
  }

  Value str_list(std::vector<std::string>&& parts) const {
    Json arr = Json::array();
    arr.get_ref<Json::array_t&>().reserve(parts.size());
    for (auto& p : parts) arr.push_back(std::move(p));
    return owned(std::move(arr), true);
  }

  Value call_method(const Value& obj, const std::string& m, const Args& args, const Expr& e) {
    uint32_t pos = e.pos;
    const Json& j = obj.j();
    if (j.is_string()) return string_method(j.get_ref<const std::string&>(), m, args, e);
    if (j.is_array()) {
      if (m == "append" || m == "extend" || m == "pop" || m == "insert" || m == "clear" ||
          m == "remove") {
        if (!obj.mut) {
          fail(pos, "list." + m + "() works only on lists created in the template",
               "build the list with [] or `| list` first");
        }
        Json& arr = mutable_json(obj);
        if (m == "append") {
          if (args.pos.size() != 1) fail(pos, "append() takes exactly one argument");
          arr.push_back(to_json(args.pos[0], pos));
        } else if (m == "extend") {
          if (args.pos.size() != 1) fail(pos, "extend() takes exactly one argument");
          for (const auto& item : iterate(args.pos[0], pos)) arr.push_back(to_json(item, pos));
        } else if (m == "insert") {
          if (args.pos.size() != 2) fail(pos, "insert() takes exactly two arguments");
          int64_t n = static_cast<int64_t>(arr.size());
          int64_t i = need_int(args.pos[0], pos, "insert()");
          if (i < 0) i = std::max<int64_t>(0, i + n);
          i = std::min(i, n);
          arr.insert(arr.begin() + i, to_json(args.pos[1], pos));
        } else if (m == "pop") {
          int64_t n = static_cast<int64_t>(arr.size());
          int64_t i = opt_int(args, 0, "index", -1, "pop()");
          if (i < 0) i += n;
          if (i < 0 || i >= n) fail(pos, "pop index out of range");
          Json out = arr[static_cast<size_t>(i)];
          arr.erase(static_cast<size_t>(i));
          return owned(std::move(out), true);
        } else if (m == "clear") {
          arr.clear();
        } else if (m == "remove") {
          if (args.pos.size() != 1) fail(pos, "remove() takes exactly one argument");
          Json x = to_json(args.pos[0], pos);
          for (size_t i = 0; i < arr.size(); ++i) {
            if (json_eq(arr[i], x)) {
              arr.erase(i);
              return owned(Json(nullptr));
            }
          }
          fail(pos, "list.remove(x): x not in list");
        }
        return owned(Json(nullptr));
      }
      if (m == "index") {
        if (args.pos.empty()) fail(pos, "index() takes at least one argument");
        Json x = to_json(args.pos[0], pos);
        for (size_t i = 0; i < j.size(); ++i) {
          if (json_eq(j[i], x)) return owned(Json(static_cast<int64_t>(i)));
        }
        fail(pos, py_repr(x) + " is not in list");
      }
      if (m == "count") {
        if (args.pos.size() != 1) fail(pos, "count() takes exactly one argument");
        Json x = to_json(args.pos[0], pos);
        int64_t n = 0;
        for (const auto& item : j) n += json_eq(item, x) ? 1 : 0;
        return owned(Json(n));
      }
      if (m == "copy") return owned(j, true);
      fail(pos, "'list' object has no method '" + m + "'");
    }
    if (j.is_object()) {
      if (m == "items") {
        Json out = Json::array();
        for (auto it = j.begin(); it != j.end(); ++it)
          out.push_back(Json::array({it.key(), it.value()}));
        return owned(std::move(out), true);
      }
      if (m == "keys") {
        Json out = Json::array();
        for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
        return owned(std::move(out), true);
      }
      if (m == "values") {
        Json out = Json::array();
        for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.value());
        return owned(std::move(out), true);
      }
      if (m == "get") {
        if (args.pos.empty()) fail(pos, "get() takes at least one argument");
        const Json& k = need_json(args.pos[0], pos);
        if (k.is_string()) {
          auto it = j.find(k.get_ref<const std::string&>());
          if (it != j.end()) return child(obj, *it);
        }
        return args.pos.size() > 1 ? args.pos[1] : owned(Json(nullptr));
      }
      if (m == "copy") return owned(j, true);
      if (m == "update" || m == "pop" || m == "setdefault" || m == "clear") {
        if (!obj.mut) fail(pos, "dict." + m + "() works only on dicts created in the template");
        Json& d = mutable_json(obj);
        if (m == "update") {
          for (const auto& a : args.pos) {
            const Json& src = need_json(a, pos);
            if (!src.is_object()) fail(pos, "update() expects a mapping");
            for (auto it = src.begin(); it != src.end(); ++it) d[it.key()] = it.value();
          }
          for (const auto& [k, v] : args.kw) d[std::string(k)] = to_json(v, pos);
          return owned(Json(nullptr));
        }
        if (m == "clear") {
          d = Json::object();
          return owned(Json(nullptr));
        }
        if (args.pos.empty()) fail(pos, m + "() takes at least one argument");
        std::string k = to_str(args.pos[0], pos);
        auto it = d.find(k);
        if (m == "setdefault") {
          if (it != d.end()) return owned(*it, true);
          Json v = args.pos.size() > 1 ? to_json(args.pos[1], pos) : Json(nullptr);
          d[k] = v;
          return owned(std::move(v), true);
        }
        if (it == d.end()) {
          if (args.pos.size() > 1) return args.pos[1];
          fail(pos, "key " + py_repr(Json(k)) + " not found");
        }
        Json v = *it;
        d.erase(k);
        return owned(std::move(v), true);
      }
      fail(pos, "'dict' object has no method '" + m + "'");
    }
    fail(pos, std::string("'") + type_name(j) + "' object has no method '" + m + "'");
  }

  Value string_method(const std::string& s, const std::string& m, const Args& args, const Expr& e) {
    uint32_t pos = e.pos;
    auto arg_str = [&](size_t i, const char* kw) -> const std::string& {
      const Value* v = args.get(i, kw);
      if (!v) fail(pos, "str." + m + "() is missing an argument");
      return need_str(*v, pos, ("str." + m + "()").c_str());
    };
    if (m == "strip" || m == "lstrip" || m == "rstrip") {
      StripSide side =
          m == "strip" ? StripSide::kBoth : (m == "lstrip" ? StripSide::kLeft : StripSide::kRight);
      return owned(Json(py_strip_chars(s, opt_str(args, 0, "chars", "strip()"), side)));
    }
    if (m == "split" || m == "rsplit") {
      std::optional<std::string> sep = opt_str(args, 0, "sep", "split()");
      if (sep && sep->empty()) fail(pos, "empty separator");
      int64_t maxsplit = opt_int(args, 1, "maxsplit", -1, "split()");
      return str_list(m == "split" ? py_split(s, sep, maxsplit) : py_rsplit(s, sep, maxsplit));
    }
    if (m == "splitlines") return str_list(py_splitlines(s));
    if (m == "lower") return owned(Json(py_lower(s)));
    if (m == "upper") return owned(Json(py_upper(s)));
    if (m == "title") return owned(Json(py_title(s)));
    if (m == "capitalize") return owned(Json(py_capitalize(s)));
    if (m == "replace") {
      return owned(Json(py_replace(s, arg_str(0, "old"), arg_str(1, "new"),
                                   opt_int(args, 2, "count", -1, "replace()"))));
    }
    if (m == "startswith" || m == "endswith") {
      const Value* v = args.get(0, "prefix");
      if (!v) fail(pos, "str." + m + "() takes at least one argument");
      const Json& p = need_json(*v, pos);
      std::string_view sv = s;
      if (args.pos.size() > 1) {
        std::vector<size_t> offs = code_point_offsets(s);
        int64_t n = static_cast<int64_t>(offs.size()) - 1;
        int64_t st = need_int(args.pos[1], pos, "start");
        if (st < 0) st = std::max<int64_t>(0, st + n);
        st = std::min(st, n);
        int64_t en = n;
        if (args.pos.size() > 2) {
          en = need_int(args.pos[2], pos, "end");
          if (en < 0) en = std::max<int64_t>(0, en + n);
          en = std::min(en, n);
        }
        if (en < st) return owned(Json(false));
        sv = sv.substr(offs[static_cast<size_t>(st)],
                       offs[static_cast<size_t>(en)] - offs[static_cast<size_t>(st)]);
      }
      auto test = [&](const Json& x) {
        if (!x.is_string()) fail(pos, "str." + m + "() expects a string or a tuple of strings");
        const std::string& t = x.get_ref<const std::string&>();
        return m == "startswith" ? sv.substr(0, t.size()) == t
                                 : (sv.size() >= t.size() && sv.substr(sv.size() - t.size()) == t);
      };
      if (p.is_array()) {
        for (const auto& x : p) {
          if (test(x)) return owned(Json(true));
        }
        return owned(Json(false));
      }
      return owned(Json(test(p)));
    }
    if (m == "find" || m == "rfind" || m == "index" || m == "rindex") {
      int64_t i = py_find(s, arg_str(0, "sub"), m[0] == 'r');
      if (i < 0 && (m == "index" || m == "rindex")) fail(pos, "substring not found");
      return owned(Json(i));
    }
    if (m == "count") return owned(Json(py_count(s, arg_str(0, "sub"))));
    if (m == "join") {
      if (args.pos.size() != 1) fail(pos, "join() takes exactly one argument");
      std::string out;
      bool first = true;
      for (const auto& item : iterate(args.pos[0], pos)) {
        if (!first) out += s;
        first = false;
        const Json& x = need_json(item, pos);
        if (!x.is_string()) {
          fail(pos,
               std::string("sequence item: expected str instance, ") + type_name(x) + " found");
        }
        out += x.get_ref<const std::string&>();
      }
      return owned(Json(std::move(out)));
    }
    if (m == "format") return owned(Json(py_format(s, args, pos)));
    if (m == "isdigit") return owned(Json(py_isdigit(s)));
    if (m == "isnumeric" || m == "isdecimal") return owned(Json(py_isdigit(s)));
    if (m == "isalpha") return owned(Json(py_isalpha(s)));
    if (m == "isalnum") return owned(Json(py_isalnum(s)));
    if (m == "isspace") return owned(Json(py_isspace_str(s)));
    if (m == "isupper") return owned(Json(py_isupper(s)));
    if (m == "islower") return owned(Json(py_islower(s)));
    if (m == "zfill") {
      int64_t width = need_int(*args.get(0, "width"), pos, "zfill()");
      int64_t n = static_cast<int64_t>(py_len(s));
      if (n >= width) return owned(Json(s));
      std::string pad(static_cast<size_t>(width - n), '0');
      if (!s.empty() && (s[0] == '+' || s[0] == '-'))
        return owned(Json(s.substr(0, 1) + pad + s.substr(1)));
      return owned(Json(pad + s));
    }
    fail(pos, "'str' object has no method '" + m + "'",
         "see docs/templates.md for the supported methods");
  }

  // str.format with {} / {0} / {name} fields and no format specs.
  std::string py_format(const std::string& s, const Args& args, uint32_t pos) {
    std::string out;
    size_t auto_idx = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '{' && i + 1 < s.size() && s[i + 1] == '{') {
        out += '{';
        ++i;
        continue;
      }
      if (c == '}' && i + 1 < s.size() && s[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      if (c != '{') {
        out += c;
        continue;
      }
      size_t close = s.find('}', i);
      if (close == std::string::npos) fail(pos, "format(): unmatched '{'");
      std::string field = s.substr(i + 1, close - i - 1);
      if (field.find_first_of(":!") != std::string::npos) {
        fail(pos, "format(): format specs are not supported", "use filters instead");
      }
      const Value* v = nullptr;
      if (field.empty()) {
        v = auto_idx < args.pos.size() ? &args.pos[auto_idx] : nullptr;
        ++auto_idx;
      } else if (field.find_first_not_of("0123456789") == std::string::npos) {
        size_t k = std::stoul(field);
        v = k < args.pos.size() ? &args.pos[k] : nullptr;
      } else {
        for (const auto& [k, val] : args.kw) {
          if (k == field) v = &val;
        }
      }
      if (!v) fail(pos, "format(): no argument for field {" + field + "}");
      append_str(out, *v, pos);
      i = close;
    }
    return out;
  }

  // Filters ------------------------------------------------------------------------

  Value eval_filter(const Expr& e, const Value* hole) {
    Value input;
    if (!e.target) {
      input = *hole;
    } else if (e.target->kind == ExprKind::kFilter) {
      input = eval_filter(*e.target, hole);
    } else {
      input = eval(*e.target);
    }
    Args args = eval_args(e.args, e.pos);
    return apply_filter(e.name, input, args, e.pos);
  }

  // Items of v, for filters over sequences; undefined is empty only when lenient.
  std::vector<Value> seq(const Value& v, uint32_t pos) const { return iterate(v, pos); }

  Value attr_path(const Value& v, const std::string& path, uint32_t pos) {
    Value cur = v;
    for (const auto& part : split_dots(path)) {
      if (cur.undefined()) return cur;
      const Json& j = need_json(cur, pos);
      if (j.is_object()) {
        auto it = j.find(part);
        cur = it == j.end() ? Value{} : child(cur, *it);
      } else if (j.is_array() && !part.empty() &&
                 part.find_first_not_of("0123456789") == std::string::npos) {
        size_t i = std::stoul(part);
        cur = i < j.size() ? child(cur, j[i]) : Value{};
      } else {
        cur = Value{};
      }
    }
    return cur;
  }

  static std::vector<std::string> split_dots(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
      size_t p = s.find('.', start);
      out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
      if (p == std::string::npos) return out;
      start = p + 1;
    }
  }

  // Sort key comparison shared by sort, min, max, unique, dictsort.
  int order(const Value& a, const Value& b, bool case_sensitive, uint32_t pos) const {
    Json x = need_json(a, pos);
    Json y = need_json(b, pos);
    if (!case_sensitive) {
      if (x.is_string()) x = py_lower(x.get_ref<const std::string&>());
      if (y.is_string()) y = py_lower(y.get_ref<const std::string&>());
    }
    std::optional<int> c = json_cmp(x, y);
    if (!c) {
      fail(pos, std::string("'<' not supported between instances of '") + type_name(x) + "' and '" +
                    type_name(y) + "'");
    }
    return *c;
  }

  // A filter by name (Jinja's builtin filters as lm-eval's templates use them): the ones
  // that take any value, then those over sequences, then those of one number, then those
  // of one string. Each stage answers nullopt for a name it does not know.
  Value apply_filter(const std::string& f, const Value& in, const Args& args, uint32_t pos) {
    // The usual string filters on a string go straight to the last stage: the stages before
    // it know none of these names, and the string is its own text.
    if (in.is_json() && in.j().is_string() &&
        (f == "trim" || f == "lower" || f == "replace" || f == "upper")) {
      if (auto v = string_filter(f, in.j().get_ref<const std::string&>(), args, pos)) return *v;
    }
    if (auto v = any_value_filter(f, in, args, pos)) return *v;
    if (auto v = sequence_filter(f, in, args, pos)) return *v;
    if (f == "batch" || f == "slice" || f == "groupby" || f == "pprint" || f == "xmlattr" ||
        f == "urlencode" || f == "urlize" || f == "filesizeformat") {
      fail(pos, "filter '" + f + "' is not supported", "see docs/templates.md");
    }
    check_defined(in, pos);  // the remaining filters work on one scalar value
    if (auto v = number_filter(f, in, args, pos)) return *v;
    if (auto v = string_filter(f, to_str(in, pos), args, pos)) return *v;
    if (f == "striptags") fail(pos, "filter 'striptags' is not supported");
    fail(pos, "unknown filter '" + f + "'", "see docs/templates.md for the supported filters");
  }

  // Filters of any value: default, length, safe, list, string, tojson.
  std::optional<Value> any_value_filter(const std::string& f, const Value& in, const Args& args,
                                        uint32_t pos) {
    if (f == "default" || f == "d") {
      const Value* dflt = args.get(0, "default_value");
      bool boolean = opt_bool(args, 1, "boolean", false);
      bool use_default = in.undefined() || (boolean && !truthy(in, pos));
      if (!use_default) return in;
      return dflt ? *dflt : owned(Json(""));
    }
    if (f == "length" || f == "count") return owned(Json(length_of(in, pos)));
    if (f == "safe") return in;
    if (f == "list") {
      if (in.is_json() && in.j().is_array()) return owned(in.j(), true);
      Json out = Json::array();
      for (const auto& item : seq(in, pos)) out.push_back(to_json(item, pos));
      return owned(std::move(out), true);
    }
    if (f == "string") {
      check_defined(in, pos);
      return owned(Json(to_str(in, pos)));
    }
    if (f == "tojson") return tojson(in, args, pos);
    return std::nullopt;
  }

  // Filters over mappings and sequences.
  std::optional<Value> sequence_filter(const std::string& f, const Value& in, const Args& args,
                                       uint32_t pos) {
    if (f == "items") {
      if (in.undefined()) return owned(Json::array());  // Jinja yields nothing, even strict
      const Json& j = need_json(in, pos);
      if (!j.is_object()) fail(pos, "items filter expects a mapping");
      Json out = Json::array();
      for (auto it = j.begin(); it != j.end(); ++it)
        out.push_back(Json::array({it.key(), it.value()}));
      return owned(std::move(out), true);
    }
    if (f == "dictsort") {
      const Json& j = need_json(in, pos);
      if (!j.is_object()) fail(pos, "dictsort expects a mapping");
      bool cs = opt_bool(args, 0, "case_sensitive", false);
      std::string by = opt_str(args, 1, "by", "dictsort").value_or("key");
      bool rev = opt_bool(args, 2, "reverse", false);
      std::vector<Value> pairs;
      for (auto it = j.begin(); it != j.end(); ++it)
        pairs.push_back(owned(Json::array({it.key(), it.value()})));
      size_t k = by == "value" ? 1 : 0;
      std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
        int c = order(borrow(a.j()[k]), borrow(b.j()[k]), cs, pos);
        return rev ? c > 0 : c < 0;
      });
      Json out = Json::array();
      for (auto& p : pairs) out.push_back(p.j());
      return owned(std::move(out), true);
    }
    if (f == "join") {
      std::string sep = opt_str(args, 0, "d", "join").value_or("");
      std::optional<std::string> attr = opt_str(args, 1, "attribute", "join");
      std::string out;
      bool first = true;
      for (const auto& item : seq(in, pos)) {
        if (!first) out += sep;
        first = false;
        append_str(out, attr ? attr_path(item, *attr, pos) : item, pos);
      }
      return owned(Json(std::move(out)));
    }
    if (f == "first" || f == "last") {
      std::vector<Value> items = seq(in, pos);
      if (items.empty()) return make_undefined(nullptr);
      return f == "first" ? items.front() : items.back();
    }
    if (f == "reverse") {
      check_defined(in, pos);
      const Json& j = need_json(in, pos);
      if (j.is_string()) {
        std::vector<size_t> offs = code_point_offsets(j.get_ref<const std::string&>());
        std::string out;
        for (size_t i = offs.size() - 1; i-- > 0;) {
          out.append(j.get_ref<const std::string&>(), offs[i], offs[i + 1] - offs[i]);
        }
        return owned(Json(std::move(out)));
      }
      Json out = Json::array();
      std::vector<Value> items = seq(in, pos);
      for (auto it = items.rbegin(); it != items.rend(); ++it) out.push_back(to_json(*it, pos));
      return owned(std::move(out), true);
    }
    if (f == "sort") {
      bool rev = opt_bool(args, 0, "reverse", false);
      bool cs = opt_bool(args, 1, "case_sensitive", false);
      std::optional<std::string> attr = opt_str(args, 2, "attribute", "sort");
      std::vector<Value> items = seq(in, pos);
      std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
        int c = attr ? order(attr_path(a, *attr, pos), attr_path(b, *attr, pos), cs, pos)
                     : order(a, b, cs, pos);
        return rev ? c > 0 : c < 0;
      });
      Json out = Json::array();
      for (const auto& v : items) out.push_back(to_json(v, pos));
      return owned(std::move(out), true);
    }
    if (f == "unique") {
      bool cs = opt_bool(args, 0, "case_sensitive", false);
      std::optional<std::string> attr = opt_str(args, 1, "attribute", "unique");
      Json out = Json::array();
      std::vector<Json> seen;
      for (const auto& item : seq(in, pos)) {
        Json key = to_json(attr ? attr_path(item, *attr, pos) : item, pos);
        if (!cs && key.is_string()) key = py_lower(key.get_ref<const std::string&>());
        bool dup = false;
        for (const auto& s : seen) dup = dup || json_eq(s, key);
        if (dup) continue;
        seen.push_back(key);
        out.push_back(to_json(item, pos));
      }
      return owned(std::move(out), true);
    }
    if (f == "min" || f == "max") {
      bool cs = opt_bool(args, 0, "case_sensitive", false);
      std::optional<std::string> attr = opt_str(args, 1, "attribute", f.c_str());
      std::vector<Value> items = seq(in, pos);
      if (items.empty()) return make_undefined(nullptr);
      size_t best = 0;
      for (size_t i = 1; i < items.size(); ++i) {
        int c = attr ? order(attr_path(items[i], *attr, pos), attr_path(items[best], *attr, pos),
                             cs, pos)
                     : order(items[i], items[best], cs, pos);
        if (f == "min" ? c < 0 : c > 0) best = i;
      }
      return items[best];
    }
    if (f == "sum") {
      std::optional<std::string> attr = opt_str(args, 0, "attribute", "sum");
      const Value* start = args.get(1, "start");
      Json acc = start ? to_json(*start, pos) : Json(0);
      for (const auto& item : seq(in, pos)) {
        Value v = attr ? attr_path(item, *attr, pos) : item;
        const Json& x = need_json(v, pos);
        if (!is_num(x) || !is_num(acc)) fail(pos, "sum filter expects numbers");
        if (is_intlike(x) && is_intlike(acc)) {
          acc = as_int(acc) + as_int(x);
        } else {
          acc = as_double(acc) + as_double(x);
        }
      }
      return owned(std::move(acc));
    }
    if (f == "map") return filter_map(in, args, pos);
    if (f == "select" || f == "reject" || f == "selectattr" || f == "rejectattr") {
      return filter_select(f, in, args, pos);
    }
    if (f == "attr") {
      std::optional<std::string> name = opt_str(args, 0, "name", "attr");
      if (!name) fail(pos, "attr filter needs a name");
      return attr_path(in, *name, pos);
    }
    return std::nullopt;
  }

  // Filters of one number (int and float also parse strings).
  std::optional<Value> number_filter(const std::string& f, const Value& in, const Args& args,
                                     uint32_t pos) {
    if (f == "int") {
      int64_t dflt = opt_int(args, 0, "default", 0, "int");
      int64_t base = opt_int(args, 1, "base", 10, "int");
      if (in.undefined()) return owned(Json(dflt));
      const Json& j = need_json(in, pos);
      if (is_intlike(j)) return owned(Json(as_int(j)));
      if (j.is_number_float()) {
        double d = j.get<double>();
        if (!std::isfinite(d)) return owned(Json(dflt));
        return owned(Json(static_cast<int64_t>(std::trunc(d))));
      }
      if (j.is_string()) {
        const std::string& s = j.get_ref<const std::string&>();
        if (auto v = parse_py_int(s, static_cast<int>(base))) return owned(Json(*v));
        if (auto d = parse_py_float(s); d && std::isfinite(*d)) {
          return owned(Json(static_cast<int64_t>(std::trunc(*d))));
        }
      }
      return owned(Json(dflt));
    }
    if (f == "float") {
      const Value* dv = args.get(0, "default");
      Json dflt = dv ? to_json(*dv, pos) : Json(0.0);
      if (in.undefined()) return owned(dflt);
      const Json& j = need_json(in, pos);
      if (is_num(j)) return owned(Json(as_double(j)));
      if (j.is_string()) {
        if (auto d = parse_py_float(j.get_ref<const std::string&>())) return owned(Json(*d));
      }
      return owned(dflt);
    }
    if (f == "abs") {
      const Json& j = need_json(in, pos);
      if (!is_num(j)) fail(pos, std::string("bad operand type for abs(): '") + type_name(j) + "'");
      if (is_intlike(j)) return owned(Json(std::abs(as_int(j))));
      return owned(Json(std::fabs(as_double(j))));
    }
    if (f == "round") {
      int64_t precision = opt_int(args, 0, "precision", 0, "round");
      std::string method = opt_str(args, 1, "method", "round").value_or("common");
      const Json& j = need_json(in, pos);
      if (!is_num(j)) fail(pos, "round filter expects a number");
      if (method == "common") {
        if (is_intlike(j)) return owned(Json(as_int(j)));
        double d = as_double(j);
        if (!std::isfinite(d)) return owned(Json(d));
        char buf[512];
        std::snprintf(buf, sizeof(buf), "%.*f",
                      static_cast<int>(std::clamp<int64_t>(precision, 0, 300)), d);
        double r = std::strtod(buf, nullptr);
        if (precision < 0) {
          double p = std::pow(10.0, static_cast<double>(-precision));
          r = std::nearbyint(d / p) * p;
        }
        return owned(Json(r));
      }
      if (method != "floor" && method != "ceil")
        fail(pos, "round method must be common, ceil or floor");
      double p = std::pow(10.0, static_cast<double>(precision));
      double v = as_double(j) * p;
      v = method == "floor" ? std::floor(v) : std::ceil(v);
      return owned(Json(v / p));
    }
    return std::nullopt;
  }

  // Filters of one string.
  std::optional<Value> string_filter(const std::string& f, const std::string& s, const Args& args,
                                     uint32_t pos) {
    if (f == "lower") return owned(Json(py_lower(s)));
    if (f == "upper") return owned(Json(py_upper(s)));
    if (f == "capitalize") return owned(Json(py_capitalize(s)));
    if (f == "title") return owned(Json(jinja_title(s)));
    if (f == "trim") {
      return owned(Json(py_strip_chars(s, opt_str(args, 0, "chars", "trim"), StripSide::kBoth)));
    }
    if (f == "replace") {
      std::optional<std::string> old = opt_str(args, 0, "old", "replace");
      std::optional<std::string> repl = opt_str(args, 1, "new", "replace");
      if (!old || !repl) fail(pos, "replace filter needs old and new strings");
      return owned(Json(py_replace(s, *old, *repl, opt_int(args, 2, "count", -1, "replace"))));
    }
    if (f == "regex_replace") {
      std::optional<std::string> pattern = opt_str(args, 0, "pattern", "regex_replace");
      std::optional<std::string> repl = opt_str(args, 1, "repl", "regex_replace");
      if (!pattern || !repl) fail(pos, "regex_replace needs a pattern and a replacement");
      return owned(Json(regex_sub(*pattern, *repl, s, opt_int(args, 2, "count", 0, "regex_replace"),
                                  where(name_, src_, pos))));
    }
    if (f == "wordcount") return owned(Json(word_count(s)));
    if (f == "indent") return owned(Json(indent(s, args, pos)));
    if (f == "e" || f == "escape" || f == "forceescape") return owned(Json(html_escape(s)));
    if (f == "center") {
      int64_t width = opt_int(args, 0, "width", 80, "center");
      int64_t n = static_cast<int64_t>(py_len(s));
      if (n >= width) return owned(Json(s));
      int64_t total = width - n;
      int64_t left = total / 2 + (total & width & 1);
      return owned(Json(std::string(static_cast<size_t>(left), ' ') + s +
                        std::string(static_cast<size_t>(total - left), ' ')));
    }
    if (f == "truncate") {
      int64_t length = opt_int(args, 0, "length", 255, "truncate");
      bool killwords = opt_bool(args, 1, "killwords", false);
      std::string end = opt_str(args, 2, "end", "truncate").value_or("...");
      int64_t leeway = opt_int(args, 3, "leeway", 5, "truncate");
      std::vector<size_t> offs = code_point_offsets(s);
      int64_t n = static_cast<int64_t>(offs.size()) - 1;
      if (n <= length + leeway) return owned(Json(s));
      int64_t keep = std::max<int64_t>(0, length - static_cast<int64_t>(py_len(end)));
      std::string cut = s.substr(0, offs[static_cast<size_t>(keep)]);
      if (!killwords) {
        size_t sp = cut.rfind(' ');
        if (sp != std::string::npos) cut.resize(sp);
      }
      return owned(Json(cut + end));
    }
    if (f == "format") return owned(Json(percent_format(s, args, pos)));
    return std::nullopt;
  }

  std::string indent(const std::string& s, const Args& args, uint32_t pos) {
    std::string ind;
    const Value* w = args.get(0, "width");
    if (w && w->is_json() && w->j().is_string()) {
      ind = w->j().get<std::string>();
    } else {
      ind.assign(static_cast<size_t>(std::max<int64_t>(0, opt_int(args, 0, "width", 4, "indent"))),
                 ' ');
    }
    bool first = opt_bool(args, 1, "first", false);
    bool blank = opt_bool(args, 2, "blank", false);
    std::vector<std::string> lines = py_splitlines(s + "\n");
    std::string rv;
    if (blank) {
      for (size_t i = 0; i < lines.size(); ++i) {
        if (i) rv += "\n" + ind;
        rv += lines[i];
      }
    } else if (!lines.empty()) {
      rv = lines[0];
      if (lines.size() > 1) {
        rv += "\n";
        for (size_t i = 1; i < lines.size(); ++i) {
          if (i > 1) rv += "\n";
          if (!lines[i].empty()) rv += ind;
          rv += lines[i];
        }
      }
    }
    if (first) rv = ind + rv;
    (void)pos;
    return rv;
  }

  // "%s and %d" | format(a, b): Python %-formatting for s, d, i, r and %%.
  std::string percent_format(const std::string& s, const Args& args, uint32_t pos,
                             size_t* used = nullptr) {
    std::string out;
    size_t k = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%') {
        out += s[i];
        continue;
      }
      if (i + 1 >= s.size()) fail(pos, "format: incomplete format");
      char c = s[++i];
      if (c == '%') {
        out += '%';
        continue;
      }
      if (k >= args.pos.size()) fail(pos, "format: not enough arguments");
      const Value& v = args.pos[k++];
      if (c == 's') {
        append_str(out, v, pos);
      } else if (c == 'r') {
        out += py_repr(to_json(v, pos));
      } else if (c == 'd' || c == 'i') {
        const Json& j = need_json(v, pos);
        if (!is_num(j)) fail(pos, "format: %d needs a number");
        out += std::to_string(is_intlike(j) ? as_int(j) : static_cast<int64_t>(as_double(j)));
      } else {
        fail(pos, std::string("format: unsupported conversion %") + c);
      }
    }
    if (used) *used = k;
    return out;
  }

  Value tojson(const Value& in, const Args& args, uint32_t pos) {
    Json j = to_json(in, pos);
    int64_t ind = opt_int(args, 0, "indent", -1, "tojson");
    if (opt_.hf_tojson) {
      bool ensure_ascii = opt_bool(args, 99, "ensure_ascii", false);
      bool sort_keys = opt_bool(args, 99, "sort_keys", false);
      return owned(Json(py_json_dumps(j, static_cast<int>(ind), ensure_ascii, sort_keys)));
    }
    std::string s = py_json_dumps(j, static_cast<int>(ind), true, true);
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
      switch (c) {
        case '<':
          out += "\\u003c";
          break;
        case '>':
          out += "\\u003e";
          break;
        case '&':
          out += "\\u0026";
          break;
        case '\'':
          out += "\\u0027";
          break;
        default:
          out += c;
      }
    }
    return owned(Json(std::move(out)));
  }

  // Jinja's map and select skip a falsy input (None, "", []) instead of iterating it.
  std::vector<Value> seq_or_empty(const Value& in, uint32_t pos) const {
    if (in.is_json() && !py_truthy(in.j())) return {};
    return seq(in, pos);
  }

  Value filter_map(const Value& in, const Args& args, uint32_t pos) {
    std::vector<Value> items = seq_or_empty(in, pos);
    Json out = Json::array();
    std::optional<std::string> attr;
    for (const auto& [k, v] : args.kw) {
      if (k == "attribute") attr = to_str(v, pos);
    }
    if (attr) {
      const Value* dflt = nullptr;
      for (const auto& [k, v] : args.kw) {
        if (k == "default") dflt = &v;
      }
      for (const auto& item : items) {
        Value v = attr_path(item, *attr, pos);
        if (v.undefined() && dflt) v = *dflt;
        out.push_back(to_json(v, pos));
      }
      return owned(std::move(out), true);
    }
    if (args.pos.empty()) fail(pos, "map needs a filter name or attribute=");
    std::string name = need_str(args.pos[0], pos, "map");
    Args rest;
    rest.at = pos;
    rest.pos.assign(args.pos.begin() + 1, args.pos.end());
    rest.kw = args.kw;
    for (const auto& item : items) out.push_back(to_json(apply_filter(name, item, rest, pos), pos));
    return owned(std::move(out), true);
  }

  Value filter_select(const std::string& f, const Value& in, const Args& args, uint32_t pos) {
    bool by_attr = f == "selectattr" || f == "rejectattr";
    bool want = f == "select" || f == "selectattr";
    size_t k = 0;
    std::string attr;
    if (by_attr) {
      if (args.pos.empty()) fail(pos, f + " needs an attribute name");
      attr = need_str(args.pos[k++], pos, f.c_str());
    }
    std::optional<std::string> test;
    if (k < args.pos.size()) test = need_str(args.pos[k++], pos, f.c_str());
    Args targs;
    targs.at = pos;
    targs.pos.assign(args.pos.begin() + static_cast<std::ptrdiff_t>(k), args.pos.end());
    Json out = Json::array();
    for (const auto& item : seq_or_empty(in, pos)) {
      Value v = by_attr ? attr_path(item, attr, pos) : item;
      bool ok = test ? apply_test(*test, v, targs, pos) : truthy(v, pos);
      if (ok == want) out.push_back(to_json(item, pos));
    }
    return owned(std::move(out), true);
  }

  // Tests --------------------------------------------------------------------------

  bool eval_test(const Expr& e) {
    Value v = eval(*e.target);
    Args args = eval_args(e.args, e.pos);
    bool r = apply_test(e.name, v, args, e.pos);
    return e.negated ? !r : r;
  }

  bool apply_test(const std::string& t, const Value& v, const Args& args, uint32_t pos) {
    if (t == "defined") return !v.undefined();
    if (t == "undefined") return v.undefined();
    if (t == "callable") return v.kind == Value::Kind::kMacro;
    if (v.undefined()) {
      // Type tests only look at the value; iterable, sequence, lower and upper use it (and
      // so raise when strict). A lenient undefined iterates as empty and prints as "".
      if (t == "none" || t == "string" || t == "number" || t == "integer" || t == "float" ||
          t == "mapping" || t == "boolean" || t == "true" || t == "false") {
        return false;
      }
      if (t == "sequence") return !opt_.strict_undefined;  // len() fails inside a try
      if (t == "iterable" || t == "lower" || t == "upper") {
        check_defined(v, pos);
        return t == "iterable";
      }
    }
    const Json* jp = v.is_json() || v.kind == Value::Kind::kNamespace ? &v.j() : nullptr;
    if (t == "none") return jp && jp->is_null() && v.is_json();
    if (t == "string") return jp && jp->is_string();
    if (t == "number") return jp && v.is_json() && (jp->is_number() || jp->is_boolean());
    if (t == "integer") return jp && (jp->is_number_integer() || jp->is_number_unsigned());
    if (t == "float") return jp && jp->is_number_float();
    if (t == "mapping") return jp && jp->is_object();
    if (t == "boolean") return jp && jp->is_boolean();
    if (t == "true") return jp && jp->is_boolean() && jp->get<bool>();
    if (t == "false") return jp && jp->is_boolean() && !jp->get<bool>();
    if (t == "iterable" || t == "sequence") {
      return jp && v.is_json() && (jp->is_array() || jp->is_object() || jp->is_string());
    }
    if (t == "lower" || t == "upper") {
      std::string s = to_str(v, pos);
      return t == "lower" ? py_islower(s) : py_isupper(s);
    }
    if (t == "even" || t == "odd") {
      const Json& j = need_json(v, pos);
      if (!is_num(j)) fail(pos, std::string(t) + " expects a number, got " + type_name(j));
      // Jinja: value % 2 == 0 (even) or == 1 (odd), with Python's modulo.
      double r = is_intlike(j) ? static_cast<double>(((as_int(j) % 2) + 2) % 2)
                               : std::fmod(std::fmod(as_double(j), 2.0) + 2.0, 2.0);
      return t == "even" ? r == 0.0 : r == 1.0;
    }
    if (t == "divisibleby") {
      int64_t n = need_int(v, pos, "divisibleby");
      int64_t d = args.pos.empty() ? 0 : need_int(args.pos[0], pos, "divisibleby");
      if (d == 0) fail(pos, "divisibleby: division by zero");
      return n % d == 0;
    }
    const Value* other = args.get(0, "other");
    auto need_other = [&]() -> const Value& {
      if (!other) fail(pos, "test '" + t + "' needs an argument");
      return *other;
    };
    if (t == "eq" || t == "equalto" || t == "==") return values_eq(v, need_other(), pos);
    if (t == "ne" || t == "!=") return !values_eq(v, need_other(), pos);
    if (t == "lt" || t == "lessthan" || t == "<")
      return compare_op(CmpOp::kLt, v, need_other(), pos);
    if (t == "le" || t == "<=") return compare_op(CmpOp::kLe, v, need_other(), pos);
    if (t == "gt" || t == "greaterthan" || t == ">")
      return compare_op(CmpOp::kGt, v, need_other(), pos);
    if (t == "ge" || t == ">=") return compare_op(CmpOp::kGe, v, need_other(), pos);
    if (t == "in") return contains(need_other(), v, pos);
    if (t == "sameas") {
      const Value& o = need_other();
      if (v.is_json() && o.is_json()) {
        const Json& a = v.j();
        const Json& b = o.j();
        if (a.is_null() || a.is_boolean()) return a.type() == b.type() && a == b;
        return v.json.get() == o.json.get();
      }
      return v.ref == o.ref && v.json.get() == o.json.get();
    }
    if (t == "escaped") return false;
    fail(pos, "unknown test '" + t + "'", "see docs/templates.md for the supported tests");
  }

  // Statements -------------------------------------------------------------------

  Flow exec(const Body& body, std::string& out) {
    for (const Stmt& s : body) {
      Flow f = exec_stmt(s, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Flow exec_stmt(const Stmt& s, std::string& out) {
    switch (s.kind) {
      case StmtKind::kText:
        out += s.text;
        return Flow::kNormal;
      case StmtKind::kOutput:
        append_str(out, eval(*s.expr), s.expr->pos);
        return Flow::kNormal;
      case StmtKind::kIf:
        for (const auto& br : s.branches) {
          if (truthy(eval(*br.cond), br.cond->pos)) return exec(br.body, out);
        }
        return exec(s.else_body, out);
      case StmtKind::kFor:
        return exec_for(s, out);
      case StmtKind::kSet: {
        Value v = eval(*s.expr);
        if (!s.attr.empty()) {
          const Value* ns = lookup_frames(s.targets[0]);
          if (!ns || ns->kind != Value::Kind::kNamespace) {
            fail(s.pos,
                 "cannot assign attribute '" + s.attr + "' on '" + s.targets[0] +
                     "': it is not a namespace",
                 "create it with {% set " + s.targets[0] + " = namespace() %}");
          }
          mutable_json(*ns)[s.attr] = to_json(v, s.expr->pos);
          return Flow::kNormal;
        }
        if (s.targets.size() == 1) {
          check_defined(v, s.expr->pos);
          assign(s.targets[0], std::move(v));
          return Flow::kNormal;
        }
        unpack(s.targets, v, s.expr->pos);
        return Flow::kNormal;
      }
      case StmtKind::kSetBlock: {
        std::string text;
        exec(s.body, text);
        Value v = owned(Json(std::move(text)));
        if (s.filter) v = eval_filter(*s.filter, &v);
        assign(s.targets[0], std::move(v));
        return Flow::kNormal;
      }
      case StmtKind::kMacro: {
        Value m;
        m.kind = Value::Kind::kMacro;
        m.ref = &s;
        assign(s.targets[0], std::move(m));
        return Flow::kNormal;
      }
      case StmtKind::kFilterBlock: {
        std::string text;
        exec(s.body, text);
        Value v = owned(Json(std::move(text)));
        append_str(out, eval_filter(*s.filter, &v), s.pos);
        return Flow::kNormal;
      }
      case StmtKind::kBreak:
        return Flow::kBreak;
      case StmtKind::kContinue:
        return Flow::kContinue;
      case StmtKind::kBlock:
        return exec(s.body, out);
    }
    return Flow::kNormal;
  }

  void unpack(const std::vector<std::string>& targets, const Value& v, uint32_t pos) {
    const Json& j = need_json(v, pos);
    if (j.is_array()) {
      if (j.size() != targets.size()) {
        fail(pos, "cannot unpack " + std::to_string(j.size()) + " values into " +
                      std::to_string(targets.size()) + " names");
      }
      for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], child(v, j[i]));
      return;
    }
    std::vector<Value> items = iterate(v, pos);
    if (items.size() != targets.size()) {
      fail(pos, "cannot unpack " + std::to_string(items.size()) + " values into " +
                    std::to_string(targets.size()) + " names");
    }
    for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], items[i]);
  }

  void bind_targets(const Stmt& s, const Value& item) {
    if (s.targets.size() == 1) {
      assign(s.targets[0], item);
    } else {
      unpack(s.targets, item, s.expr->pos);
    }
  }

  Flow exec_for(const Stmt& s, std::string& out) {
    Value iterable = eval(*s.expr);
    std::vector<Value> items = iterate(iterable, s.expr->pos);
    frames_.emplace_back();
    struct Pop {
      std::vector<Frame>& f;
      ~Pop() { f.pop_back(); }
    } pop{frames_};
    if (s.cond) {
      std::vector<Value> kept;
      for (const auto& item : items) {
        frames_.back().clear();
        bind_targets(s, item);
        if (truthy(eval(*s.cond), s.cond->pos)) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      frames_.back().clear();
      exec(s.else_body, out);
      return Flow::kNormal;
    }
    LoopState ls{&items, 0};
    Value loop;
    loop.kind = Value::Kind::kLoop;
    loop.ref = &ls;
    for (size_t i = 0; i < items.size(); ++i) {
      ls.index = i;
      Frame& f = frames_.back();
      f.clear();
      f.emplace_back("loop", loop);
      bind_targets(s, items[i]);
      if (exec(s.body, out) == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  std::string_view src_;
  const std::string& name_;
  const TemplateOptions& opt_;
  const Json& vars_;
  std::vector<Frame> frames_;
  size_t base_ = 0;  // frames below base_ (except the template's own) are hidden in a macro
  int depth_ = 0;
};

}  // namespace

void render_tree(const Body& body, std::string_view source, const std::string& name,
                 const TemplateOptions& options, const Json& vars, std::string& out) {
  Renderer(source, name, options, vars).run(body, out);
}

}  // namespace retort::tmpl
