// The QMP command table: queries, device/object management, run control, HMP passthrough.
#include <fmt/format.h>
#include <unistd.h>

#include "system/monitor/hmp.h"
#include "system/monitor/qmp.h"
#include "system/security_report.h"
#include "system/version.h"

namespace corvid {
namespace {

// device_add / object-add: every argument but the named ones becomes a property string.
OptionList props_of(const Json& args) {
    OptionList o;
    for (auto it = args.begin(); it != args.end(); ++it) {
        const Json& v = it.value();
        std::string s;
        if (v.is_string()) {
            s = v.get<std::string>();
        } else if (v.is_boolean()) {
            s = v.get<bool>() ? "on" : "off";
        } else {
            s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
        }
        o.items.emplace_back(it.key(), s);
    }
    return o;
}

Json type_entry(const TypeRegistry& r, const TypeInfo& t) {
    (void)r;
    Json j{{"name", t.name}};
    if (!t.parent.empty()) j["parent"] = t.parent;
    j["abstract"] = t.abstract;
    j["secure"] = t.security == Security::kSecure;
    j["security"] = security_name(t.security);
    return j;
}

QmpResult q_version(Vm&, const Json&) {
    return Json{{"qemu", {{"micro", kCorvidMicro}, {"minor", kCorvidMinor}, {"major", kCorvidMajor}}}, {"package", ""}};
}

QmpResult q_commands(Vm&, const Json&) {
    Json out = Json::array();
    out.push_back(Json{{"name", "qmp_capabilities"}});
    for (const auto& c : qmp_commands()) out.push_back(Json{{"name", c.name}});
    return out;
}

QmpResult q_status(Vm& vm, const Json&) {
    std::string st = vm.run_state();
    return Json{{"status", st}, {"running", st == "running"}, {"singlestep", false}};
}

QmpResult q_machines(Vm& vm, const Json&) {
    Json out = Json::array();
    for (const TypeInfo* t : vm.registry().list(kTypeMachine)) {
        Json j{{"name", t->short_name.empty() ? t->name : t->short_name}};
        if (!t->aliases.empty()) j["alias"] = t->aliases.front();
        j["is-default"] = t->is_default;
        j["cpu-max"] = 1;
        j["hotpluggable-cpus"] = false;
        j["numa-mem-supported"] = false;
        j["deprecated"] = false;
        j["default-cpu-type"] = "";
        j["acpi"] = false;
        j["type"] = t->name;
        j["secure"] = t->security == Security::kSecure;
        j["security"] = security_name(t->security);
        out.push_back(std::move(j));
    }
    return out;
}

QmpResult q_accelerators(Vm& vm, const Json&) {
    Json out = Json::array();
    for (const TypeInfo* t : vm.registry().list(kTypeAccel)) {
        bool present = true;
        if (t->name == "kvm-accel") present = access("/dev/kvm", R_OK | W_OK) == 0;
        Json j{{"name", t->short_name.empty() ? t->name : t->short_name},
               {"type", t->name},
               {"enabled", vm.accel_type() == t},
               {"present", present},
               {"is-default", t->is_default},
               {"secure", t->security == Security::kSecure},
               {"security", security_name(t->security)}};
        out.push_back(std::move(j));
    }
    return out;
}

QmpResult q_kvm(Vm& vm, const Json&) {
    bool enabled = vm.accel_type() && vm.accel_type()->name == "kvm-accel";
    return Json{{"enabled", enabled}, {"present", access("/dev/kvm", R_OK | W_OK) == 0}};
}

QmpResult q_list_types(Vm& vm, const Json& args) {
    std::string implements = args.value("implements", std::string());
    bool abstract = args.value("abstract", false);
    if (!implements.empty() && !vm.registry().find(implements)) return Json::array();
    Json out = Json::array();
    for (const TypeInfo* t : vm.registry().list(implements, abstract)) {
        if (args.contains("secure") && args["secure"].get<bool>() != (t->security == Security::kSecure)) continue;
        out.push_back(type_entry(vm.registry(), *t));
    }
    return out;
}

QmpResult q_qom_list(Vm& vm, const Json& args) {
    auto kids = vm.qom_list(args["path"].get<std::string>());
    if (!kids) return generic_error(kids.error());
    Json out = Json::array();
    for (const auto& k : *kids) out.push_back(Json{{"name", k.name}, {"type", k.type}});
    return out;
}

QmpResult q_qom_get(Vm& vm, const Json& args) {
    auto v = vm.qom_get(args["path"].get<std::string>(), args["property"].get<std::string>());
    if (!v) return generic_error(v.error());
    return *v;
}

QmpResult q_device_add(Vm& vm, const Json& args) {
    if (auto st = vm.add_device(props_of(args), true); !st) return generic_error(st.error());
    return Json::object();
}

QmpResult q_device_del(Vm& vm, const Json& args) {
    std::string id = args["id"].get<std::string>();
    bool known = false;
    for (const auto& d : vm.devices()) known |= (!id.empty() && d.id == id);
    if (!known) return QmpError{"DeviceNotFound", fmt::format("Device '{}' not found", id)};
    if (auto st = vm.del_device(id); !st) return generic_error(st.error());
    return Json::object();
}

QmpResult q_object_add(Vm& vm, const Json& args) {
    if (auto st = vm.add_object(props_of(args)); !st) return generic_error(st.error());
    return Json::object();
}

QmpResult q_object_del(Vm& vm, const Json& args) {
    if (auto st = vm.del_object(args["id"].get<std::string>()); !st) return generic_error(st.error());
    return Json::object();
}

QmpResult q_stop(Vm& vm, const Json&) {
    vm.stop();
    return Json::object();
}

QmpResult q_cont(Vm& vm, const Json&) {
    vm.cont();
    return Json::object();
}

QmpResult q_system_reset(Vm& vm, const Json&) {
    vm.run_control().request_reset(ShutdownCause::kHostQmpSystemReset);  // RESET comes when it happens
    return Json::object();
}

QmpResult q_quit(Vm& vm, const Json&) {
    vm.set_shutdown_reason("host-qmp-quit");
    vm.request_quit();
    return Json::object();
}

QmpResult q_hmp(Vm& vm, const Json& args) {
    Hmp hmp(vm);
    return Json(hmp.execute(args["command-line"].get<std::string>()));
}

QmpResult q_security(Vm& vm, const Json&) {
    return security_report_json(make_security_report(vm));
}

QmpResult q_chardev(Vm& vm, const Json&) {
    Json out = Json::array();
    for (const auto& c : vm.chardevs()) {
        out.push_back(Json{{"label", c.id},
                           {"filename", c.chardev ? c.chardev->filename() : c.type->name},
                           {"frontend-open", c.chardev && c.chardev->attached() && c.chardev->connected()}});
    }
    return out;
}

}  // namespace

const std::vector<QmpCommand>& qmp_commands() {
    static const std::vector<QmpCommand> kCommands = {
        {"query-version", {}, false, q_version},
        {"query-commands", {}, false, q_commands},
        {"query-status", {}, false, q_status},
        {"query-machines", {{"compat-props", 'b', false}}, false, q_machines},
        {"query-accelerators", {}, false, q_accelerators},
        {"query-kvm", {}, false, q_kvm},
        {"query-chardev", {}, false, q_chardev},
        {"query-security", {}, false, q_security},
        {"qom-list-types",
         {{"implements", 's', false}, {"abstract", 'b', false}, {"secure", 'b', false}},
         false,
         q_list_types},
        {"qom-list", {{"path", 's', true}}, false, q_qom_list},
        {"qom-get", {{"path", 's', true}, {"property", 's', true}}, false, q_qom_get},
        {"device_add", {{"driver", 's', true}, {"id", 's', false}}, true, q_device_add},
        {"device_del", {{"id", 's', true}}, false, q_device_del},
        {"object-add", {{"qom-type", 's', true}, {"id", 's', true}}, true, q_object_add},
        {"object-del", {{"id", 's', true}}, false, q_object_del},
        {"stop", {}, false, q_stop},
        {"cont", {}, false, q_cont},
        {"system_reset", {}, false, q_system_reset},
        {"quit", {}, false, q_quit},
        {"human-monitor-command", {{"command-line", 's', true}, {"cpu-index", 'i', false}}, false, q_hmp},
    };
    return kCommands;
}

}  // namespace corvid
