// Splits a QMP byte stream into JSON values (QMP has no framing: values follow each other),
// and prints JSON the way QEMU does ({"key": value, ...}).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "system/vm.h"

namespace corvid {

class JsonStreamer {
public:
    // Limits as QEMU's json-streamer: nesting depth and size of one value.
    static constexpr int kMaxNesting = 1024;
    static constexpr size_t kMaxSize = 64u << 20;

    // Feeds bytes; `out` gets every complete top-level value, or an error ("JSON parse error,
    // ...") after which the streamer has resynchronised. A 0xFF byte resets it silently.
    void feed(const uint8_t* data, size_t size, const std::function<void(Result<Json>)>& out);
    void reset();

private:
    void finish(const std::function<void(Result<Json>)>& out);

    std::string buf_;
    int depth_ = 0;
    bool in_string_ = false;
    bool escape_ = false;
    bool scalar_ = false;  // a top-level non-compound value is being read
};

// QEMU's compact style: `{"return": {}}`; invalid UTF-8 in strings is replaced.
std::string qmp_to_text(const Json& value);

}  // namespace corvid
