#include "providers/endpoint.h"

#include <cstdlib>

#include "util/base64.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

namespace retort {

namespace {

struct ProviderInfo {
  const char* name;
  const char* base_env;      // env var naming the base URL ("" = none)
  const char* key_env;       // env var holding the key
  const char* default_base;  // "" = none
  ApiStyle style;
};

const ProviderInfo kProviders[] = {
    {"openai", "OPENAI_API_BASE", "OPENAI_API_KEY", "https://api.openai.com/v1", ApiStyle::kAuto},
    {"hosted_vllm", "HOSTED_VLLM_API_BASE", "HOSTED_VLLM_API_KEY", "", ApiStyle::kAuto},
    {"lm_studio", "LM_STUDIO_API_BASE", "LM_STUDIO_API_KEY", "http://127.0.0.1:1234/v1",
     ApiStyle::kAuto},
    {"ollama", "OLLAMA_API_BASE", "OLLAMA_API_KEY", "http://localhost:11434/v1", ApiStyle::kAuto},
    {"anthropic", "ANTHROPIC_API_BASE", "ANTHROPIC_API_KEY", "https://api.anthropic.com/v1",
     ApiStyle::kAnthropic},
    {"openrouter", "OPENROUTER_API_BASE", "OPENROUTER_API_KEY", "https://openrouter.ai/api/v1",
     ApiStyle::kAuto},
    {"together_ai", "TOGETHERAI_API_BASE", "TOGETHERAI_API_KEY", "https://api.together.xyz/v1",
     ApiStyle::kAuto},
    {"groq", "GROQ_API_BASE", "GROQ_API_KEY", "https://api.groq.com/openai/v1", ApiStyle::kAuto},
    {"deepseek", "DEEPSEEK_API_BASE", "DEEPSEEK_API_KEY", "https://api.deepseek.com/v1",
     ApiStyle::kAuto},
};

std::string env(const char* name) {
  if (!name || !*name) return "";
  const char* v = std::getenv(name);
  return v ? trim(v) : "";
}

std::string arg_string(const Json& args, const char* key) {
  if (!args.is_object() || !args.contains(key)) return "";
  const Json& v = args[key];
  if (v.is_string()) return trim(v.get<std::string>());
  if (v.is_null()) return "";
  return v.dump();
}

ApiStyle parse_style(const std::string& s) {
  std::string v = to_lower(trim(s));
  if (v.empty() || v == "auto" || v == "openai" || v == "curator") return ApiStyle::kAuto;
  if (v == "chat" || v == "local-chat-completions" || v == "openai-chat-completions")
    return ApiStyle::kChat;
  if (v == "completions" || v == "local-completions" || v == "openai-completions")
    return ApiStyle::kCompletions;
  if (v == "anthropic" || v == "anthropic-chat" || v == "anthropic-chat-completions")
    return ApiStyle::kAnthropic;
  throw Error("unknown API style '" + s + "'", "--api-style",
              "use one of: auto, chat, completions, anthropic");
}

// Strips a trailing slash and a pasted route ("/chat/completions", "/completions", "/models").
std::string normalize_base(std::string url) {
  url = trim(url);
  while (!url.empty() && url.back() == '/') url.pop_back();
  for (const char* route : {"/chat/completions", "/completions", "/models", "/messages"}) {
    if (ends_with(url, route)) {
      url.resize(url.size() - std::string_view(route).size());
      break;
    }
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

const char* api_style_name(ApiStyle style) {
  switch (style) {
    case ApiStyle::kAuto:
      return "auto";
    case ApiStyle::kChat:
      return "chat";
    case ApiStyle::kCompletions:
      return "completions";
    case ApiStyle::kAnthropic:
      return "anthropic";
  }
  return "auto";
}

std::string Endpoint::identity() const {
  return base_url + "|" + model + "|" + api_style_name(style);
}

std::string Endpoint::server_root() const {
  std::string root = base_url;
  if (ends_with(root, "/v1")) root.resize(root.size() - 3);
  return root;
}

namespace {

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "http://user:pass@host:8000/v1" -> "http://host:8000/v1", basic_auth = base64("user:pass").
std::string take_url_credentials(const std::string& url, std::string& basic_auth) {
  size_t start = url.find("://");
  if (start == std::string::npos) return url;
  start += 3;
  size_t at = url.find('@', start);
  size_t end = url.find_first_of("/?#", start);
  if (at == std::string::npos || (end != std::string::npos && at > end)) return url;
  std::string userinfo = url.substr(start, at - start);
  size_t colon = userinfo.find(':');
  std::string user = percent_decode(userinfo.substr(0, colon));
  std::string password =
      colon == std::string::npos ? "" : percent_decode(userinfo.substr(colon + 1));
  log::add_secret(password);
  log::add_secret(userinfo);
  basic_auth = base64_encode(user + ":" + password);
  log::add_secret(basic_auth);
  return url.substr(0, start) + url.substr(at + 1);
}

}  // namespace

Endpoint resolve_endpoint(const EndpointOptions& o) {
  Endpoint ep;
  std::string model = trim(o.model);
  if (model.empty()) model = arg_string(o.model_args, "model");
  if (model.empty()) model = arg_string(o.model_args, "pretrained");

  const ProviderInfo* info = nullptr;
  auto slash = model.find('/');
  if (slash != std::string::npos) {
    std::string prefix = to_lower(model.substr(0, slash));
    for (const auto& p : kProviders) {
      if (prefix == p.name) info = &p;
    }
    if (info) model = model.substr(slash + 1);
  }
  ep.model = model;
  ep.provider = info ? info->name : "openai";

  std::string base = trim(o.base_url);
  if (base.empty()) base = arg_string(o.model_args, "base_url");
  if (base.empty()) base = arg_string(o.model_args, "api_base");
  if (base.empty() && info) base = env(info->base_env);
  if (base.empty() && (!info || std::string(info->name) == "openai")) {
    base = env("OPENAI_API_BASE");
    if (base.empty()) base = env("OPENAI_BASE_URL");
  }
  if (base.empty() && info) base = info->default_base;
  if (base.empty()) {
    throw Error("no server address for model '" + o.model + "'", "--base-url",
                info ? std::string("pass --base-url http://HOST:PORT/v1 or set ") + info->base_env
                     : "pass --base-url http://HOST:PORT/v1 (or set OPENAI_API_BASE), or prefix "
                       "the model with its provider, e.g. hosted_vllm/NAME, lm_studio/NAME");
  }
  if (base.find("://") == std::string::npos) base = "http://" + base;
  base = take_url_credentials(base, ep.basic_auth);
  base = normalize_base(base);
  if (info && std::string(info->name) == "ollama" && !ends_with(base, "/v1")) base += "/v1";
  ep.base_url = base;

  ep.api_key_env = info ? info->key_env : "OPENAI_API_KEY";
  if (!trim(o.api_key).empty()) {
    ep.api_key = trim(o.api_key);
    ep.api_key_source = "--api-key";
  } else if (!arg_string(o.model_args, "api_key").empty()) {
    ep.api_key = arg_string(o.model_args, "api_key");
    ep.api_key_source = "--model_args api_key";
  } else if (!env(ep.api_key_env.c_str()).empty()) {
    ep.api_key = env(ep.api_key_env.c_str());
    ep.api_key_source = ep.api_key_env;
  }
  log::add_secret(ep.api_key);

  if (!trim(o.api_style).empty()) {
    ep.style = parse_style(o.api_style);
  } else {
    ep.style = info ? info->style : ApiStyle::kAuto;
  }
  return ep;
}

}  // namespace retort
