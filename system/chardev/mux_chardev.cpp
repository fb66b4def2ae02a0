// The chardev multiplexer: ports, focus and the Ctrl-A escape.
#include "system/chardev/mux_chardev.h"

#include <string_view>

namespace corvid {

namespace {
// Input for a port whose frontend is not attached yet is kept (bounded) until it attaches:
// at start-up the monitor attaches after the reader has started.
constexpr size_t kMaxPending = 64 * 1024;
}  // namespace

// One frontend slot. Its Chardev part holds the frontend; the mux decides what it receives.
class MuxChardev::Port : public Chardev {
public:
    Port(MuxChardev& mux, int index, RunControl* rc) : mux_(mux), index_(index) { rc_ = rc; }

    void write(const uint8_t* data, size_t size) override { mux_.write(data, size); }
    std::string filename() const override { return mux_.filename(); }
    bool connected() const override { return mux_.connected(); }

    // Called by the mux with its input lock held.
    void input(const uint8_t* data, size_t size) { deliver(data, size); }
    void open() { deliver_opened(); }
    void focus(bool in) { deliver_focus(in); }
    void close() { deliver_closed(); }

    bool started = false;
    bool device = false;
    bool opened = false;
    std::deque<uint8_t> pending;

protected:
    void start() override { mux_.port_started(index_, device_frontend()); }

private:
    MuxChardev& mux_;
    int index_;
};

MuxChardev::MuxChardev(std::unique_ptr<Chardev> base, RunControl* rc) : base_(std::move(base)) {
    rc_ = rc;
}

MuxChardev::~MuxChardev() {
    // No callback from the backend may reach the ports once they start going away.
    if (base_) base_->detach();
    base_.reset();
}

Chardev* MuxChardev::add_port() {
    std::lock_guard lock(in_mu_);
    if (static_cast<int>(ports_.size()) >= kMaxPorts) return nullptr;
    auto p = std::make_unique<Port>(*this, static_cast<int>(ports_.size()), rc_);
    p->set_type(&type());  // the mux's type is set when it is created
    p->set_id(id());
    ports_.push_back(std::move(p));
    return ports_.back().get();
}

int MuxChardev::port_count() const {
    std::lock_guard lock(in_mu_);
    return static_cast<int>(ports_.size());
}

int MuxChardev::focus() const {
    std::lock_guard lock(in_mu_);
    return focus_;
}

void MuxChardev::write(const uint8_t* data, size_t size) {
    base_->write(data, size);
}

std::string MuxChardev::filename() const {
    return base_->filename();
}

bool MuxChardev::connected() const {
    return base_->connected();
}

void MuxChardev::close_backend() {
    std::vector<Port*> ports;
    {
        std::lock_guard lock(in_mu_);
        for (auto& p : ports_) ports.push_back(p.get());
    }
    for (Port* p : ports) p->detach();
    base_->detach();
    base_->close_backend();
}

std::string MuxChardev::help_text() {
    return "\r\n"
           "C-a h    print this help\r\n"
           "C-a x    exit the emulator\r\n"
           "C-a c    switch between the console and the monitor\r\n"
           "C-a C-a  send C-a\r\n";
}

void MuxChardev::port_started(int index, bool device) {
    bool start_base = false;
    {
        std::lock_guard lock(in_mu_);
        Port& p = *ports_[static_cast<size_t>(index)];
        p.started = true;
        p.device = device;
        if (focus_ < 0 || (device && !ports_[static_cast<size_t>(focus_)]->device)) {
            set_focus_locked(index);
        } else if (focus_ == index && !device && !p.opened) {
            p.opened = true;
            p.open();
        }
        if (!p.pending.empty()) {
            std::vector<uint8_t> bytes(p.pending.begin(), p.pending.end());
            p.pending.clear();
            p.input(bytes.data(), bytes.size());
        }
        start_base = !base_started_;
        base_started_ = true;
    }
    if (!start_base) return;
    // The backend starts with the first frontend, as an ordinary chardev does.
    Chardev::Frontend fe;
    fe.received = [this](const uint8_t* d, size_t n) { received(d, n); };
    fe.closed = [this] { base_closed(); };
    (void)base_->attach(std::move(fe));
}

void MuxChardev::set_focus_locked(int index) {
    const int old = focus_;
    if (old == index) return;
    focus_ = index;
    if (old >= 0) {
        Port& o = *ports_[static_cast<size_t>(old)];
        if (o.opened) o.focus(false);
    }
    Port& p = *ports_[static_cast<size_t>(index)];
    if (!p.started || p.device) return;
    // A monitor greets the first time it gets the focus, and shows its prompt afterwards.
    if (!p.opened) {
        p.opened = true;
        p.open();
    } else {
        p.focus(true);
    }
}

void MuxChardev::send_locked(int index, const uint8_t* data, size_t size) {
    if (index < 0 || size == 0) return;
    Port& p = *ports_[static_cast<size_t>(index)];
    if (p.started) {
        p.input(data, size);
        return;
    }
    for (size_t i = 0; i < size && p.pending.size() < kMaxPending; ++i) p.pending.push_back(data[i]);
}

void MuxChardev::received(const uint8_t* data, size_t size) {
    std::lock_guard lock(in_mu_);
    size_t run = 0;  // bytes [i - run, i) go to the focused port unchanged
    auto flush = [&](size_t end) {
        send_locked(focus_, data + end - run, run);
        run = 0;
    };
    for (size_t i = 0; i < size; ++i) {
        if (quitting_) return;
        const uint8_t c = data[i];
        if (!got_escape_) {
            if (c == kEscape) {
                flush(i);
                got_escape_ = true;
            } else {
                run++;
            }
            continue;
        }
        got_escape_ = false;
        switch (c) {
            case kEscape: send_locked(focus_, &c, 1); break;
            case 'h':
            case '?': {
                const std::string h = help_text();
                base_->write(reinterpret_cast<const uint8_t*>(h.data()), h.size());
                break;
            }
            case 'x': {
                static constexpr std::string_view kMsg = "corvid: Terminated\r\n";
                base_->write(reinterpret_cast<const uint8_t*>(kMsg.data()), kMsg.size());
                quitting_ = true;
                if (rc_) rc_->request_shutdown(0, ShutdownCause::kHostQmpQuit);
                return;
            }
            case 'c':
                if (!ports_.empty()) set_focus_locked((focus_ + 1) % static_cast<int>(ports_.size()));
                break;
            default: break;  // other escapes (QEMU's s, b, t) are not modelled: ignored
        }
    }
    flush(size);
}

void MuxChardev::base_closed() {
    std::lock_guard lock(in_mu_);
    for (auto& p : ports_) {
        if (p->started) p->close();
    }
}

}  // namespace corvid
