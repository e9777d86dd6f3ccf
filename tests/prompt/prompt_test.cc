// Prompt bytes as lm-eval builds them (lm-eval-semantics.md §2-§6), using the worked
// examples of §4 and §5 verbatim.
#include <gtest/gtest.h>

#include "prompt/prompt.h"
#include "support/test_support.h"
#include "tasks/tasks.h"
#include "template/template.h"
#include "util/error.h"

namespace retort {
namespace {

using testing::TempDir;
using testing::write_text;

TaskSpec spec_from_yaml(const TempDir& dir, const std::string& yaml,
                        const std::string& name = "t.yaml") {
  write_text(dir.file(name), yaml);
  return load_task_file(dir.file(name));
}

const char* kArithMc = R"(task: arith
dataset_path: json
test_split: test
output_type: multiple_choice
description: "Answer the arithmetic questions.\n\n"
doc_to_text: "Q: {{question}}\nA:"
doc_to_choice: "{{choices}}"
doc_to_target: "{{label}}"
fewshot_config:
  sampler: first_n
)";

TaskDocs arith_docs() {
  TaskDocs d;
  d.eval = {Doc{{"question", "1+1?"}, {"choices", {"1", "2", "3"}}, {"label", 1}}};
  d.original_len = 1;
  d.fewshot_pool = {Doc{{"question", "2+2?"}, {"choices", {"3", "4", "5"}}, {"label", 1}},
                    Doc{{"question", "3+3?"}, {"choices", {"6", "7", "8"}}, {"label", 0}}};
  return d;
}

TEST(Prompt, TwoShotMultipleChoicePlainText) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, kArithMc);
  PromptOptions opts;
  opts.num_fewshot = 2;
  TaskPlan plan = plan_task(spec, arith_docs(), opts, -1);
  ASSERT_EQ(plan.docs.size(), 1u);
  const auto& pd = plan.docs[0];
  const std::string ctx =
      "Answer the arithmetic questions.\n\nQ: 2+2?\nA: 4\n\nQ: 3+3?\nA: 6\n\nQ: 1+1?\nA:";
  ASSERT_EQ(pd.requests.size(), 3u);
  const char* conts[] = {" 1", " 2", " 3"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(pd.requests[i].kind, RequestKind::kLoglikelihood);
    EXPECT_EQ(pd.requests[i].prompt, ctx);
    EXPECT_EQ(pd.requests[i].continuation, conts[i]);
    EXPECT_EQ(pd.sample.requests[i].arguments["arg_0"], ctx);
    EXPECT_EQ(pd.sample.requests[i].arguments["arg_1"], conts[i]);
  }
  EXPECT_EQ(pd.gold, Json(1));
  EXPECT_EQ(pd.sample.target, Json(1));
}

TEST(Prompt, GenPrefixGoesAfterTheQuestionAndEveryShot) {
  TempDir dir;
  std::string yaml = kArithMc;
  yaml.replace(yaml.find("Q: {{question}}\\nA:"), std::string("Q: {{question}}\\nA:").size(),
               "Q: {{question}}");
  yaml += "gen_prefix: \"Answer:\"\n";
  TaskSpec spec = spec_from_yaml(dir, yaml);
  PromptOptions opts;
  opts.num_fewshot = 2;
  TaskPlan plan = plan_task(spec, arith_docs(), opts, -1);
  const auto& pd = plan.docs[0];
  EXPECT_EQ(pd.requests[0].prompt,
            "Answer the arithmetic questions.\n\nQ: 2+2? Answer: 4\n\nQ: 3+3? Answer: 6\n\nQ: "
            "1+1? Answer:");
  EXPECT_EQ(pd.requests[0].continuation, " 1");
}

TEST(Prompt, ChatMultiTurnMessages) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, kArithMc);
  PromptOptions opts;
  opts.num_fewshot = 2;
  opts.apply_chat_template = true;
  opts.fewshot_as_multiturn = true;
  TaskPlan plan = plan_task(spec, arith_docs(), opts, -1);
  const auto& pd = plan.docs[0];
  EXPECT_EQ(pd.sample.requests[0].arguments["arg_0"],
            R"([{"role": "system", "content": "Answer the arithmetic questions.\n\n"}, )"
            R"({"role": "user", "content": "Q: 2+2?\nA:"}, {"role": "assistant", "content": "4"}, )"
            R"({"role": "user", "content": "Q: 3+3?\nA:"}, {"role": "assistant", "content": "6"}, )"
            R"({"role": "user", "content": "Q: 1+1?\nA:"}])");
  ASSERT_EQ(pd.requests[0].messages.size(), 6u);
  EXPECT_EQ(pd.requests[0].messages[5].content, "Q: 1+1?\nA:");
  // Under a chat template the MC continuation is the bare choice (no gen_prefix).
  EXPECT_EQ(pd.requests[0].continuation, "1");
}

TEST(Prompt, ChatSingleTurnMessages) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, kArithMc);
  PromptOptions opts;
  opts.num_fewshot = 2;
  opts.apply_chat_template = true;
  opts.fewshot_as_multiturn = false;
  TaskPlan plan = plan_task(spec, arith_docs(), opts, -1);
  const auto& m = plan.docs[0].requests[0].messages;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].role, "system");
  EXPECT_EQ(m[0].content, "Answer the arithmetic questions.\n\n");
  EXPECT_EQ(m[1].role, "user");
  EXPECT_EQ(m[1].content, "Q: 2+2?\nA: 4\n\nQ: 3+3?\nA: 6\n\nQ: 1+1?\nA:");
}

const char* kGen = R"(task: qa
dataset_path: json
test_split: test
doc_to_text: "Q: {{q}}"
doc_to_target: "{{a}}"
)";

TEST(Prompt, SystemInstructionGluesOntoTheFirstExample) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, kGen);
  TaskDocs docs;
  docs.eval = {Doc{{"q", "x"}, {"a", "y"}}};
  PromptOptions opts;
  opts.system_instruction = "Be brief.";
  TaskPlan plan = plan_task(spec, docs, opts, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt, "Be brief.Q: x");
}

TEST(Prompt, DefaultGenerationKwargsInLmEvalOrder) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, kGen);
  TaskDocs docs;
  docs.eval = {Doc{{"q", "x"}, {"a", "y"}}, Doc{{"q", "x2"}, {"a", "y2"}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.gen_kwargs.dump(),
            R"({"temperature":0.0,"do_sample":false,"max_gen_toks":256,"until":["\n\n"]})");
  EXPECT_EQ(plan.docs[0].requests[0].kind, RequestKind::kGenerate);
  EXPECT_EQ(plan.docs[0].sample.requests[0].logged_arguments()["arg_1"], plan.gen_kwargs);
  // One value for the task's samples, not a copy in each.
  EXPECT_EQ(plan.docs[0].sample.requests[0].gen_kwargs.identity(),
            plan.docs[1].sample.requests[0].gen_kwargs.identity());
  EXPECT_EQ(plan.docs[1].requests[0].gen_kwargs.identity(),
            plan.docs[0].sample.requests[0].gen_kwargs.identity());
}

TEST(Prompt, GenKwargsWithoutUntilGetTheFewshotDelimiterAndOverridesUpdate) {
  TempDir dir;
  TaskSpec spec =
      spec_from_yaml(dir, std::string(kGen) +
                              "fewshot_delimiter: \"\\n###\\n\"\n"
                              "generation_kwargs:\n  temperature: 1\n  max_gen_toks: 5\n");
  Json kw = resolve_gen_kwargs(spec, parse_kv_args("max_gen_toks=7,top_p=0.5", "--gen_kwargs"));
  EXPECT_EQ(kw.dump(), R"({"temperature":1.0,"max_gen_toks":7,"until":["\n###\n"],"top_p":0.5})");
}

TEST(Prompt, RepeatsMakeDistinctRequests) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, std::string(kGen) + "repeats: 3\n");
  TaskDocs docs;
  docs.eval = {Doc{{"q", "x"}, {"a", "y"}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  ASSERT_EQ(plan.docs[0].requests.size(), 3u);
  ASSERT_EQ(plan.docs[0].sample.requests.size(), 1u);
  for (int r = 0; r < 3; ++r) EXPECT_EQ(plan.docs[0].requests[r].repeat, r);
}

// Few-shot pool of 10 docs {"i": k}; seed 1234 draws sample(range(10), 3) = [7, 1, 0], then
// [1, 0, 9] (§3 check values).
TEST(Prompt, SeededSamplerDrawsOncePerDocInOrder) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, R"(task: s
dataset_path: json
test_split: test
training_split: train
doc_to_text: "{{i}}"
doc_to_target: "t{{i}}"
target_delimiter: "="
fewshot_delimiter: ";"
)");
  TaskDocs docs;
  for (int k = 0; k < 10; ++k) docs.fewshot_pool.push_back(Doc{{"i", k}});
  docs.eval = {Doc{{"i", 100}}, Doc{{"i", 101}}};
  docs.exclude_eval_doc = false;
  PromptOptions opts;
  opts.num_fewshot = 3;
  TaskPlan plan = plan_task(spec, docs, opts, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt, "7=t7;1=t1;0=t0;100");
  EXPECT_EQ(plan.docs[1].requests[0].prompt, "1=t1;0=t0;9=t9;101");
  // --limit does not change doc 0's prompt.
  TaskPlan one = plan_task(spec, docs, opts, 1);
  ASSERT_EQ(one.docs.size(), 1u);
  EXPECT_EQ(one.docs[0].requests[0].prompt, "7=t7;1=t1;0=t0;100");
}

TEST(Prompt, SelfExclusionDrawsOneMoreAndDropsTheEvalDoc) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, R"(task: s
dataset_path: json
test_split: test
doc_to_text: "{{i}}"
doc_to_target: "t{{i}}"
target_delimiter: "="
fewshot_delimiter: ";"
)");
  TaskDocs docs;
  for (int k = 0; k < 10; ++k) docs.fewshot_pool.push_back(Doc{{"i", k}});
  docs.eval = {Doc{{"i", 1}}};
  docs.exclude_eval_doc = true;  // fewshot split == test split
  PromptOptions opts;
  opts.num_fewshot = 2;
  // sample(range(10), 3) = [7, 1, 0]; 1 is the eval doc itself.
  TaskPlan plan = plan_task(spec, docs, opts, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt, "7=t7;0=t0;1");
}

TEST(Prompt, DigitTargetIsAnIndexWhenChoicesExist) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, R"(task: d
dataset_path: json
test_split: test
output_type: multiple_choice
doc_to_text: "{{q}}"
doc_to_choice: ["1", "2", "3"]
doc_to_target: "{{a}}"
)");
  TaskDocs docs;
  docs.eval = {Doc{{"q", "pick"}, {"a", "2"}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.docs[0].gold, Json(2));  // index 2, i.e. the choice "3"
}

TEST(Prompt, ListLiteralTargetIsMultipleTargets) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, R"(task: m
dataset_path: json
test_split: test
doc_to_text: "{{q}}"
doc_to_target: "{{answers}}"
)");
  TaskDocs docs;
  docs.eval = {Doc{{"q", "x"}, {"answers", {"a", "it's"}}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_TRUE(plan.multiple_target);
  EXPECT_EQ(plan.docs[0].sample.target, Json({"a", "it's"}));
}

TEST(Prompt, ColumnNameReturnsTheRawValue) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, R"(task: c
dataset_path: json
test_split: test
output_type: loglikelihood
doc_to_text: ctx
doc_to_target: cont
)");
  TaskDocs docs;
  docs.eval = {Doc{{"ctx", "The sky is"}, {"cont", " blue"}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt, "The sky is");
  EXPECT_EQ(plan.docs[0].requests[0].continuation, " blue");  // no delimiter for loglikelihood
}

TEST(Prompt, MultipleInputBuildsOneContextPerChoice) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, R"(task: w
dataset_path: json
test_split: test
output_type: multiple_choice
doc_to_text: "{{answer}}"
doc_to_choice: "{{[option1, option2]}}"
doc_to_target: "{{rest}}"
)");
  TaskDocs docs;
  docs.eval = {
      Doc{{"option1", "The cat"}, {"option2", "The dog"}, {"answer", "1"}, {"rest", "barked."}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_TRUE(plan.multiple_input);
  ASSERT_EQ(plan.docs[0].requests.size(), 2u);
  EXPECT_EQ(plan.docs[0].requests[0].prompt, "The cat");
  EXPECT_EQ(plan.docs[0].requests[1].prompt, "The dog");
  EXPECT_EQ(plan.docs[0].requests[1].continuation, " barked.");
  EXPECT_EQ(plan.docs[0].gold, Json(1));
}

TEST(Prompt, JinjaControlFlowAndIncludes) {
  TempDir dir;
  write_text(dir.file("_base"), R"(dataset_path: json
test_split: test
output_type: multiple_choice
doc_to_text: "{{question}}\n{% for c in choices %}{{ 'ABCD'[loop.index0] }}. {{c}}\n{% endfor %}Answer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: answer
)");
  TaskSpec spec = spec_from_yaml(dir, "include: _base\ntask: letters\n");
  TaskDocs docs;
  docs.eval = {Doc{{"question", "Which?"}, {"choices", {"x", "y", "z", "w"}}, {"answer", 2}}};
  TaskPlan plan = plan_task(spec, docs, PromptOptions{}, -1);
  EXPECT_EQ(plan.docs[0].requests[0].prompt, "Which?\nA. x\nB. y\nC. z\nD. w\nAnswer:");
  EXPECT_EQ(plan.docs[0].requests[3].continuation, " D");
}

TEST(Prompt, TemplateErrorNamesTaskDocAndField) {
  TempDir dir;
  TaskSpec spec = spec_from_yaml(dir, kGen);
  TaskDocs docs;
  docs.eval = {Doc{{"q", "x"}, {"a", "y"}}, Doc{{"question", "x"}, {"a", "y"}}};
  try {
    plan_task(spec, docs, PromptOptions{}, -1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.message();
    EXPECT_NE(m.find("task 'qa'"), std::string::npos) << m;
    EXPECT_NE(m.find("doc 1"), std::string::npos) << m;
    EXPECT_NE(m.find("doc_to_text"), std::string::npos) << m;
    EXPECT_NE(m.find("question"), std::string::npos) << m;  // the hint lists the columns
  }
}

// DocFields parses its task's templates once; what it renders (and the errors it throws)
// are those of render_template under the name "<task>:<field>".
TEST(DocFields, RendersWhatRenderTemplateRenders) {
  const Doc doc{{"question", "  Which bone? "},
                {"answer", "It is 4/2 = 2.\n#### 2 "},
                {"choices", {"femur", "ulna", "it's"}},
                {"passage", " A  B c "},
                {"label", 1}};
  const std::vector<std::string> sources = {
      "Question: {{question}}\nAnswer:",
      "{{answer.split('####')[-1].strip()}}",
      "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nAnswer:",
      "{% for c in choices %}{{ 'ABC'[loop.index0] }}. {{ c }}\n{% endfor %}",
      "{{ passage | trim | replace('  ', ' ') | lower }}",
      "{{ choices }}",
      "plain text\n",
  };
  for (const auto& src : sources) {
    TaskSpec spec;
    spec.name = "t";
    spec.doc_to_text = src;
    spec.doc_to_target = src;
    spec.fewshot.doc_to_text = "shot: " + src;
    const DocFields fields(spec);
    EXPECT_EQ(fields.text(doc, 0), Json(render_template(src, doc, "t:doc_to_text"))) << src;
    EXPECT_EQ(fields.text(doc, 0, true),
              Json(render_template("shot: " + src, doc, "t:doc_to_text")))
        << src;
    if (src != "{{ choices }}") {  // a rendered list literal becomes a list (tested elsewhere)
      EXPECT_EQ(fields.target(doc, 0), Json(render_template(src, doc, "t:doc_to_target"))) << src;
    }
  }
}

TEST(DocFields, ErrorsNameTaskDocAndFieldAsBefore) {
  const Doc doc{{"question", "q"}, {"{{odd", "a column"}};
  TaskSpec spec;
  spec.name = "t";
  spec.doc_to_text = "Q: {{ nope }}";  // parses; fails when rendered
  spec.doc_to_target = "{{ question";  // does not parse
  spec.gen_prefix = "{{odd";           // does not parse, but is a column
  const DocFields fields(spec);
  try {
    fields.text(doc, 7);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.what_failed(), "task 't', doc 7, doc_to_text: undefined variable 'nope'");
    EXPECT_EQ(e.where(), "t:doc_to_text:1:7 (" + spec.where("doc_to_text") + ")");
    EXPECT_NE(e.hint().find("the doc's columns are: question, {{odd"), std::string::npos)
        << e.hint();
  }
  std::string syntax_error, syntax_where;
  try {
    render_template("{{ question", doc, "t:doc_to_target");
  } catch (const Error& e) {
    syntax_error = e.what_failed();
    syntax_where = e.where();
  }
  ASSERT_FALSE(syntax_error.empty());
  try {
    fields.target(doc, 3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.what_failed(), "task 't', doc 3, doc_to_target: " + syntax_error);
    EXPECT_EQ(e.where(), syntax_where + " (" + spec.where("doc_to_target") + ")");
  }
  EXPECT_EQ(fields.gen_prefix(doc, 0), std::optional<std::string>("a column"));
}

TEST(Prompt, MaybeDelimit) {
  EXPECT_EQ(maybe_delimit("", "b", " "), "b");
  EXPECT_EQ(maybe_delimit("a", "", " "), "a");
  EXPECT_EQ(maybe_delimit("a", "b", " "), "a b");
  EXPECT_EQ(maybe_delimit("a\n", "b", " "), "a\nb");
  EXPECT_EQ(maybe_delimit("a", "\u3000b", " "), "a\u3000b");
  EXPECT_FALSE(requires_delimiter("", "x"));
  EXPECT_TRUE(requires_delimiter("Q:", "A:"));
  EXPECT_FALSE(requires_delimiter("Q: ", "A:"));
}

TEST(Prompt, ParseKvArgs) {
  Json j = parse_kv_args("a=1,b=0.5,c=True,d=none,e=\"x,y\",f=[\"\\n\"],g=hello", "--gen_kwargs");
  EXPECT_EQ(j.dump(), R"({"a":1,"b":0.5,"c":true,"d":null,"e":"x,y","f":["\n"],"g":"hello"})");
  EXPECT_THROW(parse_kv_args("oops", "--gen_kwargs"), Error);
}

TEST(Prompt, EffectiveNumFewshot) {
  TaskSpec s;
  EXPECT_EQ(effective_num_fewshot(s, std::nullopt), 0);
  EXPECT_EQ(effective_num_fewshot(s, 5), 5);
  s.num_fewshot = 3;
  EXPECT_EQ(effective_num_fewshot(s, std::nullopt), 3);
  EXPECT_EQ(effective_num_fewshot(s, 5), 5);
  s.num_fewshot = 0;
  EXPECT_EQ(effective_num_fewshot(s, 5), 0);
}

}  // namespace
}  // namespace retort
