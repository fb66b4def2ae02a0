// Character devices (-chardev): registered types with security statements, one I/O thread per
// backend, and a frontend that is either a device (CharBackend) or a monitor.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/char_backend.h"
#include "base/options.h"
#include "base/result.h"
#include "base/run_control.h"
#include "object/type_registry.h"
#include "policy/policy.h"

namespace corvid {

class Chardev : public Object, public CharBackend {
public:
    // What a monitor attaches: called from the chardev's I/O thread.
    struct Frontend {
        std::function<void()> opened;  // a peer connected (at once for stdio/file/null)
        std::function<void(const uint8_t*, size_t)> received;
        std::function<void()> closed;  // the peer went away (a server keeps listening)
        // A multiplexed chardev (mux=on, "mon:") moved the input focus to (true) or away from
        // (false) this frontend; a monitor shows its prompt again.
        std::function<void(bool)> focus;
    };

    ~Chardev() override = default;

    // Starts delivering to `fe`. One frontend per chardev ("... is busy" otherwise).
    Status attach(Frontend fe);
    bool attached() const;
    // Stops calling the frontend (waits for a call in progress). The chardev stays busy.
    void detach();

    // CharBackend for devices: input is queued by the I/O thread and handed over in poll_input
    // (vCPU thread), so device models stay single-threaded.
    void set_receiver(Receiver receiver) override;
    void poll_input() override;

    // "stdio", "unix:/tmp/s,server=on", ... (info chardev and the security report).
    virtual std::string filename() const = 0;
    // Whether a peer is connected (sockets); others are always connected.
    virtual bool connected() const { return true; }
    // Stops the I/O thread and closes descriptors (also done by the destructor).
    virtual void close_backend() {}

protected:
    // Backends call these from their I/O thread.
    void deliver_opened();
    void deliver(const uint8_t* data, size_t size);
    void deliver_closed();
    void deliver_focus(bool in);
    // Whether the frontend is a device (set_receiver) rather than a monitor (attach).
    bool device_frontend() const;
    // Called once when the first frontend attaches: start the I/O thread.
    virtual void start() {}

    RunControl* rc_ = nullptr;

private:
    friend Result<std::unique_ptr<Chardev>> create_chardev_object(const TypeInfo&, const OptionList&, RunControl&);
    std::mutex call_mu_;  // held while a frontend callback runs (detach waits for it)
    mutable std::mutex fe_mu_;
    Frontend fe_;
    bool attached_ = false;
    bool device_ = false;
    std::deque<uint8_t> queue_;  // device frontend input
    Receiver receiver_;
};

// Registers chardev-stdio, chardev-null, chardev-file, chardev-socket, chardev-pipe (all secure).
void register_chardev_types(TypeRegistry& registry);

// The -chardev backend name ("socket") to its type name ("chardev-socket").
std::string chardev_type_name(const std::string& backend);
// One of the types register_chardev_types adds (created by create_chardev_object).
bool is_builtin_chardev(const std::string& type_name);

// Creates a chardev from -chardev style options (backend as key "backend", id=...). Opens files
// and sockets; a server with wait=on waits here for its first client.
Result<std::unique_ptr<Chardev>> create_chardev_object(const TypeInfo& type, const OptionList& opts, RunControl& rc);

// Converts a legacy spec (-serial/-monitor/-qmp/-qtest: "stdio", "null", "file:P",
// "unix:P[,server][,nowait]", "tcp:H:P[,server][,nowait]", "pipe:P") into -chardev options.
// "chardev:ID" gives {"chardev": ID}. "mon:SPEC" gives SPEC's options with mux=on and the
// marker {"mon": "on"} (a monitor shares the chardev; the caller removes the marker).
// Errors say "'X' is not a valid char driver".
Result<OptionList> parse_legacy_chardev(const std::string& spec);

// Puts a terminal stdin into raw mode (restored at exit); used when a device owns stdio.
void stdio_set_raw(bool raw);

}  // namespace corvid
