// Doc processors of the built-in code tasks (see docs/code.md).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tasks/tasks.h"
#include "util/json.h"
#include "util/log.h"

namespace retort {

namespace {

void append_tests(const Doc& doc, const char* column, Json& inputs, Json& outputs) {
  if (!doc.contains(column) || !doc[column].is_object()) return;
  const Json& t = doc[column];
  if (!t.contains("input") || !t.contains("output") || !t["input"].is_array() ||
      !t["output"].is_array())
    return;
  for (size_t i = 0; i < t["input"].size() && i < t["output"].size(); ++i) {
    inputs.push_back(t["input"][i]);
    outputs.push_back(t["output"][i]);
  }
}

bool python_module_installed(const std::string& module) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists("/usr/lib/python3/dist-packages/" + module, ec)) return true;
  for (const char* root : {"/usr/local/lib", "/usr/lib"}) {
    for (const auto& e : fs::directory_iterator(root, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("python3", 0) != 0) continue;
      for (const char* sub : {"/dist-packages/", "/site-packages/"})
        if (fs::exists(e.path().string() + sub + module, ec)) return true;
    }
  }
  return false;
}

}  // namespace

// deepmind/code_contests: one `tests` column {input: [...], output: [...]} with the public,
// private and generated tests, in that order.
std::vector<Doc> code_contests_process_docs(std::vector<Doc> docs) {
  for (auto& doc : docs) {
    Json inputs = Json::array(), outputs = Json::array();
    for (const char* c : {"public_tests", "private_tests", "generated_tests"})
      append_tests(doc, c, inputs, outputs);
    doc["tests"] = Json{{"input", std::move(inputs)}, {"output", std::move(outputs)}};
  }
  return docs;
}

// xlangai/DS-1000: problems whose library the sandbox's python3 cannot import (Debian
// packages python3-numpy, -pandas, -scipy, -sklearn, -matplotlib, -torch; TensorFlow is
// not packaged in Debian) are kept marked with kSkippedDocKey and the reason, so the run
// leaves them out and reports how many were skipped and why.
std::vector<Doc> ds1000_process_docs(std::vector<Doc> docs) {
  static const std::map<std::string, std::pair<std::string, std::string>> kLibraries = {
      {"Numpy", {"numpy", "python3-numpy"}},
      {"Pandas", {"pandas", "python3-pandas"}},
      {"Scipy", {"scipy", "python3-scipy"}},
      {"Sklearn", {"sklearn", "python3-sklearn"}},
      {"Matplotlib", {"matplotlib", "python3-matplotlib"}},
      {"Pytorch", {"torch", "python3-torch"}},
  };
  std::map<std::string, bool> available;
  std::map<std::string, int> skipped;
  for (auto& doc : docs) {
    std::string lib;
    if (doc.contains("metadata") && doc["metadata"].is_object() &&
        doc["metadata"].contains("library") && doc["metadata"]["library"].is_string())
      lib = doc["metadata"]["library"].get<std::string>();
    auto it = kLibraries.find(lib);
    std::string why;
    if (it == kLibraries.end()) {
      why = (lib.empty() ? std::string("no library named") : lib) + ": not available from Debian";
    } else {
      auto a = available.find(lib);
      if (a == available.end())
        a = available.emplace(lib, python_module_installed(it->second.first)).first;
      if (a->second) continue;
      why = lib + ": " + it->second.second + " is not installed (apt-get install " +
            it->second.second + ")";
    }
    ++skipped[why];
    doc[kSkippedDocKey] = why;
  }
  for (const auto& [why, n] : skipped) log::warn("ds1000: skipped {} problem(s): {}", n, why);
  return docs;
}

}  // namespace retort
