// --apply_chat_template with a completions endpoint (--model local-completions): the prompt
// is rendered here with the model's Hugging Face chat template, taken from a fake Hub's
// tokenizer_config.json (or --chat_template FILE), and multiple choice is still scored by
// loglikelihood, as lm-eval's API models with an HF tokenizer do (lm-eval-semantics.md §5).
// The real binary runs against `retort sim` with scripted prompt logprobs that only favour
// the gold choice when it follows the template's assistant header.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <regex>

#include "data/fake_hub.h"
#include "support/test_support.h"
#include "util/hash.h"
#include "util/json.h"

namespace retort::testing {
namespace {

// Meta-Llama-3-8B-Instruct's chat_template, as its tokenizer_config.json holds it.
const char* kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | "
    "trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% "
    "endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

const char* kChatMl =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|im_start|>assistant\\n' }}{% endif %}";

Json results_of(const CommandResult& r) {
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("results: (\\S+)"))) {
    ADD_FAILURE() << "no results path in output:\n" << r.out << "\nstderr:\n" << r.err;
    return Json::object();
  }
  return Json::parse(read_text(m[1].str()));
}

// The samples of one task, one JSON object per line.
std::vector<Json> samples_of(const std::string& dir, const std::string& task) {
  std::vector<Json> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.path().filename().string().rfind("samples_" + task + "_", 0) == 0) {
      std::string text = read_text(e.path());
      size_t pos = 0, nl;
      while ((nl = text.find('\n', pos)) != std::string::npos) {
        if (nl > pos) out.push_back(Json::parse(text.substr(pos, nl - pos)));
        pos = nl + 1;
      }
    }
  return out;
}

class ChatTemplateRun : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.add_model_commit(
        "acme/chat-model",
        {{"tokenizer_config.json",
          Json{{"chat_template", kLlama3},
               {"bos_token", "<|begin_of_text|>"},
               {"eos_token", Json{{"__type", "AddedToken"}, {"content", "<|eot_id|>"}}}}
              .dump()}});
    hub_.add_model_commit("acme/base-model",
                          {{"tokenizer_config.json", Json{{"eos_token", "</s>"}}.dump()}});
    write_text(dir_.file("caps_train.jsonl"),
               R"({"country": "France", "choices": ["Paris", "Lyon"], "label": 0})"
               "\n");
    write_text(dir_.file("caps_test.jsonl"),
               R"({"country": "Japan", "choices": ["Osaka", "Tokyo"], "label": 1})"
               "\n"
               R"({"country": "Italy", "choices": ["Rome", "Milan"], "label": 0})"
               "\n");
    write_text(dir_.file("caps.yaml"), R"(task: chat_caps
dataset_path: json
dataset_kwargs:
  data_files:
    test: caps_test.jsonl
    train: caps_train.jsonl
test_split: test
fewshot_split: train
fewshot_config:
  sampler: first_n
output_type: multiple_choice
description: "Answer the questions.\n\n"
doc_to_text: "What is the capital of {{country}}?\nAnswer:"
doc_to_choice: "{{choices}}"
doc_to_target: label
metric_list:
  - metric: acc
)");
    write_text(dir_.file("spain.jsonl"), R"({"country": "Spain", "answer": "Madrid"})"
                                         "\n");
    write_text(dir_.file("gen.yaml"), R"(task: chat_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: spain.jsonl
test_split: test
output_type: generate_until
num_fewshot: 0
doc_to_text: "Capital of {{country}}?"
doc_to_target: "{{answer}}"
metric_list:
  - metric: exact_match
)");
    // Gold choices only score well right after an assistant header (Llama-3's or ChatML's);
    // the generation reply needs the whole rendered turn.
    write_text(
        dir_.file("script.jsonl"),
        R"({"pattern": "(end_header_id\\|>\\n\\n|im_start\\|>assistant\\n)(Tokyo|Rome)$", "prompt_logprob": -0.1})"
        "\n"
        R"({"pattern": "Capital of Spain\\?<\\|eot_id\\|><\\|start_header_id\\|>assistant<\\|end_header_id\\|>\\n\\n$", "reply": "Madrid"})"
        "\n"
        R"({"pattern": "", "prompt_logprob": -3.0})"
        "\n"
        R"({"pattern": "", "reply": "no idea"})"
        "\n");
    sim_ = std::make_unique<SimServer>(
        std::vector<std::string>{"--model", "acme/chat-model", "--model", "served-name", "--mode",
                                 "script", "--script", dir_.file("script.jsonl")});
  }

  CommandResult run(const std::string& model, const std::vector<std::string>& extra,
                    const std::string& endpoint = "") {
    std::vector<std::string> args = {
        "run",
        "--model",
        "local-completions",
        "--model_args",
        "model=" + model + ",base_url=" + sim_->base_url() + "/completions",
        "--tasks",
        dir_.file("caps.yaml") + "," + dir_.file("gen.yaml"),
        "--num_fewshot",
        "1",
        "--apply_chat_template",
        "--output_path",
        dir_.file("out"),
        "--log_samples",
        "--no-cache"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_retort(args, {"HF_ENDPOINT=" + (endpoint.empty() ? hub_.endpoint() : endpoint),
                             "HF_HOME=" + home_.path(), "HF_HUB_OFFLINE=0"});
  }

  FakeHub hub_;
  TempDir home_, dir_;
  std::unique_ptr<SimServer> sim_;
};

TEST_F(ChatTemplateRun, HubTemplateRenderedForLoglikelihoodAndGeneration) {
  auto r = run("acme/chat-model", {"--db", dir_.file("runs.db")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json res = results_of(r);
  EXPECT_EQ(res["results"]["chat_caps"]["acc,none"], Json(1.0)) << res["results"].dump();
  EXPECT_EQ(res["results"]["chat_gen"]["exact_match,none"], Json(1.0)) << res["results"].dump();
  EXPECT_EQ(res["chat_template"], kLlama3);
  EXPECT_EQ(res["chat_template_sha"], sha256_hex(kLlama3));
  EXPECT_EQ(res["fewshot_as_multiturn"], Json(true));

  // lm-eval's multi-turn messages (description as system, the shot as a user/assistant
  // pair) through Llama-3's template; the continuation is the bare choice.
  auto mc = samples_of(dir_.file("out"), "chat_caps");
  ASSERT_EQ(mc.size(), 2u);
  const std::string japan =
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nAnswer the "
      "questions.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is the capital of "
      "France?\nAnswer:<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nParis<|eot_"
      "id|><|start_header_id|>user<|end_header_id|>\n\nWhat is the capital of "
      "Japan?\nAnswer:<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  EXPECT_EQ(mc[0]["arguments"]["gen_args_0"]["arg_0"], japan);
  EXPECT_EQ(mc[0]["arguments"]["gen_args_0"]["arg_1"], "Osaka");
  EXPECT_EQ(mc[0]["arguments"]["gen_args_1"]["arg_1"], "Tokyo");
  EXPECT_EQ(mc[0]["prompt_hash"], sha256_hex(japan));

  auto gen = samples_of(dir_.file("out"), "chat_gen");
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(gen[0]["arguments"]["gen_args_0"]["arg_0"].get<std::string>(),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nCapital of "
            "Spain?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(gen[0]["resps"][0][0], "Madrid");

  // Rescored with neither the server nor the Hub: the recorded template renders the same
  // prompts (else the rescore would refuse them), and the scores stand.
  sim_.reset();
  auto again = run_retort({"rescore", "latest", "--db", dir_.file("runs.db")},
                          {"HF_ENDPOINT=http://127.0.0.1:9", "HF_HOME=" + home_.path()});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("chat_caps: acc,none 1.0000 -> 1.0000; 0 of 2 verdicts changed"),
            std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("chat_gen: exact_match,none 1.0000 -> 1.0000; 0 of 1 verdicts"),
            std::string::npos)
      << again.out;
}

TEST_F(ChatTemplateRun, TokenizerModelArgAndChatTemplateFile) {
  // model_args tokenizer= names the repo when the served model name is not a Hub id.
  auto t = run_retort(
      {"run", "--model", "local-completions", "--model_args",
       "model=served-name,tokenizer=acme/chat-model,base_url=" + sim_->base_url() + "/completions",
       "--tasks", dir_.file("caps.yaml"), "--num_fewshot", "1", "--apply_chat_template",
       "--output_path", dir_.file("out_tok"), "--log_samples", "--no-cache"},
      {"HF_ENDPOINT=" + hub_.endpoint(), "HF_HOME=" + home_.path()});
  ASSERT_EQ(t.exit_code, 0) << t.out << t.err;
  EXPECT_EQ(results_of(t)["results"]["chat_caps"]["acc,none"], Json(1.0));

  // A Jinja file: no Hub needed (the endpoint is unreachable), ChatML bytes.
  write_text(dir_.file("chatml.jinja"), kChatMl);
  auto f = run("served-name", {"--chat_template", dir_.file("chatml.jinja")}, "http://127.0.0.1:9");
  ASSERT_EQ(f.exit_code, 0) << f.out << f.err;
  Json res = results_of(f);
  EXPECT_EQ(res["results"]["chat_caps"]["acc,none"], Json(1.0));
  EXPECT_EQ(res["chat_template"], kChatMl);
  auto mc = samples_of(dir_.file("out"), "chat_caps");
  ASSERT_FALSE(mc.empty());
  const std::string italy =
      "<|im_start|>system\nAnswer the questions.\n\n<|im_end|>\n<|im_start|>user\nWhat is "
      "the capital of France?\nAnswer:<|im_end|>\n<|im_start|>assistant\nParis<|im_end|>\n"
      "<|im_start|>user\nWhat is the capital of "
      "Italy?\nAnswer:<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(mc.back()["arguments"]["gen_args_0"]["arg_0"], italy);

  // `retort tasks show` renders the same text (doc 0: Japan).
  auto show = run_retort({"tasks", "show", dir_.file("caps.yaml"), "--num_fewshot", "1",
                          "--chat_template", dir_.file("chatml.jinja")});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  std::string japan = italy;
  japan.replace(japan.find("Italy"), 5, "Japan");
  EXPECT_NE(show.out.find(japan), std::string::npos) << show.out;
}

TEST_F(ChatTemplateRun, TokenizersEosEndsGenerationsAsInLmEvalsSynchronousPath) {
  // The model runs on past its end-of-turn token; the simulator honours `stop`. lm-eval adds
  // the tokenizer's eos_token (here Llama-3's "<|eot_id|>") to `until` when it sends requests
  // one at a time (num_concurrent 1, its default), and nothing with num_concurrent > 1.
  write_text(dir_.file("eos_script.jsonl"),
             R"({"pattern": "Capital of Spain", "reply": "Madrid<|eot_id|>The capital is Madrid."})"
             "\n");
  SimServer sim({"--model", "acme/chat-model", "--script", dir_.file("eos_script.jsonl")});
  auto run_gen = [&](const std::string& extra_args, const std::string& out) {
    return run_retort(
        {"run", "--model", "local-completions", "--model_args",
         "model=acme/chat-model,base_url=" + sim.base_url() + "/completions" + extra_args,
         "--tasks", dir_.file("gen.yaml"), "--apply_chat_template", "--output_path", dir_.file(out),
         "--log_samples", "--no-cache"},
        {"HF_ENDPOINT=" + hub_.endpoint(), "HF_HOME=" + home_.path()});
  };
  auto one = run_gen("", "out_eos1");
  ASSERT_EQ(one.exit_code, 0) << one.out << one.err;
  EXPECT_EQ(results_of(one)["results"]["chat_gen"]["exact_match,none"], Json(1.0));
  auto gen = samples_of(dir_.file("out_eos1"), "chat_gen");
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(gen[0]["resps"][0][0], "Madrid");
  // The samples log keeps the task's own until, as lm-eval's does.
  EXPECT_EQ(gen[0]["arguments"]["gen_args_0"]["arg_1"]["until"].dump().find("eot_id"),
            std::string::npos)
      << gen[0]["arguments"].dump();

  auto many = run_gen(",num_concurrent=4", "out_eos4");
  ASSERT_EQ(many.exit_code, 0) << many.out << many.err;
  EXPECT_EQ(results_of(many)["results"]["chat_gen"]["exact_match,none"], Json(0.0));

  // model_args eos_string wins over the tokenizer's.
  auto named = run_gen(",eos_string=The", "out_eos_named");
  ASSERT_EQ(named.exit_code, 0) << named.out << named.err;
  auto g = samples_of(dir_.file("out_eos_named"), "chat_gen");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0]["resps"][0][0], "Madrid<|eot_id|>");
}

TEST_F(ChatTemplateRun, NoTemplateOrUnreachableHubIsOneClearError) {
  auto none = run("acme/base-model", {});
  EXPECT_EQ(none.exit_code, 2) << none.out << none.err;
  EXPECT_NE(none.err.find("acme/base-model"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("no chat template"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("--chat_template FILE"), std::string::npos) << none.err;

  auto down = run("acme/chat-model", {}, "http://127.0.0.1:9");
  EXPECT_EQ(down.exit_code, 2) << down.out << down.err;
  EXPECT_NE(down.err.find("acme/chat-model"), std::string::npos) << down.err;
  EXPECT_NE(down.err.find("--chat_template FILE"), std::string::npos) << down.err;

  auto missing = run("acme/no-such-model", {});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("acme/no-such-model"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("--chat_template FILE"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace retort::testing
