#include <gtest/gtest.h>

#include <cmath>

#include "scoring/bleu.h"
#include "scoring/scoring.h"
#include "scoring/stats.h"
#include "util/error.h"
#include "util/py_random.h"

namespace retort {
namespace {

// Expected numbers come from tests/scoring/reference_values.py (CPython, lm-eval's
// formulas written out).

MetricSpec spec(const std::string& name, const std::string& aggregation = "") {
  MetricSpec s;
  s.name = name;
  s.aggregation = aggregation.empty() ? default_aggregation(name) : aggregation;
  s.higher_is_better = default_higher_is_better(name);
  return s;
}

std::vector<Json> items(std::initializer_list<Json> xs) {
  return std::vector<Json>(xs);
}

const std::vector<Json> kLls = items({-1.25, -0.5, -3.0, -2.0, -0.75, -1.5, -4.25});

std::vector<Json> pairs() {
  const int data[][2] = {{1, 1}, {0, 1}, {1, 0}, {0, 0}, {1, 1}, {0, 0}, {1, 1}, {0, 1}};
  std::vector<Json> out;
  for (auto& p : data) out.push_back(Json::array({p[0], p[1]}));
  return out;
}

TEST(Aggregate, MeanWithSampleStddevOverSqrtN) {
  MetricValue v = aggregate_metric(spec("acc"), "none", items({1.0, 0.0, 1.0, 1.0, 0.0}));
  EXPECT_EQ(v.metric, "acc");
  EXPECT_EQ(v.filter, "none");
  EXPECT_DOUBLE_EQ(v.value, 0.6);
  ASSERT_TRUE(v.stderr_value);
  EXPECT_DOUBLE_EQ(*v.stderr_value, 0.24494897427831783);
}

TEST(Aggregate, StderrIsNAForOneItemOrNoBootstrap) {
  EXPECT_FALSE(aggregate_metric(spec("acc"), "none", items({1.0})).stderr_value);
  EXPECT_FALSE(aggregate_metric(spec("acc"), "none", items({1.0, 0.0}), 0).stderr_value);
  EXPECT_FALSE(aggregate_metric(spec("perplexity"), "none", kLls, -1).stderr_value);
}

TEST(Aggregate, PerplexityBootstrapMatchesPythonReference) {
  MetricValue v = aggregate_metric(spec("perplexity"), "none", kLls, 2000);
  EXPECT_DOUBLE_EQ(v.value, 6.638308206569923);
  ASSERT_TRUE(v.stderr_value);
  EXPECT_DOUBLE_EQ(*v.stderr_value, 4.065423761725809);
  EXPECT_FALSE(v.higher_is_better);
}

TEST(Aggregate, MedianIsTheMiddleItemUnsortedAsInLmEval) {
  MetricValue v = aggregate_metric(spec("acc", "median"), "none", kLls, 1000);
  EXPECT_EQ(v.value, -2.0);
  EXPECT_DOUBLE_EQ(*v.stderr_value, 1.2882560318522105);
}

TEST(Aggregate, BootstrapReplicatesFollowTheDocumentedRecipe) {
  // Re-derive a bootstrap stderr by hand: 2 chunks of 1000, chunk i seeded with i, each
  // replicate the mean of choices(xs, k=n).
  std::vector<double> xs = {0.5, 2.0, -1.0, 4.0};
  std::vector<double> reps;
  for (int64_t chunk = 0; chunk < 2; chunk++) {
    PyRandom rnd(chunk);
    for (int r = 0; r < 1000; r++) {
      double s = 0;
      for (size_t k = 0; k < xs.size(); k++) s += xs[rnd.choice_index(4)];
      reps.push_back(s / 4);
    }
  }
  double mu = 0;
  for (double r : reps) mu += r;
  mu /= reps.size();
  double ss = 0;
  for (double r : reps) ss += (r - mu) * (r - mu);
  const double expected = std::sqrt(ss / (reps.size() - 1));
  const double got = scoring::bootstrap_stderr(4, 2000, [&](const std::vector<int64_t>& idx) {
    double s = 0;
    for (int64_t i : idx) s += xs[i];
    return s / 4;
  });
  EXPECT_NEAR(got, expected, 1e-12);
  // Deterministic: the same every time, whatever the thread scheduling.
  EXPECT_EQ(got, scoring::bootstrap_stderr(4, 2000, [&](const std::vector<int64_t>& idx) {
              double s = 0;
              for (int64_t i : idx) s += xs[i];
              return s / 4;
            }));
}

TEST(Aggregate, F1AndMccLikeSklearnWithBootstrap) {
  MetricValue f1 = aggregate_metric(spec("f1"), "none", pairs(), 1000);
  EXPECT_DOUBLE_EQ(f1.value, 0.6666666666666666);
  EXPECT_DOUBLE_EQ(*f1.stderr_value, 0.2018738665016535);
  MetricValue mcc = aggregate_metric(spec("mcc"), "none", pairs(), 1000);
  EXPECT_DOUBLE_EQ(mcc.value, 0.2581988897471611);
  EXPECT_DOUBLE_EQ(*mcc.stderr_value, 0.3616043627656791);
  // Multi-class mcc.
  std::vector<Json> three;
  for (auto [g, p] :
       std::vector<std::pair<int, int>>{{0, 0}, {1, 2}, {2, 2}, {1, 1}, {0, 1}, {2, 0}}) {
    three.push_back(Json::array({g, p}));
  }
  EXPECT_DOUBLE_EQ(aggregate_metric(spec("mcc"), "none", three, 0).value, 0.25);
  // sklearn's binary f1 refuses three classes.
  EXPECT_THROW(aggregate_metric(spec("f1"), "none", three, 0), Error);
}

TEST(Aggregate, WeightedPerplexityAndBitsPerByteHaveNoStderr) {
  std::vector<Json> xs = {Json::array({-4.0, 2}), Json::array({-2.0, 4})};
  MetricValue wp = aggregate_metric(spec("word_perplexity"), "none", xs);
  EXPECT_DOUBLE_EQ(wp.value, std::exp(1.0));  // exp(-(-6/6))
  EXPECT_FALSE(wp.stderr_value);
  MetricValue bpb = aggregate_metric(spec("bits_per_byte"), "none", xs);
  EXPECT_DOUBLE_EQ(bpb.value, 1.0 / std::log(2.0));
  EXPECT_FALSE(bpb.stderr_value);
  MetricValue bypass = aggregate_metric(spec("bypass"), "none", items({nullptr, nullptr}));
  EXPECT_EQ(bypass.value, 999);
  EXPECT_FALSE(bypass.stderr_value);
}

TEST(Aggregate, BrierScoreIsTheMeanSquaredDistanceToOneHot) {
  std::vector<Json> xs = {Json::parse("[1, [0.25, 0.75]]"), Json::parse("[0, [0.5, 0.5]]")};
  // (0.0625 + 0.0625 + 0.25 + 0.25) / 2
  MetricValue v = aggregate_metric(spec("brier_score"), "none", xs);
  EXPECT_DOUBLE_EQ(v.value, 0.3125);
  EXPECT_FALSE(v.stderr_value);
}

TEST(Aggregate, NumpySumIsPairwiseAndPySumIsCompensated) {
  // Three summation orders, three answers (values from tests/scoring/reference_values.py's
  // emulation): left-to-right 9, numpy's 8-way pairwise 7, CPython 3.12+ sum() exact 8.
  std::vector<double> xs = {1, 1, 1, 1, 1, 1, 1, 1e16, -1e16, 1};
  double naive = 0;
  for (double x : xs) naive += x;
  EXPECT_EQ(naive, 9.0);
  EXPECT_EQ(scoring::numpy_sum(xs.data(), xs.size()), 7.0);
  EXPECT_EQ(scoring::py_sum(xs), 8.0);
}

TEST(Bleu, Tokenize13a) {
  EXPECT_EQ(scoring::tokenize_13a("Hello, world! It costs $3.50-4."),
            "Hello , world ! It costs $ 3.50 - 4 .");
  EXPECT_EQ(scoring::tokenize_13a("a &amp; b &lt;c&gt;\nd"), "a & b < c > d");
  // Non-ASCII punctuation is left alone; digits keep their separators.
  EXPECT_EQ(scoring::tokenize_13a("Ünïcode—dash “quotes” 1,000.5 x-y"),
            "Ünïcode—dash “quotes” 1,000.5 x-y");
}

TEST(Bleu, CorpusBleuWithExpSmoothing) {
  MetricSpec bleu = spec("bleu");
  std::vector<Json> same = {Json::array({"the cat sat", "the cat sat"}),
                            Json::array({"on the mat today", "on the mat today"})};
  EXPECT_DOUBLE_EQ(aggregate_metric(bleu, "none", same, 0).value, 100.0);
  // Precisions 5/6, 3/5, 2/4, 1/3, no brevity penalty.
  std::vector<Json> one = {Json::array({"the cat sat on the mat", "the cat sat on a mat"})};
  EXPECT_DOUBLE_EQ(aggregate_metric(bleu, "none", one, 0).value, 53.7284965911771);
  // No 3- or 4-gram matches: exp smoothing gives 100/(2*2) and 100/(4*1).
  std::vector<Json> smooth = {Json::array({"a b x y", "a b c d"})};
  EXPECT_DOUBLE_EQ(aggregate_metric(bleu, "none", smooth, 0).value, 31.947155212313625);
  // Brevity penalty exp(1 - 6/3) when the hypothesis has no 4-grams: log(0) -> score 0.
  std::vector<Json> short_hyp = {Json::array({"the cat sat on the mat", "the cat sat"})};
  EXPECT_NEAR(aggregate_metric(bleu, "none", short_hyp, 0).value, 0.0, 1e-12);
  // The bootstrap is capped at 100 replicates and is deterministic.
  std::vector<Json> many = {one[0], smooth[0], same[0], same[1]};
  MetricValue a = aggregate_metric(bleu, "none", many, 100000);
  MetricValue b = aggregate_metric(bleu, "none", many, 100);
  ASSERT_TRUE(a.stderr_value);
  EXPECT_EQ(*a.stderr_value, *b.stderr_value);
}

// sacrebleu's README example: two reference streams, three segments.
// "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)",
// "chrF2 = 59.73".
TEST(Bleu, SacrebleuReadmeExampleWithTwoReferenceStreams) {
  std::vector<Json> items = {
      Json::array({Json::array({"The dog bit the man.", "The dog had bit the man."}),
                   "The dog bit the man."}),
      Json::array({Json::array({"It was not unexpected.", "No one was surprised."}),
                   "It wasn't surprising."}),
      Json::array({Json::array({"The man bit him first.", "The man had bitten the dog."}),
                   "The man had just bitten him."})};
  EXPECT_DOUBLE_EQ(aggregate_metric(spec("bleu"), "none", items, 0).value, 48.530827009929865);
  EXPECT_NEAR(aggregate_metric(spec("chrf"), "none", items, 0).value, 59.73, 0.005);
  scoring::BleuStats total;
  for (const Json& it : items) {
    total += scoring::bleu_segment_stats(it[1], it[0].get<std::vector<std::string>>());
  }
  EXPECT_EQ(total.hyp_len, 17);
  EXPECT_EQ(total.ref_len, 18);
  EXPECT_EQ(total.correct, (std::array<double, 4>{14, 7, 5, 3}));
  EXPECT_EQ(total.total, (std::array<double, 4>{17, 14, 11, 8}));
}

TEST(Chrf, CorpusChrfMatchesSacrebleuExamples) {
  // Values from the chrF metric card (sacrebleu corpus_chrf, char_order 6, beta 2).
  MetricSpec chrf = spec("chrf");
  std::vector<Json> one = {
      Json::array({"The ties between Obama and Netanyahu are not particularly friendly.",
                   "The relationship between Obama and Netanyahu is not exactly friendly."})};
  EXPECT_DOUBLE_EQ(aggregate_metric(chrf, "none", one, 0).value, 61.576379378113785);
  std::vector<Json> two = {
      Json::array({"The relationship between dogs and cats is not exactly friendly.",
                   "The relationship between cats and dogs is not exactly friendly."}),
      Json::array({"A good bookshop is just a genteel Black Hole that knows how to read.",
                   "a good bookshop is just a genteel black hole that knows how to read."})};
  MetricValue v = aggregate_metric(chrf, "none", two, 100000);
  EXPECT_DOUBLE_EQ(v.value, 84.64214891738334);
  ASSERT_TRUE(v.stderr_value);  // bootstrap, capped at 100 replicates
  EXPECT_EQ(*v.stderr_value, *aggregate_metric(chrf, "none", two, 100).stderr_value);
  EXPECT_EQ(aggregate_metric(chrf, "none", {Json::array({"abc", ""})}, 0).value, 0.0);
}

TEST(Aggregate, TaskAggregationFollowsFilterThenMetricOrder) {
  std::vector<Sample> samples(3);
  const double acc[] = {1.0, 0.0, 1.0};
  for (int i = 0; i < 3; i++) {
    FilteredSample strict{"strict", Json(), Json::object(), Json()};
    strict.metric_values["exact_match"] = acc[i];
    FilteredSample flex{"flex", Json(), Json::object(), Json()};
    flex.metric_values["exact_match"] = 1.0;
    samples[i].filtered = {strict, flex};
  }
  auto out = aggregate_task({spec("exact_match")}, samples);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].filter, "strict");
  EXPECT_DOUBLE_EQ(out[0].value, 2.0 / 3.0);
  EXPECT_EQ(out[1].filter, "flex");
  EXPECT_DOUBLE_EQ(out[1].value, 1.0);
  EXPECT_DOUBLE_EQ(*out[1].stderr_value, 0.0);
}

TEST(Aggregate, SamplesWithoutValuesAreLeftOut) {
  // A failed sample keeps its filter entry but has no metric values.
  std::vector<Sample> samples(3);
  samples[0].filtered = {FilteredSample{"none", Json(), Json::object(), Json()}};
  samples[1].filtered = {FilteredSample{"none", Json(), Json::parse(R"({"acc": 1.0})"), Json()}};
  samples[2].filtered = {FilteredSample{"none", Json(), Json::parse(R"({"acc": 0.0})"), Json()}};
  auto out = aggregate_task({spec("acc")}, samples);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].value, 0.5);
}

TEST(Aggregate, GroupIsSizeWeightedWithPooledStderr) {
  std::vector<GroupMember> m = {{0.5, 0.1, 10}, {0.8, 0.2, 30}};
  MetricValue v = aggregate_group_metric("acc", "none", m, true, true);
  EXPECT_DOUBLE_EQ(v.value, (0.5 * 10 + 0.8 * 30) / 40);
  // sqrt([(9 * 0.01 * 10) + (29 * 0.04 * 30)] / (40 - 2) / 40)
  EXPECT_DOUBLE_EQ(*v.stderr_value,
                   std::sqrt((9 * (0.1 * 0.1) * 10 + 29 * (0.2 * 0.2) * 30) / 38.0 / 40.0));
  MetricValue unweighted = aggregate_group_metric("acc", "none", m, false, true);
  EXPECT_DOUBLE_EQ(unweighted.value, 0.65);
  EXPECT_EQ(*unweighted.stderr_value, *v.stderr_value);  // pooled by size either way
  m[1].stderr_value.reset();
  EXPECT_FALSE(aggregate_group_metric("acc", "none", m, true, true).stderr_value);
}

TEST(Aggregate, GroupOverLeafTasks) {
  TaskResult a, b;
  a.sample_len = 2;
  a.metrics = {MetricValue{"acc", "none", 1.0, 0.0, true}};
  b.sample_len = 6;
  b.metrics = {MetricValue{"acc", "none", 0.5, 0.2, true},
               MetricValue{"acc_norm", "none", 0.1, 0.1, true}};
  auto specs = parse_aggregate_metric_list(
      Json::parse(R"([{"metric": "acc", "weight_by_size": true}])"), "group.yaml");
  auto out = aggregate_group(specs, {&a, &b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].value, (2 * 1.0 + 6 * 0.5) / 8);
  EXPECT_THROW(
      parse_aggregate_metric_list(Json::parse(R"([{"metric": "acc", "weight": 1}])"), "group.yaml"),
      Error);
}

}  // namespace
}  // namespace retort
