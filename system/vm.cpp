// The running configuration and its creation entry points.
#include "system/vm.h"

#include <fmt/format.h>
#include <sys/time.h>

#include <algorithm>

#include "hw/watchdog/watchdog.h"
#include "system/chardev/mux_chardev.h"
#include "system/objects/objects.h"

namespace corvid {

Json qmp_timestamp() {
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    return Json{{"seconds", int64_t(tv.tv_sec)}, {"microseconds", int64_t(tv.tv_usec)}};
}

Vm::Vm(TypeRegistry& registry, Policy& policy, RunControl& rc) : registry_(registry), policy_(policy), rc_(rc) {
    // Every reset reaches the accelerator's loop, whoever asked for it (a guest port write,
    // a triple fault, PSCI, the watchdog, system_reset): the event is emitted there, once.
    rc_.set_reset_listener([this](ShutdownCause cause) {
        emit_event("RESET", Json{{"guest", shutdown_cause_is_guest(cause)}, {"reason", shutdown_cause_name(cause)}});
    });
    // As QEMU: every expiry is a WATCHDOG event; the pause action stops the guest in the
    // "watchdog" run state (with a STOP event) until cont.
    set_watchdog_event_hook([this](WatchdogAction action) {
        emit_event("WATCHDOG", Json{{"action", watchdog_action_name(action)}});
        if (action == WatchdogAction::kPause && !rc_.paused()) {
            watchdog_paused_ = true;
            emit_event("STOP");
        }
    });
}

Vm::~Vm() {
    set_watchdog_event_hook(nullptr);
    rc_.set_reset_listener(nullptr);
    close_chardevs();
}

std::string Vm::shutdown_reason() const {
    if (!shutdown_reason_.empty()) return shutdown_reason_;
    ShutdownCause cause = rc_.shutdown_cause();
    return shutdown_cause_name(cause == ShutdownCause::kNone ? ShutdownCause::kGuestShutdown : cause);
}

Json Vm::shutdown_event_data(const std::string& reason) {
    return Json{{"guest", reason.rfind("guest-", 0) == 0}, {"reason", reason}};
}

void Vm::close_chardevs() {
    for (auto& c : chardevs_) {
        if (c.chardev) {
            c.chardev->detach();
            c.chardev->close_backend();
        }
    }
}

// QEMU's id_wellformed: a letter, then letters, digits, '-', '.', '_'.
Status Vm::check_id(const std::string& id, const char*) const {
    bool ok = !id.empty() && std::isalpha(static_cast<unsigned char>(id[0]));
    for (char c : id) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
    if (!ok) return make_error("Parameter 'id' expects an identifier");
    return {};
}

bool Vm::id_taken(const std::string& id) const {
    for (const auto& d : devices_) {
        if (d.id == id) return true;
    }
    return false;
}

// ---- devices ----

Result<const TypeInfo*> Vm::check_device(const OptionList& opts) {
    auto driver = opts.get("driver");
    if (!driver) return make_error("Parameter 'driver' is missing");
    const TypeInfo* t = registry_.find(*driver);
    if (!t || !registry_.is_a(*t, kTypeDevice) || t->abstract) {
        return make_error(fmt::format("'{}' is not a valid device model name", *driver));
    }
    if (!t->user_creatable) return make_error("Parameter 'driver' expects a pluggable device type");
    if (auto st = policy_.check(*t); !st) return make_error(st.error());
    return t;
}

Status Vm::add_device(const OptionList& opts, bool hotplug) {
    auto t = check_device(opts);
    if (!t) return make_error(t.error());
    std::string id = opts.get("id").value_or("");
    if (!id.empty()) {
        if (auto st = check_id(id, "device"); !st) return st;
        if (id_taken(id)) return make_error(fmt::format("Duplicate ID '{}' for device", id));
    }
    if (dry_run_) {
        devices_.push_back({id, *t, nullptr});
        return {};
    }
    if (!plug_device) {
        if (!hotplug) {
            // No board hook: the device is checked and listed only.
            devices_.push_back({id, *t, nullptr});
            return {};
        }
        const char* m = machine_type_ ? machine_type_->name.c_str() : "none";
        return make_error(fmt::format("Device '{}' cannot be hot-plugged into machine '{}'", (*t)->name, m));
    }
    if (auto st = plug_device(**t, opts, hotplug); !st) return st;
    devices_.push_back({id, *t, nullptr});
    return {};
}

Status Vm::del_device(const std::string& id) {
    auto it = std::find_if(devices_.begin(), devices_.end(), [&](const Entry& e) { return !id.empty() && e.id == id; });
    if (it == devices_.end()) return make_error(fmt::format("Device '{}' not found", id));
    if (!unplug_device) return make_error(fmt::format("Device '{}' does not support hot-unplugging", id));
    if (auto st = unplug_device(id); !st) return st;
    const std::string& type = it->type->name;
    // A virtio PCI proxy's backend child (no id) goes first, with its own event, as in QEMU.
    const bool virtio_pci = type.rfind("virtio-", 0) == 0 && type.size() > 4 && type.compare(type.size() - 4, 4, "-pci") == 0;
    devices_.erase(it);
    if (virtio_pci) emit_event("DEVICE_DELETED", Json{{"path", "/machine/peripheral/" + id + "/virtio-backend"}});
    emit_event("DEVICE_DELETED", Json{{"device", id}, {"path", "/machine/peripheral/" + id}});
    return {};
}

// ---- chardevs ----

Result<const TypeInfo*> Vm::check_chardev(const OptionList& opts) {
    auto backend = opts.get("backend");
    if (!backend || backend->empty()) return make_error("chardev: \"\" is not a valid char driver");
    const TypeInfo* t = registry_.find(chardev_type_name(*backend));
    if (!t || !registry_.is_a(*t, kTypeChardev) || t->abstract) {
        return make_error(fmt::format("'{}' is not a valid char driver", *backend));
    }
    if (auto st = policy_.check(*t); !st) return make_error(st.error());
    return t;
}

Chardev* Vm::find_chardev(const std::string& id) {
    for (auto& c : chardevs_) {
        if (c.id == id) return c.chardev.get();
    }
    return nullptr;
}

bool Vm::stdio_in_use() const {
    for (const auto& c : chardevs_) {
        if (c.type && c.type->name == "chardev-stdio") return true;
    }
    return false;
}

Result<Chardev*> Vm::add_chardev(const OptionList& opts) {
    auto t = check_chardev(opts);
    if (!t) return make_error(t.error());
    auto id = opts.get("id");
    if (!id) return make_error("Parameter 'id' is missing");
    for (const auto& c : chardevs_) {
        if (c.id == *id) return make_error(fmt::format("Duplicate ID '{}' for chardev", *id));
    }
    if ((*t)->name == "chardev-stdio" && stdio_in_use())
        return make_error("cannot use stdio by multiple character devices");
    if (dry_run_) {
        chardevs_.push_back({*id, *t, nullptr});
        return static_cast<Chardev*>(nullptr);
    }
    std::unique_ptr<Chardev> c;
    if (!is_builtin_chardev((*t)->name)) {
        // Types with their own factory (tests register such types).
        auto obj = registry_.create(**t, opts);
        if (!obj) return make_error(obj.error());
        auto* raw = dynamic_cast<Chardev*>(obj->get());
        if (!raw) return make_error(fmt::format("'{}' is not a character device", (*t)->name));
        obj->release();
        c.reset(raw);
        c->set_type(*t);
        c->set_id(*id);
    } else {
        auto made = create_chardev_object(**t, opts, rc_);
        if (!made) return make_error(made.error());
        c = std::move(*made);
    }
    Chardev* raw = c.get();
    chardevs_.push_back({*id, *t, std::move(c)});
    return raw;
}

Result<Chardev*> Vm::chardev_from_spec(const std::string& spec, const std::string& implicit_id) {
    auto opts = parse_legacy_chardev(spec);
    if (!opts) return make_error(opts.error());
    if (auto ref = opts->get("chardev")) {
        Chardev* c = find_chardev(*ref);
        if (!c && !dry_run_) return make_error(fmt::format("chardev '{}' not found", *ref));
        if (dry_run_) {
            for (const auto& e : chardevs_) {
                if (e.id == *ref) return static_cast<Chardev*>(nullptr);
            }
            return make_error(fmt::format("chardev '{}' not found", *ref));
        }
        if (auto* mux = dynamic_cast<MuxChardev*>(c)) return mux_port(*mux, *ref);
        if (c->attached() || std::find(claimed_.begin(), claimed_.end(), *ref) != claimed_.end()) {
            return make_error(fmt::format("chardev '{}' is busy", *ref));
        }
        claimed_.push_back(*ref);
        return c;
    }
    if (opts->get("backend") == "none") return static_cast<Chardev*>(nullptr);
    const bool mon = opts->get("mon") == "on";
    std::erase_if(opts->items, [](const auto& kv) { return kv.first == "mon"; });
    opts->items.emplace_back("id", implicit_id);
    auto c = add_chardev(*opts);
    if (!c || !*c) return c;
    auto* mux = dynamic_cast<MuxChardev*>(*c);
    if (!mux) return c;
    if (mon) {
        // The monitor's port first, as QEMU attaches it first; the focus still starts on
        // the console (see MuxChardev::focus).
        auto m = mux_port(*mux, implicit_id);
        if (!m) return m;
        mux_monitors_.push_back(*m);
    }
    return mux_port(*mux, implicit_id);
}

Result<Chardev*> Vm::mux_port(MuxChardev& mux, const std::string& id) {
    Chardev* port = mux.add_port();
    if (!port) {
        return make_error(
            fmt::format("too many uses of multiplexed chardev '{}' (maximum is {})", id, MuxChardev::kMaxPorts));
    }
    return port;
}

// ---- objects ----

Result<const TypeInfo*> Vm::check_object(const OptionList& opts) {
    auto qom_type = opts.get("qom-type");
    if (!qom_type) return make_error("Parameter 'qom-type' is missing");
    const TypeInfo* t = registry_.find(*qom_type);
    if (!t || !registry_.is_a(*t, kTypeObject) || t->abstract) {
        return make_error(fmt::format("invalid object type: {}", *qom_type));
    }
    if (auto st = policy_.check(*t); !st) return make_error(st.error());
    return t;
}

Object* Vm::find_object(const std::string& id) {
    for (auto& o : objects_) {
        if (o.id == id) return o.object.get();
    }
    return nullptr;
}

Status Vm::add_object(const OptionList& opts) {
    auto t = check_object(opts);
    if (!t) return make_error(t.error());
    auto id = opts.get("id");
    if (!id) return make_error("Parameter 'id' is missing");
    if (auto st = check_id(*id, "object"); !st) return st;
    for (const auto& o : objects_) {
        if (o.id == *id)
            return make_error(fmt::format("attempt to add duplicate property '{}' to object (type 'container')", *id));
    }
    if (dry_run_) {
        objects_.push_back({*id, *t, nullptr});
        return {};
    }
    OptionList props;
    for (const auto& kv : opts.items) {
        if (kv.first != "qom-type" && kv.first != "id") props.items.push_back(kv);
    }
    auto obj = registry_.create(**t, props);
    if (!obj) return make_error(obj.error());
    (*obj)->set_id(*id);
    (*obj)->set_type(*t);
    objects_.push_back({*id, *t, std::move(*obj)});
    return {};
}

Status Vm::del_object(const std::string& id) {
    auto it = std::find_if(objects_.begin(), objects_.end(), [&](const Entry& e) { return e.id == id; });
    if (it == objects_.end()) return make_error(fmt::format("object '{}' not found", id));
    if (auto* mb = dynamic_cast<MemoryBackendRam*>(it->object.get()); mb && mb->mapped()) {
        return make_error(fmt::format("object '{}' is in use, can not be deleted", id));
    }
    objects_.erase(it);
    return {};
}

// ---- QOM tree ----

namespace {
std::string child_of(const TypeInfo* t) {
    return fmt::format("child<{}>", t ? t->name : "container");
}
}  // namespace

Result<std::vector<Vm::QomChild>> Vm::qom_list(const std::string& path) {
    // The tree is at most four levels deep; anything longer cannot exist (and must not make
    // the leaf lookup below recurse deeply).
    if (path.size() > 1024 || std::count(path.begin(), path.end(), '/') > 8) {
        return make_error(fmt::format("Path '{}' does not exist", path));
    }
    std::vector<QomChild> out;
    out.push_back({"type", "string"});
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p == "/" || p.empty()) {
        out.push_back({"machine", child_of(machine_type_)});
        out.push_back({"objects", "child<container>"});
        out.push_back({"chardevs", "child<container>"});
    } else if (p == "/machine") {
        out.push_back({"unattached", "child<container>"});
        out.push_back({"peripheral", "child<container>"});
        out.push_back({"peripheral-anon", "child<container>"});
        if (accel_type_) out.push_back({"accel", child_of(accel_type_)});
    } else if (p == "/machine/unattached") {
        if (machine_) {
            const auto& onboard = machine_->onboard_types();
            for (size_t i = 0; i < onboard.size(); ++i) {
                out.push_back({fmt::format("device[{}]", i), fmt::format("child<{}>", onboard[i])});
            }
        }
    } else if (p == "/machine/peripheral" || p == "/machine/peripheral-anon") {
        bool anon = p.back() == 'n';
        int n = 0;
        for (const auto& d : devices_) {
            if (d.id.empty() != anon) continue;
            out.push_back({anon ? fmt::format("device[{}]", n++) : d.id, child_of(d.type)});
        }
    } else if (p == "/objects") {
        for (const auto& o : objects_) out.push_back({o.id, child_of(o.type)});
    } else if (p == "/chardevs") {
        for (const auto& c : chardevs_) out.push_back({c.id, child_of(c.type)});
    } else {
        // A leaf: it exists if its parent lists it.
        size_t slash = p.rfind('/');
        std::string parent = slash == 0 ? "/" : p.substr(0, slash);
        std::string name = p.substr(slash + 1);
        if (parent == p || name.empty()) return make_error(fmt::format("Path '{}' does not exist", path));
        auto siblings = qom_list(parent);
        if (!siblings) return make_error(fmt::format("Path '{}' does not exist", path));
        bool found = false;
        for (const auto& s : *siblings) found |= (s.name == name && s.type.rfind("child<", 0) == 0);
        if (!found) return make_error(fmt::format("Path '{}' does not exist", path));
    }
    return out;
}

Result<Json> Vm::qom_get(const std::string& path, const std::string& property) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    auto children = qom_list(p);
    if (!children) return make_error(children.error());
    bool has = false;
    for (const auto& c : *children) has |= (c.name == property);
    if (!has) return make_error(fmt::format("Property '{}' not found", property));
    if (property != "type") return Json(fmt::format("{}/{}", p == "/" ? "" : p, property));  // a child: its path
    if (p == "/" || p.empty()) return Json("container");
    size_t slash = p.rfind('/');
    std::string parent = slash == 0 ? "/" : p.substr(0, slash);
    auto siblings = qom_list(parent);
    if (!siblings) return Json("container");
    for (const auto& s : *siblings) {
        if (s.name == p.substr(slash + 1)) return Json(s.type.substr(6, s.type.size() - 7));
    }
    return make_error(fmt::format("Path '{}' does not exist", path));
}

std::string Vm::qom_tree_text() {
    std::string out;
    std::function<void(const std::string&, int)> walk = [&](const std::string& path, int depth) {
        auto kids = qom_list(path);
        if (!kids) return;
        for (const auto& k : *kids) {
            if (k.type.rfind("child<", 0) != 0) continue;
            out += fmt::format("{:{}}/{} ({})\n", "", depth * 2, k.name, k.type.substr(6, k.type.size() - 7));
            walk(path == "/" ? "/" + k.name : path + "/" + k.name, depth + 1);
        }
    };
    out += "/ (container)\n";
    walk("/", 1);
    return out;
}

// ---- run state and events ----

std::string Vm::run_state() const {
    if (rc_.should_stop()) return "shutdown";
    if (prelaunch_) return "prelaunch";
    if (rc_.paused()) return watchdog_paused_ ? "watchdog" : "paused";
    return "running";
}

void Vm::stop() {
    if (run_state() != "running") return;
    rc_.pause();
    emit_event("STOP");
}

void Vm::cont() {
    const std::string st = run_state();
    if (st != "paused" && st != "prelaunch" && st != "watchdog") return;
    prelaunch_ = false;
    watchdog_paused_ = false;
    rc_.resume();
    emit_event("RESUME");
}

int Vm::add_event_sink(EventSink sink) {
    std::lock_guard lock(events_mu_);
    sinks_.emplace_back(next_sink_, std::move(sink));
    return next_sink_++;
}

void Vm::remove_event_sink(int handle) {
    std::lock_guard lock(events_mu_);
    std::erase_if(sinks_, [&](const auto& s) { return s.first == handle; });
}

void Vm::emit_event(const std::string& event, const Json& data) {
    std::vector<EventSink> sinks;
    {
        std::lock_guard lock(events_mu_);
        for (const auto& s : sinks_) sinks.push_back(s.second);
    }
    for (const auto& s : sinks) s(event, data);
}

}  // namespace corvid
