#include "prompt/chat_template.h"

#include <filesystem>

#include "data/hub.h"
#include "util/error.h"
#include "util/pyvalue.h"
#include "util/strings.h"

namespace retort {

namespace {

// transformers' SPECIAL_TOKENS_ATTRIBUTES (tokenization_utils_base.py): the special tokens
// a tokenizer exposes to its chat template through special_tokens_map (those that are set).
const char* const kSpecialTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                      "pad_token", "cls_token", "mask_token"};

const char* const kFileHint =
    "use --chat_template FILE (a Jinja file, or the model's tokenizer_config.json)";

// A special token as tokenizer_config.json writes it: a string, or an AddedToken object
// {"__type": "AddedToken", "content": "<s>", ...}. nullopt for null / anything else.
std::optional<std::string> token_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return std::nullopt;
}

Json special_tokens_of(const Json& config) {
  Json out = Json::object();
  if (!config.is_object()) return out;
  for (const char* k : kSpecialTokens)
    if (config.contains(k))
      if (auto t = token_text(config[k])) out[k] = *t;
  if (config.contains("additional_special_tokens") &&
      config["additional_special_tokens"].is_array()) {
    Json list = Json::array();
    for (const auto& v : config["additional_special_tokens"])
      if (auto t = token_text(v)) list.push_back(*t);
    out["additional_special_tokens"] = list;
  }
  return out;
}

// The template text of a config's chat_template: a string, or a list of {name, template}
// (transformers keeps it as a dict and, with no template asked for, takes "default").
// nullopt when the config has none.
std::optional<std::string> config_template(const Json& config, const std::string& origin,
                                           const std::string& name) {
  if (!config.is_object() || !config.contains("chat_template") || config["chat_template"].is_null())
    return std::nullopt;
  const Json& ct = config["chat_template"];
  if (ct.is_string()) {
    if (!name.empty() && name != "default")
      throw Error("no chat template named '" + name + "': the chat_template is a single template",
                  origin, "drop the template name from --apply_chat_template");
    return ct.get<std::string>();
  }
  if (ct.is_array()) {
    const std::string want = name.empty() ? "default" : name;
    std::vector<std::string> names;
    for (const auto& e : ct) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string() ||
          !e.contains("template") || !e["template"].is_string())
        throw Error("chat_template: each entry of the list needs a string name and template",
                    origin);
      names.push_back(e["name"].get<std::string>());
      if (names.back() == want) return e["template"].get<std::string>();
    }
    throw Error("no chat template named '" + want + "' (templates: " + join(names, ", ") + ")",
                origin, "name one with --apply_chat_template NAME");
  }
  throw Error("chat_template is neither a string nor a list of {name, template}", origin);
}

}  // namespace

ChatTemplate ChatTemplate::from_source(std::string source, const std::string& origin) {
  Template t = Template::parse(source, origin, TemplateOptions::hf_chat());
  return ChatTemplate(std::move(source), std::move(t), origin, Json::object());
}

ChatTemplate ChatTemplate::from_tokenizer_config(const Json& config, const std::string& origin,
                                                 const std::string& name,
                                                 const std::optional<std::string>& sidecar) {
  if (!config.is_object()) throw Error("a tokenizer config must be a JSON object", origin);
  std::optional<std::string> text = config_template(config, origin, name);
  std::string where = origin;
  if (sidecar && (name.empty() || name == "default")) {
    text = *sidecar;
    where = origin + " (chat_template.jinja)";
  }
  if (!text)
    throw Error("no chat template: " + origin + " has no chat_template", origin, kFileHint);
  Template t = Template::parse(*text, where, TemplateOptions::hf_chat());
  return ChatTemplate(std::move(*text), std::move(t), where, special_tokens_of(config));
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt, bool continue_final_message) const {
  if (add_generation_prompt && continue_final_message)
    throw Error("continue_final_message and add_generation_prompt cannot both be set", origin_);
  Json vars = special_tokens_;
  Json list = Json::array();
  for (const auto& m : messages) list.push_back(Json{{"role", m.role}, {"content", m.content}});
  vars["messages"] = std::move(list);
  vars["tools"] = nullptr;
  vars["documents"] = nullptr;
  vars["add_generation_prompt"] = add_generation_prompt;
  std::string out = template_.render(vars);
  if (!continue_final_message || messages.empty()) return out;
  // transformers: cut right after the final message's content (its stripped form when the
  // template trimmed trailing spaces of it).
  const std::string& final_msg = messages.back().content;
  const std::string stripped = py_strip(final_msg);
  const size_t loc = out.rfind(stripped);
  if (loc == std::string::npos)
    throw Error(
        "continue_final_message: the final message does not appear in the rendered chat (the "
        "template deletes part of it)",
        origin_, "check the gen_prefix of the task against this chat template");
  const std::string lstripped = py_lstrip(final_msg);
  if (out.compare(loc, lstripped.size(), final_msg) == 0 && lstripped.size() == final_msg.size())
    return out.substr(0, loc + lstripped.size());
  return out.substr(0, loc + stripped.size());
}

ChatTemplate load_chat_template_file(const std::string& path, const std::string& name) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error("chat template file not found", path,
                "--chat_template takes a Jinja file or a tokenizer_config.json");
  std::string text = read_file(path);
  Json config;
  std::string t = trim(text);
  if (!t.empty() && t[0] == '{' && t.back() == '}') {
    try {
      config = Json::parse(text);
    } catch (const std::exception&) {
      config = Json();  // "{{ ... }}" at both ends: a Jinja template, not JSON
    }
  }
  if (config.is_object()) return ChatTemplate::from_tokenizer_config(config, path, name);
  if (!name.empty() && name != "default")
    throw Error("no chat template named '" + name + "': the file is a single Jinja template", path,
                "drop the template name from --apply_chat_template");
  return ChatTemplate::from_source(std::move(text), path);
}

ChatTemplate load_hub_chat_template(const std::string& repo, const std::string& revision,
                                    const std::string& name) {
  const HubSettings settings = HubSettings::from_env();
  const std::string origin = "tokenizer_config.json of " + repo;
  Json config;
  try {
    std::string path = hub_download_model_file(repo, "tokenizer_config.json", revision, settings);
    try {
      config = Json::parse(read_file(path));
    } catch (const std::exception&) {
      throw Error("tokenizer_config.json of " + repo + " is not valid JSON", path, kFileHint);
    }
  } catch (const Error& e) {
    throw Error("cannot get the chat template of model repo '" + repo + "': " + e.what_failed(),
                e.where(), std::string(kFileHint) + (e.hint().empty() ? "" : "; or " + e.hint()));
  }
  // transformers >= 4.47 saves the template beside the config as chat_template.jinja and
  // reads it in preference to the config's chat_template. A repo without one answers 404.
  std::optional<std::string> sidecar;
  try {
    sidecar = read_file(hub_download_model_file(repo, "chat_template.jinja", revision, settings));
  } catch (const Error&) {
    sidecar.reset();
  }
  if (!sidecar && (!config.is_object() || !config.contains("chat_template") ||
                   config["chat_template"].is_null()))
    throw Error(
        "model repo '" + repo +
            "' has no chat template (its tokenizer_config.json has no chat_template and "
            "it has no chat_template.jinja)",
        settings.endpoint + "/" + repo,
        std::string(kFileHint) + ", or model_args tokenizer=ORG/NAME naming a repo that has one");
  return ChatTemplate::from_tokenizer_config(config, origin, name, sidecar);
}

}  // namespace retort
