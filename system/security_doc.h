// Generates the machine/accelerator security table of docs/security.md from the registries.
#pragma once

#include <string>

#include "base/result.h"

namespace corvid {

inline constexpr const char* kDocBegin = "<!-- BEGIN GENERATED: types (corvid-gen-docs) -->";
inline constexpr const char* kDocEnd = "<!-- END GENERATED -->";

// The Markdown table (machines and accelerators, by architecture, with statements).
std::string security_table();

// Replaces the text between the markers of `doc` with the current table.
Result<std::string> update_security_doc(const std::string& doc);

}  // namespace corvid
