// The names people type for benchmarks (Evalchemy's and the user guides' spellings, common
// abbreviations), each mapped to one lm-eval task, group or tag; and the names that have no
// single public dataset, with the closest real task. Matching ignores case and the
// separators '-', '_', '.', ' ' ("ARC-c", "arc_c" and "ARCc" are one name).
#include <cctype>

#include "tasks/tasks.h"

namespace retort {

namespace {

const TaskAlias kAliases[] = {
    {"ARC-c", "arc_challenge"},
    {"ARC-Challenge", "arc_challenge"},
    {"ARC-e", "arc_easy"},
    {"ARC-Easy", "arc_easy"},
    {"ARC", "ai2_arc"},
    {"GPQADiamond", "gpqa_diamond_zeroshot"},
    {"GPQA-Diamond", "gpqa_diamond_zeroshot"},
    {"GPQAMain", "gpqa_main_zeroshot"},
    {"GPQAExtended", "gpqa_extended_zeroshot"},
    {"MedQA", "medqa_4options"},
    {"MedQA-USMLE", "medqa_4options"},
    {"MMLU-Pro", "mmlu_pro"},
    {"MMLUPro", "mmlu_pro"},
    {"TruthfulQA", "truthfulqa"},
    {"TruthfulQA-MC1", "truthfulqa_mc1"},
    {"TruthfulQA-MC2", "truthfulqa_mc2"},
    {"TruthfulQA-gen", "truthfulqa_gen"},
    {"TruthfulQA-Generation", "truthfulqa_gen"},
    {"OBQA", "openbookqa"},
    {"OpenBookQA", "openbookqa"},
    {"WinoGrande", "winogrande"},
    {"Winograd", "wsc273"},
    {"WSC273", "wsc273"},
    {"SuperGLUE", "super-glue-lm-eval-v1"},
    {"SuperGLUE-RTE", "sglue_rte"},
    {"LAMBADA", "lambada"},
    {"LAMBADA-OpenAI", "lambada_openai"},
    {"LegalBench", "legalbench"},
    {"PubMedQA", "pubmedqa"},
    {"MedMCQA", "medmcqa"},
    {"MathQA", "mathqa"},
    {"SciQ", "sciq"},
    {"PIQA", "piqa"},
    {"BoolQ", "boolq"},
    {"COPA", "copa"},
    {"HellaSwag", "hellaswag"},
    {"MMLU", "mmlu"},
    {"SQuAD", "squadv2"},
    {"SQuADv2", "squadv2"},
    {"SQuAD2", "squadv2"},
    {"DROP", "drop"},
    {"CoQA", "coqa"},
    {"Minerva-MATH", "minerva_math"},
    {"MinervaMath", "minerva_math"},
    {"MATH-Minerva", "minerva_math"},
    {"Hendrycks-MATH", "hendrycks_math"},
};

const UnavailableTask kUnavailable[] = {
    {"FinanceQA",
     "no single public FinanceQA dataset exists on the Hub that lm-eval or Evalchemy "
     "evaluate (the name covers several unrelated financial QA sets)",
     "mmlu_professional_accounting"},
    // QuAC (allenai/quac on the Hub) has no task in lm-eval (lm_eval/tasks at 4e7e0d4) nor in
    // Evalchemy, so there is no reference prompt, answer handling or scorer to reproduce
    // byte for byte; HELM's QuAC scenario is its own formulation (docs/tasks.md).
    {"QuAC",
     "neither lm-eval nor Evalchemy defines a QuAC task, so there is no reference prompt or "
     "scorer to reproduce (the dataset is allenai/quac; a task file of your own can run it "
     "with --include_path)",
     "coqa"},
};

std::string normalize(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_' || c == '.' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::optional<std::string> task_alias(const std::string& typed) {
  const std::string n = normalize(typed);
  for (const auto& a : kAliases)
    if (normalize(a.spelling) == n) return std::string(a.target);
  return std::nullopt;
}

std::vector<TaskAlias> task_aliases() {
  return std::vector<TaskAlias>(std::begin(kAliases), std::end(kAliases));
}

const UnavailableTask* unavailable_task(const std::string& typed) {
  const std::string n = normalize(typed);
  for (const auto& u : kUnavailable)
    if (normalize(u.name) == n) return &u;
  return nullptr;
}

}  // namespace retort
