// The catalog's built-in tasks (tasks/<benchmark>/) on synthetic rows in each benchmark's
// real Hub schema, served by a fake Hub under the real repo ids: the exact prompt bytes of
// a zero-shot and a few-shot prompt against lm-eval's definitions, and the verdicts on
// scripted responses (right, wrong, failed). Expected prompts are written out by hand from
// lm-eval's task files and hooks (commit 4e7e0d4), not computed by retort's code.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "cli/run_pipeline.h"
#include "data/hub.h"
#include "prompt/prompt.h"
#include "scoring/scoring.h"
#include "support/hub_task_test.h"
#include "support/test_support.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort {
namespace {

using testing::TempDir;

using testing::jsonl;

class Catalog : public testing::HubTaskTest {
 protected:
  TaskPlan plan(const TaskSpec& spec, std::optional<int> shots, bool generative = false) {
    PromptOptions opts;
    opts.num_fewshot = shots;
    opts.mc_generative = generative;
    TaskDocs docs = load_task_docs(spec, effective_num_fewshot(spec, shots));
    return plan_task(spec, docs, opts, -1);
  }

  // Scores a planned task on the given per-request responses (lls for loglikelihood
  // requests, text for generation), as `retort run` does.
  TaskResult score(const TaskSpec& spec, TaskPlan plan, const std::vector<Response>& responses) {
    cli::TaskRun r;
    r.spec = &spec;
    r.plan = std::move(plan);
    cli::configure_scoring(r, false);
    std::vector<Response> resp = responses;
    EXPECT_EQ(resp.size(), [&] {
      size_t n = 0;
      for (const auto& d : r.plan.docs) n += d.requests.size();
      return n;
    }());
    return cli::score_task_run(r, resp, PromptOptions{}, 0);
  }

  static double metric(const TaskResult& t, const std::string& name, const std::string& filter) {
    for (const auto& m : t.metrics)
      if (m.metric == name && m.filter == filter) return m.value;
    ADD_FAILURE() << "no " << name << "," << filter;
    return -1;
  }
};

// ------------------------------------------------------------------------- winogrande

TEST_F(Catalog, WinograndePartialScoringPrompts) {
  Json eval = {{"sentence", "The trophy didn't fit in the suitcase because _ was too big."},
               {"option1", "the trophy"},
               {"option2", "the suitcase"},
               {"answer", "1"}};
  std::vector<Json> train = {{{"sentence", "Ann paid Bo because _ owed money."},
                              {"option1", "Ann"},
                              {"option2", "Bo"},
                              {"answer", "1"}},
                             {{"sentence", "Sam thanked Tom because _ had helped him."},
                              {"option1", "Sam"},
                              {"option2", "Tom"},
                              {"answer", "2"}},
                             {{"sentence", "Kim hugged Lee because _ was sad."},
                              {"option1", "Kim"},
                              {"option2", "Lee"},
                              {"answer", "2"}}};
  serve("allenai/winogrande", "winogrande_xl", {{"train", train}, {"validation", {eval}}});
  TaskSpec spec = task("winogrande");
  TaskPlan p0 = plan(spec, 0);
  ASSERT_TRUE(p0.multiple_input);
  const auto& d = p0.docs[0];
  ASSERT_EQ(d.requests.size(), 2u);
  EXPECT_EQ(d.requests[0].prompt, "The trophy didn't fit in the suitcase because the trophy");
  EXPECT_EQ(d.requests[1].prompt, "The trophy didn't fit in the suitcase because the suitcase");
  EXPECT_EQ(d.requests[0].continuation, " was too big.");
  EXPECT_EQ(d.gold, Json(0));
  // One shot: Random(1234).sample(pool of 3, 2) picks train[1] first (the eval doc is
  // passed for exclusion, since fewshot_split and test_split are both unset).
  TaskPlan p1 = plan(spec, 1);
  EXPECT_EQ(p1.docs[0].requests[1].prompt,
            "Sam thanked Tom because Tom had helped him.\n\n"
            "The trophy didn't fit in the suitcase because the suitcase");
  TaskResult right = score(spec, plan(spec, 0), {ll(-1), ll(-3)});
  EXPECT_EQ(metric(right, "acc", "none"), 1.0);
  TaskResult wrong = score(spec, plan(spec, 0), {ll(-3), ll(-1)});
  EXPECT_EQ(metric(wrong, "acc", "none"), 0.0);
  TaskResult bad = score(spec, plan(spec, 0), {ll(-1), failed()});
  EXPECT_EQ(bad.failed_samples, 1);
}

// ------------------------------------------------------------------------ simple MC

TEST_F(Catalog, PiqaPrompts) {
  auto row = [](const std::string& g, const std::string& a, const std::string& b, int l) {
    return Json{{"goal", g}, {"sol1", a}, {"sol2", b}, {"label", l}};
  };
  serve("baber/piqa", "default",
        {{"train",
          {row("g0", "a0", "b0", 0), row("How to dry a shirt?", "Hang it.", "Eat it.", 0),
           row("g2", "a2", "b2", 1)}},
         {"validation", {row("How to open a jar?", "Twist the lid.", "Eat the lid.", 1)}}});
  TaskSpec spec = task("piqa");
  TaskPlan p0 = plan(spec, 0);
  EXPECT_EQ(p0.docs[0].requests[0].prompt, "Question: How to open a jar?\nAnswer:");
  EXPECT_EQ(p0.docs[0].requests[1].continuation, " Eat the lid.");
  TaskPlan p1 = plan(spec, 1);
  EXPECT_EQ(p1.docs[0].requests[0].prompt,
            "Question: How to dry a shirt?\nAnswer: Hang it.\n\n"
            "Question: How to open a jar?\nAnswer:");
  TaskResult t = score(spec, plan(spec, 0), {ll(-1), ll(-2)});
  EXPECT_EQ(metric(t, "acc", "none"), 0.0);  // gold is sol2
}

TEST_F(Catalog, BoolqPrompts) {
  auto row = [](const std::string& q, const std::string& p, int l) {
    return Json{{"question", q}, {"passage", p}, {"idx", 0}, {"label", l}};
  };
  serve(
      "aps/super_glue", "boolq",
      {{"train", {row("q0", "p0", 0), row("is water wet", "Water is wet.", 1), row("q2", "p2", 0)}},
       {"validation", {row("is the sky green", "The sky is blue.", 0)}}});
  TaskSpec spec = task("BoolQ");
  EXPECT_EQ(spec.name, "boolq");
  TaskPlan p0 = plan(spec, 0);
  EXPECT_EQ(p0.docs[0].requests[0].prompt,
            "The sky is blue.\nQuestion: is the sky green?\nAnswer:");
  EXPECT_EQ(p0.docs[0].requests[0].continuation, " no");
  EXPECT_EQ(p0.docs[0].requests[1].continuation, " yes");
  TaskPlan p1 = plan(spec, 1);
  EXPECT_EQ(p1.docs[0].requests[0].prompt,
            "Water is wet.\nQuestion: is water wet?\nAnswer: yes\n\n"
            "The sky is blue.\nQuestion: is the sky green?\nAnswer:");
  EXPECT_EQ(metric(score(spec, plan(spec, 0), {ll(-0.5), ll(-2)}), "acc", "none"), 1.0);
}

TEST_F(Catalog, CopaHooks) {
  auto row = [](const std::string& p, const std::string& c1, const std::string& c2,
                const std::string& q, int l) {
    return Json{{"premise", p},  {"choice1", c1}, {"choice2", c2},
                {"question", q}, {"idx", 0},      {"label", l}};
  };
  serve("aps/super_glue", "copa",
        {{"train",
          {row("A.", "B.", "C.", "cause", 0),
           row("The sun rose.", "The rooster crowed.", "It rained.", "effect", 0),
           row("D.", "E.", "F.", "cause", 1)}},
         {"validation",
          {row("The man broke his toe. ", "He dropped a hammer on his foot.",
               "He got a hole in his sock.", "cause", 1)}}});
  TaskSpec spec = task("copa");
  TaskPlan p0 = plan(spec, 0);
  const auto& d = p0.docs[0];
  EXPECT_EQ(d.requests[0].prompt, "The man broke his toe because");
  // Choices carry their own leading space and the target delimiter adds one more.
  EXPECT_EQ(d.requests[0].continuation, "  he dropped a hammer on his foot.");
  EXPECT_EQ(d.requests[1].continuation, "  he got a hole in his sock.");
  EXPECT_EQ(d.sample.target, Json(" he got a hole in his sock."));
  TaskPlan p1 = plan(spec, 1);
  EXPECT_EQ(p1.docs[0].requests[0].prompt,
            "The sun rose therefore  the rooster crowed.\n\nThe man broke his toe because");
  EXPECT_EQ(metric(score(spec, plan(spec, 0), {ll(-4), ll(-2)}), "acc", "none"), 1.0);
}

TEST_F(Catalog, RteGlueAndSuperGlue) {
  serve(
      "aps/super_glue", "rte",
      {{"train",
        {{{"premise", "P0."}, {"hypothesis", "H0."}, {"idx", 0}, {"label", 0}},
         {{"premise", "Cats purr."}, {"hypothesis", "Cats make sounds."}, {"idx", 1}, {"label", 0}},
         {{"premise", "P2."}, {"hypothesis", "H2."}, {"idx", 2}, {"label", 1}}}},
       {"validation",
        {{{"premise", "Dogs bark."}, {"hypothesis", "Dogs fly."}, {"idx", 0}, {"label", 1}}}}});
  serve("nyu-mll/glue", "rte",
        {{"train",
          {{{"sentence1", "S0."}, {"sentence2", "T0."}, {"label", 0}, {"idx", 0}},
           {{"sentence1", "Ice is cold."}, {"sentence2", "Ice is hot."}, {"label", 1}, {"idx", 1}},
           {{"sentence1", "S2."}, {"sentence2", "T2."}, {"label", 0}, {"idx", 2}}}},
         {"validation",
          {{{"sentence1", "A is B."}, {"sentence2", "B is A."}, {"label", 0}, {"idx", 0}}}}});
  TaskSpec sg = task("sglue_rte");
  EXPECT_EQ(plan(sg, 0).docs[0].requests[0].prompt,
            "Dogs bark.\nQuestion: Dogs fly. True or False?\nAnswer:");
  EXPECT_EQ(plan(sg, 1).docs[0].requests[1].prompt,
            "Cats purr.\nQuestion: Cats make sounds. True or False?\nAnswer: True\n\n"
            "Dogs bark.\nQuestion: Dogs fly. True or False?\nAnswer:");
  EXPECT_EQ(plan(sg, 0).docs[0].requests[1].continuation, " False");
  TaskSpec glue = task("rte");
  EXPECT_EQ(plan(glue, 1).docs[0].requests[0].prompt,
            "Ice is cold.\nQuestion: Ice is hot. True or False?\nAnswer: False\n\n"
            "A is B.\nQuestion: B is A. True or False?\nAnswer:");
  EXPECT_EQ(metric(score(glue, plan(glue, 0), {ll(-1), ll(-2)}), "acc", "none"), 1.0);
}

TEST_F(Catalog, WscSuperGluePassage) {
  auto row = [](const std::string& text, int s1i, const std::string& s1, int s2i,
                const std::string& s2, int label) {
    return Json{{"text", text},     {"span1_index", s1i}, {"span2_index", s2i}, {"span1_text", s1},
                {"span2_text", s2}, {"idx", 0},           {"label", label}};
  };
  Json eval =
      row("Mark told Pete many lies about himself , which Pete included in his book . He should "
          "have been more skeptical .",
          0, "Pete", 15, "He", 1);
  serve("aps/super_glue", "wsc.fixed",
        {{"train",
          {row("A b .", 0, "A", 1, "b", 0), row("Jo saw ( her ) dog .", 0, "Jo", 3, "her", 1),
           row("C d .", 0, "C", 1, "d", 0)}},
         {"validation", {eval}}});
  TaskSpec spec = task("wsc");
  const std::string q =
      "Passage: Mark told Pete many lies about himself, which Pete included in his book. *He* "
      "should have been more skeptical.\nQuestion: In the passage above, does the pronoun "
      "\"*He*\" refer to \"*Pete*\"?\nAnswer:";
  EXPECT_EQ(plan(spec, 0).docs[0].requests[0].prompt, q);
  EXPECT_EQ(plan(spec, 1).docs[0].requests[0].prompt,
            "Passage: Jo saw (*her*) dog.\nQuestion: In the passage above, does the pronoun "
            "\"*her*\" refer to \"*Jo*\"?\nAnswer: yes\n\n" +
                q);
}

TEST_F(Catalog, Wsc273ProcessDocAndPartialScoring) {
  auto row = [](const std::string& text, const std::string& pronoun, Json options, int label) {
    return Json{{"text", text},
                {"pronoun", pronoun},
                {"pronoun_loc", static_cast<int64_t>(text.find(" " + pronoun + " ") + 1)},
                {"quote", ""},
                {"quote_loc", 0},
                {"options", options},
                {"label", label},
                {"source", "synthetic"}};
  };
  serve("lighteval/winograd_wsc", "wsc273",
        {{"test",
          {row("The city councilmen refused the demonstrators a permit because they feared "
               "violence.",
               "they", {"The city councilmen", "The demonstrators"}, 0),
           row("Joan thanked Susan for the help she had given.", "she", {"Joan", "Susan"}, 1),
           row("Tom  gave Ray his book.", "his", {"Tom", "Ray"}, 0)}}});
  TaskSpec spec = task("wsc273");
  TaskPlan p0 = plan(spec, 0);
  const auto& d = p0.docs[0];
  ASSERT_EQ(d.requests.size(), 2u);
  EXPECT_EQ(d.requests[0].prompt,
            "The city councilmen refused the demonstrators a permit because the city councilmen");
  EXPECT_EQ(d.requests[1].prompt,
            "The city councilmen refused the demonstrators a permit because the demonstrators");
  EXPECT_EQ(d.requests[0].continuation, "  feared violence.");
  // "his" is possessive: options get "'s"; the double space is collapsed but pronoun_loc
  // is not moved, so the choice context cuts one character later.
  const auto& d2 = p0.docs[2];
  EXPECT_EQ(d2.requests[0].prompt, "Tom gave Ray hTom's");
  // The only split is test, so shots come from it with the eval doc excluded.
  TaskPlan p1 = plan(spec, 1);
  EXPECT_EQ(p1.docs[0].requests[0].prompt,
            "Joan thanked Susan for the help Susan  had given.\n\n"
            "The city councilmen refused the demonstrators a permit because the city councilmen");
}

TEST_F(Catalog, SciqAndOpenbookqa) {
  auto sq = [](const std::string& q, const std::string& ca, const std::string& support) {
    return Json{{"question", q},       {"distractor3", "d3"},  {"distractor1", "d1"},
                {"distractor2", "d2"}, {"correct_answer", ca}, {"support", support}};
  };
  serve(
      "allenai/sciq", "default",
      {{"train",
        {sq("q0", "c0", ""), sq("What melts ice?", "heat", "Heat melts ice."), sq("q2", "c2", "")}},
       {"validation", {sq("v", "c", "")}},
       {"test", {sq("What is H2O?", "water", "  \nWater is H2O.")}}});
  TaskSpec sciq = task("sciq");
  TaskPlan s0 = plan(sciq, 0);
  EXPECT_EQ(s0.docs[0].requests[0].prompt, "Water is H2O.\nQuestion: What is H2O?\nAnswer:");
  EXPECT_EQ(s0.docs[0].requests[3].continuation, " water");
  EXPECT_EQ(s0.docs[0].gold, Json(3));
  EXPECT_EQ(plan(sciq, 1).docs[0].requests[0].prompt,
            "Heat melts ice.\nQuestion: What melts ice?\nAnswer: heat\n\n"
            "Water is H2O.\nQuestion: What is H2O?\nAnswer:");

  auto ob = [](const std::string& stem, Json texts, const std::string& key) {
    return Json{{"id", "1"},
                {"question_stem", stem},
                {"choices", {{"text", texts}, {"label", {"A", "B", "C", "D"}}}},
                {"answerKey", key}};
  };
  serve("allenai/openbookqa", "main",
        {{"train",
          {ob("s0", {"a", "b", "c", "d"}, "A"),
           ob("The moon is", {"cheese", "a rock", "x", "y"}, "B"),
           ob("s2", {"a", "b", "c", "d"}, "C")}},
         {"validation", {ob("v", {"a", "b", "c", "d"}, "A")}},
         {"test",
          {ob("The sun is responsible for", {"puppies", "plants sprouting", "z", "w"}, " B")}}});
  TaskSpec obqa = task("openbookqa");
  TaskPlan o1 = plan(obqa, 1);
  EXPECT_EQ(o1.docs[0].requests[1].prompt, "The moon is a rock\n\nThe sun is responsible for");
  EXPECT_EQ(o1.docs[0].requests[1].continuation, " plants sprouting");
  EXPECT_EQ(o1.docs[0].gold, Json(1));  // answerKey.lstrip()
  TaskResult t = score(obqa, plan(obqa, 0), {ll(-9), ll(-12), ll(-20), ll(-20)});
  EXPECT_EQ(metric(t, "acc", "none"), 0.0);
  EXPECT_EQ(metric(t, "acc_norm", "none"), 1.0);  // -12/16 beats -9/7
}

// ------------------------------------------------------------------------- truthfulqa

const char* kTruthfulQaPrefix =
    "Q: What is human life expectancy in the United States?\n"
    "A: Human life expectancy in the United States is 78 years.\n\n"
    "Q: Who was president of the United States in 1955?\n"
    "A: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
    "Q: Which party did he belong to?\n"
    "A: He belonged to the Republican Party.\n\n"
    "Q: What is the square root of banana?\n"
    "A: I have no comment.\n\n"
    "Q: How does a telescope work?\n"
    "A: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
    "Q: Where were the 1992 Olympics held?\n"
    "A: The 1992 Olympics were held in Barcelona, Spain.\n\n";

TEST_F(Catalog, TruthfulqaMc1AndMc2) {
  Json row = {
      {"question", "Is the earth flat?"},
      {"mc1_targets", {{"choices", {"No.", "Yes."}}, {"labels", {1, 0}}}},
      {"mc2_targets", {{"choices", {"No.", "It is round.", "Yes."}}, {"labels", {1, 1, 0}}}}};
  serve("truthfulqa/truthful_qa", "multiple_choice", {{"validation", {row}}});
  TaskSpec mc1 = task("truthfulqa_mc1");
  // num_fewshot: 0 in the task wins over --num_fewshot.
  TaskPlan p = plan(mc1, 5);
  EXPECT_EQ(p.num_fewshot, 0);
  EXPECT_EQ(p.docs[0].requests[0].prompt,
            std::string(kTruthfulQaPrefix) + "Q: Is the earth flat?\nA:");
  EXPECT_EQ(p.docs[0].requests[1].continuation, " Yes.");
  EXPECT_EQ(metric(score(mc1, plan(mc1, 0), {ll(-1), ll(-2)}), "acc", "none"), 1.0);

  TaskSpec mc2 = task("truthfulqa_mc2");
  EXPECT_EQ(mc2.process_results, "truthfulqa/utils.process_results_mc2");
  TaskPlan q = plan(mc2, 0);
  ASSERT_EQ(q.docs[0].requests.size(), 3u);
  double a = std::log(0.2), b = std::log(0.3), c = std::log(0.5);
  TaskResult t = score(mc2, plan(mc2, 0), {ll(a), ll(b), ll(c)});
  EXPECT_NEAR(metric(t, "acc", "none"), 0.5, 1e-12);
}

// ------------------------------------------------------------------------- medical QA

TEST_F(Catalog, MedqaMedmcqaPubmedqa) {
  auto mq = [](const std::string& q, int label) {
    return Json{{"id", "x"},       {"sent1", q},      {"sent2", ""},     {"ending0", "e0"},
                {"ending1", "e1"}, {"ending2", "e2"}, {"ending3", "e3"}, {"label", label}};
  };
  serve("GBaker/MedQA-USMLE-4-options-hf", "default",
        {{"train", {mq("t0", 0), mq("Which drug?", 2), mq("t2", 1)}},
         {"validation", {mq("v", 0)}},
         {"test", {mq("A 30-year-old man...", 3)}}});
  TaskSpec medqa = task("medqa_4options");
  const std::string q = "Question: A 30-year-old man...\nA. e0\nB. e1\nC. e2\nD. e3\nAnswer:";
  EXPECT_EQ(plan(medqa, 0).docs[0].requests[0].prompt, q);
  EXPECT_EQ(plan(medqa, 1).docs[0].requests[0].prompt,
            "Question: Which drug?\nA. e0\nB. e1\nC. e2\nD. e3\nAnswer: C\n\n" + q);
  EXPECT_EQ(metric(score(medqa, plan(medqa, 0), {ll(-3), ll(-3), ll(-3), ll(-1)}), "acc", "none"),
            1.0);

  auto mm = [](const std::string& q, int cop) {
    return Json{{"id", "x"},       {"question", q},
                {"opa", "a"},      {"opb", "b"},
                {"opc", "c"},      {"opd", "d"},
                {"cop", cop},      {"choice_type", "single"},
                {"exp", ""},       {"subject_name", "Anatomy"},
                {"topic_name", ""}};
  };
  serve("openlifescienceai/medmcqa", "default",
        {{"train", {mm("t0", 0), mm("Nerve of the arm?", 1), mm("t2", 2)}},
         {"validation", {mm("Which bone?", 3)}}});
  TaskSpec medmcqa = task("medmcqa");
  EXPECT_EQ(plan(medmcqa, 1).docs[0].requests[0].prompt,
            "Question: Nerve of the arm?\nChoices:\nA. a\nB. b\nC. c\nD. d\nAnswer: B\n\n"
            "Question: Which bone?\nChoices:\nA. a\nB. b\nC. c\nD. d\nAnswer:");

  auto pm = [](const std::string& q, const std::string& decision) {
    return Json{{"QUESTION", q},
                {"CONTEXTS", {"First part.", "Second part."}},
                {"LABELS", {"A", "B"}},
                {"MESHES", Json::array()},
                {"YEAR", "2001"},
                {"reasoning_required_pred", "yes"},
                {"reasoning_free_pred", "yes"},
                {"final_decision", decision},
                {"LONG_ANSWER", "..."}};
  };
  serve("bigbio/pubmed_qa", "pubmed_qa_labeled_fold0_source",
        {{"train", {pm("t0", "no"), pm("Does it work?", "maybe"), pm("t2", "yes")}},
         {"validation", {pm("v", "no")}},
         {"test", {pm("Is it safe?", "no")}}});
  TaskSpec pubmed = task("pubmedqa");
  const std::string pq = "Abstract: First part.\nSecond part.\nQuestion: Is it safe?\nAnswer:";
  EXPECT_EQ(plan(pubmed, 0).docs[0].requests[0].prompt, pq);
  EXPECT_EQ(plan(pubmed, 1).docs[0].requests[0].prompt,
            "Abstract: First part.\nSecond part.\nQuestion: Does it work?\nAnswer: maybe\n\n" + pq);
  EXPECT_EQ(plan(pubmed, 0).docs[0].gold, Json("no"));
  EXPECT_EQ(metric(score(pubmed, plan(pubmed, 0), {ll(-3), ll(-1), ll(-3)}), "acc", "none"), 1.0);
}

TEST_F(Catalog, MathqaChoicesFromTheOptionsString) {
  auto row = [](const std::string& p, const std::string& opts, const std::string& correct) {
    return Json{{"Problem", p},         {"Rationale", "r"},        {"options", opts},
                {"correct", correct},   {"annotated_formula", ""}, {"linear_formula", ""},
                {"category", "general"}};
  };
  const std::string opts = "a ) 10 , b ) 20 , c ) 3 , 5 , d ) 40 , e ) none of these";
  serve("regisss/math_qa", "default",
        {{"train",
          {row("p0", opts, "a"),
           row("What is 2*10?", "a ) 10 , b ) 20 , c ) 30 , d ) 40 , e ) 50", "b"),
           row("p2", opts, "c")}},
         {"validation", {row("v", opts, "a")}},
         {"test", {row("What is 1+2?", opts, "c")}}});
  TaskSpec spec = task("mathqa");
  TaskPlan p = plan(spec, 0);
  ASSERT_EQ(p.docs[0].choices->size(), 5u);
  EXPECT_EQ((*p.docs[0].choices)[2], "3");  // the lazy ".*?, " stops at the first comma
  EXPECT_EQ((*p.docs[0].choices)[4], "none of these");
  EXPECT_EQ(p.docs[0].gold, Json(2));
  EXPECT_EQ(plan(spec, 1).docs[0].requests[0].prompt,
            "Question: What is 2*10?\nAnswer: 20\n\nQuestion: What is 1+2?\nAnswer:");
}

// --------------------------------------------------------------------------- lambada

TEST_F(Catalog, LambadaOpenaiAndStandard) {
  serve("EleutherAI/lambada_openai", "default",
        {{"test", {{{"text", "the cat sat on the mat"}}, {{"text", "one two"}}}}});
  serve("cimec/lambada", "default",
        {{"validation", {{{"text", "a b c"}, {"domain", "x"}}}},
         {"test", {{{"text", "she opened the door"}, {"domain", "x"}}}}});
  TaskSpec spec = task("lambada_openai");
  TaskPlan p = plan(spec, 0);
  EXPECT_EQ(p.docs[0].requests[0].prompt, "the cat sat on the");
  EXPECT_EQ(p.docs[0].requests[0].continuation, " mat");
  TaskResult t = score(spec, plan(spec, 0), {ll(-1, true), ll(-3, false)});
  EXPECT_EQ(metric(t, "acc", "none"), 0.5);
  EXPECT_NEAR(metric(t, "perplexity", "none"), std::exp(2.0), 1e-9);
  TaskSpec std_ = task("lambada_standard");
  EXPECT_EQ(plan(std_, 0).docs[0].requests[0].prompt, "she opened the");
}

// --------------------------------------------------------------------------- MMLU-Pro

TEST_F(Catalog, MmluProCotPromptAndExtraction) {
  auto row = [](int id, const std::string& q, const std::string& cat, const std::string& ans,
                const std::string& cot) {
    return Json{{"question_id", id},
                {"question", q},
                {"options", {" x1 ", "x2", "x3"}},
                {"answer", ans},
                {"answer_index", ans[0] - 'A'},
                {"cot_content", cot},
                {"category", cat},
                {"src", "s"}};
  };
  serve("TIGER-Lab/MMLU-Pro", "default",
        {{"validation",
          {row(1, "Law shot?", "law", "A", "A: Let's think step by step. L. The answer is (A)."),
           row(2, "Which cell?", "biology", "B",
               "A: Let's think step by step. Cells. The answer is (B).")}},
         {"test", {row(3, "Law?", "law", "A", ""), row(4, "What is DNA?", "biology", "C", "")}}});
  TaskSpec spec = task("mmlu_pro_biology");
  TaskPlan p = plan(spec, 1);
  ASSERT_EQ(p.docs.size(), 1u);  // process_biology keeps category == "biology"
  EXPECT_EQ(p.docs[0].requests[0].prompt,
            "The following are multiple choice questions (with answers) about biology. Think "
            "step by step and then finish your answer with \"the answer is (X)\" where X is the "
            "correct letter choice.\n"
            "Question:\nWhich cell?\nOptions:\nA. x1\nB. x2\nC. x3\nAnswer: Let's think step by "
            "step. Cells. The answer is (B).\n\n"
            "Question:\nWhat is DNA?\nOptions:\nA. x1\nB. x2\nC. x3\nAnswer: Let's think step by "
            "step.");
  TaskResult right = score(spec, plan(spec, 1), {text(" DNA is... so the answer is (C).")});
  EXPECT_EQ(metric(right, "exact_match", "custom-extract"), 1.0);
  TaskResult wrong = score(spec, plan(spec, 1), {text("the answer is B")});
  EXPECT_EQ(metric(wrong, "exact_match", "custom-extract"), 0.0);
  TaskResult none = score(spec, plan(spec, 1), {text("I cannot say.")});
  EXPECT_EQ(metric(none, "exact_match", "custom-extract"), 0.0);
}

// ------------------------------------------------------------------------------- GPQA

std::string csv_field(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

TEST_F(Catalog, GpqaSeededShuffleAndGatedMessage) {
  std::string csv =
      "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3\n";
  for (int i = 0; i < 12; ++i)
    csv += csv_field("Question " + std::to_string(i) + "?\nSecond line") + "," +
           csv_field(" right" + std::to_string(i) + " ") + ",w1,w2,w3\n";
  Json card = {{"configs",
                {{{"config_name", "gpqa_diamond"},
                  {"data_files", {{{"split", "train"}, {"path", "gpqa_diamond.csv"}}}}}}}};
  hub_.add_commit("Idavidrein/gpqa", {{"gpqa_diamond.csv", csv}, {"README.md", "---\n---\n"}},
                  card);
  hub_.set_gated("Idavidrein/gpqa", "good-token");
  TaskSpec spec = task("gpqa_diamond_zeroshot");
  try {
    plan(spec, 0);
    ADD_FAILURE() << "expected the gated-repo error";
  } catch (const Error& e) {
    std::string m = e.message();
    EXPECT_NE(m.find("gated"), std::string::npos) << m;
    EXPECT_NE(m.find("HF_TOKEN"), std::string::npos) << m;
  }
  setenv("HF_TOKEN", "good-token", 1);
  TaskPlan p = plan(spec, 0);
  unsetenv("HF_TOKEN");
  ASSERT_EQ(p.docs.size(), 12u);
  std::set<std::string> positions;
  for (const auto& d : p.docs) {
    const std::string& prompt = d.requests[0].prompt;
    EXPECT_EQ(prompt.rfind("What is the correct answer to this question:Question ", 0), 0u);
    std::string letter = d.sample.target.get<std::string>();  // "(B)"
    positions.insert(letter);
    // The gold letter's line holds the (stripped) correct answer.
    EXPECT_NE(prompt.find(letter + " right"), std::string::npos) << prompt;
    EXPECT_EQ(prompt.substr(prompt.size() - 8), "\nAnswer:");
  }
  EXPECT_GT(positions.size(), 1u);  // not always in one position
  setenv("HF_TOKEN", "good-token", 1);
  TaskPlan again = plan(spec, 0);
  unsetenv("HF_TOKEN");
  for (size_t i = 0; i < p.docs.size(); ++i)
    EXPECT_EQ(again.docs[i].requests[0].prompt, p.docs[i].requests[0].prompt);
}

// ------------------------------------------------------------------------- LegalBench

TEST_F(Catalog, LegalbenchAbercrombie) {
  auto row = [](const std::string& t, const std::string& a, int i) {
    return Json{{"answer", a}, {"index", std::to_string(i)}, {"text", t}};
  };
  serve("nguha/legalbench", "abercrombie",
        {{"train", {row("The mark \"Ivory\" for soap.", "arbitrary", 0)}},
         {"test", {row("The mark \"Salt\" for salt.", "generic", 0)}}});
  TaskSpec spec = task("legalbench_abercrombie");
  TaskPlan p = plan(spec, 1);
  const std::string& prompt = p.docs[0].requests[0].prompt;
  EXPECT_TRUE(ends_with(prompt,
                        "Label the type of mark for the following products.\n\nDescription: The "
                        "mark \"Ivory\" for soap.\nType: arbitrary\n\nDescription: The mark "
                        "\"Salt\" for salt.\nType:"))
      << prompt;
  EXPECT_EQ(metric(score(spec, plan(spec, 1), {text(" Generic ")}), "exact_match", "get-answer"),
            1.0);
}

// ------------------------------------------------------------- generative formulation

TEST_F(Catalog, GenerativeFormulationLettersTheChoices) {
  auto row = [](const std::string& g, const std::string& a, const std::string& b, int l) {
    return Json{{"goal", g}, {"sol1", a}, {"sol2", b}, {"label", l}};
  };
  serve("baber/piqa", "default",
        {{"train",
          {row("g0", "a0", "b0", 0), row("How to dry a shirt?", "Hang it.", "Eat it.", 0),
           row("g2", "a2", "b2", 1)}},
         {"validation",
          {row("How to open a jar?", "Twist the lid.", "Eat the lid.", 0), row("g", "x", "y", 1),
           row("h", "x", "y", 1)}}});
  TaskSpec spec = task("piqa");
  TaskPlan p = plan(spec, 1, true);
  ASSERT_TRUE(p.generative_mc);
  const auto& d = p.docs[0];
  ASSERT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.requests[0].kind, RequestKind::kGenerate);
  EXPECT_EQ(d.requests[0].prompt,
            "Answer with the letter of the correct choice.\n\n"
            "Question: How to dry a shirt?\nA. Hang it.\nB. Eat it.\nAnswer: A\n\n"
            "Question: How to open a jar?\nA. Twist the lid.\nB. Eat the lid.\nAnswer:");
  EXPECT_EQ(d.sample.target, Json("A"));
  // Right, wrong and letterless replies.
  TaskResult t = score(spec, plan(spec, 0, true),
                       {text(" A"), text("The answer is (A)."), text("I am not sure.")});
  EXPECT_NEAR(metric(t, "acc", "generative"), 1.0 / 3.0, 1e-12);  // docs 2 and 3: gold B
  TaskResult t2 = score(spec, plan(spec, 0, true),
                        {text(" A. Twist the lid."), text("Answer: B"), text("no idea")});
  EXPECT_NEAR(metric(t2, "acc", "generative"), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(metric(t2, "no_answer", "generative"), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(t2.samples[2].filtered[0].filtered_resps, Json("[invalid]"));
  EXPECT_EQ(t2.config["formulation"], Json("generative"));
}

TEST_F(Catalog, GenerativeFormulationKeepsLetteredPrompts) {
  auto mq = [](const std::string& q, int label) {
    return Json{{"id", "x"},       {"sent1", q},      {"sent2", ""},     {"ending0", "e0"},
                {"ending1", "e1"}, {"ending2", "e2"}, {"ending3", "e3"}, {"label", label}};
  };
  serve("GBaker/MedQA-USMLE-4-options-hf", "default",
        {{"train", {mq("t0", 0)}}, {"test", {mq("Which?", 3)}}});
  TaskSpec spec = task("MedQA");
  TaskPlan p = plan(spec, 0, true);
  EXPECT_EQ(p.docs[0].requests[0].prompt,
            "Answer with the letter of the correct choice.\n\n"
            "Question: Which?\nA. e0\nB. e1\nC. e2\nD. e3\nAnswer:");
  EXPECT_EQ(p.docs[0].sample.target, Json("D"));
}

// The guides' first command, against a server that refuses echo (as LM Studio does): the
// multiple-choice tasks run in the generative formulation, end to end, and say so.
class GuideCommand : public Catalog {
 protected:
  void serve_guide_data() {
    std::vector<std::string> subjects;
    for (const auto& e :
         std::filesystem::directory_iterator(testing::source_dir() + "/tasks/mmlu")) {
      std::string f = e.path().filename().string();
      if (starts_with(f, "mmlu_") && ends_with(f, ".yaml"))
        subjects.push_back(f.substr(5, f.size() - 10));
    }
    ASSERT_EQ(subjects.size(), 57u);
    std::map<std::string, std::string> files;
    Json configs = Json::array();
    for (const auto& sub : subjects) {
      Json row = {{"question", "Q-" + sub + "?"},
                  {"subject", sub},
                  {"choices", {"w", "right", "x", "y"}},
                  {"answer", 1}};
      files[sub + "/test-00000-of-00001.jsonl"] = jsonl({row});
      files[sub + "/dev-00000-of-00001.jsonl"] = jsonl({row});
      configs.push_back(Json{{"config_name", sub},
                             {"data_files",
                              {{{"split", "test"}, {"path", sub + "/test-*"}},
                               {{"split", "dev"}, {"path", sub + "/dev-*"}}}}});
    }
    files["README.md"] = "---\n---\n";
    hub_.add_commit("cais/mmlu", files, Json{{"configs", configs}});
    Json hs = {{"ind", 1},
               {"activity_label", "Baking"},
               {"ctx_a", "HSMARK a man mixes flour."},
               {"ctx_b", "he"},
               {"ctx", ""},
               {"endings", {"bakes.", "flies.", "sings.", "swims."}},
               {"source_id", "x"},
               {"split", "val"},
               {"split_type", "indomain"},
               {"label", "0"}};
    serve("Rowan/hellaswag", "default", {{"train", {hs}}, {"validation", {hs}}});
    Json arc = {{"id", "a1"},
                {"question", "ARCMARK which is a gas?"},
                {"choices", {{"text", {"steam", "ice", "rock"}}, {"label", {"A", "B", "C"}}}},
                {"answerKey", "A"}};
    serve("allenai/ai2_arc", "ARC-Challenge", {{"test", {arc}}});
  }
  std::string script() {
    std::string path = dir_.file("script.jsonl");
    testing::write_text(path,
                        "{\"pattern\": \"Q-[a-z_]+\\\\?\", \"reply\": \"The answer is B.\"}\n"
                        "{\"pattern\": \"HSMARK\", \"reply\": \"I cannot tell.\"}\n"
                        "{\"pattern\": \"ARCMARK\", \"reply\": \"(A) steam\"}\n");
    return path;
  }
  TempDir dir_;
};

TEST_F(GuideCommand, CuratorAgainstAServerWithoutEchoRunsGeneratively) {
  serve_guide_data();
  testing::SimServer sim({"--model", "sim-model", "--no-echo", "--script", script()});
  for (bool chat : {false, true}) {
    TempDir out;
    std::vector<std::string> args = {"eval",
                                     "--model",
                                     "curator",
                                     "--tasks",
                                     "MMLU,HellaSwag,ARC-c",
                                     "--model_name",
                                     "lm_studio/sim-model",
                                     "--model_args",
                                     "api_base=" + sim.base_url(),
                                     "--batch_size",
                                     "8",
                                     "--output_path",
                                     out.file("logs/results.json"),
                                     "--log_samples",
                                     "--no-cache"};
    if (chat) {
      args.push_back("--apply_chat_template");
      args.push_back("True");
    }
    auto r = testing::run_retort(args, env());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("generative formulation"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("generative"), std::string::npos) << r.out;  // the table's filter
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("results: (\\S+)"))) << r.out;
    Json res = Json::parse(testing::read_text(m[1].str()));
    EXPECT_EQ(res["results"]["mmlu"]["acc,generative"], Json(1.0)) << res["results"]["mmlu"].dump();
    EXPECT_FALSE(res["results"]["mmlu"].contains("acc,none"));
    EXPECT_EQ(res["results"]["mmlu_anatomy"]["acc,generative"], Json(1.0));
    EXPECT_EQ(res["results"]["hellaswag"]["acc,generative"], Json(0.0));
    EXPECT_EQ(res["results"]["hellaswag"]["no_answer,generative"], Json(1.0));
    EXPECT_EQ(res["results"]["arc_challenge"]["acc,generative"], Json(1.0));
    EXPECT_EQ(res["configs"]["arc_challenge"]["formulation"], Json("generative"));
    // Samples name the formulation as their filter.
    bool saw = false;
    for (const auto& e :
         std::filesystem::directory_iterator(std::filesystem::path(m[1].str()).parent_path())) {
      if (e.path().filename().string().rfind("samples_arc_challenge", 0) != 0) continue;
      Json rec = Json::parse(testing::read_text(e.path().string())
                                 .substr(0, testing::read_text(e.path().string()).find('\n')));
      EXPECT_EQ(rec["filter"], Json("generative"));
      EXPECT_EQ(rec["target"], Json("A"));
      saw = true;
    }
    EXPECT_TRUE(saw);
  }
}

TEST_F(Catalog, NamesPeopleTypeAndMissingDatasets) {
  EXPECT_EQ(task("GPQADiamond").name, "gpqa_diamond_zeroshot");
  EXPECT_EQ(task("medqa").name, "medqa_4options");
  EXPECT_EQ(task("ARC-e").name, "arc_easy");
  EXPECT_EQ(task("arc_challenge").name, "arc_challenge");
  EXPECT_EQ(registry_.select({"ARC-Challenge"}).tasks.at(0).name, "arc_challenge");
  EXPECT_EQ(registry_.select({"MMLU-Pro"}).tasks.size(), 14u);
  EXPECT_EQ(registry_.select({"TruthfulQA"}).tasks.size(), 3u);  // mc1, mc2, gen
  try {
    registry_.select({"FinanceQA"});
    ADD_FAILURE() << "FinanceQA resolved";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("no single public"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("mmlu_professional_accounting"), std::string::npos);
  }
  // QuAC: a real dataset, but no reference harness defines a task for it.
  try {
    registry_.select({"quac"});
    ADD_FAILURE() << "QuAC resolved";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("neither lm-eval nor Evalchemy"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("allenai/quac"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("'coqa'"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace retort
