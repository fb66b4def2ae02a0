// The QMP stream splitter and printer.
#include "system/monitor/json_stream.h"

namespace corvid {
namespace {

std::string parse_error_text(const std::string& what) {
    // nlohmann: "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    std::string s = what;
    if (size_t p = s.find("] "); p != std::string::npos) s = s.substr(p + 2);
    if (s.rfind("parse error", 0) == 0) {
        if (size_t colon = s.find(": "); colon != std::string::npos) s = s.substr(colon + 2);
    }
    return "JSON parse error, " + s;
}

bool is_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

void JsonStreamer::reset() {
    buf_.clear();
    depth_ = 0;
    in_string_ = escape_ = scalar_ = false;
}

void JsonStreamer::finish(const std::function<void(Result<Json>)>& out) {
    std::string text;
    text.swap(buf_);
    reset();
    Json value;
    try {
        value = Json::parse(text);
    } catch (const std::exception& e) {
        out(make_error(parse_error_text(e.what())));
        return;
    }
    out(std::move(value));
}

void JsonStreamer::feed(const uint8_t* data, size_t size, const std::function<void(Result<Json>)>& out) {
    for (size_t i = 0; i < size; ++i) {
        uint8_t c = data[i];
        if (c == 0xff) {
            reset();
            continue;
        }
        if (buf_.size() >= kMaxSize) {
            reset();
            out(make_error("JSON parse error, JSON token too large"));
        }
        if (in_string_) {
            buf_ += char(c);
            if (escape_) {
                escape_ = false;
            } else if (c == '\\') {
                escape_ = true;
            } else if (c == '"') {
                in_string_ = false;
                if (depth_ == 0) finish(out);
            }
            continue;
        }
        if (scalar_) {
            // A top-level scalar (or garbage) ends at whitespace or where a new value starts.
            if (is_space(c) || c == '{' || c == '[' || c == '"' || c == '}' || c == ']') {
                finish(out);
                if (is_space(c)) continue;
            } else {
                buf_ += char(c);
                continue;
            }
        }
        switch (c) {
            case '"':
                in_string_ = true;
                buf_ += char(c);
                break;
            case '{':
            case '[':
                if (++depth_ > kMaxNesting) {
                    reset();
                    out(make_error("JSON parse error, nesting too deep"));
                    break;
                }
                buf_ += char(c);
                break;
            case '}':
            case ']':
                buf_ += char(c);
                if (depth_ == 0) {
                    finish(out);
                } else if (--depth_ == 0) {
                    finish(out);
                }
                break;
            default:
                if (depth_ == 0) {
                    if (is_space(c)) break;
                    scalar_ = true;
                }
                buf_ += char(c);
                break;
        }
    }
}

namespace {

void print(const Json& v, std::string& out) {
    switch (v.type()) {
        case Json::value_t::object: {
            out += '{';
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                if (!first) out += ", ";
                first = false;
                out += Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace);
                out += ": ";
                print(it.value(), out);
            }
            out += '}';
            break;
        }
        case Json::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v) {
                if (!first) out += ", ";
                first = false;
                print(e, out);
            }
            out += ']';
            break;
        }
        default: out += v.dump(-1, ' ', false, Json::error_handler_t::replace); break;
    }
}

}  // namespace

std::string qmp_to_text(const Json& value) {
    std::string out;
    print(value, out);
    return out;
}

}  // namespace corvid
