// qtest commands, with QEMU's replies: "OK", "OK 0x%016x" for readX, "OK 0x%04x" for inX,
// "FAIL ..." for errors (QEMU asserts on malformed input; we answer FAIL instead).
#include "system/qtest/qtest.h"

#include <fmt/format.h>

#include <sstream>
#include <vector>

#include "hw/clock.h"

namespace corvid {
namespace {

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> w;
    std::istringstream in(line);
    std::string s;
    while (in >> s) w.push_back(s);
    return w;
}

bool parse_num(const std::string& s, uint64_t* out) {
    if (s.empty()) return false;
    try {
        size_t pos = 0;
        // Negative values (e.g. clock_step with a signed argument) are rejected.
        if (s[0] == '-') return false;
        *out = std::stoull(s, &pos, 0);
        return pos == s.size();
    } catch (const std::exception&) {
        return false;
    }
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr uint64_t kMaxTransfer = 16u << 20;  // read/write/memset size bound

}  // namespace

std::string QtestSession::execute(const std::string& line) {
    auto w = split_words(line);
    if (w.empty()) return {};
    const std::string& cmd = w[0];
    const std::string kFail = "FAIL Invalid argument\n";
    Machine* m = vm_.machine();
    auto need = [&](size_t n) { return w.size() >= n + 1; };
    auto mem_read = [&](uint64_t a, unsigned size) -> uint64_t {
        uint64_t v = 0;
        if (!m || m->memory().read(a, size, &v) != MemResult::kOk) return 0;  // unassigned reads as 0
        return v;
    };
    auto mem_write = [&](uint64_t a, unsigned size, uint64_t v) {
        if (m) (void)m->memory().write(a, size, v);
    };

    if (cmd == "readb" || cmd == "readw" || cmd == "readl" || cmd == "readq") {
        uint64_t a;
        if (!need(1) || !parse_num(w[1], &a)) return kFail;
        unsigned size = cmd[4] == 'b' ? 1 : cmd[4] == 'w' ? 2 : cmd[4] == 'l' ? 4 : 8;
        return fmt::format("OK 0x{:016x}\n", mem_read(a, size));
    }
    if (cmd == "writeb" || cmd == "writew" || cmd == "writel" || cmd == "writeq") {
        uint64_t a, v;
        if (!need(2) || !parse_num(w[1], &a) || !parse_num(w[2], &v)) return kFail;
        unsigned size = cmd[5] == 'b' ? 1 : cmd[5] == 'w' ? 2 : cmd[5] == 'l' ? 4 : 8;
        if (size < 8) v &= (1ull << (size * 8)) - 1;
        mem_write(a, size, v);
        return "OK\n";
    }
    if (cmd == "inb" || cmd == "inw" || cmd == "inl") {
        uint64_t a;
        if (!need(1) || !parse_num(w[1], &a) || a > 0xffff) return kFail;
        unsigned size = cmd[2] == 'b' ? 1 : cmd[2] == 'w' ? 2 : 4;
        // An unassigned port reads all-ones, as QEMU's unassigned_io_read and our TCG/KVM paths.
        const uint64_t ones = (1ull << (size * 8)) - 1;
        uint64_t v = ones;
        if (m && m->io()) {
            if (m->io()->read(a, size, &v) != MemResult::kOk) v = ones;
        }
        return fmt::format("OK 0x{:04x}\n", v);
    }
    if (cmd == "outb" || cmd == "outw" || cmd == "outl") {
        uint64_t a, v;
        if (!need(2) || !parse_num(w[1], &a) || !parse_num(w[2], &v) || a > 0xffff) return kFail;
        unsigned size = cmd[3] == 'b' ? 1 : cmd[3] == 'w' ? 2 : 4;
        v &= size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
        if (m && m->io()) (void)m->io()->write(a, size, v);
        return "OK\n";
    }
    if (cmd == "read") {
        uint64_t a, n;
        if (!need(2) || !parse_num(w[1], &a) || !parse_num(w[2], &n) || n == 0 || n > kMaxTransfer) return kFail;
        std::string out = "OK 0x";
        out.reserve(5 + n * 2 + 1);
        for (uint64_t i = 0; i < n; ++i) out += fmt::format("{:02x}", mem_read(a + i, 1));
        return out + "\n";
    }
    if (cmd == "write") {
        uint64_t a, n;
        if (!need(3) || !parse_num(w[1], &a) || !parse_num(w[2], &n) || n > kMaxTransfer) return kFail;
        const std::string& data = w[3];
        if (data.size() < 2 || data[0] != '0' || (data[1] != 'x' && data[1] != 'X')) return kFail;
        for (uint64_t i = 0; i < n; ++i) {
            size_t pos = 2 + i * 2;
            uint8_t byte = 0;
            if (pos + 1 < data.size()) {
                int hi = hex_digit(data[pos]), lo = hex_digit(data[pos + 1]);
                if (hi < 0 || lo < 0) return kFail;
                byte = uint8_t(hi << 4 | lo);
            }
            mem_write(a + i, 1, byte);
        }
        return "OK\n";
    }
    if (cmd == "memset") {
        uint64_t a, n, v;
        if (!need(3) || !parse_num(w[1], &a) || !parse_num(w[2], &n) || !parse_num(w[3], &v) || n > kMaxTransfer) {
            return kFail;
        }
        for (uint64_t i = 0; i < n; ++i) mem_write(a + i, 1, v & 0xff);
        return "OK\n";
    }
    // The board's virtual clock in manual mode when it has one; else a counter of our own.
    VirtualClock* clock = m ? m->virtual_clock() : nullptr;
    if (clock && !clock->manual()) clock->set_manual(true);
    auto now = [&] { return clock ? clock->now_ns() : clock_ns_; };
    auto advance = [&](int64_t ns) {
        if (clock) {
            clock->advance(ns);
        } else {
            clock_ns_ += ns;
        }
        if (m) m->poll_devices();  // expired timers fire now, in this (quiescent) thread
    };
    if (cmd == "clock_step") {
        uint64_t ns = 0;
        if (need(1)) {
            if (!parse_num(w[1], &ns) || ns > uint64_t(INT64_MAX - now())) return kFail;
        } else if (m) {
            int64_t next = m->next_deadline_ns();
            ns = next > 0 ? uint64_t(next) : 0;
        }
        advance(int64_t(ns));
        return fmt::format("OK {}\n", now());
    }
    if (cmd == "clock_set") {
        uint64_t ns;
        if (!need(1) || !parse_num(w[1], &ns) || ns > uint64_t(INT64_MAX)) return kFail;
        if (int64_t(ns) > now()) advance(int64_t(ns) - now());
        return fmt::format("OK {}\n", now());
    }
    if (cmd == "endianness") return "OK little\n";
    if (cmd == "irq_intercept_in" || cmd == "irq_intercept_out") return intercept(w);
    if (cmd == "set_irq_in") {
        // set_irq_in QOM-PATH NAME NUM LEVEL; our devices have one unnamed input list.
        uint64_t num;
        if (!need(4) || !parse_num(w[3], &num)) return kFail;
        long long level;
        try {
            size_t pos = 0;
            level = std::stoll(w[4], &pos, 0);
            if (pos != w[4].size()) return kFail;
        } catch (const std::exception&) {
            return kFail;
        }
        IrqInterceptTarget* t = m ? m->irq_intercept_target(w[1]) : nullptr;
        if (!t) return vm_.qom_list(w[1]) ? "FAIL No GPIO inputs\n" : "FAIL Unknown device\n";
        if (w[2] != "unnamed-gpio-in") return "FAIL Unknown GPIO list\n";
        if (num > uint64_t(INT32_MAX) || !t->set_irq_input(int(num), level != 0)) return kFail;
        return "OK\n";
    }
    return fmt::format("FAIL Unknown command '{}'\n", cmd);
}

// QEMU's replies: an unknown path fails, a second intercept of another device fails, the same
// one again is OK, a device without lines says no intercepts were installed.
std::string QtestSession::intercept(const std::vector<std::string>& w) {
    if (w.size() < 2) return "FAIL Invalid argument\n";
    const bool out = w[0] == "irq_intercept_out";
    const std::string& path = w[1];
    Machine* m = vm_.machine();
    IrqInterceptTarget* t = nullptr;
    if (m) t = out ? m->irq_intercept_out_target(path) : m->irq_intercept_target(path);
    if (!t && !vm_.qom_list(path)) return "FAIL Unknown device\n";
    if (w.size() > 2 && !out) return "FAIL Interception of named in-GPIOs not yet supported\n";
    if (!intercepted_.empty()) return intercepted_ == path ? "OK\n" : "FAIL IRQ intercept already enabled\n";
    if (!t || t->irq_input_count() <= 0) return "FAIL No intercepts installed\n";
    intercepted_ = path;
    target_ = t;
    t->set_irq_observer(this);
    return "OK\n";
}

QtestSession::~QtestSession() {
    release_intercept();
}

void QtestSession::release_intercept() {
    if (target_) target_->set_irq_observer(nullptr);
    target_ = nullptr;
    intercepted_.clear();
}

std::string QtestSession::irq_event(int line, bool level) {
    if (intercepted_.empty() || line < 0 || line >= 256) return {};
    if (irq_levels_[line] == int(level)) return {};
    irq_levels_[line] = level;
    return fmt::format("IRQ {} {}\n", level ? "raise" : "lower", line);
}

void QtestSession::irq_changed(int line, bool level) {
    std::string ev = irq_event(line, level);
    if (!ev.empty() && async_send_) async_send_(ev);
}

QtestServer::~QtestServer() {
    if (started_) chr_.detach();
    // The intercepted device gets its lines back while the machine still exists.
    if (session_) replace_session(false);
}

void QtestServer::replace_session(bool open) {
    vm_.run_control().run_on_vcpu([&] {
        std::lock_guard lock(mu_);
        session_.reset();
        if (open) session_ = std::make_unique<QtestSession>(vm_, [this](const std::string& s) { send(s); });
        line_.clear();
    });
}

Status QtestServer::start() {
    Chardev::Frontend fe;
    fe.opened = [this] { replace_session(true); };
    fe.received = [this](const uint8_t* d, size_t n) { received(d, n); };
    fe.closed = [this] { replace_session(false); };
    if (auto st = chr_.attach(std::move(fe)); !st) return st;
    started_ = true;
    return {};
}

void QtestServer::send(const std::string& s) {
    chr_.write(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void QtestServer::received(const uint8_t* data, size_t size) {
    for (size_t i = 0; i < size; ++i) {
        char c = char(data[i]);
        if (c != '\n') {
            if (line_.size() < 64u << 20) line_ += c;
            continue;
        }
        std::string line;
        line.swap(line_);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::string reply;
        vm_.run_control().run_on_vcpu([&] {
            std::lock_guard lock(mu_);
            if (session_) reply = session_->execute(line);
        });
        if (!reply.empty()) send(reply);
    }
}

void QtestServer::irq_changed(int line, bool level) {
    std::lock_guard lock(mu_);
    if (session_) session_->irq_changed(line, level);
}

}  // namespace corvid
