// lm-eval's hendrycks_math/utils.py last_boxed_only_string + remove_boxed, shared by the
// hendrycks_math doc processor (tasks/) and the string-rule scorer (scoring/).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace retort {

// remove_boxed(last_boxed_only_string(s)): when "\boxed " (with a space) occurs, the text
// after its last occurrence up to the first '$'; else the inside of the last "\boxed{...}"
// (brace counting). nullopt where Python fails: no \boxed, unbalanced braces, or a last
// box that is an \fbox (remove_boxed's assertion).
std::optional<std::string> hendrycks_boxed_answer(std::string_view s);

// lm-eval's minerva_math/utils.py normalize_final_answer (L274-309 of the version read;
// "copied character for character from appendix D of Lewkowycz et al. (2022)"): the part
// after the last '=', fixed substitutions and removed words, then the text of a $...$ span,
// \text{}, \textbf{}, \overline{}, \boxed{}, \fracab -> \frac{a}{b}, \sqrta -> \sqrt{a}, no '$',
// and "100,000" -> "100000".
std::string minerva_normalize_final_answer(std::string_view answer);

// minerva_math/utils.py get_unnormalized_answer: the text between "Final Answer: The final
// answer is" and ". I hope it is correct." (the reply with that sentence appended, first
// match, stripped), or "[invalidanswer]".
std::string minerva_unnormalized_answer(std::string_view reply);

}  // namespace retort
