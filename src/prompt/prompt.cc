#include "prompt/prompt.h"

#include <algorithm>
#include <random>

#include "data/data.h"
#include "prompt/chat_template.h"
#include "template/template.h"
#include "util/error.h"
#include "util/py_random.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

namespace {

bool first_is_space(const std::string& s) {
  size_t pos = 0;
  return !s.empty() && py_isspace(decode_utf8(s, pos));
}

bool last_is_space(const std::string& s) {
  if (s.empty()) return false;
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  size_t pos = start;
  return py_isspace(decode_utf8(s, pos));
}

std::string columns_of(const Doc& doc) {
  std::vector<std::string> cols;
  if (doc.is_object())
    for (auto& [k, v] : doc.items()) {
      (void)v;
      cols.push_back(k);
    }
  return join(cols, ", ");
}

bool is_builtin(const Json& field) {
  return field.is_object() && field.contains("!function");
}

bool is_column(const Json& field, const Doc& doc) {
  return field.is_string() && doc.is_object() && doc.contains(field.get_ref<const std::string&>());
}

Json digits_to_int(const std::string& s) {
  try {
    return py_literal_eval(s);
  } catch (const Error&) {
    // "012": Python's literal_eval rejects leading zeros; the value is still a number.
    try {
      return static_cast<int64_t>(std::stoll(s));
    } catch (const std::exception&) {
      return s;
    }
  }
}

}  // namespace

std::string maybe_delimit(const std::string& prefix, const std::string& suffix,
                          const std::string& delimiter) {
  if (prefix.empty()) return suffix;
  if (suffix.empty()) return prefix;
  if (last_is_space(prefix) || first_is_space(suffix)) return prefix + suffix;
  return prefix + delimiter + suffix;
}

bool requires_delimiter(const std::string& prefix, const std::string& suffix) {
  if (prefix.empty()) return false;
  return !last_is_space(prefix) && !first_is_space(suffix);
}

bool choices_are_letters(const std::vector<std::string>& choices) {
  if (choices.empty() || choices.size() > 26) return false;
  for (size_t i = 0; i < choices.size(); ++i) {
    const std::string l(1, kChoiceLetters[i]);
    if (choices[i] != l && choices[i] != "(" + l + ")") return false;
  }
  return true;
}

// ------------------------------------------------------------------------------ fields

DocFields::DocFields(const TaskSpec& spec) : spec_(spec) {
  const std::pair<const Json*, const char*> fields[] = {
      {&spec.doc_to_text, "doc_to_text"},
      {&spec.doc_to_target, "doc_to_target"},
      {&spec.doc_to_choice, "doc_to_choice"},
      {&spec.description, "description"},
      {&spec.gen_prefix, "gen_prefix"},
      {&spec.fewshot.doc_to_text, "doc_to_text"},
      {&spec.fewshot.doc_to_target, "doc_to_target"},
      {&spec.fewshot.doc_to_choice, "doc_to_choice"},
      {&spec.fewshot.gen_prefix, "gen_prefix"},
  };
  for (const auto& [field, key] : fields) {
    if (!field->is_string()) continue;
    try {
      // The name render_field gave render_template, so errors read the same.
      parsed_.push_back(
          {field, Template::parse(field->get_ref<const std::string&>(), spec.name + ":" + key)});
    } catch (const Error&) {
      // A column name that is not a template, or a template with a syntax error: left to
      // render_field, which reports it for the doc that renders it.
    }
  }
}

const Template* DocFields::parsed(const Json& field) const {
  for (const auto& p : parsed_)
    if (p.field == &field) return &p.tpl;
  return nullptr;
}

Json DocFields::render_field(const Json& field, const std::string& key, const Doc& doc,
                             int64_t doc_index) const {
  const std::string& src = field.get_ref<const std::string&>();
  try {
    if (const Template* tpl = parsed(field)) return tpl->render(doc);
    return render_template(src, doc, spec_.name + ":" + key);
  } catch (const Error& e) {
    std::string hint = e.hint();
    hint += std::string(hint.empty() ? "" : "; ") + "the doc's columns are: " + columns_of(doc);
    throw Error("task '" + spec_.name + "', doc " + std::to_string(doc_index) + ", " + key + ": " +
                    e.what_failed(),
                e.where().empty() ? spec_.where(key) : e.where() + " (" + spec_.where(key) + ")",
                hint);
  }
}

Json DocFields::call_builtin(const Json& field, const std::string& key, const Doc& doc,
                             int64_t doc_index) const {
  const std::string name = field["!function"].get<std::string>();
  const DocFunction* fn = find_builtin_doc_function(name);
  if (!fn)
    throw Error("task '" + spec_.name + "': " + key + ": no built-in " + name, spec_.where(key));
  try {
    return (*fn)(doc);
  } catch (const Error& e) {
    throw Error("task '" + spec_.name + "', doc " + std::to_string(doc_index) + ", " + key +
                    " (built-in " + name + "): " + e.what_failed(),
                spec_.where(key), e.hint());
  }
}

Json DocFields::text(const Doc& doc, int64_t doc_index, bool fewshot) const {
  const Json& field = fewshot && !spec_.fewshot.doc_to_text.is_null() ? spec_.fewshot.doc_to_text
                                                                      : spec_.doc_to_text;
  const std::string key = "doc_to_text";
  if (field.is_null())
    throw Error("task '" + spec_.name + "' has no doc_to_text", spec_.where("task"),
                "add doc_to_text: a column name or a template such as \"{{question}}\"");
  if (is_builtin(field)) return call_builtin(field, key, doc, doc_index);
  if (is_column(field, doc)) return doc[field.get_ref<const std::string&>()];
  if (!field.is_string()) return field;
  Json r = render_field(field, key, doc, doc_index);
  const std::string& s = r.get_ref<const std::string&>();
  if (has_choices() && py_isdigit(s)) return digits_to_int(s);
  return r;
}

Json DocFields::target(const Doc& doc, int64_t doc_index, bool fewshot) const {
  const Json& field = fewshot && !spec_.fewshot.doc_to_target.is_null()
                          ? spec_.fewshot.doc_to_target
                          : spec_.doc_to_target;
  if (field.is_null())
    throw Error("task '" + spec_.name + "' has no doc_to_target", spec_.where("task"),
                "add doc_to_target: a column name or a template");
  if (is_builtin(field)) return call_builtin(field, "doc_to_target", doc, doc_index);
  if (is_column(field, doc)) return doc[field.get_ref<const std::string&>()];
  if (!field.is_string()) return field;
  Json r = render_field(field, "doc_to_target", doc, doc_index);
  const std::string& s = r.get_ref<const std::string&>();
  if (has_choices() && py_isdigit(s)) return digits_to_int(s);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') {
    try {
      return py_literal_eval(s);
    } catch (const Error&) {
      return r;
    }
  }
  return r;
}

std::optional<std::vector<std::string>> DocFields::choices(const Doc& doc, int64_t doc_index,
                                                           bool fewshot) const {
  const Json& field = fewshot && !spec_.fewshot.doc_to_choice.is_null()
                          ? spec_.fewshot.doc_to_choice
                          : spec_.doc_to_choice;
  if (field.is_null()) return std::nullopt;
  Json list;
  if (is_builtin(field)) {
    list = call_builtin(field, "doc_to_choice", doc, doc_index);
  } else if (is_column(field, doc)) {
    list = doc[field.get_ref<const std::string&>()];
  } else if (field.is_string()) {
    Json r = render_field(field, "doc_to_choice", doc, doc_index);
    try {
      list = py_literal_eval(r.get_ref<const std::string&>());
    } catch (const Error& e) {
      throw Error("task '" + spec_.name + "', doc " + std::to_string(doc_index) +
                      ", doc_to_choice: the rendered text is not a Python list literal: " +
                      r.get<std::string>().substr(0, 200),
                  spec_.where("doc_to_choice"),
                  "doc_to_choice must render a list such as \"{{choices}}\" or "
                  "\"{{[option1, option2]}}\", or name a list column");
    }
  } else if (field.is_object()) {
    list = Json::array();
    for (auto& [k, v] : field.items()) {
      (void)k;
      list.push_back(v);
    }
  } else {
    list = field;
  }
  if (list.is_object()) {
    Json values = Json::array();
    for (auto& [k, v] : list.items()) {
      (void)k;
      values.push_back(v);
    }
    list = values;
  }
  if (!list.is_array())
    throw Error("task '" + spec_.name + "', doc " + std::to_string(doc_index) +
                    ", doc_to_choice: expected a list of choices, got " +
                    list.dump().substr(0, 200),
                spec_.where("doc_to_choice"));
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto& c : list) {
    if (c.is_string())  // py_str of a string is the string: move it out of the local list
      out.push_back(std::move(c.get_ref<std::string&>()));
    else
      out.push_back(py_str(c));
  }
  return out;
}

std::string DocFields::description(const Doc& doc, int64_t doc_index) const {
  const Json& field = spec_.description;
  if (field.is_null()) return "";
  if (is_column(field, doc)) return py_str(doc[field.get_ref<const std::string&>()]);
  if (!field.is_string()) return py_str(field);
  if (field.get_ref<const std::string&>().empty()) return "";
  return render_field(field, "description", doc, doc_index).get<std::string>();
}

std::optional<std::string> DocFields::gen_prefix(const Doc& doc, int64_t doc_index,
                                                 bool fewshot) const {
  const Json& field =
      fewshot && !spec_.fewshot.gen_prefix.is_null() ? spec_.fewshot.gen_prefix : spec_.gen_prefix;
  if (field.is_null()) return std::nullopt;
  std::string s;
  if (is_column(field, doc))
    s = py_str(doc[field.get_ref<const std::string&>()]);
  else if (!field.is_string())
    s = py_str(field);
  else
    s = render_field(field, "gen_prefix", doc, doc_index).get<std::string>();
  if (s.empty()) return std::nullopt;
  return s;
}

// --------------------------------------------------------------------------- options

int effective_num_fewshot(const TaskSpec& spec, std::optional<int> cli) {
  if (spec.num_fewshot && *spec.num_fewshot == 0) return 0;
  const int n = cli ? *cli : spec.num_fewshot.value_or(0);
  if (n > 0 && !spec.fewshot_refusal.empty())
    throw Error("task '" + spec.name + "' cannot run " + std::to_string(n) +
                    "-shot: " + spec.fewshot_refusal,
                cli ? "--num_fewshot" : spec.where("num_fewshot"),
                "run it with --num_fewshot 0 (or without --num_fewshot, in a separate run from "
                "the few-shot tasks)");
  return n;
}

Json resolve_gen_kwargs(const TaskSpec& spec, const Json& overrides) {
  Json kw;
  if (spec.generation_kwargs.is_null()) {
    kw = Json::object();
    kw["temperature"] = 0.0;
    kw["do_sample"] = false;
    kw["max_gen_toks"] = 256;
    kw["until"] = Json::array({spec.fewshot_delimiter});
  } else {
    kw = spec.generation_kwargs;
    if (!kw.contains("until")) kw["until"] = Json::array({spec.fewshot_delimiter});
    if (kw.contains("temperature") && kw["temperature"].is_number())
      kw["temperature"] = kw["temperature"].get<double>();
  }
  if (overrides.is_object())
    for (auto& [k, v] : overrides.items()) kw[k] = v;
  return kw;
}

namespace {

Json parse_value(const std::string& raw) {
  std::string v = trim(raw);
  std::string low = to_lower(v);
  if (low == "true") return true;
  if (low == "false") return false;
  if (low == "none" || low == "null") return nullptr;
  if (!v.empty()) {
    char* end = nullptr;
    errno = 0;
    long long i = std::strtoll(v.c_str(), &end, 10);
    if (*end == '\0' && errno == 0) return static_cast<int64_t>(i);
    double d = std::strtod(v.c_str(), &end);
    if (*end == '\0' && v.find_first_of("0123456789") != std::string::npos &&
        v.find_first_of("xX") == std::string::npos)
      return d;
  }
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    try {
      return py_literal_eval(v);
    } catch (const Error&) {
      return v.substr(1, v.size() - 2);
    }
  }
  if (!v.empty() && (v.front() == '[' || v.front() == '{')) {
    try {
      return py_literal_eval(v);
    } catch (const Error&) {
      try {
        return Json::parse(v);
      } catch (const std::exception&) {
        return v;
      }
    }
  }
  return v;
}

}  // namespace

Json parse_kv_args(const std::string& text, const std::string& flag) {
  Json out = Json::object();
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      cur += c;
      if (c == '\\' && i + 1 < text.size()) {
        cur += text[++i];
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    if (c == '[' || c == '{' || c == '(') ++depth;
    if (c == ']' || c == '}' || c == ')') --depth;
    if (c == ',' && depth <= 0) {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  parts.push_back(cur);
  for (const auto& p : parts) {
    if (trim(p).empty()) continue;
    auto eq = p.find('=');
    if (eq == std::string::npos)
      throw Error("'" + trim(p) + "' is not key=value", flag,
                  "write " + flag + " \"key=value,key2=value2\"");
    std::string key = trim(p.substr(0, eq));
    if (key.empty()) throw Error("empty key in '" + trim(p) + "'", flag);
    out[key] = parse_value(p.substr(eq + 1));
  }
  return out;
}

// ------------------------------------------------------------------------------ docs

TaskDocs load_task_docs(const TaskSpec& spec, int num_fewshot) {
  TaskDocs out;
  auto split = spec.eval_split();
  if (!split)
    throw Error("task '" + spec.name + "' has neither test_split nor validation_split",
                spec.where("task"), "add test_split: <split name> (e.g. test or train)");
  const DocProcessor* proc =
      spec.process_docs.empty() ? nullptr : find_builtin_process_docs(spec.process_docs);
  auto load = [&](const std::string& s) {
    std::vector<Doc> docs;
    try {
      docs = load_split(spec.dataset, s);
    } catch (const Error& e) {
      throw Error("task '" + spec.name + "': " + e.what_failed(),
                  e.where().empty() ? spec.where("dataset_path") : e.where(), e.hint());
    }
    if (proc) docs = (*proc)(std::move(docs));
    return docs;
  };
  // Docs process_docs marked unusable are left out, counted by reason for the eval split.
  auto drop_skipped = [](std::vector<Doc>& docs,
                         std::vector<std::pair<std::string, int64_t>>* counts) {
    std::vector<Doc> kept;
    kept.reserve(docs.size());
    for (auto& d : docs) {
      if (!d.is_object() || !d.contains(kSkippedDocKey)) {
        kept.push_back(std::move(d));
        continue;
      }
      if (!counts) continue;
      const Json& why = d[kSkippedDocKey];
      const std::string reason = why.is_string() ? why.get<std::string>() : why.dump();
      auto it = std::find_if(counts->begin(), counts->end(),
                             [&](const auto& c) { return c.first == reason; });
      if (it == counts->end())
        counts->emplace_back(reason, 1);
      else
        ++it->second;
    }
    docs = std::move(kept);
  };
  out.eval = load(*split);
  if (proc) drop_skipped(out.eval, &out.skipped);
  out.original_len = static_cast<int64_t>(out.eval.size());
  if (num_fewshot > 0) {
    std::optional<std::string> pool_split;
    if (spec.fewshot.split) pool_split = spec.fewshot.split;
    if (!pool_split && spec.fewshot.samples.is_array()) {
      for (const auto& d : spec.fewshot.samples) out.fewshot_pool.push_back(d);
    } else {
      if (!pool_split) pool_split = spec.training_split;
      if (!pool_split) pool_split = spec.validation_split;
      if (!pool_split) pool_split = spec.test_split;
      if (pool_split) out.fewshot_pool = *pool_split == *split ? out.eval : load(*pool_split);
      if (proc) drop_skipped(out.fewshot_pool, nullptr);
    }
  }
  out.exclude_eval_doc = spec.fewshot.split == spec.test_split;
  return out;
}

// ---------------------------------------------------------------------------- planning

namespace {

struct Builder {
  const TaskSpec& spec;
  const DocFields& fields;
  const PromptOptions& opts;
  bool multiple_input = false;

  std::string ans_text(const Json& a, const std::optional<std::vector<std::string>>& c,
                       int64_t idx) const {
    if (a.is_number_integer() && c) {
      int64_t i = a.get<int64_t>();
      if (i < 0 || i >= static_cast<int64_t>(c->size()))
        throw Error("task '" + spec.name + "', few-shot doc " + std::to_string(idx) +
                        ": target index " + std::to_string(i) + " is out of range for " +
                        std::to_string(c->size()) + " choices",
                    spec.where("doc_to_target"));
      return (*c)[static_cast<size_t>(i)];
    }
    if (a.is_array()) return a.empty() ? "" : py_str(a[0]);
    if (a.is_string()) return a.get<std::string>();
    if (a.is_number_integer())
      throw Error(
          "task '" + spec.name + "', few-shot doc " + std::to_string(idx) +
              ": doc_to_target is the int " + a.dump() + " but the task has no doc_to_choice",
          spec.where("doc_to_target"),
          "render the answer text instead (e.g. \"{{answer}}\" as a string) or add doc_to_choice");
    return py_str(a);
  }

  // System message + shots (everything before the eval doc's question).
  std::vector<PromptMessage> prefix(const Doc& doc, int64_t doc_index,
                                    const std::vector<const Doc*>& shots) const {
    std::vector<PromptMessage> msgs;
    std::string sys = maybe_delimit(opts.system_instruction, fields.description(doc, doc_index),
                                    spec.fewshot_delimiter);
    if (!sys.empty()) msgs.push_back({"system", sys, ""});
    const std::string td = spec.fewshot.target_delimiter.value_or(spec.target_delimiter);
    const std::string fd = spec.fewshot.fewshot_delimiter.value_or(spec.fewshot_delimiter);
    for (const Doc* s : shots) {
      Json qj = fields.text(*s, doc_index, true);
      auto c = fields.choices(*s, doc_index, true);
      std::string q;
      if (multiple_input && qj.is_number_integer() && c) {
        int64_t i = qj.get<int64_t>();
        if (i < 0 || i >= static_cast<int64_t>(c->size()))
          throw Error("task '" + spec.name + "': few-shot doc_to_text index out of range",
                      spec.where("doc_to_text"));
        q = (*c)[static_cast<size_t>(i)];
      } else {
        q = py_str(qj);
      }
      Json a = fields.target(*s, doc_index, true);
      auto gp = fields.gen_prefix(*s, doc_index, true);
      bool has_answer = !a.is_null() && !(a.is_string() && a.get<std::string>().empty());
      std::string delim;
      if (has_answer) delim = gp ? (requires_delimiter(q, *gp) ? td : "") : td;
      msgs.push_back({"user", q, delim});
      if (has_answer)
        msgs.push_back(
            {"assistant", maybe_delimit(gp.value_or(""), ans_text(a, c, doc_index), " "), fd});
    }
    return msgs;
  }

  void add_eval(std::vector<PromptMessage>& msgs, const std::string& q,
                const std::optional<std::string>& gp) const {
    msgs.push_back({"user", q, gp && requires_delimiter(q, *gp) ? spec.target_delimiter : ""});
    if (gp) msgs.push_back({"assistant", *gp, ""});
  }

  BuiltContext render(const std::vector<PromptMessage>& msgs, bool has_gen_prefix) const {
    BuiltContext ctx;
    if (!opts.apply_chat_template) {
      for (const auto& m : msgs) ctx.text += m.content + m.delimiter;
      ctx.arg0 = ctx.text;
      return ctx;
    }
    ctx.chat = true;
    if (opts.fewshot_as_multiturn) {
      for (const auto& m : msgs) ctx.messages.push_back({m.role, m.content});
    } else {
      size_t begin = 0, end = msgs.size();
      if (!msgs.empty() && msgs[0].role == "system") {
        ctx.messages.push_back({"system", msgs[0].content});
        begin = 1;
      }
      if (has_gen_prefix && end > begin) --end;
      std::string user;
      for (size_t i = begin; i < end; ++i)
        user += msgs[i].content + (i + 1 == end ? "" : msgs[i].delimiter);
      ctx.messages.push_back({"user", user});
      if (has_gen_prefix) ctx.messages.push_back({"assistant", msgs.back().content});
    }
    if (opts.chat_template) {
      ctx.chat = false;
      ctx.text = opts.chat_template->render(ctx.messages, !has_gen_prefix, has_gen_prefix);
      ctx.messages.clear();
      ctx.arg0 = ctx.text;
      return ctx;
    }
    // json.dumps([{"role": ..., "content": ...}, ...]), written straight from the messages.
    std::string& a = ctx.arg0;
    a += '[';
    for (size_t k = 0; k < ctx.messages.size(); ++k) {
      a += k ? ", {\"role\": " : "{\"role\": ";
      append_py_json_string(a, ctx.messages[k].role);
      a += ", \"content\": ";
      append_py_json_string(a, ctx.messages[k].content);
      a += '}';
    }
    a += ']';
    return ctx;
  }
};

// The generative formulation's pieces (see prompt.h).
std::string strip_answer_cue(const std::string& q) {
  std::string t = py_rstrip(q);
  if (ends_with(t, "Answer:")) t = py_rstrip(t.substr(0, t.size() - 7));
  return t;
}

std::string mc_block(const std::string& q, const std::vector<std::string>& choices,
                     bool multiple_input, const std::string& td, const std::string& target) {
  if (!multiple_input && choices_are_letters(choices)) return q;
  std::string out = multiple_input ? "" : strip_answer_cue(q);
  if (!out.empty()) out += "\n";
  for (size_t i = 0; i < choices.size() && i < 26; ++i) {
    std::string c = multiple_input ? choices[i] + td + target : choices[i];
    out += std::string(1, kChoiceLetters[i]) + ". " + py_strip(c) + "\n";
  }
  return out + "Answer:";
}

// The gold index (or indices) of an MC doc, as scoring reads it: int, a choice string, or a
// list of ints. -1 when it names no choice.
std::vector<int64_t> gold_indices(const Json& gold, const std::vector<std::string>& choices) {
  std::vector<int64_t> out;
  auto one = [&](const Json& g) {
    if (g.is_number_integer()) {
      int64_t i = g.get<int64_t>();
      out.push_back(i >= 0 && i < static_cast<int64_t>(choices.size()) ? i : -1);
    } else {
      auto it = std::find(choices.begin(), choices.end(), py_str(g));
      out.push_back(it == choices.end() ? -1 : it - choices.begin());
    }
  };
  if (gold.is_array())
    for (const auto& g : gold) one(g);
  else
    one(gold);
  return out;
}

std::string gold_letters(const Json& gold, const std::vector<std::string>& choices) {
  std::string out;
  for (int64_t i : gold_indices(gold, choices))
    if (i >= 0 && i < 26) out += kChoiceLetters[i];
  return out;
}

// A request of ctx; consume: its text or messages are moved into the request (ctx's last
// use).
Request make_request(RequestKind kind, BuiltContext& ctx, const std::string& cont, bool consume) {
  Request r;
  r.kind = kind;
  if (ctx.chat)
    r.messages = consume ? std::move(ctx.messages) : ctx.messages;
  else
    r.prompt = consume ? std::move(ctx.text) : ctx.text;
  r.continuation = cont;
  return r;
}

}  // namespace

namespace {

// plan_task; take: the eval docs to move into the samples (the same as docs.eval), or null to
// copy them.
TaskPlan plan_docs(const TaskSpec& spec, const TaskDocs& docs, const PromptOptions& options,
                   int64_t limit, std::vector<Doc>* take) {
  TaskPlan plan;
  DocFields fields(spec);
  plan.num_fewshot = effective_num_fewshot(spec, options.num_fewshot);
  plan.repeats = options.repeats.value_or(spec.repeats);
  if (docs.eval.empty())
    throw Error("task '" + spec.name + "': the eval split '" + spec.eval_split().value_or("") +
                    "' has no docs",
                spec.where(spec.test_split ? "test_split" : "validation_split"),
                "check dataset_path / data_files and the split name");
  const Doc& first = docs.eval[0];
  plan.multiple_input = fields.has_choices() && fields.text(first, 0).is_number_integer();
  plan.multiple_target = fields.target(first, 0).is_array();
  plan.generative_mc = spec.output_type == OutputType::kMultipleChoice && options.mc_generative;
  if (spec.output_type == OutputType::kGenerateUntil)
    plan.gen_kwargs = resolve_gen_kwargs(spec, options.gen_kwargs_override);
  if (plan.generative_mc) {
    TaskSpec defaults;
    defaults.fewshot_delimiter = spec.fewshot_delimiter;
    plan.gen_kwargs = resolve_gen_kwargs(defaults, options.gen_kwargs_override);
  }

  const int n = plan.num_fewshot;
  const int64_t pool_size = static_cast<int64_t>(docs.fewshot_pool.size());
  if (n > 0) {
    const int64_t need = n + (docs.exclude_eval_doc && spec.fewshot.sampler == "default" ? 1 : 0);
    if (pool_size < need)
      throw Error("task '" + spec.name + "': " + std::to_string(n) + "-shot needs " +
                      std::to_string(need) + " few-shot docs but the pool has " +
                      std::to_string(pool_size),
                  spec.where("num_fewshot"),
                  "lower --num_fewshot or point fewshot_split / training_split at a larger split");
  }
  PyRandom rnd(options.fewshot_seed.value_or(static_cast<int64_t>(std::random_device{}())));

  // The kwargs every generate request of repeat r carries, made once and shared. Each repeat
  // samples with its own seed, seed + r (Evalchemy: [s + i for s in seed]).
  std::vector<SharedJson> repeat_gen_kwargs;
  for (int r = 0; r < std::max(plan.repeats, 1); ++r) {
    SharedJson g(plan.gen_kwargs);
    if (r > 0 && g->contains("seed") && g["seed"].is_number_integer())
      g.edit()["seed"] = g["seed"].get<int64_t>() + r;
    repeat_gen_kwargs.push_back(std::move(g));
  }

  Builder b{spec, fields, options, plan.multiple_input};
  bool wants_mutual_info = false;
  if (spec.metric_list.is_array())
    for (const auto& m : spec.metric_list)
      if (m.value("metric", Json("")) == "acc_mutual_info") wants_mutual_info = true;

  const int64_t count =
      std::min<int64_t>(limit < 0 ? static_cast<int64_t>(docs.eval.size()) : limit,
                        static_cast<int64_t>(docs.eval.size()));
  plan.docs.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const Doc& doc = docs.eval[static_cast<size_t>(i)];
    std::vector<const Doc*> shots;
    if (n > 0) {
      const Doc* self = docs.exclude_eval_doc ? &doc : nullptr;
      if (spec.fewshot.sampler == "first_n") {
        for (int64_t j = 0; j < n; ++j) {
          const Doc* d = &docs.fewshot_pool[static_cast<size_t>(j)];
          if (self && *d == *self) continue;
          shots.push_back(d);
        }
      } else {
        auto idx = rnd.sample(pool_size, self ? n + 1 : n);
        for (int64_t j : idx) {
          const Doc* d = &docs.fewshot_pool[static_cast<size_t>(j)];
          if (self && *d == *self) continue;
          if (static_cast<int>(shots.size()) < n) shots.push_back(d);
        }
      }
    }
    PlannedDoc pd;
    pd.sample.doc_id = i;
    pd.sample.target = fields.target(doc, i);
    auto gp = fields.gen_prefix(doc, i);
    std::vector<PromptMessage> pre = b.prefix(doc, i, shots);
    // consume: this is ctx's last use, so its strings are moved instead of copied.
    auto add = [&](RequestKind kind, BuiltContext& ctx, bool consume, const Json& arg1,
                   const std::string& cont) {
      SampleRequest sr;
      sr.kind = kind;
      sr.arguments["arg_0"] = consume ? std::move(ctx.arg0) : ctx.arg0;
      if (kind == RequestKind::kGenerate)      // arg1 is plan.gen_kwargs
        sr.gen_kwargs = repeat_gen_kwargs[0];  // arg_1, shared by the task's samples
      else if (!arg1.is_null())
        sr.arguments["arg_1"] = arg1;
      pd.sample.requests.push_back(std::move(sr));
      for (int r = 0; r < plan.repeats; ++r) {
        Request req = make_request(kind, ctx, cont, consume && r + 1 == plan.repeats);
        if (kind == RequestKind::kGenerate) req.gen_kwargs = repeat_gen_kwargs[r];
        req.repeat = r;
        pd.requests.push_back(std::move(req));
      }
    };
    switch (spec.output_type) {
      case OutputType::kGenerateUntil: {
        auto msgs = pre;
        Json qj = fields.text(doc, i);
        b.add_eval(msgs, py_str(qj), gp);
        pd.choices = fields.choices(doc, i);
        BuiltContext ctx = b.render(msgs, gp.has_value());
        add(RequestKind::kGenerate, ctx, spec.also_loglikelihood.empty(), plan.gen_kwargs, "");
        for (size_t k = 0; k < spec.also_loglikelihood.size(); ++k) {
          const auto& cont = spec.also_loglikelihood[k];
          add(RequestKind::kLoglikelihood, ctx, k + 1 == spec.also_loglikelihood.size(), cont,
              cont);
        }
        break;
      }
      case OutputType::kMultipleChoice: {
        if (plan.generative_mc) {
          pd.choices = fields.choices(doc, i);
          pd.gold = plan.multiple_input ? fields.text(doc, i) : pd.sample.target;
          std::vector<PromptMessage> msgs;
          std::string sys = maybe_delimit(options.system_instruction,
                                          fields.description(doc, i) + kGenerativeMcInstruction,
                                          spec.fewshot_delimiter);
          msgs.push_back({"system", sys, ""});
          const std::string td = spec.fewshot.target_delimiter.value_or(spec.target_delimiter);
          const std::string fd = spec.fewshot.fewshot_delimiter.value_or(spec.fewshot_delimiter);
          for (const Doc* s : shots) {
            auto c = fields.choices(*s, i, true).value_or(std::vector<std::string>{});
            Json tj = fields.target(*s, i, true);
            Json gold = plan.multiple_input ? fields.text(*s, i, true) : tj;
            std::string letters = gold_letters(gold, c);
            msgs.push_back(
                {"user",
                 mc_block(py_str(fields.text(*s, i, true)), c, plan.multiple_input, td, py_str(tj)),
                 td});
            msgs.push_back({"assistant", letters.substr(0, 1), fd});
          }
          msgs.push_back({"user",
                          mc_block(py_str(fields.text(doc, i)), *pd.choices, plan.multiple_input,
                                   spec.target_delimiter, py_str(pd.sample.target)),
                          ""});
          pd.sample.target = gold_letters(pd.gold, *pd.choices);
          BuiltContext ctx = b.render(msgs, false);
          add(RequestKind::kGenerate, ctx, true, plan.gen_kwargs, "");
          break;
        }
        pd.choices = fields.choices(doc, i);
        const std::string td = spec.target_delimiter;
        std::string cont_delim = td;
        if (options.apply_chat_template) cont_delim = gp && !last_is_space(*gp) ? td : "";
        if (plan.multiple_input) {
          pd.gold = fields.text(doc, i);
          std::string cont = cont_delim + py_str(pd.sample.target);
          for (const auto& c : *pd.choices) {
            auto msgs = pre;
            b.add_eval(msgs, c, gp);
            BuiltContext ctx = b.render(msgs, gp.has_value());
            add(RequestKind::kLoglikelihood, ctx, true, cont, cont);
          }
        } else {
          pd.gold = pd.sample.target;
          auto msgs = pre;
          b.add_eval(msgs, py_str(fields.text(doc, i)), gp);
          BuiltContext ctx = b.render(msgs, gp.has_value());
          for (size_t k = 0; k < pd.choices->size(); ++k) {
            std::string cont = cont_delim + (*pd.choices)[k];
            add(RequestKind::kLoglikelihood, ctx, k + 1 == pd.choices->size(), cont, cont);
          }
        }
        if (wants_mutual_info) {
          BuiltContext empty;
          for (const auto& c : *pd.choices)
            add(RequestKind::kLoglikelihood, empty, false, cont_delim + c, cont_delim + c);
        }
        break;
      }
      case OutputType::kLoglikelihood: {
        auto msgs = pre;
        b.add_eval(msgs, py_str(fields.text(doc, i)), gp);
        std::string cont = py_str(pd.sample.target);
        BuiltContext ctx = b.render(msgs, gp.has_value());
        add(RequestKind::kLoglikelihood, ctx, true, cont, cont);
        break;
      }
      case OutputType::kLoglikelihoodRolling: {
        pd.rolling_text = py_str(pd.sample.target);
        BuiltContext ctx;
        ctx.arg0 = pd.rolling_text;
        SampleRequest sr;
        sr.kind = RequestKind::kLoglikelihoodRolling;
        sr.arguments = Json{{"arg_0", pd.rolling_text}};
        pd.sample.requests.push_back(std::move(sr));
        for (int r = 0; r < plan.repeats; ++r) {
          Request req;
          req.kind = RequestKind::kLoglikelihoodRolling;
          req.continuation = pd.rolling_text;
          req.repeat = r;
          pd.requests.push_back(std::move(req));
        }
        break;
      }
    }
    // Last: the doc was read above (doc == docs.eval[i]; later docs only read their own).
    if (take)
      pd.sample.doc = std::move((*take)[static_cast<size_t>(i)]);
    else
      pd.sample.doc = doc;
    plan.docs.push_back(std::move(pd));
  }
  return plan;
}

}  // namespace

TaskPlan plan_task(const TaskSpec& spec, const TaskDocs& docs, const PromptOptions& options,
                   int64_t limit) {
  return plan_docs(spec, docs, options, limit, nullptr);
}

TaskPlan plan_task(const TaskSpec& spec, TaskDocs&& docs, const PromptOptions& options,
                   int64_t limit) {
  return plan_docs(spec, docs, options, limit, &docs.eval);
}

}  // namespace retort
