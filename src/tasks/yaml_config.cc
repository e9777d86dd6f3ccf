#include "tasks/yaml_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <regex>

#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort::tasks_internal {

namespace fs = std::filesystem;

namespace {

std::string at(const std::string& file, const YAML::Mark& m) {
  return file + ":" + std::to_string(m.line + 1);
}

bool full_match(const std::string& s, const std::regex& re) {
  return std::regex_match(s, re);
}

// PyYAML (YAML 1.1) implicit resolvers for plain scalars.
Json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  static const char* kTrue[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* kFalse[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue)
    if (s == t) return true;
  for (const char* f : kFalse)
    if (s == f) return false;
  const char c = s[0];
  if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.')) return s;
  // Compiled once: building a std::regex costs more than parsing a whole task file.
  static const std::regex kBinary("[-+]?0b[0-1_]+");
  static const std::regex kHex("[-+]?0x[0-9a-fA-F_]+");
  static const std::regex kOctal("[-+]?0[0-7_]+");
  static const std::regex kInt("[-+]?(0|[1-9][0-9_]*)");
  static const std::regex kFloat("[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?");
  static const std::regex kInf("[-+]?\\.(inf|Inf|INF)");
  static const std::regex kNan("\\.(nan|NaN|NAN)");
  std::string digits;
  for (char ch : s)
    if (ch != '_') digits += ch;
  try {
    if (full_match(s, kBinary)) {
      bool neg = digits[0] == '-';
      size_t p = digits.find('b') + 1;
      int64_t v = std::stoll(digits.substr(p), nullptr, 2);
      return neg ? -v : v;
    }
    if (full_match(s, kHex)) {
      bool neg = digits[0] == '-';
      size_t p = digits.find('x') + 1;
      int64_t v = std::stoll(digits.substr(p), nullptr, 16);
      return neg ? -v : v;
    }
    if (full_match(s, kOctal)) {
      bool neg = digits[0] == '-';
      int64_t v =
          std::stoll(digits.substr(digits[0] == '-' || digits[0] == '+' ? 1 : 0), nullptr, 8);
      return neg ? -v : v;
    }
    if (full_match(s, kInt)) return std::stoll(digits);
    if (full_match(s, kFloat)) {
      if (digits == "." || digits == "-." || digits == "+.") return s;
      return std::stod(digits);
    }
    if (full_match(s, kInf))
      return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
    if (full_match(s, kNan)) return std::numeric_limits<double>::quiet_NaN();
  } catch (const std::exception&) {
    return s;  // out of range: keep the text
  }
  return s;
}

Json convert(const YAML::Node& n, const std::string& file) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& tag = n.Tag();
      if (tag == "!function") {
        Json f = Json::object();
        f["!function"] = n.Scalar();
        f["where"] = at(file, n.Mark());
        return f;
      }
      if (tag == "?") return plain_scalar(n.Scalar());
      if (tag == "tag:yaml.org,2002:int") return plain_scalar(n.Scalar());
      if (tag == "tag:yaml.org,2002:float") return plain_scalar(n.Scalar());
      if (tag == "tag:yaml.org,2002:bool") return plain_scalar(n.Scalar());
      if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag.empty()) return n.Scalar();
      throw Error("unsupported YAML tag '" + tag + "'", at(file, n.Mark()),
                  "lm-eval task files only use the !function tag");
    }
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& item : n) a.push_back(convert(item, file));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (auto it = n.begin(); it != n.end(); ++it) {
        Json k = convert(it->first, file);
        std::string key = k.is_string() ? k.get<std::string>() : k.dump();
        o[key] = convert(it->second, file);
      }
      return o;
    }
  }
  return nullptr;
}

}  // namespace

bool is_function(const Json& v) {
  return v.is_object() && v.contains("!function");
}
std::string function_name(const Json& v) {
  return v.at("!function").get<std::string>();
}
std::string function_where(const Json& v) {
  return v.value("where", "");
}

YamlConfig parse_yaml_config(const std::string& text, const std::string& file) {
  YamlConfig cfg;
  cfg.file = file;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw Error(
        "YAML syntax error: " + e.msg,
        file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
        "fix the YAML at that line (indentation, quotes, brackets)");
  } catch (const YAML::Exception& e) {
    throw Error(std::string("cannot read YAML: ") + e.what(), file);
  }
  if (root.IsNull()) return cfg;
  if (!root.IsMap())
    throw Error("a task file must be a YAML mapping (key: value lines)", at(file, root.Mark()));
  bool first = true;
  for (auto it = root.begin(); it != root.end(); ++it) {
    Json k = convert(it->first, file);
    std::string key = k.is_string() ? k.get<std::string>() : k.dump();
    cfg.value[key] = convert(it->second, file);
    cfg.where[key] = at(file, it->first.Mark());
    if (first) cfg.line = it->first.Mark().line + 1;
    first = false;
  }
  return cfg;
}

YamlConfig resolve_includes(YamlConfig cfg, int depth, std::vector<std::string>* files_read) {
  if (!cfg.value.contains("include")) return cfg;
  if (depth > 32)
    throw Error("include nesting deeper than 32 levels (a cycle?)", cfg.where["include"]);
  const Json inc = cfg.value["include"];
  std::vector<std::string> paths;
  if (inc.is_string()) {
    paths.push_back(inc.get<std::string>());
  } else if (inc.is_array()) {
    for (const auto& p : inc) {
      if (!p.is_string()) throw Error("include entries must be file paths", cfg.where["include"]);
      paths.push_back(p.get<std::string>());
    }
  } else {
    throw Error("include must be a file path or a list of paths", cfg.where["include"]);
  }
  YamlConfig merged;
  merged.file = cfg.file;
  merged.line = cfg.line;
  const fs::path dir = fs::path(cfg.file).parent_path();
  for (const auto& p : paths) {
    fs::path full = fs::path(p).is_absolute() ? fs::path(p) : dir / p;
    if (files_read) files_read->push_back(full.string());
    if (!fs::exists(full)) {
      throw Error("included file '" + p + "' does not exist (looked at " + full.string() + ")",
                  cfg.where["include"], "include paths are relative to the including file");
    }
    log::debug("tasks: reading {}", full.string());
    std::string text = read_file(full.string());
    YamlConfig sub = parse_yaml_config(text, full.lexically_normal().string());
    sub = resolve_includes(std::move(sub), depth + 1, files_read);
    for (auto& [k, v] : sub.value.items()) {
      merged.value[k] = v;
      merged.where[k] = sub.where[k];
    }
  }
  for (auto& [k, v] : cfg.value.items()) {
    if (k == "include") continue;
    merged.value[k] = v;
    merged.where[k] = cfg.where[k];
  }
  return merged;
}

YamlConfig load_yaml_config(const std::string& path, std::vector<std::string>* files_read) {
  std::string abs = fs::absolute(fs::path(path)).lexically_normal().string();
  if (files_read) files_read->push_back(abs);
  log::debug("tasks: reading {}", abs);
  std::string text = read_file(abs);
  return resolve_includes(parse_yaml_config(text, abs), 0, files_read);
}

Json display_config(const Json& v) {
  if (is_function(v)) return "!function " + function_name(v);
  if (v.is_object()) {
    Json o = Json::object();
    for (auto& [k, x] : v.items()) o[k] = display_config(x);
    return o;
  }
  if (v.is_array()) {
    Json a = Json::array();
    for (const auto& x : v) a.push_back(display_config(x));
    return a;
  }
  return v;
}

}  // namespace retort::tasks_internal
