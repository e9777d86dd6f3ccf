// The built-in math tasks produce their reference harness's prompts byte for byte
// (Evalchemy's for AIME/AMC/MATH-500, lm-eval's for hendrycks_math and gsm8k_cot), on
// synthetic docs shaped like the real datasets' rows.
#include <gtest/gtest.h>

#include "prompt/prompt.h"
#include "support/test_support.h"
#include "tasks/tasks.h"

namespace retort {
namespace {

TaskSpec builtin(const std::string& rel) {
  return load_task_file(testing::source_dir() + "/tasks/" + rel);
}

TEST(MathTaskPrompts, EvalchemyCompetitionPromptsAndDefaults) {
  for (const char* file : {"math/aime24.yaml", "math/aime25.yaml", "math/math500.yaml"}) {
    TaskSpec spec = builtin(file);
    TaskDocs docs;
    docs.eval = {Doc{{"problem", "Find $x$ if $2x = 4$."}, {"answer", "2"}}};
    PromptOptions opts;
    opts.apply_chat_template = true;
    TaskPlan plan = plan_task(spec, docs, opts, -1);
    const Request& req = plan.docs[0].requests[0];
    ASSERT_EQ(req.messages.size(), 1u) << file;
    EXPECT_EQ(req.messages[0].role, "user");
    // Evalchemy AIME24/eval_instruct.py L14: one backslash, nothing trailing.
    EXPECT_EQ(req.messages[0].content,
              "Problem: Find $x$ if $2x = 4$.\nMark your solution with \\boxed\nAnswer:")
        << file;
    EXPECT_EQ(plan.gen_kwargs["temperature"], 0.7) << file;
    EXPECT_EQ(plan.gen_kwargs["max_gen_toks"], 32768) << file;
    EXPECT_EQ(plan.gen_kwargs["until"], Json::array()) << file;
    EXPECT_EQ(plan.repeats, std::string(file) == "math/math500.yaml" ? 1 : 10) << file;
  }
  TaskSpec amc = builtin("math/amc23.yaml");
  TaskDocs docs;
  docs.eval = {Doc{{"id", 0}, {"question", "What is 1+1?"}, {"answer", 2}}};
  PromptOptions opts;
  opts.repeats = 4;
  TaskPlan plan = plan_task(amc, docs, opts, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt,
            "Problem: What is 1+1?\nMark your solution with \\boxed\nAnswer:");
  EXPECT_EQ(plan.docs[0].sample.target, Json("2"));
  // --repeats: four distinct requests.
  ASSERT_EQ(plan.docs[0].requests.size(), 4u);
  EXPECT_EQ(plan.docs[0].requests[3].repeat, 3);
}

TEST(MathTaskPrompts, RepeatsGetSuccessiveSeeds) {
  TaskSpec spec = builtin("math/aime24.yaml");
  TaskDocs docs;
  docs.eval = {Doc{{"problem", "p"}, {"answer", "1"}}};
  PromptOptions opts;
  opts.gen_kwargs_override = Json{{"seed", 100}};
  opts.repeats = 3;
  TaskPlan plan = plan_task(spec, docs, opts, -1);
  ASSERT_EQ(plan.docs[0].requests.size(), 3u);
  EXPECT_EQ(plan.docs[0].requests[0].gen_kwargs["seed"], 100);
  EXPECT_EQ(plan.docs[0].requests[2].gen_kwargs["seed"], 102);
}

TEST(MathTaskPrompts, HendrycksMathAnswerIsTheLastBoxOfTheSolution) {
  TaskSpec spec = builtin("hendrycks_math/hendrycks_math_algebra.yaml");
  EXPECT_EQ(spec.dataset.name, "algebra");
  ASSERT_FALSE(spec.process_docs.empty());
  std::vector<Doc> raw = {Doc{{"problem", "Solve $x+1=2$."},
                              {"level", "Level 1"},
                              {"type", "Algebra"},
                              {"solution", "First \\boxed{3}, no: $x = \\boxed{\\frac{1}{1}}$."}}};
  TaskDocs docs;
  docs.eval = (*find_builtin_process_docs(spec.process_docs))(raw);
  EXPECT_EQ(docs.eval[0]["answer"], "\\frac{1}{1}");
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt, "Problem: Solve $x+1=2$.\nAnswer:");
  EXPECT_EQ(plan.gen_kwargs["until"], Json::array({"Problem:"}));
}

// lm-eval's minerva_math: 4 fixed exemplars (first_n), each "Problem:\n<p>\n\nSolution:" +
// target_delimiter " " + its whole solution, joined by "\n\n"; the eval doc's target is its
// normalised boxed answer.
TEST(MathTaskPrompts, MinervaMathFourShotPromptByteForByte) {
  TaskSpec spec = builtin("minerva_math/minerva_math_geometry.yaml");
  EXPECT_EQ(spec.name, "minerva_math_geometry");
  EXPECT_EQ(spec.dataset.name, "geometry");
  ASSERT_TRUE(spec.fewshot.samples.is_array());
  ASSERT_EQ(spec.fewshot.samples.size(), 4u);
  std::vector<Doc> raw = {Doc{{"problem", "Find the area."},
                              {"level", "Level 2"},
                              {"type", "Geometry"},
                              {"solution", "It is $\\boxed{12\\text{ cm}^2}$."}}};
  TaskDocs docs;
  docs.eval = (*find_builtin_process_docs(spec.process_docs))(raw);
  // normalize_final_answer: " " dropped, "cm" removed, then \text{}^2.
  EXPECT_EQ(docs.eval[0]["answer"], "12");
  EXPECT_EQ(docs.eval[0]["level"], "Level 2");  // dataset.map keeps the columns
  for (const auto& d : spec.fewshot.samples) docs.fewshot_pool.push_back(d);
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.num_fewshot, 4);
  const std::string& p = plan.docs[0].requests[0].prompt;
  const std::string head =
      "Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2}}{\\sqrt{5-x}}$.}\n\n"
      "Solution: The expressions inside each square root must be non-negative.";
  EXPECT_EQ(p.substr(0, head.size()), head);
  // The third exemplar's align block: "480\\" then a newline in Python's source is one
  // backslash and a line feed.
  EXPECT_NE(p.find("30n&=480\\\n\\Rightarrow\\qquad n&=480/30=\\boxed{16}\n\\end{align*}\n"
                   "Final Answer: The final answer is $16$. I hope it is correct.\n\nProblem:\n"
                   "If the system of equations\n\n\\begin{align*}\n6x-4y&=a,\\\n6y-9x &=b."),
            std::string::npos)
      << p;
  const std::string tail =
      "Final Answer: The final answer is $-\\frac{2}{3}$. I hope it is correct.\n\n"
      "Problem:\nFind the area.\n\nSolution:";
  ASSERT_GE(p.size(), tail.size());
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
  EXPECT_EQ(plan.docs[0].sample.target, Json("12"));
  EXPECT_EQ(plan.gen_kwargs["until"], Json::array({"Problem:"}));
}

TEST(MathTaskPrompts, Gsm8kCotEightFixedExemplars) {
  TaskSpec spec = builtin("gsm8k/gsm8k-cot.yaml");
  TaskDocs docs;
  docs.eval = {Doc{{"question", "How many?"}, {"answer", "2 + 1 = 3\n#### 3"}}};
  ASSERT_TRUE(spec.fewshot.samples.is_array());
  for (const auto& d : spec.fewshot.samples) docs.fewshot_pool.push_back(d);
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.num_fewshot, 8);
  const std::string& p = plan.docs[0].requests[0].prompt;
  EXPECT_EQ(p.substr(0, 60), "Q: There are 15 trees in the grove. Grove workers will plant");
  EXPECT_NE(p.find("A: There are 15 trees originally. Then there were 21 trees after some more "
                   "were planted. So there must have been 21 - 15 = 6. The answer is 6.\n\nQ: If"),
            std::string::npos)
      << p;
  const std::string tail = "The answer is 8.\n\nQ: How many?\nA:";
  ASSERT_GE(p.size(), tail.size());
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
  EXPECT_EQ(plan.docs[0].sample.target, Json("3"));
  TaskSpec sc = builtin("gsm8k/gsm8k-cot-self-consistency.yaml");
  EXPECT_EQ(sc.repeats, 64);
  EXPECT_EQ(sc.name, "gsm8k_cot_self_consistency");
}

TEST(MathTaskPrompts, EvalchemySpellingsResolve) {
  TaskRegistry reg;
  reg.add_dir(testing::source_dir() + "/tasks");
  Selection s = reg.select({"AIME24", "AIME25", "AMC23", "MATH500"});
  ASSERT_EQ(s.tasks.size(), 4u);
  EXPECT_EQ(s.tasks[0].name, "aime24");
  EXPECT_EQ(s.tasks[3].name, "math500");
  Selection h = reg.select({"hendrycks_math"});
  EXPECT_EQ(h.tasks.size(), 7u);
  for (const char* name : {"minerva_math", "Minerva-MATH", "MinervaMath"}) {
    Selection m = reg.select({name});
    ASSERT_EQ(m.tasks.size(), 7u) << name;
    EXPECT_EQ(m.tasks[0].name, "minerva_math_algebra") << name;
    EXPECT_EQ(m.tasks[6].name, "minerva_math_precalc") << name;
    EXPECT_EQ(m.tasks[5].dataset.name, "prealgebra") << name;
  }
}

}  // namespace
}  // namespace retort
