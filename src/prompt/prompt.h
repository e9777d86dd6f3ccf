// From a task and its docs to the exact requests lm-evaluation-harness would make
// (lm-eval-semantics.md §2-§6): field resolution (column / template / list literal),
// few-shot pool and the seeded sampler, description and system instruction, delimiters,
// gen_prefix, multiple_input, chat messages (multi-turn or single-turn), and the requests
// per output type with repeats.
//
// Promises:
//  - prompt bytes equal lm-eval's for the same config, docs and seed;
//  - docs are drawn in doc order from one RNG per task, so doc i's prompt does not depend
//    on --limit;
//  - a template or field problem is a retort::Error naming the task, the doc index and the
//    field (and the template position when the template engine gives one).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/request.h"
#include "core/run_result.h"
#include "tasks/tasks.h"
#include "template/template.h"
#include "util/json.h"

namespace retort {

class ChatTemplate;  // prompt/chat_template.h

struct PromptOptions {
  std::optional<int> num_fewshot;  // --num_fewshot (the task's own 0 still wins)
  bool apply_chat_template = false;
  // With apply_chat_template: the model's chat template, rendered here into plain text (what
  // lm-eval's API models with an HF tokenizer send to a completions endpoint: §5, with
  // add_generation_prompt = no gen_prefix, continue_final_message = the opposite). Null:
  // requests carry the chat messages (for a chat endpoint, which applies its own template).
  std::shared_ptr<const ChatTemplate> chat_template;
  bool fewshot_as_multiturn = false;
  std::string system_instruction;
  std::optional<int64_t> fewshot_seed = 1234;  // nullopt = nondeterministic
  Json gen_kwargs_override = Json::object();   // --gen_kwargs, applied with dict.update
  std::optional<int> repeats;                  // --repeats (else the task's `repeats`)
  // Plan multiple_choice tasks in the generative formulation (see plan_task).
  bool mc_generative = false;
};

// The generative formulation of a multiple_choice task (for endpoints without prompt
// logprobs; docs/tasks.md "Generative multiple choice"). Each doc's question block is
//  - when the choices already are the letters A, B, ... (or (A), (B), ...), which the
//    prompt lists (MMLU, GPQA, MedQA): doc_to_text as it is;
//  - otherwise: doc_to_text without a trailing "Answer:", then one line "L. choice" per
//    choice (choice text stripped; for multiple_input tasks the choice is the context
//    followed by target_delimiter and the target), then "Answer:".
// A shot is its block, target_delimiter and its gold letter, then fewshot_delimiter; the
// description is the task's followed by kGenerativeMcInstruction. One generate_until
// request per doc with lm-eval's default generation kwargs (until fewshot_delimiter, 256
// tokens, greedy) and --gen_kwargs; the sample's target is the gold letter.
inline constexpr const char* kGenerativeMcInstruction =
    "Answer with the letter of the correct choice.\n\n";
inline constexpr const char* kChoiceLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
// True when choices[i] is the i-th letter, bare or in parentheses, for every i.
bool choices_are_letters(const std::vector<std::string>& choices);

// lm-eval's Message(role, content, delimiter).
struct PromptMessage {
  std::string role;
  std::string content;
  std::string delimiter;
};

// Python-side helpers of lm-eval's prompt assembly (§4).
std::string maybe_delimit(const std::string& prefix, const std::string& suffix,
                          const std::string& delimiter);
bool requires_delimiter(const std::string& prefix, const std::string& suffix);

// Field resolution for one task (§2). Field values are JSON: strings, ints or lists.
// The task's string fields are parsed as templates once, here; rendering one for a doc does
// no parsing and no cache look-up. A field that does not parse is parsed again when it is
// rendered, so its error reaches the doc that needed it, as before. spec must outlive this.
class DocFields {
 public:
  explicit DocFields(const TaskSpec& spec);

  // doc_index is only used to name the doc in errors. fewshot = use fewshot_config
  // overrides when given.
  Json text(const Doc& doc, int64_t doc_index, bool fewshot = false) const;
  Json target(const Doc& doc, int64_t doc_index, bool fewshot = false) const;
  // nullopt when the task has no doc_to_choice.
  std::optional<std::vector<std::string>> choices(const Doc& doc, int64_t doc_index,
                                                  bool fewshot = false) const;
  std::string description(const Doc& doc, int64_t doc_index) const;
  std::optional<std::string> gen_prefix(const Doc& doc, int64_t doc_index,
                                        bool fewshot = false) const;
  bool has_choices() const { return !spec_.doc_to_choice.is_null(); }

 private:
  Json render_field(const Json& field, const std::string& key, const Doc& doc,
                    int64_t doc_index) const;
  Json call_builtin(const Json& field, const std::string& key, const Doc& doc,
                    int64_t doc_index) const;
  // The template parsed from field (one of spec_'s own Json values), or null.
  const Template* parsed(const Json& field) const;

  struct ParsedField {
    const Json* field;
    Template tpl;
  };
  const TaskSpec& spec_;
  std::vector<ParsedField> parsed_;
};

// A task's docs as the prompt builder needs them.
struct TaskDocs {
  std::vector<Doc> eval;     // the eval split, process_docs applied, in order
  int64_t original_len = 0;  // eval docs before --limit
  // Eval docs process_docs marked unusable (kSkippedDocKey), left out: (reason, count).
  std::vector<std::pair<std::string, int64_t>> skipped;
  std::vector<Doc> fewshot_pool;  // §3 pool (empty when num_fewshot is 0)
  // lm-eval passes the eval doc to the sampler (self-exclusion) only when
  // fewshot_config.split == test_split (both unset counts as equal).
  bool exclude_eval_doc = false;
};

// One doc's requests, as planned. sample.requests[i] logs request i (arguments, kind);
// requests holds the wire requests: request i's repeat r is requests[i * repeats + r].
struct PlannedDoc {
  Sample sample;
  std::vector<Request> requests;
  std::optional<std::vector<std::string>> choices;  // doc_to_choice (contexts if multiple_input)
  Json gold;                 // MC gold: doc_to_text for multiple_input, else doc_to_target
  std::string rolling_text;  // loglikelihood_rolling: the scored text
};

struct TaskPlan {
  int num_fewshot = 0;
  bool generative_mc = false;  // a multiple_choice task planned in the generative formulation
  bool multiple_input = false;
  bool multiple_target = false;
  int repeats = 1;
  Json gen_kwargs;  // generate_until: the resolved kwargs every request carries
  std::vector<PlannedDoc> docs;
};

// The generation kwargs of a generate_until task (§1 defaults, then overrides).
Json resolve_gen_kwargs(const TaskSpec& spec, const Json& overrides);

// Parses --gen_kwargs / --model_args text "k=v,k2=v2" (§11): values become bool, None,
// int, float, a quoted string without its quotes, a [list] / {dict} literal, or the plain
// string. Commas inside quotes or brackets do not split. Throws Error naming flag.
Json parse_kv_args(const std::string& text, const std::string& flag);

// Builds every doc's prompt and requests. limit = how many eval docs to plan (the first
// ones). Throws retort::Error for field/template problems and too-small few-shot pools.
TaskPlan plan_task(const TaskSpec& spec, const TaskDocs& docs, const PromptOptions& options,
                   int64_t limit);
// The same, giving each planned eval doc to its sample instead of copying it (docs.eval's
// planned entries are left empty; the rest of docs is untouched).
TaskPlan plan_task(const TaskSpec& spec, TaskDocs&& docs, const PromptOptions& options,
                   int64_t limit);

// The context of one eval doc (exposed for `retort tasks show` and tests). Consumes the
// sampler like plan_task does for that doc.
struct BuiltContext {
  bool chat = false;
  std::string text;                   // plain text (chat: empty)
  std::vector<ChatMessage> messages;  // chat messages
  std::string arg0;                   // what samples log as arg_0
};

// Loads the eval docs and few-shot pool of a task through data/ (load_split, process_docs),
// following §3's pool order. num_fewshot is the effective shot count (0 = no pool).
TaskDocs load_task_docs(const TaskSpec& spec, int num_fewshot);

// The effective num_fewshot (§11): the CLI value overrides the task's unless the task
// says 0; neither = 0.
int effective_num_fewshot(const TaskSpec& spec, std::optional<int> cli);

}  // namespace retort
