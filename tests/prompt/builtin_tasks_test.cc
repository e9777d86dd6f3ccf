// The built-in task files in tasks/ produce lm-eval's prompts for their benchmarks (checked
// on synthetic docs shaped like the real datasets' rows).
#include <gtest/gtest.h>

#include "prompt/prompt.h"
#include "support/test_support.h"
#include "tasks/tasks.h"

namespace retort {
namespace {

std::string tasks_dir() {
  return testing::source_dir() + "/tasks";
}

TaskSpec builtin(const std::string& rel) {
  return load_task_file(tasks_dir() + "/" + rel);
}

TEST(BuiltinTasks, MmluSubjectPrompt) {
  TaskSpec spec = builtin("mmlu/mmlu_anatomy.yaml");
  TaskDocs docs;
  docs.eval = {Doc{{"question", " Which bone? "},
                   {"subject", "anatomy"},
                   {"choices", {"femur", "ulna", "tibia", "skull"}},
                   {"answer", 2}}};
  docs.fewshot_pool = {Doc{{"question", "Which organ?"},
                           {"subject", "anatomy"},
                           {"choices", {"heart", "lung", "liver", "skin"}},
                           {"answer", 1}}};
  PromptOptions opts;
  opts.num_fewshot = 1;
  TaskPlan plan = plan_task(spec, docs, opts, -1);
  const auto& pd = plan.docs[0];
  EXPECT_EQ(pd.requests[0].prompt,
            "The following are multiple choice questions (with answers) about anatomy.\n\n"
            "Which organ?\nA. heart\nB. lung\nC. liver\nD. skin\nAnswer: B\n\n"
            "Which bone?\nA. femur\nB. ulna\nC. tibia\nD. skull\nAnswer:");
  ASSERT_EQ(pd.requests.size(), 4u);
  EXPECT_EQ(pd.requests[3].continuation, " D");
  EXPECT_EQ(pd.gold, Json(2));
}

TEST(BuiltinTasks, ArcPromptAndGold) {
  TaskSpec spec = builtin("arc/arc_challenge.yaml");
  EXPECT_EQ(spec.dataset.name, "ARC-Challenge");
  TaskDocs docs;
  docs.eval = {Doc{{"id", "x1"},
                   {"question", "Which is a gas?"},
                   {"choices", {{"text", {"ice", "steam", "rock"}}, {"label", {"A", "B", "C"}}}},
                   {"answerKey", "B"}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt, "Question: Which is a gas?\nAnswer:");
  EXPECT_EQ(plan.docs[0].requests[1].continuation, " steam");
  EXPECT_EQ(plan.docs[0].gold, Json(1));
}

TEST(BuiltinTasks, HellaswagPreprocessAndPrompt) {
  TaskSpec spec = builtin("hellaswag/hellaswag.yaml");
  ASSERT_FALSE(spec.process_docs.empty());
  std::vector<Doc> raw = {
      Doc{{"ind", 4},
          {"activity_label", "Removing ice from car"},
          {"ctx_a", "Then, the man writes over the snow covering the window of a car."},
          {"ctx_b", "a woman wearing winter clothes"},
          {"ctx", "ignored"},
          {"endings", {", cleans the car.", "[title] walks away."}},
          {"label", "0"}}};
  TaskDocs docs;
  docs.eval = (*find_builtin_process_docs(spec.process_docs))(raw);
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt,
            "Removing ice from car: Then, the man writes over the snow covering the window of a "
            "car. A woman wearing winter clothes");
  EXPECT_EQ(plan.docs[0].requests[0].continuation, " , cleans the car.");
  EXPECT_EQ(plan.docs[0].requests[1].continuation, "  walks away.");  // choice " walks away."
  EXPECT_EQ(plan.docs[0].gold, Json(0));
}

TEST(BuiltinTasks, Gsm8kFewshotPromptAndGenerationKwargs) {
  TaskSpec spec = builtin("gsm8k/gsm8k.yaml");
  TaskDocs docs;
  for (int i = 0; i < 8; ++i)
    docs.fewshot_pool.push_back(
        Doc{{"question", "q" + std::to_string(i)}, {"answer", "a\n#### " + std::to_string(i)}});
  docs.eval = {Doc{{"question", "How many?"}, {"answer", "x\n#### 3"}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.num_fewshot, 5);
  // sample(range(8), 5) with Random(1234); every shot is "Question: qi\nAnswer: a\n#### i".
  const std::string& p = plan.docs[0].requests[0].prompt;
  EXPECT_EQ(p.rfind("Question: How many?\nAnswer:"), p.size() - 27);
  EXPECT_EQ(p.substr(0, 13), "Question: q7\n") << p;
  EXPECT_EQ(plan.gen_kwargs.dump(),
            R"({"until":["Question:","</s>","<|im_end|>"],"do_sample":false,"temperature":0.0})");
}

TEST(BuiltinTasks, EvalchemyNamesResolve) {
  TaskRegistry reg;
  reg.add_dir(tasks_dir());
  Selection mmlu = reg.select({"MMLU"});
  ASSERT_EQ(mmlu.roots.size(), 1u);
  EXPECT_TRUE(mmlu.roots[0].is_group);
  EXPECT_EQ(mmlu.roots[0].children.size(), 4u);
  EXPECT_EQ(mmlu.tasks.size(), 57u);
  Selection arc = reg.select({"ARC-c", "HellaSwag", "gsm8k"});
  ASSERT_EQ(arc.tasks.size(), 3u);
  EXPECT_EQ(arc.tasks[0].name, "arc_challenge");
  EXPECT_EQ(arc.tasks[1].name, "hellaswag");
}

}  // namespace
}  // namespace retort
