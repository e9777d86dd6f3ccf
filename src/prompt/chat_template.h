// A model's Hugging Face chat template, rendered locally the way transformers'
// tokenizer.apply_chat_template(messages, tokenize=False, ...) does, so that a completions
// endpoint receives the same text lm-eval sends with `--model local-completions
// --apply_chat_template` (lm-eval-semantics.md §5: TemplateAPI.apply_chat_template renders
// with the HF tokenizer when it has one).
//
// Where the template comes from (in the order transformers >= 4.47 uses them):
//  - a model repo on the Hub: its `chat_template.jinja` when the repo has one, else the
//    `chat_template` of its `tokenizer_config.json` (a string, or a list of
//    {"name", "template"} from which "default" is taken unless a name is asked for); the
//    special tokens (bos_token, eos_token, ...: strings or AddedToken objects
//    {"content": ...}) always come from tokenizer_config.json. Hub cache, token and offline
//    rules are data/hub.h's.
//  - a file: a Jinja template, or a tokenizer_config.json (read as above).
//
// Rendering (transformers' utils/chat_template_utils.py, _compile_jinja_template and
// render_jinja_template): the template runs in TemplateOptions::hf_chat() (trim_blocks,
// lstrip_blocks, lenient undefined, no kept trailing newline, tojson = json.dumps with
// ensure_ascii=False, raise_exception(), strftime_now(), loop controls) with the variables
// messages (a list of {"role", "content"}), tools=None, documents=None,
// add_generation_prompt, and the special tokens. With continue_final_message the text is cut
// right after the final message's content, as transformers cuts it.
//
// Errors (no chat_template, a syntax error, raise_exception() in the template, a final
// message the template drops) are retort::Error naming where the template came from.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/request.h"
#include "template/template.h"
#include "util/json.h"

namespace retort {

class ChatTemplate {
 public:
  // From the parsed contents of a tokenizer_config.json. origin names it in messages
  // ("tokenizer_config.json of ORG/NAME", a path). name picks one of a list of named
  // templates (empty: "default"). sidecar: the text of a chat_template.jinja that wins over
  // the config's chat_template when given. Throws when neither holds a template.
  static ChatTemplate from_tokenizer_config(const Json& config, const std::string& origin,
                                            const std::string& name = "",
                                            const std::optional<std::string>& sidecar = {});
  // A bare Jinja template (no special tokens known: bos_token etc. are undefined, which
  // prints as "" as in Jinja).
  static ChatTemplate from_source(std::string source, const std::string& origin);

  // The rendered text. add_generation_prompt and continue_final_message are
  // transformers' arguments (lm-eval passes add_generation_prompt = no gen_prefix and
  // continue_final_message = the opposite).
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                     bool continue_final_message) const;

  // The template text as it was given (what results JSON records as chat_template).
  const std::string& source() const { return source_; }
  const std::string& origin() const { return origin_; }
  // The special-token variables the template sees (bos_token, eos_token, ...).
  const Json& special_tokens() const { return special_tokens_; }

 private:
  ChatTemplate(std::string source, Template t, std::string origin, Json special_tokens)
      : source_(std::move(source)),
        template_(std::move(t)),
        origin_(std::move(origin)),
        special_tokens_(std::move(special_tokens)) {}
  std::string source_;
  Template template_;
  std::string origin_;
  Json special_tokens_;
};

// Reads `--chat_template FILE`: a tokenizer_config.json (a JSON object with chat_template)
// or a Jinja file. name as in from_tokenizer_config.
ChatTemplate load_chat_template_file(const std::string& path, const std::string& name = "");

// Fetches the template of a Hub model repo (tokenizer_config.json, and chat_template.jinja
// when present) at revision (empty: main). Errors name the repo and say to use
// --chat_template FILE.
ChatTemplate load_hub_chat_template(const std::string& repo, const std::string& revision = "",
                                    const std::string& name = "");

}  // namespace retort
