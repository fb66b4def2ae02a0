// The running configuration: machine, accelerator, user devices, chardevs and objects, the
// creation entry points that all go through Policy::check, the QOM-style tree and QMP events.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "accel/accel.h"
#include "base/options.h"
#include "base/result.h"
#include "base/run_control.h"
#include "hw/machine.h"
#include "object/type_registry.h"
#include "policy/policy.h"
#include "system/chardev/chardev.h"

namespace corvid {

using Json = nlohmann::ordered_json;
class MuxChardev;

// Where a creation request comes from: decides only how errors are worded by the caller.
enum class EntryPoint : uint8_t { kCommandLine, kHmp, kQmp };

class Vm {
public:
    // Listens to `rc`'s resets (the RESET event) until destroyed.
    Vm(TypeRegistry& registry, Policy& policy, RunControl& rc);
    ~Vm();
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    TypeRegistry& registry() { return registry_; }
    Policy& policy() { return policy_; }
    RunControl& run_control() { return rc_; }

    // Set by the start-up sequence (may stay null in tests).
    void set_machine(Machine* m, const TypeInfo* type) { machine_ = m, machine_type_ = type; }
    void set_accel(Accelerator* a, const TypeInfo* type) { accel_ = a, accel_type_ = type; }
    Machine* machine() { return machine_; }
    const TypeInfo* machine_type() const { return machine_type_; }
    Accelerator* accel() { return accel_; }
    const TypeInfo* accel_type() const { return accel_type_; }
    Arch arch() const { return arch_; }
    void set_arch(Arch a) { arch_ = a; }

    // ---- -device / device_add / device_del ----
    // Resolves the driver and applies the policy check (no side effect besides warnings).
    Result<const TypeInfo*> check_device(const OptionList& opts);
    // check_device, then create and plug. `hotplug` is false for -device (before the run).
    Status add_device(const OptionList& opts, bool hotplug);
    Status del_device(const std::string& id);
    // How a device is plugged into the board (the start-up sequence installs
    // Machine::add_device; tests install their own). Unset: cold-plugged devices are only
    // checked and listed, device_add fails.
    std::function<Status(const TypeInfo& type, const OptionList& opts, bool hotplug)> plug_device;
    // How a device leaves the board. Unset: device_del fails for every device.
    std::function<Status(const std::string& id)> unplug_device;

    // ---- -chardev ----
    Result<const TypeInfo*> check_chardev(const OptionList& opts);
    Result<Chardev*> add_chardev(const OptionList& opts);
    Chardev* find_chardev(const std::string& id);
    // For -serial/-monitor/-qmp/-qtest legacy specs: "chardev:ID" names one, anything else
    // creates an anonymous one (id "serial0", "compat_monitor0", ...).
    // A multiplexed chardev (mux=on) gives each user a port of its own instead of "busy";
    // "mon:SPEC" also puts a readline monitor on it (see take_mux_monitors).
    Result<Chardev*> chardev_from_spec(const std::string& spec, const std::string& implicit_id);
    // The monitor ports "mon:" specs asked for, once (the start-up sequence starts them).
    std::vector<Chardev*> take_mux_monitors() { return std::exchange(mux_monitors_, {}); }
    // True while no real backend reads stdio (so a second user of stdio is an error).
    bool stdio_in_use() const;

    // ---- -object / object-add / object-del ----
    Result<const TypeInfo*> check_object(const OptionList& opts);
    Status add_object(const OptionList& opts);
    Status del_object(const std::string& id);
    Object* find_object(const std::string& id);

    // ---- what is in the configuration ----
    struct Entry {
        std::string id;
        const TypeInfo* type;
        std::unique_ptr<Object> object;  // null for an onboard entry or a dry run
    };
    const std::vector<Entry>& devices() const { return devices_; }
    const std::vector<Entry>& objects() const { return objects_; }
    struct ChardevEntry {
        std::string id;
        const TypeInfo* type;
        std::unique_ptr<Chardev> chardev;
    };
    const std::vector<ChardevEntry>& chardevs() const { return chardevs_; }
    // Dry run: record types without creating anything.
    void set_dry_run(bool dry) { dry_run_ = dry; }
    bool dry_run() const { return dry_run_; }

    // QOM-style tree: children of a path ({name, type}) and the properties of a node.
    struct QomChild {
        std::string name;
        std::string type;  // "child<T>" or a property type ("string")
    };
    Result<std::vector<QomChild>> qom_list(const std::string& path);
    Result<Json> qom_get(const std::string& path, const std::string& property);
    std::string qom_tree_text();

    // ---- run state and events ----
    // QMP's RunState names: "prelaunch", "running", "paused", "shutdown", ...
    std::string run_state() const;
    void set_prelaunch(bool p) { prelaunch_ = p; }
    // The monitors' stop and cont (HMP and QMP): pause a running guest / resume a paused,
    // prelaunch or watchdog-stopped one, with the STOP / RESUME events.
    void stop();
    void cont();
    using EventSink = std::function<void(const std::string& event, const Json& data)>;
    int add_event_sink(EventSink sink);
    void remove_event_sink(int handle);
    void emit_event(const std::string& event, const Json& data = Json::object());
    // Why the run ends (SHUTDOWN's "reason"): set by quit, else the cause of the run
    // control's shutdown request ("guest-shutdown", or "guest-reset" under -no-reboot).
    void set_shutdown_reason(std::string r) { shutdown_reason_ = std::move(r); }
    std::string shutdown_reason() const;
    // The SHUTDOWN event's data for that reason ("guest" is true for guest-* reasons).
    static Json shutdown_event_data(const std::string& reason);

    // quit: the monitor that ran it ends the run after its reply went out (so that the reply
    // comes before the SHUTDOWN event, as in QEMU). finish_quit() does that once.
    void request_quit() { quit_pending_.store(true); }
    bool quit_pending() const { return quit_pending_.load(); }
    void finish_quit() {
        if (quit_pending_.exchange(false)) rc_.request_shutdown(0);
    }

    // Ends every chardev's I/O (monitors first): call before the machine goes away.
    void close_chardevs();

private:
    Status check_id(const std::string& id, const char* what) const;
    Result<Chardev*> mux_port(MuxChardev& mux, const std::string& id);
    bool id_taken(const std::string& id) const;

    TypeRegistry& registry_;
    Policy& policy_;
    RunControl& rc_;
    Arch arch_ = Arch::kX86_64;
    Machine* machine_ = nullptr;
    const TypeInfo* machine_type_ = nullptr;
    Accelerator* accel_ = nullptr;
    const TypeInfo* accel_type_ = nullptr;
    bool dry_run_ = false;
    bool prelaunch_ = false;
    std::atomic<bool> watchdog_paused_{false};  // paused by -watchdog-action pause
    std::vector<Entry> devices_;
    std::vector<Entry> objects_;
    std::vector<ChardevEntry> chardevs_;
    std::vector<std::string> claimed_;  // chardevs named by -serial/-monitor/-mon/-qtest
    std::vector<Chardev*> mux_monitors_;
    std::string shutdown_reason_;  // empty: from rc_'s shutdown cause

    std::atomic<bool> quit_pending_{false};
    std::mutex events_mu_;
    std::vector<std::pair<int, EventSink>> sinks_;
    int next_sink_ = 1;
};

// Wall-clock {"seconds", "microseconds"} for QMP events.
Json qmp_timestamp();

}  // namespace corvid
