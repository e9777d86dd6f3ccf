// Doc processors of the built-in code tasks (see docs/code.md).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

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

// xlangai/DS-1000: keeps the problems whose library the sandbox's python3 can import
// (Debian packages python3-numpy, -pandas, -scipy, -sklearn, -matplotlib, -torch);
// says how many were skipped and why. TensorFlow is not packaged in Debian.
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
  std::vector<Doc> kept;
  for (auto& doc : docs) {
    std::string lib;
    if (doc.contains("metadata") && doc["metadata"].is_object() &&
        doc["metadata"].contains("library") && doc["metadata"]["library"].is_string())
      lib = doc["metadata"]["library"].get<std::string>();
    auto it = kLibraries.find(lib);
    if (it == kLibraries.end()) {
      ++skipped[lib.empty() ? "(no library)" : lib];
      continue;
    }
    auto a = available.find(lib);
    if (a == available.end())
      a = available.emplace(lib, python_module_installed(it->second.first)).first;
    if (!a->second) {
      ++skipped[lib];
      continue;
    }
    kept.push_back(std::move(doc));
  }
  for (const auto& [lib, n] : skipped) {
    auto it = kLibraries.find(lib);
    const std::string why =
        it == kLibraries.end()
            ? "not available from Debian"
            : it->second.second + " is not installed (apt-get install " + it->second.second + ")";
    log::warn("ds1000: skipped {} problem(s) using {}: {}", n, lib, why);
  }
  return kept;
}

}  // namespace retort
