// QMP sessions: framing, negotiation, argument checking and dispatch.
#include "system/monitor/qmp.h"

#include <fmt/format.h>

#include "system/version.h"

namespace corvid {

Json qmp_greeting() {
    Json version{{"qemu", {{"micro", kCorvidMicro}, {"minor", kCorvidMinor}, {"major", kCorvidMajor}}},
                 {"package", ""}};
    return Json{{"QMP", {{"version", version}, {"capabilities", Json::array({"oob"})}}}};
}

QmpSession::QmpSession(Vm& vm, Send send) : vm_(vm), out_(std::make_shared<Out>()) {
    out_->send = std::move(send);
}

QmpSession::~QmpSession() {
    if (sink_) vm_.remove_event_sink(sink_);
    std::lock_guard lock(out_->mu);
    out_->live = false;
}

void QmpSession::send_json(const Json& j) {
    std::lock_guard lock(out_->mu);
    if (out_->live && out_->send) out_->send(qmp_to_text(j));
}

void QmpSession::start() {
    send_json(qmp_greeting());
}

void QmpSession::feed(const uint8_t* data, size_t size) {
    streamer_.feed(data, size, [&](Result<Json> value) {
        if (!value) {
            send_json(Json{{"error", {{"class", "GenericError"}, {"desc", value.error()}}}});
            return;
        }
        send_json(handle(*value));
        vm_.finish_quit();
    });
}

namespace {

Json error_reply(const QmpError& e, const Json* id) {
    Json j{{"error", {{"class", e.cls}, {"desc", e.desc}}}};
    if (id) j["id"] = *id;
    return j;
}

const char* kind_name(char kind) {
    switch (kind) {
        case 's': return "string";
        case 'i': return "integer";
        case 'b': return "boolean";
        case 'o': return "object";
        default: return "any";
    }
}

bool kind_matches(char kind, const Json& v) {
    switch (kind) {
        case 's': return v.is_string();
        case 'i': return v.is_number_integer();
        case 'b': return v.is_boolean();
        case 'o': return v.is_object();
        default: return true;
    }
}

}  // namespace

Json QmpSession::handle(const Json& request) {
    if (!request.is_object()) return error_reply(generic_error("QMP input must be a JSON object"), nullptr);
    const Json* id = request.contains("id") ? &request["id"] : nullptr;
    for (auto it = request.begin(); it != request.end(); ++it) {
        const std::string& k = it.key();
        if (k != "execute" && k != "exec-oob" && k != "arguments" && k != "id" && k != "control") {
            return error_reply(generic_error(fmt::format("QMP input member '{}' is unexpected", k)), id);
        }
    }
    const Json* exec = request.contains("execute") ? &request["execute"] : nullptr;
    if (!exec && request.contains("exec-oob")) exec = &request["exec-oob"];
    if (!exec) return error_reply(generic_error("QMP input lacks member 'execute'"), id);
    if (!exec->is_string()) return error_reply(generic_error("QMP input member 'execute' must be a string"), id);
    Json args = Json::object();
    if (request.contains("arguments")) {
        if (!request["arguments"].is_object()) {
            return error_reply(generic_error("QMP input member 'arguments' must be an object"), id);
        }
        args = request["arguments"];
    }
    std::string name = exec->get<std::string>();

    if (!negotiated_) {
        if (name != "qmp_capabilities") {
            return error_reply({"CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'"}, id);
        }
    } else if (name == "qmp_capabilities") {
        return error_reply({"CommandNotFound", "Capabilities negotiation is already complete, command ignored"}, id);
    }
    if (name == "qmp_capabilities") {
        for (auto it = args.begin(); it != args.end(); ++it) {
            if (it.key() != "enable")
                return error_reply(generic_error(fmt::format("Parameter '{}' is unexpected", it.key())), id);
        }
        if (args.contains("enable")) {
            const Json& en = args["enable"];
            if (!en.is_array())
                return error_reply(generic_error("Invalid parameter type for 'enable', expected: array"), id);
            for (const Json& cap : en) {
                if (!cap.is_string() || cap.get<std::string>() != "oob") {
                    std::string what = cap.is_string() ? cap.get<std::string>() : qmp_to_text(cap);
                    return error_reply(
                        generic_error(fmt::format("Parameter 'enable' does not accept value '{}'", what)), id);
                }
            }
        }
        negotiated_ = true;
        std::weak_ptr<Out> weak = out_;
        sink_ = vm_.add_event_sink([weak](const std::string& event, const Json& data) {
            auto out = weak.lock();
            if (!out) return;
            Json j{{"timestamp", qmp_timestamp()}, {"event", event}};
            if (!data.empty()) j["data"] = data;
            std::lock_guard lock(out->mu);
            if (out->live && out->send) out->send(qmp_to_text(j));
        });
        Json reply{{"return", Json::object()}};
        if (id) reply["id"] = *id;
        return reply;
    }

    const QmpCommand* cmd = nullptr;
    for (const auto& c : qmp_commands()) {
        if (name == c.name) cmd = &c;
    }
    if (!cmd) return error_reply({"CommandNotFound", fmt::format("The command {} has not been found", name)}, id);
    for (auto it = args.begin(); it != args.end(); ++it) {
        const QmpArg* spec = nullptr;
        for (const auto& a : cmd->args) {
            if (it.key() == a.name) spec = &a;
        }
        if (!spec) {
            if (cmd->extra_args) continue;
            return error_reply(generic_error(fmt::format("Parameter '{}' is unexpected", it.key())), id);
        }
        if (!kind_matches(spec->kind, it.value())) {
            return error_reply(generic_error(fmt::format("Invalid parameter type for '{}', expected: {}", spec->name,
                                                         kind_name(spec->kind))),
                               id);
        }
    }
    for (const auto& a : cmd->args) {
        if (a.required && !args.contains(a.name)) {
            return error_reply(generic_error(fmt::format("Parameter '{}' is missing", a.name)), id);
        }
    }
    // Commands run with the machine quiescent (in the vCPU thread between runs, or under the
    // machine mutex when no vCPU loop runs): see system/monitor/README.md.
    std::optional<QmpResult> result;
    vm_.run_control().run_on_vcpu([&] {
        try {
            result.emplace(cmd->handler(vm_, args));
        } catch (const std::exception& e) {
            result.emplace(generic_error(e.what()));
        }
    });
    if (!result->ok()) return error_reply(result->error(), id);
    Json reply{{"return", result->value()}};
    if (id) reply["id"] = *id;
    return reply;
}

}  // namespace corvid
