// Built-in doc processor of lm-eval's hendrycks_math tasks (lm_eval/tasks/hendrycks_math/
// utils.py process_docs, L6-15): each doc keeps its columns and gains
// answer = remove_boxed(last_boxed_only_string(solution)).
#include "tasks/task_spec_internal.h"
#include "util/error.h"
#include "util/latex_boxed.h"

namespace retort::tasks_internal {

std::vector<Doc> hendrycks_math_process_docs(std::vector<Doc> docs) {
  for (size_t i = 0; i < docs.size(); ++i) {
    Doc& doc = docs[i];
    if (!doc.is_object() || !doc.contains("solution") || !doc["solution"].is_string())
      throw Error("hendrycks_math doc " + std::to_string(i) + " has no string 'solution'",
                  "process_docs", "the dataset needs problem and solution columns");
    // Python raises where no \boxed{} answer can be read; the doc gets an empty answer here,
    // which no reply can match.
    doc["answer"] = hendrycks_boxed_answer(doc["solution"].get<std::string>()).value_or("");
  }
  return docs;
}

}  // namespace retort::tasks_internal
