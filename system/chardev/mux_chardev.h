// The chardev multiplexer (mux=on, "-serial mon:stdio", -nographic): up to four frontends (the
// serial device, a monitor) share one backend. Output from all of them is merged; input goes
// to the frontend with the focus. Ctrl-A is the escape, as in QEMU: C-a c moves the focus,
// C-a x quits, C-a h prints help, C-a C-a sends one C-a.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "system/chardev/chardev.h"

namespace corvid {

class MuxChardev : public Chardev {
public:
    static constexpr int kMaxPorts = 4;
    static constexpr uint8_t kEscape = 0x01;  // Ctrl-A

    // `rc` hears C-a x (a quit request).
    MuxChardev(std::unique_ptr<Chardev> base, RunControl* rc);
    ~MuxChardev() override;

    // A new frontend slot: a Chardev a device or a monitor attaches to as usual. Null once
    // kMaxPorts are in use. Owned by the mux.
    Chardev* add_port();
    int port_count() const;
    // The port with the input focus (-1 until a frontend attached). The focus starts on the
    // first device (the serial port), as QEMU's -nographic starts on the guest console.
    int focus() const;

    void write(const uint8_t* data, size_t size) override;
    std::string filename() const override;
    bool connected() const override;
    void close_backend() override;

    // The C-a h text.
    static std::string help_text();

private:
    class Port;
    friend class Port;

    void port_started(int index, bool device);
    void received(const uint8_t* data, size_t size);
    void base_closed();
    // Both with in_mu_ held.
    void set_focus_locked(int index);
    void send_locked(int index, const uint8_t* data, size_t size);

    std::unique_ptr<Chardev> base_;
    // Input routing state. Never taken on the output path (write), so a frontend may write
    // while its input callback runs.
    mutable std::mutex in_mu_;
    std::vector<std::unique_ptr<Port>> ports_;
    int focus_ = -1;
    bool got_escape_ = false;
    bool base_started_ = false;
    bool quitting_ = false;
};

}  // namespace corvid
