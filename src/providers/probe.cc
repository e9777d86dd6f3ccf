// Capability probing and model listing: the one-off calls made before a run, whose failures
// become one clear retort::Error each.
#include <algorithm>

#include "engine/http.h"
#include "providers/client.h"
#include "providers/wire.h"
#include "util/error.h"
#include "util/strings.h"

namespace retort {

namespace {

HttpCall get_call(const Endpoint& ep, const std::string& url, double timeout_s) {
  HttpCall c;
  c.method = "GET";
  c.url = url;
  c.headers = wire::auth_headers(ep);
  c.timeout_s = timeout_s;
  return c;
}

[[noreturn]] void throw_transport(const HttpReply& r, const std::string& url) {
  std::string hint = "check --base-url";
  switch (r.transport_error) {
    case 6:  // CURLE_COULDNT_RESOLVE_HOST
      hint = "check the host name in --base-url (or the *_API_BASE variable)";
      break;
    case 7:  // CURLE_COULDNT_CONNECT
      hint = "start the server, or point --base-url at the port it listens on";
      break;
    case 28:  // CURLE_OPERATION_TIMEDOUT
      hint = "is the server overloaded or still loading the model?";
      break;
    case 35:  // CURLE_SSL_CONNECT_ERROR
      hint = "use http:// for a server without TLS";
      break;
    default:
      break;
  }
  throw Error(r.transport_message, url, hint);
}

bool json_with_data(const HttpReply& r) {
  if (r.status != 200) return false;
  Json j = Json::parse(r.body, nullptr, false);
  return !j.is_discarded() && j.is_object() && j.contains("data");
}

std::string normalize_id(std::string s) {
  s = to_lower(s);
  for (char& c : s)
    if (c == '/' || c == '-' || c == '.' || c == ':') c = '_';
  return s;
}

std::vector<std::string> suggestions(const std::string& model,
                                     const std::vector<std::string>& served) {
  std::vector<std::string> out;
  std::string n = normalize_id(model);
  std::string tail = model.substr(model.rfind('/') == std::string::npos ? 0 : model.rfind('/') + 1);
  for (const auto& id : served) {
    std::string nid = normalize_id(id);
    std::string ntail = normalize_id(tail);
    if (nid == n || nid == ntail || ends_with(nid, "_" + ntail) || ends_with(n, "_" + nid)) {
      out.push_back(id);
    }
  }
  for (const auto& name : {model, tail}) {
    for (const auto& c : closest_matches(name, served, 3)) {
      if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> list_models(const Endpoint& ep, double timeout_s) {
  std::string url = ep.base_url + "/models";
  HttpReply r = http_call(get_call(ep, url, timeout_s));
  if (r.status == 0) throw_transport(r, url);
  if (r.status == 401 || r.status == 403) {
    throw Error(
        std::string("the server refused the request: HTTP ") + std::to_string(r.status) + " (" +
            wire::error_message(r.body) + "); " +
            (ep.api_key.empty() ? "no API key was given"
                                : "the API key from " + ep.api_key_source + " was rejected"),
        url, "pass --api-key KEY or set " + ep.api_key_env);
  }
  if (r.status == 404) {
    if (!ends_with(ep.base_url, "/v1")) {
      std::string v1 = ep.base_url + "/v1/models";
      HttpReply r2 = http_call(get_call(ep, v1, timeout_s));
      if (json_with_data(r2)) {
        throw Error("the base URL is missing /v1: " + url + " answered 404, but " + v1 + " works",
                    url, "use --base-url " + ep.base_url + "/v1");
      }
    }
    throw Error("the server answered 404 for " + url, url,
                "is --base-url the OpenAI-compatible API root (usually ending in /v1)?");
  }
  if (r.status < 200 || r.status >= 300) {
    throw Error("the server answered " + wire::describe_http_error(ep, r.status, r.body), url);
  }
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw Error("the server did not answer JSON (" +
                    (r.content_type.empty() ? std::string("no content type") : r.content_type) +
                    "): '" + wire::snippet(r.body) + "'",
                url, "is --base-url pointing at an OpenAI-compatible API (usually ending in /v1)?");
  }
  if (j.contains("error") && !j["error"].is_null()) {
    throw Error("the server answered with an error: " + wire::error_message(r.body), url);
  }
  if (!j.contains("data") || !j["data"].is_array()) {
    throw Error("the server's model list has no 'data' array: '" + wire::snippet(r.body) + "'", url,
                "is --base-url pointing at an OpenAI-compatible API?");
  }
  std::vector<std::string> ids;
  for (const auto& m : j["data"]) {
    if (m.is_object() && m.contains("id") && m["id"].is_string())
      ids.push_back(m["id"].get<std::string>());
  }
  return ids;
}

Capabilities probe(const Endpoint& ep, bool check_prompt_logprobs, double timeout_s) {
  Capabilities caps;
  caps.models = list_models(ep, timeout_s);
  caps.serves_model = caps.models.empty() || std::find(caps.models.begin(), caps.models.end(),
                                                       ep.model) != caps.models.end();
  if (!caps.serves_model) {
    auto near = suggestions(ep.model, caps.models);
    std::string served;
    for (size_t i = 0; i < caps.models.size() && i < 20; ++i)
      served += (i ? ", " : "") + caps.models[i];
    if (caps.models.size() > 20)
      served += ", ... (" + std::to_string(caps.models.size()) + " in all)";
    std::string hint = near.empty() ? "pass one of the served ids with --model"
                                    : "did you mean '" + near.front() + "'?";
    throw Error(
        "model '" + ep.model + "' is not served by " + ep.base_url + "; it serves: " + served,
        "--model", hint);
  }
  if (ep.style == ApiStyle::kAnthropic) {
    caps.checked_prompt_logprobs = check_prompt_logprobs;
    caps.prompt_logprobs_error =
        "Anthropic's Messages API cannot return prompt logprobs; use the generative variant "
        "of the task";
    return caps;
  }
  {
    HttpCall c;
    c.url = ep.server_root() + "/tokenize";
    c.headers = wire::auth_headers(ep);
    c.body = Json{{"model", ep.model}, {"prompt", "Hello"}}.dump();
    c.timeout_s = timeout_s;
    HttpReply r = http_call(c);
    Json j = r.status == 200 ? Json::parse(r.body, nullptr, false) : Json();
    caps.tokenize =
        j.is_object() && j.contains("tokens") && j["tokens"].is_array() && !j["tokens"].empty();
  }
  if (!check_prompt_logprobs) return caps;
  caps.checked_prompt_logprobs = true;
  if (ep.style == ApiStyle::kChat) {
    caps.prompt_logprobs_error =
        "this endpoint is chat-only, and chat cannot return prompt logprobs; use the "
        "generative variant of the task";
    return caps;
  }
  HttpCall c;
  c.url = ep.base_url + "/completions";
  c.headers = wire::auth_headers(ep);
  c.body = Json{{"model", ep.model}, {"prompt", "Hello world"}, {"temperature", 0},
                {"max_tokens", 1},   {"logprobs", 1},           {"echo", true}}
               .dump();
  c.timeout_s = timeout_s;
  HttpReply r = http_call(c);
  if (r.status == 0) throw_transport(r, c.url);
  if (r.status != 200) {
    caps.prompt_logprobs_error = "this endpoint cannot return prompt logprobs (POST " + c.url +
                                 " answered " + wire::describe_http_error(ep, r.status, r.body) +
                                 "); use the generative variant of the task";
    return caps;
  }
  Json j = Json::parse(r.body, nullptr, false);
  const Json* lp = nullptr;
  if (j.is_object() && j.contains("choices") && j["choices"].is_array() && !j["choices"].empty() &&
      j["choices"][0].is_object() && j["choices"][0].contains("logprobs"))
    lp = &j["choices"][0]["logprobs"];
  if (lp && lp->is_object() && lp->contains("token_logprobs") && lp->contains("text_offset") &&
      (*lp)["token_logprobs"].is_array() && (*lp)["token_logprobs"].size() >= 2) {
    caps.prompt_logprobs = true;
  } else if (lp && lp->is_object() && lp->contains("content")) {
    caps.prompt_logprobs_error =
        "this endpoint cannot return prompt logprobs (llama.cpp/chat-only: its logprobs cover "
        "generated tokens only); use the generative variant of the task";
  } else {
    caps.prompt_logprobs_error =
        "this endpoint does not echo prompt logprobs (echo + logprobs gave no token_logprobs); "
        "use the generative variant of the task";
  }
  return caps;
}

}  // namespace retort
