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

// lm-eval's minerva_math/utils.py process_docs: answer = normalize_final_answer(
// remove_boxed(last_boxed_only_string(solution))), the other columns kept (dataset.map).
std::vector<Doc> minerva_math_process_docs(std::vector<Doc> docs) {
  for (size_t i = 0; i < docs.size(); ++i) {
    Doc& doc = docs[i];
    if (!doc.is_object() || !doc.contains("solution") || !doc["solution"].is_string() ||
        !doc.contains("problem"))
      throw Error("minerva_math doc " + std::to_string(i) + " has no string 'solution'",
                  "process_docs", "the dataset needs problem and solution columns");
    // Python raises where no \boxed{} answer can be read; here the doc gets an empty
    // answer, which no reply can match.
    auto boxed = hendrycks_boxed_answer(doc["solution"].get<std::string>());
    doc["answer"] = boxed ? minerva_normalize_final_answer(*boxed) : std::string();
  }
  return docs;
}

// leaderboard/math/utils.py process_docs (the Open LLM Leaderboard's MATH-hard): only the
// "Level 5" docs, each with answer = remove_boxed(last_boxed_only_string(solution)), not
// normalised (process_results normalises it).
std::vector<Doc> leaderboard_math_process_docs(std::vector<Doc> docs) {
  std::vector<Doc> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    Doc& doc = docs[i];
    if (!doc.is_object() || !doc.contains("level") || !doc.contains("solution") ||
        !doc["solution"].is_string())
      throw Error(
          "leaderboard math doc " + std::to_string(i) + " needs a 'level' and a string 'solution'",
          "leaderboard/math/utils.process_docs",
          "this hook expects the columns of DigitalLearningGmbH/MATH-lighteval");
    if (doc["level"] != "Level 5") continue;
    doc["answer"] = hendrycks_boxed_answer(doc["solution"].get<std::string>()).value_or("");
    out.push_back(std::move(doc));
  }
  return out;
}

// leaderboard/math/utils.py list_fewshot_samples: minerva_math's four, each with
// "level": "Level 5".
Json leaderboard_math_fewshot_samples(const Doc& doc) {
  Json out = minerva_math_fewshot_samples(doc);
  for (auto& d : out) d["level"] = "Level 5";
  return out;
}

// minerva_math/utils.py doc_to_text: "Problem:\n" + problem + "\n\nSolution:".
Json minerva_math_doc_to_text(const Doc& doc) {
  if (!doc.contains("problem") || !doc["problem"].is_string())
    throw Error("minerva_math doc_to_text: the doc has no string 'problem'");
  return "Problem:\n" + doc["problem"].get<std::string>() + "\n\nSolution:";
}

// minerva_math/utils.py list_fewshot_samples: the four fixed exemplars of Lewkowycz et al.
// (2022), {problem, solution, few_shot: "1"}, byte for byte (lm-eval at 4e7e0d47).
Json minerva_math_fewshot_samples(const Doc&) {
  static const std::pair<const char*, const char*> kSamples[] = {
      {R"mfs(Find the domain of the expression  $\frac{\sqrt{x-2}}{\sqrt{5-x}}$.})mfs",
       R"mfs(The expressions inside each square root must be non-negative. Therefore, $x-2 \ge 0$, so $x\ge2$, and $5 - x \ge 0$, so $x \le 5$. Also, the denominator cannot be equal to zero, so $5-x>0$, which gives $x<5$. Therefore, the domain of the expression is $\boxed{[2,5)}$.
Final Answer: The final answer is $[2,5)$. I hope it is correct.)mfs"},
      {R"mfs(If $\det \mathbf{A} = 2$ and $\det \mathbf{B} = 12,$ then find $\det (\mathbf{A} \mathbf{B}).$)mfs",
       R"mfs(We have that $\det (\mathbf{A} \mathbf{B}) = (\det \mathbf{A})(\det \mathbf{B}) = (2)(12) = \boxed{24}.$
Final Answer: The final answer is $24$. I hope it is correct.)mfs"},
      {R"mfs(Terrell usually lifts two 20-pound weights 12 times. If he uses two 15-pound weights instead, how many times must Terrell lift them in order to lift the same total weight?)mfs",
       R"mfs(If Terrell lifts two 20-pound weights 12 times, he lifts a total of $2\cdot 12\cdot20=480$ pounds of weight.  If he lifts two 15-pound weights instead for $n$ times, he will lift a total of $2\cdot15\cdot n=30n$ pounds of weight.  Equating this to 480 pounds, we can solve for $n$:
\begin{align*}
30n&=480\
\Rightarrow\qquad n&=480/30=\boxed{16}
\end{align*}
Final Answer: The final answer is $16$. I hope it is correct.)mfs"},
      {R"mfs(If the system of equations

\begin{align*}
6x-4y&=a,\
6y-9x &=b.
\end{align*}has a solution $(x, y)$ where $x$ and $y$ are both nonzero,
find $\frac{a}{b},$ assuming $b$ is nonzero.)mfs",
       R"mfs(If we multiply the first equation by $-\frac{3}{2}$, we obtain

$$6y-9x=-\frac{3}{2}a.$$Since we also know that $6y-9x=b$, we have

$$-\frac{3}{2}a=b\Rightarrow\frac{a}{b}=\boxed{-\frac{2}{3}}.$$
Final Answer: The final answer is $-\frac{2}{3}$. I hope it is correct.)mfs"},
  };
  Json out = Json::array();
  for (const auto& [problem, solution] : kSamples)
    out.push_back(Json{{"problem", problem}, {"solution", solution}, {"few_shot", "1"}});
  return out;
}

}  // namespace retort::tasks_internal
