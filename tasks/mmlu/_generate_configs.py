#!/usr/bin/env python3
"""Regenerates the MMLU subject task files and category groups in this directory."""
import os

SUBJECTS = {
    "abstract_algebra": "stem", "anatomy": "stem", "astronomy": "stem",
    "business_ethics": "other", "clinical_knowledge": "other", "college_biology": "stem",
    "college_chemistry": "stem", "college_computer_science": "stem",
    "college_mathematics": "stem", "college_medicine": "other", "college_physics": "stem",
    "computer_security": "stem", "conceptual_physics": "stem",
    "econometrics": "social_sciences", "electrical_engineering": "stem",
    "elementary_mathematics": "stem", "formal_logic": "humanities", "global_facts": "other",
    "high_school_biology": "stem", "high_school_chemistry": "stem",
    "high_school_computer_science": "stem", "high_school_european_history": "humanities",
    "high_school_geography": "social_sciences",
    "high_school_government_and_politics": "social_sciences",
    "high_school_macroeconomics": "social_sciences", "high_school_mathematics": "stem",
    "high_school_microeconomics": "social_sciences", "high_school_physics": "stem",
    "high_school_psychology": "social_sciences", "high_school_statistics": "stem",
    "high_school_us_history": "humanities", "high_school_world_history": "humanities",
    "human_aging": "other", "human_sexuality": "social_sciences",
    "international_law": "humanities", "jurisprudence": "humanities",
    "logical_fallacies": "humanities", "machine_learning": "stem", "management": "other",
    "marketing": "other", "medical_genetics": "other", "miscellaneous": "other",
    "moral_disputes": "humanities", "moral_scenarios": "humanities", "nutrition": "other",
    "philosophy": "humanities", "prehistory": "humanities",
    "professional_accounting": "other", "professional_law": "humanities",
    "professional_medicine": "other", "professional_psychology": "social_sciences",
    "public_relations": "social_sciences", "security_studies": "social_sciences",
    "sociology": "social_sciences", "us_foreign_policy": "social_sciences",
    "virology": "other", "world_religions": "humanities",
}
ALIASES = {"stem": "stem", "other": "other", "social_sciences": "social sciences",
           "humanities": "humanities"}

here = os.path.dirname(os.path.abspath(__file__))
for subject, category in SUBJECTS.items():
    with open(os.path.join(here, f"mmlu_{subject}.yaml"), "w") as f:
        f.write(f'"dataset_name": "{subject}"\n')
        f.write('"description": "The following are multiple choice questions (with answers) '
                f'about {subject.replace("_", " ")}.\\n\\n"\n')
        f.write('"include": "_default_template_yaml"\n')
        f.write(f'"tag": "mmlu_{category}_tasks"\n')
        f.write(f'"task": "mmlu_{subject}"\n')
        f.write(f'"task_alias": "{subject}"\n')
for category, alias in ALIASES.items():
    with open(os.path.join(here, f"_mmlu_{category}.yaml"), "w") as f:
        f.write(f"group: mmlu_{category}\ngroup_alias: {alias}\ntask:\n  - mmlu_{category}_tasks\n"
                "aggregate_metric_list:\n  - metric: acc\n    weight_by_size: true\n"
                "metadata:\n  version: 2\n")
with open(os.path.join(here, "_mmlu.yaml"), "w") as f:
    f.write("group: mmlu\ntask:\n" + "".join(f"  - mmlu_{c}\n" for c in ALIASES) +
            "aggregate_metric_list:\n  - metric: acc\n    weight_by_size: true\n"
            "metadata:\n  version: 2\n")
