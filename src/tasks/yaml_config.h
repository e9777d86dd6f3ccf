// Internal: reading lm-eval YAML files into JSON with the line of every top-level key, and
// resolving `include`. Scalars are typed the way PyYAML's SafeLoader (YAML 1.1) types them,
// because that is what lm-eval sees: `yes` is True, `1e-5` is a string, `1.0e-5` a float.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "util/json.h"

namespace retort::tasks_internal {

// A `!function NAME` value is kept as {"!function": NAME, "where": "file:line"}.
bool is_function(const Json& v);
std::string function_name(const Json& v);
std::string function_where(const Json& v);

struct YamlConfig {
  std::string file;  // absolute path
  int line = 1;      // line of the first key
  Json value = Json::object();
  std::map<std::string, std::string> where;  // top-level key -> "file:line"
};

// Parses YAML text (name is used in error messages); the top level must be a mapping.
YamlConfig parse_yaml_config(const std::string& text, const std::string& file);

// Reads path, then resolves `include` (a path or list of paths, relative to the including
// file) recursively: included keys first, the including file's keys win. When files_read
// is given, every file it reads or looks for (absolute, in order; a missing include too) is
// appended to it: the files the result depends on.
YamlConfig load_yaml_config(const std::string& path,
                            std::vector<std::string>* files_read = nullptr);

// Applies includes of an already parsed config (for inline task dicts inside group files).
YamlConfig resolve_includes(YamlConfig cfg, int depth = 0,
                            std::vector<std::string>* files_read = nullptr);

// Config as shown to users / in results: `!function` markers become "!function NAME".
Json display_config(const Json& v);

}  // namespace retort::tasks_internal
