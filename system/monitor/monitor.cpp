// Monitor I/O: framing for QMP (JSON values, "\r\n" after each reply) and HMP (lines, prompt).
#include "system/monitor/monitor.h"

#include <fmt/format.h>

namespace corvid {

Monitor::~Monitor() {
    stop();
}

Status Monitor::start() {
    Chardev::Frontend fe;
    fe.opened = [this] { opened(); };
    fe.received = [this](const uint8_t* d, size_t n) { received(d, n); };
    fe.closed = [this] { closed(); };
    fe.focus = [this](bool in) { focus(in); };
    if (auto st = chr_.attach(std::move(fe)); !st) return st;
    started_ = true;
    return {};
}

void Monitor::stop() {
    if (!started_) return;
    chr_.detach();
    qmp_.reset();
    hmp_.reset();
    started_ = false;
}

void Monitor::send_line(const std::string& text) {
    std::string s = text + "\r\n";
    chr_.write(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void Monitor::opened() {
    line_.clear();
    if (mode_ == Mode::kControl) {
        // A new session per connection: each client negotiates capabilities itself.
        qmp_ = std::make_unique<QmpSession>(vm_, [this](const std::string& t) { send_line(t); });
        qmp_->start();
    } else {
        hmp_ = std::make_unique<Hmp>(vm_);
        std::string b = Hmp::banner() + kHmpPrompt;
        chr_.write(reinterpret_cast<const uint8_t*>(b.data()), b.size());
    }
}

void Monitor::focus(bool in) {
    if (mode_ != Mode::kReadline || !hmp_) return;
    // Back on a shared terminal: the prompt again; leaving: end the prompt's line so that
    // the console's output starts on a fresh one.
    std::string s = in ? std::string(kHmpPrompt) : std::string("\r\n");
    chr_.write(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void Monitor::closed() {
    qmp_.reset();
    hmp_.reset();
    line_.clear();
}

void Monitor::received(const uint8_t* data, size_t size) {
    if (mode_ == Mode::kControl) {
        if (qmp_) qmp_->feed(data, size);
        return;
    }
    if (!hmp_) return;
    for (size_t i = 0; i < size; ++i) {
        char c = char(data[i]);
        if (c != '\n' && c != '\r') {
            if (line_.size() < 64 * 1024) line_ += c;
            continue;
        }
        if (c == '\r' && i + 1 < size && data[i + 1] == '\n') ++i;
        std::string out;
        std::string line;
        line.swap(line_);
        vm_.run_control().run_on_vcpu([&] { out = hmp_->execute(line); });
        // QEMU's monitor writes "\r\n" line ends on every backend.
        std::string text;
        for (char ch : out) {
            if (ch == '\n') text += '\r';
            text += ch;
        }
        if (!vm_.quit_pending()) text += kHmpPrompt;
        chr_.write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
        vm_.finish_quit();
    }
}

Result<MonOption> parse_mon_option(const OptionList& opts) {
    MonOption m;
    for (const auto& [k, v] : opts.items) {
        if (k == "chardev") {
            m.chardev = v;
        } else if (k == "mode") {
            if (v == "control") {
                m.mode = Monitor::Mode::kControl;
            } else if (v == "readline") {
                m.mode = Monitor::Mode::kReadline;
            } else {
                return make_error(fmt::format("Parameter 'mode' does not accept value '{}'", v));
            }
        } else if (k == "pretty") {
            auto b = parse_bool_property(k, v);
            if (!b) return make_error(b.error());
        } else {
            return make_error(fmt::format("Invalid parameter '{}'", k));
        }
    }
    if (m.chardev.empty()) return make_error("Parameter 'chardev' is missing");
    return m;
}

}  // namespace corvid
