// Chat templates rendered as transformers' apply_chat_template renders them. The templates
// below are written from the public tokenizer_config.json files of the models they are
// named after (Meta-Llama-3-8B-Instruct, Qwen2.5-7B-Instruct, Mistral-7B-Instruct-v0.2,
// gemma-2-9b-it); the expected bytes follow from Jinja2's semantics under transformers'
// environment (trim_blocks, lstrip_blocks, final newline dropped).
#include "prompt/chat_template.h"

#include <gtest/gtest.h>

#include "prompt/prompt.h"
#include "support/test_support.h"
#include "tasks/tasks.h"
#include "util/error.h"

namespace retort {
namespace {

using testing::TempDir;
using testing::write_text;

const char* kLlama3 =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | "
    "trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% "
    "endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

// Qwen2.5's template, tool branches included, laid out on lines as the JSON string holds it
// (with its final newline).
const char* kQwen25 = R"({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)";

const char* kMistral =
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
    "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ "
    "'[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ "
    "message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
    "roles are supported!') }}{% endif %}{% endfor %}";

const char* kGemma =
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role "
    "not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') "
    "!= (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') "
    "%}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ "
    "'<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% "
    "endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}";

Json config(const std::string& tpl, const Json& bos, const Json& eos) {
  return Json{{"chat_template", tpl}, {"bos_token", bos}, {"eos_token", eos}};
}

// lm-eval-semantics.md §5's multi-turn example: description as system, two shots, eval doc.
std::vector<ChatMessage> two_shot(bool with_system) {
  std::vector<ChatMessage> m;
  if (with_system) m.push_back({"system", "Answer the arithmetic questions.\n\n"});
  m.push_back({"user", "Q: 2+2?\nA:"});
  m.push_back({"assistant", "4"});
  m.push_back({"user", "Q: 3+3?\nA:"});
  m.push_back({"assistant", "6"});
  m.push_back({"user", "Q: 1+1?\nA:"});
  return m;
}

TEST(ChatTemplate, Llama3FewShotMultiTurn) {
  ChatTemplate t = ChatTemplate::from_tokenizer_config(
      config(kLlama3, "<|begin_of_text|>", "<|eot_id|>"), "llama3");
  EXPECT_EQ(t.render(two_shot(true), true, false),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nAnswer the "
            "arithmetic questions.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ: "
            "2+2?\nA:<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|><|"
            "start_header_id|>user<|end_header_id|>\n\nQ: "
            "3+3?\nA:<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n6<|eot_id|><|"
            "start_header_id|>user<|end_header_id|>\n\nQ: "
            "1+1?\nA:<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  // Without the generation prompt the text ends with the last user turn.
  std::string no_gen = t.render(two_shot(true), false, false);
  EXPECT_TRUE(no_gen.size() > 10 && no_gen.substr(no_gen.size() - 10) == "<|eot_id|>");
}

TEST(ChatTemplate, Qwen25ChatMlWithAndWithoutSystem) {
  ChatTemplate t =
      ChatTemplate::from_tokenizer_config(config(kQwen25, nullptr, "<|im_end|>"), "qwen2.5");
  EXPECT_EQ(t.render(two_shot(true), true, false),
            "<|im_start|>system\nAnswer the arithmetic questions.\n\n<|im_end|>\n"
            "<|im_start|>user\nQ: 2+2?\nA:<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
            "<|im_start|>user\nQ: 3+3?\nA:<|im_end|>\n<|im_start|>assistant\n6<|im_end|>\n"
            "<|im_start|>user\nQ: 1+1?\nA:<|im_end|>\n<|im_start|>assistant\n");
  // No system message: the template's default one; the source's final newline is dropped.
  EXPECT_EQ(t.render({{"user", "Hi"}}, true, false),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
            "assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.source(), kQwen25);  // as given, final newline kept
}

TEST(ChatTemplate, MistralAlternationAndRaiseException) {
  ChatTemplate t = ChatTemplate::from_tokenizer_config(config(kMistral, "<s>", "</s>"), "mistral");
  EXPECT_EQ(t.render(two_shot(false), true, false),
            "<s>[INST] Q: 2+2?\nA: [/INST]4</s>[INST] Q: 3+3?\nA: [/INST]6</s>[INST] Q: "
            "1+1?\nA: [/INST]");
  try {
    t.render(two_shot(true), true, false);
    FAIL() << "a system message must raise";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what_failed()).find("Conversation roles must alternate"),
              std::string::npos)
        << e.message();
    EXPECT_NE(e.where().find("mistral"), std::string::npos) << e.message();
  }
}

TEST(ChatTemplate, GemmaModelRoleAndTrim) {
  ChatTemplate t = ChatTemplate::from_tokenizer_config(
      config(kGemma, Json{{"__type", "AddedToken"}, {"content", "<bos>"}, {"lstrip", false}},
             "<eos>"),
      "gemma");
  EXPECT_EQ(t.special_tokens()["bos_token"], "<bos>");
  std::vector<ChatMessage> m = two_shot(false);
  m[0].content = "  Q: 2+2?\nA: ";  // trimmed by the template
  EXPECT_EQ(t.render(m, true, false),
            "<bos><start_of_turn>user\nQ: 2+2?\nA:<end_of_turn>\n<start_of_turn>model\n4<end_of_"
            "turn>\n<start_of_turn>user\nQ: 3+3?\nA:<end_of_turn>\n<start_of_turn>model\n6<end_of_"
            "turn>\n<start_of_turn>user\nQ: 1+1?\nA:<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_THROW(t.render(two_shot(true), true, false), Error);
}

// lm-eval with a gen_prefix: add_generation_prompt=False, continue_final_message=True; the
// text stops right after the prefix (transformers' rule for trimmed trailing spaces).
TEST(ChatTemplate, ContinueFinalMessage) {
  ChatTemplate llama = ChatTemplate::from_tokenizer_config(
      config(kLlama3, "<|begin_of_text|>", "<|eot_id|>"), "llama3");
  std::vector<ChatMessage> m = {{"user", "Q: 1+1?"}, {"assistant", "Answer: "}};
  EXPECT_EQ(llama.render(m, false, true),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ: "
            "1+1?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nAnswer:");
  ChatTemplate qwen =
      ChatTemplate::from_tokenizer_config(config(kQwen25, nullptr, "<|im_end|>"), "qwen");
  EXPECT_EQ(qwen.render(m, false, true),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
            "assistant.<|im_end|>\n<|im_start|>user\nQ: 1+1?<|im_end|>\n<|im_start|>assistant\n"
            "Answer: ");
  // A template that drops the final message cannot be continued.
  ChatTemplate drop = ChatTemplate::from_source("{{ messages[0].content }}", "drop.jinja");
  EXPECT_THROW(drop.render(m, false, true), Error);
}

// transformers passes tools=None and documents=None, its own tojson (json.dumps with
// ensure_ascii=False) and strftime_now.
TEST(ChatTemplate, TransformersEnvironment) {
  ChatTemplate t = ChatTemplate::from_source(
      "{%- if tools is not none %}T{%- else %}N{%- endif %}|{{ documents is none }}|"
      "{{ messages | tojson }}|{{ strftime_now('%Y') | length }}|{{ bos_token }}|\n",
      "env.jinja");
  EXPECT_EQ(t.render({{"user", "h\u00e9 \"x\" <b>"}}, true, false),
            "N|True|[{\"role\": \"user\", \"content\": \"h\u00e9 \\\"x\\\" <b>\"}]|4||");
}

TEST(ChatTemplate, NamedTemplatesAndSidecar) {
  Json cfg = {{"chat_template",
               Json::array({{{"name", "default"}, {"template", "D{{ messages[0].content }}"}},
                            {{"name", "tool_use"}, {"template", "T"}}})},
              {"eos_token", "</s>"}};
  EXPECT_EQ(ChatTemplate::from_tokenizer_config(cfg, "c").render({{"user", "x"}}, true, false),
            "Dx");
  EXPECT_EQ(ChatTemplate::from_tokenizer_config(cfg, "c", "tool_use")
                .render({{"user", "x"}}, true, false),
            "T");
  EXPECT_THROW(ChatTemplate::from_tokenizer_config(cfg, "c", "nope"), Error);
  // chat_template.jinja wins over the config's template; special tokens still come from it.
  ChatTemplate s =
      ChatTemplate::from_tokenizer_config(cfg, "c", "", std::string("S{{ eos_token }}"));
  EXPECT_EQ(s.render({{"user", "x"}}, true, false), "S</s>");
  try {
    ChatTemplate::from_tokenizer_config(Json{{"eos_token", "</s>"}},
                                        "tokenizer_config.json of a/b");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("a/b"), std::string::npos);
    EXPECT_NE(e.message().find("--chat_template FILE"), std::string::npos);
  }
}

TEST(ChatTemplate, FileIsJinjaOrTokenizerConfig) {
  TempDir dir;
  write_text(dir.file("t.jinja"), "{{ '<' + messages[0].content + '>' }}\n");
  EXPECT_EQ(load_chat_template_file(dir.file("t.jinja")).render({{"user", "a"}}, true, false),
            "<a>");
  write_text(dir.file("braces.jinja"), "{{ messages[0].content }}");  // looks like JSON ends
  EXPECT_EQ(load_chat_template_file(dir.file("braces.jinja")).render({{"user", "a"}}, true, false),
            "a");
  write_text(dir.file("tokenizer_config.json"), config(kMistral, "<s>", "</s>").dump());
  EXPECT_EQ(load_chat_template_file(dir.file("tokenizer_config.json"))
                .render({{"user", "a"}}, true, false),
            "<s>[INST] a [/INST]");
  EXPECT_THROW(load_chat_template_file(dir.file("missing.jinja")), Error);
}

// plan_task with a chat template: the request carries the rendered text (for a completions
// endpoint), samples log it as arg_0, and the MC continuation follows §5's rule.
const char* kArith = R"(task: arith
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

TEST(ChatTemplatePrompt, MultiTurnRenderedForCompletions) {
  TempDir dir;
  write_text(dir.file("t.yaml"), kArith);
  TaskSpec spec = load_task_file(dir.file("t.yaml"));
  PromptOptions opts;
  opts.num_fewshot = 2;
  opts.apply_chat_template = true;
  opts.fewshot_as_multiturn = true;
  opts.chat_template = std::make_shared<const ChatTemplate>(ChatTemplate::from_tokenizer_config(
      config(kLlama3, "<|begin_of_text|>", "<|eot_id|>"), "llama3"));
  TaskPlan plan = plan_task(spec, arith_docs(), opts, -1);
  const auto& pd = plan.docs[0];
  ChatTemplate t = *opts.chat_template;
  const std::string expected = t.render(two_shot(true), true, false);
  ASSERT_EQ(pd.requests.size(), 3u);
  EXPECT_TRUE(pd.requests[0].messages.empty());
  EXPECT_EQ(pd.requests[0].prompt, expected);
  EXPECT_EQ(pd.requests[2].prompt, expected);
  EXPECT_EQ(pd.requests[0].continuation, "1");  // bare choice: no gen_prefix
  EXPECT_EQ(pd.sample.requests[1].arguments["arg_0"], expected);
  EXPECT_EQ(pd.sample.requests[1].arguments["arg_1"], "2");
}

TEST(ChatTemplatePrompt, GenPrefixSingleTurnContinuesTheAssistantTurn) {
  TempDir dir;
  std::string yaml = kArith;
  yaml.replace(yaml.find("Q: {{question}}\\nA:"), std::string("Q: {{question}}\\nA:").size(),
               "Q: {{question}}");
  yaml += "gen_prefix: \"Answer:\"\n";
  write_text(dir.file("t.yaml"), yaml);
  TaskSpec spec = load_task_file(dir.file("t.yaml"));
  PromptOptions opts;
  opts.num_fewshot = 2;
  opts.apply_chat_template = true;
  opts.fewshot_as_multiturn = false;
  opts.chat_template =
      std::make_shared<const ChatTemplate>(ChatTemplate::from_source(kQwen25, "qwen"));
  TaskPlan plan = plan_task(spec, arith_docs(), opts, -1);
  const auto& rq = plan.docs[0].requests;
  ASSERT_EQ(rq.size(), 3u);
  EXPECT_EQ(rq[0].prompt,
            "<|im_start|>system\nAnswer the arithmetic questions.\n\n<|im_end|>\n"
            "<|im_start|>user\nQ: 2+2? Answer: 4\n\nQ: 3+3? Answer: 6\n\nQ: 1+1?<|im_end|>\n"
            "<|im_start|>assistant\nAnswer:");
  // A gen_prefix not ending in whitespace keeps target_delimiter before the choice.
  EXPECT_EQ(rq[0].continuation, " 1");
}

}  // namespace
}  // namespace retort
