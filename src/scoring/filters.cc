// Filter pipelines with lm-eval's semantics (filters/selection.py, extraction.py,
// transformation.py). A doc's value is a list (one entry per repeat) until a selection
// step (take_first) turns it into a single value; like Python, a per-response step that
// meets a string iterates over its characters.
#include <fmt/format.h>

#include "scoring/code_exec.h"
#include "scoring/math_equiv.h"
#include "scoring/scoring.h"
#include "scoring/text.h"
#include "util/error.h"
#include "util/py_regex.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

namespace {

const std::vector<std::string> kFilters = {"take_first",
                                           "take_first_k",
                                           "majority_vote",
                                           "regex",
                                           "remove_whitespace",
                                           "lowercase",
                                           "uppercase",
                                           "map",
                                           "multi_choice_regex",
                                           "math_answer",
                                           "hendrycks_math_candidate",
                                           "code_extract"};

std::string known_filters_hint() {
  return "supported filter functions: " + join(kFilters, ", ");
}

// Python iterates a str by code points; any other scalar is not iterable. A list is
// returned as it is; a string's code points are built in holder.
const Json& as_list(const Json& inst, Json& holder, const std::string& filter_name,
                    const std::string& function) {
  if (inst.is_array()) return inst;
  if (inst.is_string()) {
    holder = Json::array();
    for (auto& cp : scoring::code_points(inst.get_ref<const std::string&>())) holder.push_back(cp);
    return holder;
  }
  throw Error(fmt::format("filter '{}': step '{}' needs a list of responses, got {}", filter_name,
                          function, py_repr(inst)),
              "", "put selection steps such as take_first after the per-response steps");
}

const std::string& as_str(const Json& v, const std::string& filter_name,
                          const std::string& function) {
  if (!v.is_string()) {
    throw Error(fmt::format("filter '{}': step '{}' expects text responses, got {}", filter_name,
                            function, py_repr(v)));
  }
  return v.get_ref<const std::string&>();
}

// findall()[group_select] with Python indexing, tuples reduced to their first non-empty
// group. nullopt: no match. Throws when group_select is out of range.
std::optional<Json> select_match(const PyRegex& rx, const std::string& resp, int64_t group_select,
                                 const std::string& filter_name) {
  Json all = rx.findall(resp);
  if (all.empty()) return std::nullopt;
  const auto n = static_cast<int64_t>(all.size());
  int64_t idx = group_select < 0 ? n + group_select : group_select;
  if (idx < 0 || idx >= n) {
    throw Error(fmt::format("filter '{}': regex '{}' found {} match(es), so group_select {} is "
                            "out of range (lm-eval raises IndexError here)",
                            filter_name, rx.pattern(), n, group_select),
                "", "use group_select 0 (first match) or -1 (last match)");
  }
  return all[static_cast<size_t>(idx)];
}

Json regex_step(const FilterStep& step, const Json& inst, const std::string& name) {
  auto rx = PyRegex::compile(step.regex_pattern);
  Json out = Json::array();
  Json holder;
  static const std::string kNoText;
  for (const Json& r : as_list(inst, holder, name, step.function)) {
    const std::string& resp = r.is_string() ? r.get_ref<const std::string&>() : kNoText;
    auto m = select_match(*rx, resp, step.group_select, name);
    if (!m) {
      out.push_back(step.fallback);
      continue;
    }
    std::string picked;
    if (m->is_array()) {
      bool found = false;
      for (const Json& g : *m) {
        if (!g.get_ref<const std::string&>().empty()) {
          picked = g.get<std::string>();
          found = true;
          break;
        }
      }
      if (!found) {
        out.push_back(step.fallback);
        continue;
      }
    } else {
      picked = m->get<std::string>();
    }
    out.push_back(py_strip(picked));
  }
  return out;
}

std::string apply_ignores(const FilterStep& step, std::string s) {
  for (const std::string& p : step.regexes_to_ignore) s = py_re_sub(p, "", s);
  if (step.ignore_case) s = scoring::py_lower(s);
  if (step.ignore_punctuation) s = scoring::remove_unicode_punctuation(s);
  return s;
}

// multi_choice_regex's find_match: "" or a falsy result means "try the next way".
std::string find_match(const PyRegex& rx, const std::string& resp, int64_t group_select,
                       const std::string& name, const Json* convert) {
  auto m = select_match(rx, resp, group_select, name);
  if (!m) return "";
  std::string s;
  if (m->is_array()) {
    bool found = false;
    for (const Json& g : *m) {
      if (!g.get_ref<const std::string&>().empty()) {
        s = g.get<std::string>();
        found = true;
        break;
      }
    }
    if (!found) {
      throw Error(
          fmt::format("filter '{}': every group of regex '{}' is empty (lm-eval raises "
                      "IndexError here)",
                      name, rx.pattern()));
    }
  } else {
    s = m->get<std::string>();
  }
  s = py_strip(s);
  if (!s.empty() && convert && convert->contains(s)) s = (*convert)[s].get<std::string>();
  return s;
}

Json multi_choice_step(const FilterStep& step, const Json& inst, const Doc& doc,
                       const std::vector<std::string>* choices, const std::string& name) {
  std::vector<std::string> owned;
  if (!choices) {
    if (!doc.is_object() || !doc.contains("choices") || !doc["choices"].is_array()) {
      throw Error(
          fmt::format("filter '{}': multi_choice_regex needs the doc's \"choices\" list", name), "",
          "add a `choices` column to the dataset (lm-eval reads doc[\"choices\"])");
    }
    for (const Json& c : doc["choices"])
      owned.push_back(c.is_string() ? c.get<std::string>() : py_str(c));
    choices = &owned;
  }
  std::vector<std::string> alternatives, letters;
  Json choice_to_alpha = Json::object(), letter_to_target = Json::object();
  char32_t next = 'A';
  for (const std::string& c : *choices) {
    std::string m = apply_ignores(step, py_strip(c));
    std::string letter;
    append_utf8(letter, next);
    alternatives.push_back(py_re_escape(m));
    choice_to_alpha[m] = "(" + letter + ")";
    letters.push_back(letter);
    letter_to_target[letter] = "(" + letter + ")";
    next++;
  }
  auto rx = PyRegex::compile(step.regex_pattern);
  auto choice_rx = PyRegex::compile(join(alternatives, "|"));
  auto letter_rx = PyRegex::compile(R"(:[\s]*()" + join(letters, "|") + ")");
  Json out = Json::array();
  Json holder;
  for (const Json& r : as_list(inst, holder, name, step.function)) {
    const std::string& resp = as_str(r, name, step.function);
    std::string match = find_match(*rx, resp, step.group_select, name, nullptr);
    if (match.empty()) {
      match = find_match(*choice_rx, apply_ignores(step, resp), step.group_select, name,
                         &choice_to_alpha);
      if (match.empty()) {
        match = find_match(*letter_rx, resp, step.group_select, name, &letter_to_target);
      }
    }
    out.push_back(match.empty() ? step.fallback : match);
  }
  return out;
}

Json majority_vote(const Json& list) {
  // collections.Counter.most_common(1): the highest count, ties to the first seen.
  std::vector<std::pair<const Json*, int64_t>> counts;
  for (const Json& v : list) {
    bool seen = false;
    for (auto& [value, count] : counts) {
      if (*value == v) {
        count++;
        seen = true;
        break;
      }
    }
    if (!seen) counts.emplace_back(&v, 1);
  }
  if (counts.empty()) throw Error("filter majority_vote: no responses to vote on");
  const std::pair<const Json*, int64_t>* best = &counts[0];
  for (const auto& c : counts) {
    if (c.second > best->second) best = &c;
  }
  return Json::array({*best->first});
}

Json apply_step(const FilterStep& step, const Json& inst, const Doc& doc,
                const std::vector<std::string>* choices, const std::string& name,
                const std::vector<bool>* cut_off) {
  const std::string& fn = step.function;
  if (fn == "take_first") {
    Json holder;
    const Json& list = as_list(inst, holder, name, fn);
    if (list.empty()) throw Error(fmt::format("filter '{}': take_first on no responses", name));
    return list[0];
  }
  if (fn == "take_first_k") {
    Json holder;
    const Json& list = as_list(inst, holder, name, fn);
    Json out = Json::array();
    for (size_t i = 0; i < list.size() && static_cast<int64_t>(i) < step.k; i++) {
      out.push_back(list[i]);
    }
    return out;
  }
  Json holder;
  if (fn == "majority_vote") return majority_vote(as_list(inst, holder, name, fn));
  if (fn == "regex") return regex_step(step, inst, name);
  if (fn == "multi_choice_regex") return multi_choice_step(step, inst, doc, choices, name);
  Json out = Json::array();
  size_t index = 0;
  for (const Json& r : as_list(inst, holder, name, fn)) {
    const bool cut = cut_off && index < cut_off->size() && (*cut_off)[index];
    ++index;
    if (fn == "remove_whitespace") {
      out.push_back(py_strip(as_str(r, name, fn)));
    } else if (fn == "math_answer") {
      // The final answer of a reply (math_equiv.h): thinking stripped, then the last
      // \boxed{}, "the answer is", "####", a bare answer or the last number; "" when none.
      // A reply cut off at the token limit has only an explicit answer, or none.
      out.push_back(math::extract_answer(math::strip_thinking(as_str(r, name, fn)), cut).answer);
    } else if (fn == "hendrycks_math_candidate") {
      // lm-eval hendrycks_math/utils.py process_results L18-32.
      out.push_back(math::hendrycks_dollar_candidate(as_str(r, name, fn)));
    } else if (fn == "lowercase") {
      out.push_back(scoring::py_lower(as_str(r, name, fn)));
    } else if (fn == "uppercase") {
      out.push_back(scoring::py_upper(as_str(r, name, fn)));
    } else if (fn == "code_extract") {
      out.push_back(extract_code(step.style, as_str(r, name, fn), doc));
    } else if (fn == "map") {
      // dict.get(resp, default): only a str response can equal a (str) YAML key.
      if (r.is_string() && step.mapping_dict.contains(r.get_ref<const std::string&>())) {
        out.push_back(step.mapping_dict[r.get_ref<const std::string&>()]);
      } else {
        out.push_back(step.default_value);
      }
    } else {
      throw Error(fmt::format("unknown filter function '{}'", fn), "", known_filters_hint());
    }
  }
  return out;
}

bool get_bool(const Json& v, const std::string& where, const std::string& key) {
  if (!v.is_boolean()) throw Error(fmt::format("'{}' must be true or false", key), where);
  return v.get<bool>();
}

int64_t get_int(const Json& v, const std::string& where, const std::string& key) {
  if (!v.is_number_integer()) throw Error(fmt::format("'{}' must be an integer", key), where);
  return v.get<int64_t>();
}

std::string get_string(const Json& v, const std::string& where, const std::string& key) {
  if (!v.is_string()) throw Error(fmt::format("'{}' must be a string", key), where);
  return v.get<std::string>();
}

void check_pattern(const std::string& pattern, const std::string& where) {
  try {
    PyRegex::compile(pattern);
  } catch (const Error& e) {
    throw Error(e.what_failed(), where, e.hint());
  }
}

FilterStep parse_step(const Json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("function") || !j["function"].is_string()) {
    throw Error("a filter step must be a mapping with a 'function' name", where,
                known_filters_hint());
  }
  FilterStep step;
  step.function = j["function"].get<std::string>();
  const std::string& fn = step.function;
  if (fn == "custom") {
    throw Error("filter function 'custom' runs Python code, which retort cannot run", where,
                "retort has no built-in custom filters yet; use the regex/map filters instead");
  }
  bool known = false;
  for (const auto& f : kFilters) known = known || f == fn;
  if (!known) {
    std::string hint = known_filters_hint();
    auto near = closest_matches(fn, kFilters);
    if (!near.empty()) hint = fmt::format("did you mean '{}'? ", near[0]) + hint;
    throw Error(fmt::format("unknown filter function '{}'", fn), where, hint);
  }
  bool has_k = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    if (key == "function") continue;
    const bool is_regex = fn == "regex" || fn == "multi_choice_regex";
    if (is_regex && key == "regex_pattern") {
      step.regex_pattern = get_string(v, where, key);
    } else if (is_regex && key == "group_select") {
      step.group_select = get_int(v, where, key);
    } else if (is_regex && key == "fallback") {
      step.fallback = v.is_string() ? v.get<std::string>() : py_str(v);
    } else if (fn == "multi_choice_regex" && key == "ignore_case") {
      step.ignore_case = get_bool(v, where, key);
    } else if (fn == "multi_choice_regex" && key == "ignore_punctuation") {
      step.ignore_punctuation = get_bool(v, where, key);
    } else if (fn == "multi_choice_regex" && key == "regexes_to_ignore") {
      if (v.is_null()) continue;
      if (!v.is_array()) throw Error("'regexes_to_ignore' must be a list of patterns", where);
      for (const Json& p : v) step.regexes_to_ignore.push_back(get_string(p, where, key));
    } else if (fn == "take_first_k" && key == "k") {
      step.k = get_int(v, where, key);
      has_k = true;
    } else if (fn == "code_extract" && key == "style") {
      step.style = get_string(v, where, key);
      bool ok = false;
      for (const auto& st : code_extract_styles()) ok = ok || st == step.style;
      if (!ok)
        throw Error(fmt::format("code_extract: unknown style '{}'", step.style), where,
                    "styles: " + join(code_extract_styles(), ", "));
    } else if (fn == "map" && key == "mapping_dict") {
      if (!v.is_object()) throw Error("'mapping_dict' must be a mapping", where);
      step.mapping_dict = v;
    } else if (fn == "map" && key == "default_value") {
      step.default_value = v;
    } else {
      throw Error(fmt::format("filter '{}' has no setting '{}'", fn, key), where,
                  "remove it, or check the spelling");
    }
  }
  if (fn == "take_first_k" && !has_k) {
    throw Error("take_first_k needs 'k' (how many responses to keep)", where);
  }
  if (fn == "regex" || fn == "multi_choice_regex") check_pattern(step.regex_pattern, where);
  for (const auto& p : step.regexes_to_ignore) check_pattern(p, where);
  return step;
}

}  // namespace

const std::vector<std::string>& supported_filters() {
  return kFilters;
}

FilterPipeline default_filter() {
  FilterPipeline p;
  FilterStep step;
  step.function = "take_first";
  p.steps.push_back(step);
  return p;
}

FilterPipeline parse_filter(const Json& entry, const std::string& where) {
  if (!entry.is_object()) throw Error("a filter_list entry must be a mapping", where);
  FilterPipeline p;
  if (!entry.contains("name") || !entry["name"].is_string()) {
    throw Error("a filter_list entry needs a 'name'", where, "results are reported as metric,name");
  }
  p.name = entry["name"].get<std::string>();
  if (!entry.contains("filter") || !entry["filter"].is_array()) {
    throw Error(fmt::format("filter_list entry '{}' needs a 'filter' list of steps", p.name),
                where);
  }
  const Json& steps = entry["filter"];
  for (size_t i = 0; i < steps.size(); i++) {
    p.steps.push_back(parse_step(steps[i], fmt::format("{}.filter[{}]", where, i)));
  }
  return p;
}

std::vector<FilterPipeline> parse_filter_list(const Json& filter_list, const std::string& where) {
  if (filter_list.is_null()) return {default_filter()};
  if (!filter_list.is_array()) throw Error("filter_list must be a list", where);
  std::vector<FilterPipeline> out;
  for (size_t i = 0; i < filter_list.size(); i++) {
    out.push_back(parse_filter(filter_list[i], fmt::format("{}[{}]", where, i)));
  }
  return out;
}

Json apply_filter(const FilterPipeline& pipeline, const Json& resps_for_doc, const Doc& doc,
                  const std::vector<std::string>* choices, const std::vector<bool>* cut_off) {
  Json value = resps_for_doc;
  for (size_t i = 0; i < pipeline.steps.size(); ++i) {
    // Only the first step sees the replies themselves, one per repeat, in order.
    value = apply_step(pipeline.steps[i], value, doc, choices, pipeline.name,
                       i == 0 ? cut_off : nullptr);
  }
  return value;
}

}  // namespace retort
