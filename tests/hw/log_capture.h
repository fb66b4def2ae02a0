// Test helper: routes the -d log to a temporary file so tests can assert on guest_errors lines.
#pragma once

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "base/log.h"

namespace corvid::testing {

class LogCapture {
public:
    explicit LogCapture(uint32_t mask = log::kGuestErrors | log::kUnimp) : old_mask_(log::mask()) {
        path_ = ::testing::TempDir() + "corvid_log_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++) + ".txt";
        (void)log::set_file(path_);
        log::set_mask(mask);
    }
    ~LogCapture() {
        log::set_mask(old_mask_);
        (void)log::set_file("");
        std::remove(path_.c_str());
    }
    std::string text() const {
        std::ifstream f(path_);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    bool contains(const std::string& s) const { return text().find(s) != std::string::npos; }
    // Number of lines logged so far.
    size_t lines() const {
        std::string t = text();
        size_t n = 0;
        for (char c : t) n += c == '\n';
        return n;
    }

private:
    static int& counter() {
        static int c = 0;
        return c;
    }
    uint32_t old_mask_;
    std::string path_;
};

}  // namespace corvid::testing
