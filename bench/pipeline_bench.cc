// pipeline_bench: time to plan, score and write N synthetic samples (default 100k) through
// the same functions `retort run` uses (load_task_docs, plan_task, score_task_run,
// write_outputs). No server: responses are fabricated. Not a test; see bench/README.md.
//
//   build/bench/pipeline_bench [N] [REPEATS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/run_pipeline.h"
#include "report/report.h"
#include "util/log.h"

namespace fs = std::filesystem;
using namespace retort;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void write_data(const fs::path& dir, int64_t n) {
  std::ofstream gen(dir / "gen.jsonl"), mc(dir / "mc.jsonl");
  for (int64_t i = 0; i < n; ++i) {
    gen << "{\"question\": \"What is " << i << " + " << (i % 97) << "?\", \"answer\": \""
        << i + i % 97 << "\"}\n";
    mc << "{\"question\": \"Which number follows " << i << "?\", \"choices\": [\"" << i + 1
       << "\", \"" << i + 2 << "\", \"" << i - 1 << "\", \"zero\"], \"label\": " << i % 4 << "}\n";
  }
  std::ofstream(dir / "gen.yaml") << R"Y(task: bench_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: gen.jsonl
test_split: test
doc_to_text: "Question: {{question}}\nAnswer:"
doc_to_target: "{{answer}}"
filter_list:
  - name: strict-match
    filter:
      - function: regex
        regex_pattern: "The answer is (\\-?[0-9]+)"
      - function: take_first
metric_list:
  - metric: exact_match
)Y";
  std::ofstream(dir / "mc.yaml") << R"(task: bench_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: mc.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{question}}\nAnswer:"
doc_to_choice: "{{choices}}"
doc_to_target: label
)";
}

struct Times {
  double load = 0, plan = 0, score = 0, write = 0;
  size_t requests = 0, samples = 0;
};

Times run_once(const fs::path& dir, const std::string& task_file, const fs::path& out) {
  Times t;
  TaskSpec spec = load_task_file((dir / task_file).string());
  double a = now_s();
  TaskDocs docs = load_task_docs(spec, 0);
  double b = now_s();
  cli::TaskRun r;
  r.spec = &spec;
  r.original_len = docs.original_len;
  cli::configure_scoring(r, false);
  PromptOptions popts;
  r.plan = plan_task(spec, docs, popts, -1);
  double c = now_s();
  std::vector<Response> responses;
  for (const auto& pd : r.plan.docs)
    for (size_t i = 0; i < pd.requests.size(); ++i) {
      Response resp;
      resp.ok = true;
      resp.text = "The answer is " + pd.sample.target.dump();
      resp.loglikelihood = -1.0 - static_cast<double>(i) * 0.25;
      resp.is_greedy = i == 0;
      responses.push_back(std::move(resp));
    }
  r.num_requests = responses.size();
  double d = now_s();
  RunResult run;
  run.model_name = "bench-model";
  run.tasks.push_back(cli::score_task_run(r, responses, popts, 1000));
  double e = now_s();
  write_outputs(run, out.string(), true);
  double f = now_s();
  t.load = b - a;
  t.plan = c - b;
  t.score = e - d;
  t.write = f - e;
  t.requests = r.num_requests;
  t.samples = run.tasks[0].samples.size();
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = argc > 1 ? std::stoll(argv[1]) : 100000;
  int repeats = argc > 2 ? std::stoi(argv[2]) : 3;
  log::set_level(log::Level::kWarn);
  fs::path dir =
      fs::temp_directory_path() / ("retort-pipeline-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_data(dir, n);
  std::printf("pipeline_bench: %lld docs per task, median of %d runs (seconds)\n",
              static_cast<long long>(n), repeats);
  std::printf("%-10s %9s %9s %9s %9s %9s %10s %12s\n", "task", "requests", "load", "plan", "score",
              "write", "total", "samples/s");
  for (const char* task : {"gen.yaml", "mc.yaml"}) {
    std::vector<double> load, plan, score, write, total;
    Times last;
    for (int i = 0; i < repeats; ++i) {
      fs::path out = dir / ("out" + std::to_string(i));
      last = run_once(dir, task, out);
      load.push_back(last.load);
      plan.push_back(last.plan);
      score.push_back(last.score);
      write.push_back(last.write);
      total.push_back(last.plan + last.score + last.write);
      fs::remove_all(out);
    }
    std::printf("%-10s %9zu %9.3f %9.3f %9.3f %9.3f %10.3f %12.0f\n", task, last.requests,
                median(load), median(plan), median(score), median(write), median(total),
                static_cast<double>(last.samples) / median(total));
  }
  fs::remove_all(dir);
  return 0;
}
