// Regenerates the generated table in docs/security.md from the type registry
// (`cmake --build build --target docs-security`).
#include <fstream>
#include <iostream>
#include <sstream>

#include "system/security_doc.h"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: corvid-gen-docs docs/security.md\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::cerr << "corvid-gen-docs: cannot read " << argv[1] << "\n";
        return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto updated = corvid::update_security_doc(ss.str());
    if (!updated) {
        std::cerr << "corvid-gen-docs: " << updated.error() << "\n";
        return 1;
    }
    std::ofstream out(argv[1], std::ios::trunc);
    out << *updated;
    return out ? 0 : 1;
}
