// Chardev frontends, the simple backends (stdio, null, file), type registration and the
// legacy -serial/-monitor spec syntax.
#include "system/chardev/chardev.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "system/chardev/chardev_internal.h"
#include "system/chardev/mux_chardev.h"

namespace corvid {

// ---- frontends ----

Status Chardev::attach(Frontend fe) {
    {
        std::lock_guard lock(fe_mu_);
        if (attached_) return make_error(fmt::format("chardev '{}' is busy", id()));
        fe_ = std::move(fe);
        attached_ = true;
    }
    start();
    return {};
}

bool Chardev::attached() const {
    std::lock_guard lock(fe_mu_);
    return attached_;
}

void Chardev::set_receiver(Receiver receiver) {
    {
        std::lock_guard lock(fe_mu_);
        receiver_ = std::move(receiver);
        if (attached_) return;  // already wired (a second set_receiver just swaps the device)
        attached_ = true;
        device_ = true;
    }
    start();
}

void Chardev::poll_input() {
    std::lock_guard lock(fe_mu_);
    if (!receiver_.receive) return;
    while (!queue_.empty()) {
        size_t room = receiver_.can_receive ? receiver_.can_receive() : queue_.size();
        if (room == 0) break;
        uint8_t buf[64];
        size_t n = std::min({room, queue_.size(), sizeof buf});
        for (size_t i = 0; i < n; ++i) {
            buf[i] = queue_.front();
            queue_.pop_front();
        }
        receiver_.receive(buf, n);
    }
}

void Chardev::detach() {
    std::lock_guard call(call_mu_);
    std::lock_guard lock(fe_mu_);
    fe_ = Frontend{};
}

void Chardev::deliver_opened() {
    std::lock_guard call(call_mu_);
    std::function<void()> f;
    {
        std::lock_guard lock(fe_mu_);
        f = fe_.opened;
    }
    if (f) f();
}

void Chardev::deliver(const uint8_t* data, size_t size) {
    std::lock_guard call(call_mu_);
    std::function<void(const uint8_t*, size_t)> f;
    {
        std::lock_guard lock(fe_mu_);
        if (device_) {
            // Bound the queue: a device that never reads must not make us grow without limit.
            constexpr size_t kMaxQueued = 1 << 20;
            for (size_t i = 0; i < size && queue_.size() < kMaxQueued; ++i) queue_.push_back(data[i]);
        } else {
            f = fe_.received;
        }
    }
    if (f) {
        f(data, size);
    } else if (rc_) {
        rc_->notify();
    }
}

void Chardev::deliver_closed() {
    std::lock_guard call(call_mu_);
    std::function<void()> f;
    {
        std::lock_guard lock(fe_mu_);
        f = fe_.closed;
    }
    if (f) f();
}

void Chardev::deliver_focus(bool in) {
    std::lock_guard call(call_mu_);
    std::function<void(bool)> f;
    {
        std::lock_guard lock(fe_mu_);
        f = fe_.focus;
    }
    if (f) f(in);
}

bool Chardev::device_frontend() const {
    std::lock_guard lock(fe_mu_);
    return device_;
}

namespace chardev_detail {

void write_all(int fd, const uint8_t* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd p = {fd, POLLOUT, 0};
                if (poll(&p, 1, 1000) > 0) continue;
            }
            return;  // the reader went away: drop output, as a serial line would
        }
        data += n;
        size -= size_t(n);
    }
}

Status check_keys(const TypeInfo& type, const OptionList& opts, std::initializer_list<const char*> known) {
    for (const auto& [k, v] : opts.items) {
        if (k == "backend" || k == "id") continue;
        bool ok = false;
        for (const char* n : known) ok |= (k == n);
        if (!ok) return make_error(fmt::format("Invalid parameter '{}'", k.empty() ? v : k));
    }
    (void)type;
    return {};
}

}  // namespace chardev_detail

namespace {

using chardev_detail::check_keys;
using chardev_detail::write_all;

class NullChardev : public Chardev {
public:
    void write(const uint8_t*, size_t) override {}
    std::string filename() const override { return "null"; }

protected:
    void start() override { deliver_opened(); }
};

class FileChardev : public Chardev {
public:
    FileChardev(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    ~FileChardev() override { close(fd_); }
    void write(const uint8_t* data, size_t size) override {
        std::lock_guard lock(mu_);
        write_all(fd_, data, size);
    }
    std::string filename() const override { return "file:" + path_; }

protected:
    void start() override { deliver_opened(); }

private:
    std::mutex mu_;
    int fd_;
    std::string path_;
};

struct termios g_saved_termios;
bool g_termios_saved = false;

void restore_termios() {
    if (g_termios_saved) tcsetattr(0, TCSANOW, &g_saved_termios);
}

class StdioChardev : public Chardev {
public:
    ~StdioChardev() override {
        // The reader may be blocked in read() for ever (the process is exiting): it is left
        // detached and only ever touches `shared_`, which outlives this object.
        std::lock_guard lock(shared_->mu);
        shared_->owner = nullptr;
    }
    void write(const uint8_t* data, size_t size) override {
        std::lock_guard lock(mu_);
        write_all(1, data, size);
    }
    std::string filename() const override { return "stdio"; }
    // Under a mux the mux handles Ctrl-A itself: every byte passes through.
    void disable_escapes() { shared_->escapes = false; }

protected:
    void start() override {
        deliver_opened();
        std::thread([s = shared_] { read_loop(s); }).detach();
    }

private:
    struct Shared {
        std::mutex mu;
        StdioChardev* owner = nullptr;
        bool escapes = true;  // set before the reader starts
    };

    static void read_loop(std::shared_ptr<Shared> s) {
        uint8_t buf[256];
        bool ctrl_a = false;
        // Ctrl-A x quits (QEMU's mux escape) only when a device owns a terminal in raw mode.
        bool raw = s->escapes && isatty(0) && g_termios_saved;
        for (;;) {
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            std::lock_guard lock(s->mu);
            if (!s->owner) return;
            if (n <= 0) break;  // EOF: no more input, as QEMU does
            uint8_t out[256];
            size_t m = 0;
            for (ssize_t i = 0; i < n; ++i) {
                if (raw) {
                    if (ctrl_a) {
                        ctrl_a = false;
                        if (buf[i] == 'x') {
                            fmt::print(stderr, "corvid: Terminated\n");
                            if (s->owner->rc_) s->owner->rc_->request_shutdown(0, ShutdownCause::kHostQmpQuit);
                            return;
                        }
                        if (buf[i] != 1) continue;
                    } else if (buf[i] == 1) {
                        ctrl_a = true;
                        continue;
                    }
                }
                out[m++] = buf[i];
            }
            if (m) s->owner->deliver(out, m);
        }
        s->owner->deliver_closed();
    }

    std::mutex mu_;
    std::shared_ptr<Shared> shared_ = make_shared_state(this);

    static std::shared_ptr<Shared> make_shared_state(StdioChardev* owner) {
        auto s = std::make_shared<Shared>();
        s->owner = owner;
        return s;
    }
};

void add_type(TypeRegistry& r, const char* name, const char* desc) {
    TypeInfo t;
    t.name = name;
    // No short name: "socket", "file"... are also netdev and block backend names; -chardev
    // looks its backends up as "chardev-<backend>".
    t.parent = kTypeChardev;
    t.description = desc;
    t.security = Security::kSecure;
    t.factory = [](const TypeInfo& type, const OptionList& opts) -> Result<std::unique_ptr<Object>> {
        auto c = create_chardev_object(type, opts, RunControl::global());
        if (!c) return make_error(c.error());
        return std::unique_ptr<Object>(std::move(*c));
    };
    (void)r.add(std::move(t));
}

}  // namespace

void stdio_set_raw(bool raw) {
    if (!isatty(0)) return;
    if (raw) {
        if (!g_termios_saved && tcgetattr(0, &g_saved_termios) == 0) {
            g_termios_saved = true;
            atexit(restore_termios);
        }
        struct termios t = g_saved_termios;
        t.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN);
        t.c_iflag &= ~tcflag_t(ICRNL | IXON);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &t);
    } else {
        restore_termios();
    }
}

std::string chardev_type_name(const std::string& backend) {
    return "chardev-" + backend;
}

bool is_builtin_chardev(const std::string& type_name) {
    return type_name == "chardev-stdio" || type_name == "chardev-null" || type_name == "chardev-file" ||
           type_name == "chardev-socket" || type_name == "chardev-pipe";
}

void register_chardev_types(TypeRegistry& r) {
    // Vm::add_chardev calls create_chardev_object with its own RunControl; the factories
    // (global RunControl) serve generic registry users.
    add_type(r, "chardev-stdio", "standard input/output of the emulator");
    add_type(r, "chardev-null", "discards output, never has input");
    add_type(r, "chardev-file", "writes output to a file");
    add_type(r, "chardev-socket", "unix or tcp (loopback) stream socket, client or server");
    add_type(r, "chardev-pipe", "a pair of named pipes PATH.in / PATH.out");
}

Result<std::unique_ptr<Chardev>> create_chardev_object(const TypeInfo& type, const OptionList& opts, RunControl& rc) {
    std::unique_ptr<Chardev> c;
    const std::string& n = type.name;
    if (n == "chardev-stdio") {
        if (auto st = check_keys(type, opts, {"signal", "mux", "logfile"}); !st) return make_error(st.error());
        c = std::make_unique<StdioChardev>();
    } else if (n == "chardev-null") {
        if (auto st = check_keys(type, opts, {"mux", "logfile"}); !st) return make_error(st.error());
        c = std::make_unique<NullChardev>();
    } else if (n == "chardev-file") {
        if (auto st = check_keys(type, opts, {"path", "append", "mux", "logfile"}); !st) return make_error(st.error());
        std::string path = opts.get("path").value_or("");
        if (path.empty()) return make_error("chardev: file: no filename given");
        bool append = false;
        if (auto a = opts.get("append")) {
            auto b = parse_bool_property("append", *a);
            if (!b) return make_error(b.error());
            append = *b;
        }
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
        if (fd < 0) return make_error(fmt::format("Could not open '{}': {}", path, strerror(errno)));
        c = std::make_unique<FileChardev>(fd, path);
    } else if (n == "chardev-socket") {
        auto s = chardev_detail::make_socket_chardev(type, opts, rc);
        if (!s) return make_error(s.error());
        c = std::move(*s);
    } else if (n == "chardev-pipe") {
        auto s = chardev_detail::make_pipe_chardev(type, opts);
        if (!s) return make_error(s.error());
        c = std::move(*s);
    } else {
        return make_error(
            fmt::format("'{}' is not a valid char driver", type.short_name.empty() ? n : type.short_name));
    }
    c->rc_ = &rc;
    c->set_type(&type);
    c->set_id(opts.get("id").value_or(""));
    bool mux = false;
    if (auto m = opts.get("mux")) {
        auto b = parse_bool_property("mux", *m);
        if (!b) return make_error(b.error());
        mux = *b;
    }
    if (!mux) return c;
    if (auto* stdio = dynamic_cast<StdioChardev*>(c.get())) stdio->disable_escapes();
    std::unique_ptr<Chardev> m = std::make_unique<MuxChardev>(std::move(c), &rc);
    m->set_type(&type);
    m->set_id(opts.get("id").value_or(""));
    return m;
}

Result<OptionList> parse_legacy_chardev(const std::string& spec) {
    OptionList o;
    auto with_flags = [&](const std::string& rest, const char* key, const std::string& backend) -> Result<OptionList> {
        // "PATH[,server][,nowait][,k=v...]"
        auto parsed = OptionList::parse(rest, key);
        if (!parsed) return make_error(parsed.error());
        OptionList out;
        out.items.emplace_back("backend", backend);
        for (auto& kv : parsed->items) out.items.push_back(kv);
        return out;
    };
    if (spec.rfind("mon:", 0) == 0) {
        auto inner = parse_legacy_chardev(spec.substr(4));
        if (!inner) return make_error(inner.error());
        if (inner->get("chardev")) return make_error(fmt::format("'{}' is not a valid char driver", spec));
        inner->items.emplace_back("mux", "on");
        inner->items.emplace_back("mon", "on");
        return inner;
    }
    if (spec.rfind("chardev:", 0) == 0) {
        o.items.emplace_back("chardev", spec.substr(8));
        return o;
    }
    if (spec == "stdio" || spec == "null" || spec == "none") {
        o.items.emplace_back("backend", spec);
        return o;
    }
    if (spec == "vc" || spec.rfind("vc:", 0) == 0) {
        o.items.emplace_back("backend", "null");  // no display: QEMU's vc goes nowhere visible
        return o;
    }
    if (spec.rfind("file:", 0) == 0) return with_flags(spec.substr(5), "path", "file");
    if (spec.rfind("pipe:", 0) == 0) return with_flags(spec.substr(5), "path", "pipe");
    if (spec.rfind("unix:", 0) == 0) return with_flags(spec.substr(5), "path", "socket");
    if (spec.rfind("tcp:", 0) == 0) {
        std::string rest = spec.substr(4);
        size_t comma = rest.find(',');
        std::string hostport = rest.substr(0, comma);
        size_t colon = hostport.rfind(':');
        if (colon == std::string::npos) return make_error(fmt::format("'{}' is not a valid char driver", spec));
        OptionList out;
        out.items.emplace_back("backend", "socket");
        out.items.emplace_back("host", hostport.substr(0, colon));
        out.items.emplace_back("port", hostport.substr(colon + 1));
        if (comma != std::string::npos) {
            auto parsed = OptionList::parse(rest.substr(comma + 1));
            if (!parsed) return make_error(parsed.error());
            for (auto& kv : parsed->items) out.items.push_back(kv);
        }
        return out;
    }
    return make_error(fmt::format("'{}' is not a valid char driver", spec));
}

}  // namespace corvid
