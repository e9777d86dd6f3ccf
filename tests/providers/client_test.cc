// execute() and probe() against a loopback fake server: ordering, dedup, cache before hand-on,
// rerun without network, failures as data, secrets kept out of the cache, and errors that
// explain themselves.
#include "providers/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include <sqlite3.h>

#include "cache/cache.h"
#include "engine/fake_server.h"
#include "providers/wire.h"
#include "support/test_support.h"
#include "util/error.h"

namespace retort {
namespace {

using testing::FakeReply;
using testing::FakeRequest;
using testing::FakeServer;
using testing::TempDir;

// An OpenAI-compatible fake: completions echo the prompt upper-cased; /models lists ids.
FakeReply openai_like(const FakeRequest& r, std::vector<std::string> models = {"m"}) {
  if (r.path.find("/models") != std::string::npos) {
    Json data = Json::array();
    for (auto& id : models) data.push_back({{"id", id}, {"object", "model"}});
    return {200, Json{{"object", "list"}, {"data", data}}.dump()};
  }
  Json b = Json::parse(r.body);
  if (r.path == "/v1/chat/completions") {
    std::string text = "chat:" + b["messages"].back()["content"].get<std::string>();
    return {200, Json{{"choices",
                       {{{"index", 0},
                         {"message", {{"role", "assistant"}, {"content", text}}},
                         {"finish_reason", "stop"}}}},
                      {"usage", {{"prompt_tokens", 3}, {"completion_tokens", 1}}}}
                     .dump()};
  }
  if (r.path == "/v1/completions") {
    std::string text = "re:" + b["prompt"].get<std::string>();
    return {200,
            Json{{"choices", {{{"index", 0}, {"text", text}, {"finish_reason", "stop"}}}}}.dump()};
  }
  return {404, R"({"error":{"message":"not found"}})"};
}

Endpoint endpoint_for(const FakeServer& s, std::string key = "") {
  EndpointOptions o;
  o.model = "m";
  o.base_url = s.base_url();
  o.api_key = std::move(key);
  return resolve_endpoint(o);
}

std::vector<Request> prompts(int n) {
  std::vector<Request> reqs(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) reqs[static_cast<size_t>(i)].prompt = "p" + std::to_string(i);
  return reqs;
}

ExecOptions options(const TempDir& dir) {
  ExecOptions o;
  o.cache_path = dir.file("cache.sqlite");
  o.concurrency = 8;
  o.backoff_base_s = 0.001;
  o.backoff_cap_s = 0.01;
  return o;
}

class Recorder : public ExecObserver {
 public:
  explicit Recorder(std::string cache_path) : path_(std::move(cache_path)) {}
  void on_response(size_t index, const Response& r) override {
    ++count;
    seen.push_back(index);
    // Promise: a successful response is already durable when it is handed on.
    if (r.ok && !r.cached && !path_.empty()) {
      ResponseCache c(path_);
      if (c.stats().entries == 0) durable_violations++;
    }
  }
  void on_progress(const RunStats& s) override { last = s; }
  std::string path_;
  int count = 0, durable_violations = 0;
  std::vector<size_t> seen;
  RunStats last;
};

TEST(Execute, AnswersInOrderAndRerunUsesOnlyTheCache) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  auto reqs = prompts(50);
  ExecOptions o = options(dir);
  Recorder rec(o.cache_path);
  RunStats st;
  auto rs = execute(endpoint_for(server), reqs, o, &rec, &st);
  ASSERT_EQ(rs.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(rs[static_cast<size_t>(i)].ok);
    EXPECT_EQ(rs[static_cast<size_t>(i)].text, "re:p" + std::to_string(i));
  }
  EXPECT_EQ(rec.count, 50);
  EXPECT_EQ(rec.durable_violations, 0);
  EXPECT_EQ(st.succeeded, 50);
  EXPECT_EQ(st.total, 50);
  EXPECT_EQ(server.requests(), 50);

  auto again = execute(endpoint_for(server), reqs, o, nullptr, &st);
  EXPECT_EQ(server.requests(), 50);  // no network
  EXPECT_EQ(st.cached, 50);
  for (size_t i = 0; i < 50; ++i) {
    EXPECT_TRUE(again[i].cached);
    EXPECT_EQ(again[i].text, rs[i].text);
  }
}

TEST(Execute, IdenticalRequestsAreSentOnceButRepeatsAreDistinct) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  std::vector<Request> reqs(4);
  for (auto& r : reqs) r.messages = {{"user", "same"}};
  reqs[3].repeat = 1;
  ExecOptions o = options(dir);
  o.use_cache = false;
  auto rs = execute(endpoint_for(server), reqs, o);
  EXPECT_EQ(server.requests(), 2);
  for (auto& r : rs) EXPECT_EQ(r.text, "chat:same");
}

TEST(Execute, CopiesAreFoundByWhatTheyAskNotByWhereTheirValuesLive) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  // Two tasks' kwargs with the same content are separate values; a third differs.
  SharedJson a(Json{{"until", {"\n"}}, {"max_gen_toks", 8}});
  SharedJson b(Json{{"until", {"\n"}}, {"max_gen_toks", 8}});
  SharedJson c(Json{{"until", {"\n"}}, {"max_gen_toks", 9}});
  std::vector<Request> reqs(6);
  for (auto& r : reqs) r.messages = {{"user", "q"}};
  reqs[0].gen_kwargs = a;
  reqs[1].gen_kwargs = b;                             // a copy of 0
  reqs[2].gen_kwargs = c;                             // differs in kwargs
  reqs[3].gen_kwargs = a;
  reqs[3].messages = {{"system", "s"}, {"user", "q"}};  // differs in messages
  reqs[4].gen_kwargs = a;
  reqs[4].messages = {{"assistant", "q"}};  // differs in a role only
  reqs[5].gen_kwargs = a;
  reqs[5].prompt = "q";  // a prompt beside the messages
  ExecOptions o = options(dir);
  o.use_cache = false;
  auto rs = execute(endpoint_for(server), reqs, o);
  EXPECT_EQ(server.requests(), 5);
  for (auto& r : rs) EXPECT_TRUE(r.ok) << r.error;
}

// The cache key of a generate request, made from the body's pieces, is request_key()'s: on
// the chat and completions routes, with kwargs and a repeat.
TEST(Execute, GenerateRequestsAreCachedUnderTheirRequestKey) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  ExecOptions o = options(dir);
  Endpoint ep = endpoint_for(server);
  SharedJson kwargs(Json{{"until", {"Q:", "\n\n"}}, {"max_gen_toks", 32}, {"temperature", 0.5}});
  std::vector<Request> reqs(4);
  reqs[0].prompt = "plain \"quoted\" \u00e9";
  reqs[1].messages = {{"system", "be brief"}, {"user", "chat"}};
  reqs[1].gen_kwargs = kwargs;
  reqs[2].messages = reqs[1].messages;
  reqs[2].gen_kwargs = kwargs;
  reqs[2].repeat = 3;
  reqs[3].prompt = "with kwargs";
  reqs[3].gen_kwargs = kwargs;
  auto rs = execute(ep, reqs, o);
  ResponseCache cache(o.cache_path);
  EXPECT_EQ(cache.stats().entries, 4);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_TRUE(rs[i].ok) << rs[i].error;
    EXPECT_TRUE(cache.get(request_key(ep, reqs[i], o)).has_value()) << i;
  }
}

TEST(Execute, CopiesOfCachedAndRefusedRequestsAreAnsweredToo) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  ExecOptions o = options(dir);
  execute(endpoint_for(server), prompts(1), o);
  std::vector<Request> reqs = prompts(1);
  reqs.push_back(reqs[0]);
  Request ll;
  ll.kind = RequestKind::kLoglikelihood;
  ll.prompt = "Q";
  ll.continuation = " A";
  reqs.push_back(ll);
  reqs.push_back(ll);
  EndpointOptions eo;
  eo.model = "m";
  eo.base_url = server.base_url();
  eo.api_style = "chat";
  Endpoint chat = resolve_endpoint(eo);
  // On a chat-only endpoint the prompt requests go out as chat; the loglikelihood ones
  // are refused without a call.
  auto rs = execute(chat, reqs, o);
  EXPECT_TRUE(rs[0].ok);
  EXPECT_TRUE(rs[1].ok);
  EXPECT_EQ(rs[0].text, rs[1].text);
  EXPECT_FALSE(rs[2].ok);
  EXPECT_FALSE(rs[3].ok);
  EXPECT_EQ(rs[2].error, rs[3].error);
  EXPECT_NE(rs[3].error.find("chat-only"), std::string::npos) << rs[3].error;
  // And again, now the first two come from the cache, copies included.
  RunStats st;
  rs = execute(chat, reqs, o, nullptr, &st);
  EXPECT_TRUE(rs[0].cached);
  EXPECT_TRUE(rs[1].cached);
  EXPECT_EQ(st.cached, 2);
  EXPECT_EQ(st.failed, 2);
}

TEST(Execute, FailuresAreDataNotExceptions) {
  std::atomic<int> n{0};
  FakeServer server([&](const FakeRequest& r) {
    Json b = Json::parse(r.body);
    if (b["prompt"] == "p3") return FakeReply{400, R"({"message":"prompt too long"})"};
    if (b["prompt"] == "p5") return FakeReply{500, "{}"};
    ++n;
    return openai_like(r);
  });
  TempDir dir;
  ExecOptions o = options(dir);
  o.max_retries = 2;
  RunStats st;
  auto rs = execute(endpoint_for(server), prompts(8), o, nullptr, &st);
  EXPECT_FALSE(rs[3].ok);
  EXPECT_EQ(rs[3].error, "HTTP 400: prompt too long");
  EXPECT_EQ(rs[3].http_status, 400);
  EXPECT_FALSE(rs[5].ok);
  EXPECT_EQ(rs[5].retries, 2);
  EXPECT_EQ(st.failed, 2);
  EXPECT_EQ(st.succeeded, 6);
  // Failures are not cached: a rerun asks again for those two only.
  int before = server.requests();
  execute(endpoint_for(server), prompts(8), o, nullptr, &st);
  EXPECT_EQ(server.requests() - before, 1 + 3);  // p3 once, p5 1 + 2 retries
  EXPECT_EQ(st.cached, 6);
}

TEST(Execute, ApiKeyIsSentButNeverCached) {
  std::string auth;
  FakeServer server([&](const FakeRequest& r) {
    auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    return openai_like(r);
  });
  TempDir dir;
  ExecOptions o = options(dir);
  execute(endpoint_for(server, "sk-very-secret-123"), prompts(3), o);
  EXPECT_EQ(auth, "Bearer sk-very-secret-123");
  std::string bytes = testing::read_text(o.cache_path) + testing::read_text(o.cache_path + "-wal");
  EXPECT_EQ(bytes.find("sk-very-secret"), std::string::npos);
  EXPECT_NE(bytes.find("re:p1"), std::string::npos);
}

// Rewrites what the cache holds for a request.
void put_entry(const ExecOptions& o, const std::string& key, const std::string& value) {
  ResponseCache c(o.cache_path);
  c.put(key, value);
}

TEST(Execute, CachedRawRepliesAreParsedAgainByTodaysParser) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  ExecOptions o = options(dir);
  Endpoint ep = endpoint_for(server);
  auto reqs = prompts(3);
  auto first = execute(ep, reqs, o);
  ASSERT_TRUE(first[0].ok);
  // A generate request's entry keeps the server's reply as it came.
  std::string entry = *ResponseCache(o.cache_path).get(request_key(ep, reqs[0], o));
  Json j = Json::parse(entry);
  ASSERT_TRUE(j.contains("raw")) << entry;
  EXPECT_EQ(Json::parse(j["raw"].get<std::string>())["choices"][0]["text"], "re:p0");

  // An entry an older parser wrote: what it made of the reply is wrong, the reply is right.
  put_entry(
      o, request_key(ep, reqs[0], o),
      R"({"parser":0,"text":"stale","raw":"{\"choices\":[{\"index\":0,\"text\":\"fresh\",\"finish_reason\":\"stop\"}]}"})");
  // An older parser's parsed response without the reply: asked again.
  put_entry(o, request_key(ep, reqs[1], o), R"({"parser":0,"text":"stale"})");
  // An entry from before versioning: still an answer (caches keep working across upgrades).
  put_entry(o, request_key(ep, reqs[2], o),
            R"({"text":"from an old cache","finish_reason":"stop"})");
  int before = server.requests();
  RunStats st;
  auto rs = execute(ep, reqs, o, nullptr, &st);
  EXPECT_EQ(rs[0].text, "fresh");
  EXPECT_TRUE(rs[0].cached);
  EXPECT_EQ(rs[0].finish_reason, "stop");
  EXPECT_EQ(rs[1].text, "re:p1");
  EXPECT_FALSE(rs[1].cached);
  EXPECT_EQ(rs[2].text, "from an old cache");
  EXPECT_EQ(server.requests(), before + 1);
  EXPECT_EQ(st.cached, 2);
  // The answer asked again replaced the stale entry.
  auto again = execute(ep, reqs, o, nullptr, &st);
  EXPECT_EQ(again[1].text, "re:p1");
  EXPECT_EQ(server.requests(), before + 1);
}

TEST(Execute, CachedReplyTodaysParserRejectsIsAskedAgain) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  ExecOptions o = options(dir);
  Endpoint ep = endpoint_for(server);
  auto reqs = prompts(1);
  put_entry(o, request_key(ep, reqs[0], o), R"({"parser":1,"raw":"{\"choices\":[]}"})");
  auto rs = execute(ep, reqs, o);
  EXPECT_EQ(rs[0].text, "re:p0");
  EXPECT_FALSE(rs[0].cached);
  EXPECT_EQ(server.requests(), 1);
}

TEST(Execute, ACacheThatCannotBeWrittenWarnsOnceAndTheRunGoesOn) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  ExecOptions o = options(dir);
  o.concurrency = 4;
  { ResponseCache c(o.cache_path); }
  // Every write fails the way a full disk makes it fail.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.cache_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER disk_full BEFORE INSERT ON responses BEGIN "
                         "SELECT RAISE(ABORT, 'database or disk is full'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto reqs = prompts(40);
  ::testing::internal::CaptureStderr();
  RunStats st;
  std::vector<Response> rs;
  EXPECT_NO_THROW(rs = execute(endpoint_for(server), reqs, o, nullptr, &st));
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(rs.size(), 40u);
  for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(rs[i].text, "re:p" + std::to_string(i));
  EXPECT_EQ(st.succeeded, 40);
  size_t warnings = 0;
  for (size_t at = 0; (at = err.find("cannot store answers", at)) != std::string::npos; ++at)
    ++warnings;
  EXPECT_EQ(warnings, 1u) << err;
  EXPECT_NE(err.find("database or disk is full"), std::string::npos) << err;
  EXPECT_NE(err.find(o.cache_path), std::string::npos) << err;
  // Nothing was cached: a rerun asks everything again.
  ::testing::internal::CaptureStderr();
  execute(endpoint_for(server), reqs, o, nullptr, &st);
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(server.requests(), 80);
}

TEST(Execute, LoglikelihoodRequestsAreBatched) {
  FakeServer server([](const FakeRequest& r) {
    Json b = Json::parse(r.body);
    Json choices = Json::array();
    int i = 0;
    for (const auto& p : b["prompt"]) {
      std::string s = p.get<std::string>();
      // one token per character, logprob -1 each; top-1 equal → greedy
      Json toks = Json::array(), lps = Json::array(), tops = Json::array(), offs = Json::array();
      for (size_t k = 0; k <= s.size(); ++k) {
        toks.push_back(k < s.size() ? s.substr(k, 1) : "!");
        lps.push_back(k == 0 ? Json(nullptr) : Json(-1.0));
        tops.push_back(k == 0 ? Json(nullptr) : Json{{"x", -1.0}});
        offs.push_back(k);
      }
      choices.push_back({{"index", i++},
                         {"logprobs",
                          {{"tokens", toks},
                           {"token_logprobs", lps},
                           {"top_logprobs", tops},
                           {"text_offset", offs}}}});
    }
    return FakeReply{200, Json{{"choices", choices}}.dump()};
  });
  TempDir dir;
  std::vector<Request> reqs(5);
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].kind = RequestKind::kLoglikelihood;
    reqs[i].prompt = "ctx ";
    reqs[i].continuation = std::string(i + 1, 'a');
  }
  ExecOptions o = options(dir);
  o.batch_size = 2;
  auto rs = execute(endpoint_for(server), reqs, o);
  EXPECT_EQ(server.requests(), 3);
  for (size_t i = 0; i < reqs.size(); ++i) {
    ASSERT_TRUE(rs[i].ok) << rs[i].error;
    // continuation " a..." = i+2 characters, each -1
    EXPECT_DOUBLE_EQ(rs[i].loglikelihood, -static_cast<double>(i + 2));
    EXPECT_TRUE(rs[i].is_greedy);
  }
}

// A server that tokenizes one token per byte (id = the byte) and echoes token-id prompts
// with logprob -1 per token after the first (and -2 for 'z', whose top choice is -1).
FakeReply tokenizing_server(const FakeRequest& r) {
  Json b = Json::parse(r.body);
  if (r.path == "/tokenize") {
    if (b.value("add_special_tokens", true)) return {400, R"({"message":"want no specials"})"};
    std::string text = b["prompt"].get<std::string>();
    if (text.find("BROKEN") != std::string::npos) return {400, R"({"message":"cannot tokenize"})"};
    Json ids = Json::array();
    for (unsigned char c : text) ids.push_back(c);
    return {200, Json{{"tokens", ids}, {"count", ids.size()}}.dump()};
  }
  Json choices = Json::array();
  int i = 0;
  for (const auto& p : b["prompt"]) {
    if (!p.is_array()) return {400, R"({"message":"expected token ids"})"};
    Json lps = Json::array(), tops = Json::array();
    for (size_t k = 0; k <= p.size(); ++k) {  // the prompt, then one generated token
      bool z = k < p.size() && p[k] == 'z';
      lps.push_back(k == 0 ? Json(nullptr) : Json(z ? -2.0 : -1.0));
      tops.push_back(k == 0 ? Json(nullptr) : Json{{"best", -1.0}});
    }
    choices.push_back({{"index", i++},
                       {"text", "x"},
                       {"logprobs",
                        {{"tokens", Json::array()},  // no text_offset: not needed here
                         {"token_logprobs", lps},
                         {"top_logprobs", tops}}}});
  }
  return {200, Json{{"choices", choices}}.dump()};
}

TEST(Execute, TokenizeSplitFollowsLmEvalTokenizedRequests) {
  std::vector<std::string> bodies;
  std::mutex mu;
  FakeServer server([&](const FakeRequest& r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (r.path == "/v1/completions") bodies.push_back(r.body);
    }
    return tokenizing_server(r);
  });
  TempDir dir;
  std::vector<Request> reqs(4);
  for (auto& r : reqs) r.kind = RequestKind::kLoglikelihood;
  reqs[0].prompt = "Q: 1+1?\nA: ";  // the trailing space moves to the continuation
  reqs[0].continuation = "2";
  reqs[1].prompt = "Q: 1+1?\nA: ";
  reqs[1].continuation = "zz";
  reqs[2].prompt = "0123456789";  // longer than max_length-1: cut from the left
  reqs[2].continuation = "ab";
  reqs[3].prompt = "BROKEN ";
  reqs[3].continuation = "x";
  ExecOptions o = options(dir);
  o.ll_split = "tokenize";
  o.max_length = 9;  // at most 8 tokens go out
  auto rs = execute(endpoint_for(server), reqs, o);
  ASSERT_TRUE(rs[0].ok) << rs[0].error;
  EXPECT_DOUBLE_EQ(rs[0].loglikelihood, -2.0);  // " 2": two tokens of -1
  EXPECT_TRUE(rs[0].is_greedy);
  ASSERT_TRUE(rs[1].ok) << rs[1].error;
  EXPECT_DOUBLE_EQ(rs[1].loglikelihood, -5.0);  // " zz"
  EXPECT_FALSE(rs[1].is_greedy);
  ASSERT_TRUE(rs[2].ok) << rs[2].error;
  EXPECT_DOUBLE_EQ(rs[2].loglikelihood, -2.0);  // "ab", context cut to its last 6 tokens
  EXPECT_EQ(rs[2].prompt_tokens, 8);
  EXPECT_FALSE(rs[3].ok);
  EXPECT_NE(rs[3].error.find("tokenizing the prompt failed: HTTP 400: cannot tokenize"),
            std::string::npos)
      << rs[3].error;
  bool saw_cut = false;
  for (const auto& b : bodies) {
    Json j = Json::parse(b);
    for (const auto& p : j["prompt"]) {
      ASSERT_TRUE(p.is_array());
      if (p.size() == 8 && p[0] == '4') saw_cut = true;  // "456789ab"
    }
  }
  EXPECT_TRUE(saw_cut);

  // A rerun asks nothing: answers and token lists come from the cache.
  int before = server.requests();
  auto again = execute(endpoint_for(server), reqs, o);
  EXPECT_EQ(server.requests() - before, 2);  // only the failed request's /tokenize, again
  EXPECT_DOUBLE_EQ(again[1].loglikelihood, -5.0);
  EXPECT_TRUE(again[1].cached);
}

TEST(ExecOptions, ModelArgsSetTheSplitAndMaxLength) {
  ExecOptions o = exec_options_from_model_args(
      Json{{"tokenized_requests", "False"}, {"max_length", "4096"}}, ExecOptions{});
  EXPECT_EQ(o.ll_split, "offset");
  EXPECT_EQ(o.max_length, 4096);
  EXPECT_EQ(
      exec_options_from_model_args(Json{{"tokenized_requests", "True"}}, ExecOptions{}).ll_split,
      "tokenize");
  try {
    exec_options_from_model_args(Json{{"tokenized_requests", "maybe"}}, ExecOptions{});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenized_requests must be True or False"),
              std::string::npos)
        << e.what();
  }
}

TEST(ExecOptions, ModelArgsSetRateLimitsInCuratorAndLiteLlmSpellings) {
  ExecOptions o = exec_options_from_model_args(Json{{"max_requests_per_minute", "500"},
                                                    {"max_tokens_per_minute", 90000},
                                                    {"stall_timeout", "30"}},
                                               ExecOptions{});
  EXPECT_DOUBLE_EQ(o.rpm, 500);
  EXPECT_DOUBLE_EQ(o.tpm, 90000);
  EXPECT_DOUBLE_EQ(o.stall_timeout_s, 30);
  o = exec_options_from_model_args(Json{{"rpm", "60"}, {"tpm", "1000"}, {"stream", "True"}},
                                   ExecOptions{});
  EXPECT_DOUBLE_EQ(o.rpm, 60);
  EXPECT_DOUBLE_EQ(o.tpm, 1000);
  EXPECT_TRUE(o.stream);
  try {
    exec_options_from_model_args(Json{{"max_requests_per_minute", "lots"}}, ExecOptions{});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_requests_per_minute must be a number"),
              std::string::npos)
        << e.what();
  }
}

TEST(Execute, StallTimeoutAppliesToStreamedCallsOnly) {
  Request r;
  r.kind = RequestKind::kGenerate;
  r.prompt = "hi";
  Endpoint ep;
  ep.base_url = "http://127.0.0.1:1/v1";
  ep.model = "m";
  ExecOptions o;
  o.stall_timeout_s = 7;
  HttpCall plain = wire::build_call(ep, o, {&r});
  EXPECT_EQ(plain.stall_timeout_s, 0);
  o.stream = true;
  HttpCall streamed = wire::build_call(ep, o, {&r});
  EXPECT_TRUE(streamed.stream);
  EXPECT_EQ(streamed.stall_timeout_s, 7);
}

TEST(Execute, StopBeforeStartMarksEverythingInterrupted) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  TempDir dir;
  request_stop();
  auto rs = execute(endpoint_for(server), prompts(5), options(dir));
  clear_stop();
  EXPECT_EQ(server.requests(), 0);
  for (auto& r : rs) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "interrupted");
  }
}

// --- errors that explain themselves -------------------------------------------------------

std::string probe_error(const Endpoint& ep) {
  try {
    probe(ep, false, 10);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

Endpoint at(const std::string& base, const std::string& model = "m", const std::string& key = "") {
  EndpointOptions o;
  o.model = model;
  o.base_url = base;
  o.api_key = key;
  return resolve_endpoint(o);
}

TEST(Probe, RefusedConnection) {
  std::string m =
      probe_error(at("http://127.0.0.1:" + std::to_string(testing::refused_port()) + "/v1"));
  EXPECT_NE(m.find("connection refused by http://127.0.0.1:"), std::string::npos) << m;
  EXPECT_NE(m.find("hint: start the server"), std::string::npos) << m;
}

TEST(Probe, UnresolvableHost) {
  std::string m = probe_error(at("http://nonexistent.invalid/v1"));
  EXPECT_NE(m.find("cannot resolve host 'nonexistent.invalid'"), std::string::npos) << m;
}

TEST(Probe, TlsToPlainHttp) {
  FakeServer server([](const FakeRequest& r) { return openai_like(r); });
  std::string m = probe_error(at("https://127.0.0.1:" + std::to_string(server.port()) + "/v1"));
  EXPECT_NE(m.find("TLS handshake"), std::string::npos) << m;
  EXPECT_NE(m.find("http://"), std::string::npos) << m;
}

TEST(Probe, NonJsonReply) {
  FakeServer server([](const FakeRequest&) {
    return FakeReply{200, "<html>hello</html>", "text/html"};
  });
  std::string m = probe_error(at(server.base_url()));
  EXPECT_NE(m.find("did not answer JSON (text/html): '<html>hello</html>'"), std::string::npos)
      << m;
}

TEST(Probe, ErrorObjectInA200) {
  FakeServer server([](const FakeRequest&) {
    return FakeReply{200, R"({"error":{"message":"backend down"}})"};
  });
  std::string m = probe_error(at(server.base_url()));
  EXPECT_NE(m.find("the server answered with an error: backend down"), std::string::npos) << m;
}

TEST(Probe, WrongModelListsServedAndSuggestsLmStudioId) {
  FakeServer server([](const FakeRequest& r) {
    return openai_like(r, {"deepseek-ai_deepseek-r1-0528-qwen3-8b", "qwen3-4b"});
  });
  std::string m = probe_error(at(server.base_url(), "deepseek-ai/DeepSeek-R1-0528-Qwen3-8B"));
  EXPECT_NE(m.find("is not served by"), std::string::npos) << m;
  EXPECT_NE(m.find("it serves: deepseek-ai_deepseek-r1-0528-qwen3-8b, qwen3-4b"), std::string::npos)
      << m;
  EXPECT_NE(m.find("did you mean 'deepseek-ai_deepseek-r1-0528-qwen3-8b'"), std::string::npos) << m;
}

TEST(Probe, MissingKeyNamesTheFlagAndEnvVar) {
  FakeServer server([](const FakeRequest& r) {
    if (!r.headers.count("authorization"))
      return FakeReply{401, R"({"error":{"message":"Unauthorized"}})"};
    return openai_like(r);
  });
  std::string m = probe_error(at(server.base_url()));
  EXPECT_NE(m.find("HTTP 401"), std::string::npos) << m;
  EXPECT_NE(m.find("--api-key"), std::string::npos) << m;
  EXPECT_NE(m.find("OPENAI_API_KEY"), std::string::npos) << m;
  EXPECT_EQ(probe_error(at(server.base_url(), "m", "sk-good-key")), "");
}

TEST(Probe, BaseUrlMissingV1) {
  FakeServer server([](const FakeRequest& r) {
    if (r.path.rfind("/v1/", 0) != 0) return FakeReply{404, R"({"detail":"Not Found"})"};
    return openai_like(r);
  });
  std::string m = probe_error(at(server.base_url("")));
  EXPECT_NE(m.find("missing /v1"), std::string::npos) << m;
  EXPECT_NE(m.find("use --base-url " + server.base_url()), std::string::npos) << m;
}

TEST(Probe, ReportsPromptLogprobCapability) {
  FakeServer server([](const FakeRequest& r) {
    if (r.path == "/v1/completions") {
      // llama.cpp style: logprobs.content, no echo
      return FakeReply{
          200,
          R"({"choices":[{"index":0,"text":"x","logprobs":{"content":[{"token":"x","logprob":-1}]}}]})"};
    }
    return openai_like(r);
  });
  Capabilities c = probe(at(server.base_url()), true, 10);
  EXPECT_TRUE(c.serves_model);
  EXPECT_FALSE(c.prompt_logprobs);
  EXPECT_NE(c.prompt_logprobs_error.find("cannot return prompt logprobs (llama.cpp/chat-only"),
            std::string::npos);
}

}  // namespace
}  // namespace retort
