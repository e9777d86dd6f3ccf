// model_args that are documented work: `seed` goes to the server (lm-eval's default 1234
// when not given), `max_gen_toks` sets the default generation length, an unknown key is a
// warning naming it; credentials in a base URL go as Basic auth and appear in no output.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/fake_server.h"
#include "support/test_support.h"
#include "util/json.h"

namespace retort::testing {
namespace {

// Answers completions and models like a vLLM server and keeps every request.
class RecordingServer {
 public:
  RecordingServer()
      : server_([](const FakeRequest& r) {
          if (r.path == "/v1/models")
            return FakeReply(200, R"({"object":"list","data":[{"id":"m","object":"model"}]})");
          if (r.path == "/v1/completions")
            return FakeReply(
                200, R"({"id":"c","object":"text_completion","model":"m","choices":)"
                     R"([{"index":0,"text":" 42","finish_reason":"stop"}],)"
                     R"("usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}})");
          return FakeReply(404, R"({"error":{"message":"not found"}})");
        }) {}
  std::string base(const std::string& userinfo = "") const {
    return "http://" + userinfo + "127.0.0.1:" + std::to_string(server_.port()) + "/v1";
  }
  std::vector<FakeRequest> completions() {
    std::vector<FakeRequest> out;
    for (const auto& r : server_.seen())
      if (r.path == "/v1/completions") out.push_back(r);
    return out;
  }

 private:
  FakeServer server_;
};

std::string write_task(const TempDir& dir, bool with_max_tokens = false) {
  std::string data;
  for (int i = 0; i < 3; ++i)
    data += Json{{"q", "q" + std::to_string(i)}, {"a", "42"}}.dump() + "\n";
  write_text(dir.file("docs.jsonl"), data);
  write_text(dir.file("args_task.yaml"),
             std::string("task: args_task\n"
                         "dataset_path: json\n"
                         "dataset_kwargs:\n  data_files:\n    test: docs.jsonl\n"
                         "test_split: test\n"
                         "output_type: generate_until\n"
                         "doc_to_text: \"Q: {{q}}\\nA:\"\n"
                         "doc_to_target: \"{{a}}\"\n"
                         "generation_kwargs:\n  until: [\"\\n\"]\n") +
                 (with_max_tokens ? "  max_gen_toks: 8\n" : ""));
  return dir.file("args_task.yaml");
}

std::string everything_written(const TempDir& dir, const CommandResult& r) {
  std::string all = r.out + r.err;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path()))
    if (e.is_regular_file() && e.path().extension() != ".sqlite")
      all += read_text(e.path().string());
  return all;
}

TEST(RunModelArgs, SendsLmEvalsDefaultSeedAndTheTasksLength) {
  RecordingServer server;
  TempDir dir;
  auto r = run_retort({"run", "--model", "hosted_vllm/m", "--base-url", server.base(), "--tasks",
                       write_task(dir, true), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto reqs = server.completions();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& q : reqs) {
    Json body = Json::parse(q.body);
    EXPECT_EQ(body["seed"], 1234) << q.body;
    EXPECT_EQ(body["max_tokens"], 8) << q.body;
  }
}

TEST(RunModelArgs, SeedAndMaxGenToksFromModelArgs) {
  RecordingServer server;
  TempDir dir;
  auto r = run_retort({"run", "--model", "local-completions", "--model_args",
                       "model=m,base_url=" + server.base() + ",seed=7,max_gen_toks=99", "--tasks",
                       write_task(dir), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto reqs = server.completions();
  ASSERT_EQ(reqs.size(), 3u);
  for (const auto& q : reqs) {
    Json body = Json::parse(q.body);
    EXPECT_EQ(body["seed"], 7) << q.body;
    EXPECT_EQ(body["max_tokens"], 99) << q.body;
  }
}

TEST(RunModelArgs, SeedNoneSendsNoSeed) {
  RecordingServer server;
  TempDir dir;
  auto r = run_retort({"run", "--model", "local-completions", "--model_args",
                       "model=m,base_url=" + server.base() + ",seed=None", "--tasks",
                       write_task(dir), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const auto& q : server.completions())
    EXPECT_FALSE(Json::parse(q.body).contains("seed")) << q.body;
}

TEST(RunModelArgs, UnknownKeyIsAWarningThatNamesIt) {
  RecordingServer server;
  TempDir dir;
  auto r = run_retort({"run", "--model", "local-completions", "--model_args",
                       "model=m,base_url=" + server.base() + ",temprature=0.5", "--tasks",
                       write_task(dir), "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("model_args temprature is not a setting retort knows"), std::string::npos)
      << r.err;
}

TEST(RunModelArgs, BadSeedIsOneErrorNamingModelArgs) {
  TempDir dir;
  auto r = run_retort({"run", "--model", "local-completions", "--model_args",
                       "model=m,base_url=http://127.0.0.1:9/v1,seed=abc", "--tasks",
                       write_task(dir), "--no-cache"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("seed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--model_args"), std::string::npos) << r.err;
}

TEST(RunModelArgs, UrlCredentialsGoAsBasicAuthAndAreNeverWritten) {
  RecordingServer server;
  TempDir dir;
  auto r = run_retort({"run", "--model", "hosted_vllm/m", "--base-url",
                       server.base("alice:hunter2pw@"), "--tasks", write_task(dir), "--no-cache",
                       "--output_path", dir.file("out"), "--log_samples", "--verbosity", "DEBUG"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto reqs = server.completions();
  ASSERT_FALSE(reqs.empty());
  // base64("alice:hunter2pw")
  EXPECT_EQ(reqs[0].headers["authorization"], "Basic YWxpY2U6aHVudGVyMnB3");
  std::string all = everything_written(dir, r);
  EXPECT_EQ(all.find("hunter2pw"), std::string::npos);
  EXPECT_EQ(all.find("YWxpY2U6aHVudGVyMnB3"), std::string::npos);

  // `retort models` prints the server without the password too.
  auto m = run_retort({"models", "--base-url", server.base("alice:hunter2pw@")});
  EXPECT_EQ(m.exit_code, 0) << m.out << m.err;
  EXPECT_EQ((m.out + m.err).find("hunter2pw"), std::string::npos) << m.out << m.err;

  // A model_args base_url is redacted where the results file records model_args.
  TempDir dir2;
  auto r2 = run_retort({"run", "--model", "local-completions", "--model_args",
                        "model=m,base_url=" + server.base("alice:hunter2pw@"), "--tasks",
                        write_task(dir2), "--no-cache", "--output_path", dir2.file("out")});
  ASSERT_EQ(r2.exit_code, 0) << r2.out << r2.err;
  EXPECT_EQ(everything_written(dir2, r2).find("hunter2pw"), std::string::npos);
}

}  // namespace
}  // namespace retort::testing
