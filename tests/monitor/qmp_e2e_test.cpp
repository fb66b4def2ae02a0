// QMP end to end: the real binaries with -qmp on unix and tcp sockets; negotiation, every
// command, error classes, malformed input, events, several monitors, quit.
#include <gtest/gtest.h>

#include "tests/monitor/monitor_harness.h"

namespace corvid::testing {
namespace {

const std::string kA64 = "corvid-system-aarch64";
const std::string kX86 = "corvid-system-x86_64";

struct Vm {
    std::string dir = temp_dir();
    std::string sock = dir + "/qmp.sock";
    std::unique_ptr<Child> child;
    std::unique_ptr<QmpClient> qmp;

    explicit Vm(const std::string& bin, std::vector<std::string> args, bool negotiate = true) {
        args.push_back("-qmp");
        args.push_back("unix:" + sock + ",server=on,wait=off");
        child = std::make_unique<Child>(argv_of(bin, args), dir);
        qmp = std::make_unique<QmpClient>(LineSocket::connect_unix(sock));
        if (negotiate) negotiated = qmp->negotiate();
    }
    bool negotiated = false;
};

TEST(QmpE2E, GreetingAndNegotiation) {
    Vm vm(kA64, {"-M", "virt", "-accel", "qtest", "-display", "none"}, false);
    ASSERT_TRUE(vm.qmp->ok()) << vm.child->err();
    Json g = vm.qmp->next();
    ASSERT_TRUE(g.is_object()) << vm.child->err();
    ASSERT_TRUE(g.contains("QMP"));
    EXPECT_TRUE(g["QMP"]["version"]["qemu"]["major"].is_number_integer());
    EXPECT_TRUE(g["QMP"]["version"]["qemu"]["minor"].is_number_integer());
    EXPECT_TRUE(g["QMP"]["version"]["qemu"]["micro"].is_number_integer());
    EXPECT_EQ(g["QMP"]["version"]["package"], "");
    EXPECT_EQ(g["QMP"]["capabilities"], Json::array({"oob"}));

    Json early = vm.qmp->cmd(R"({"execute": "query-status", "id": "a1"})");
    EXPECT_EQ(early["error"]["class"], "CommandNotFound");
    EXPECT_EQ(early["error"]["desc"], "Expecting capabilities negotiation with 'qmp_capabilities'");
    EXPECT_EQ(early["id"], "a1");

    Json caps = vm.qmp->cmd(R"({"execute": "qmp_capabilities", "id": 7})");
    EXPECT_EQ(caps["return"], Json::object());
    EXPECT_EQ(caps["id"], 7);
    Json again = vm.qmp->cmd(R"({"execute": "qmp_capabilities"})");
    EXPECT_EQ(again["error"]["class"], "CommandNotFound");

    Json st = vm.qmp->cmd(R"({"execute": "query-status", "id": {"nested": [1, 2]}})");
    EXPECT_EQ(st["return"]["status"], "running");
    EXPECT_EQ(st["return"]["running"], true);
    EXPECT_EQ(st["return"]["singlestep"], false);
    EXPECT_EQ(st["id"], Json({{"nested", {1, 2}}}));
}

TEST(QmpE2E, MalformedInputKeepsTheSessionAlive) {
    Vm vm(kA64, {"-M", "virt", "-accel", "qtest"});
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    Json bad = vm.qmp->cmd("{\"execute\": }");
    EXPECT_EQ(bad["error"]["class"], "GenericError");
    EXPECT_EQ(bad["error"]["desc"].get<std::string>().rfind("JSON parse error, ", 0), 0u) << bad;
    Json word = vm.qmp->cmd("hello");
    EXPECT_EQ(word["error"]["class"], "GenericError");
    EXPECT_EQ(word["error"]["desc"].get<std::string>().rfind("JSON parse error, ", 0), 0u);
    Json arr = vm.qmp->cmd("[1, 2]");
    EXPECT_EQ(arr["error"]["desc"], "QMP input must be a JSON object");
    Json no_exec = vm.qmp->cmd(R"({"arguments": {}})");
    EXPECT_EQ(no_exec["error"]["desc"], "QMP input lacks member 'execute'");
    Json bad_args = vm.qmp->cmd(R"({"execute": "query-status", "arguments": 3})");
    EXPECT_EQ(bad_args["error"]["desc"], "QMP input member 'arguments' must be an object");
    Json unknown = vm.qmp->cmd(R"({"execute": "frobnicate"})");
    EXPECT_EQ(unknown["error"]["class"], "CommandNotFound");
    EXPECT_EQ(unknown["error"]["desc"], "The command frobnicate has not been found");
    Json extra = vm.qmp->cmd(R"({"execute": "query-status", "arguments": {"x": 1}})");
    EXPECT_EQ(extra["error"]["desc"], "Parameter 'x' is unexpected");
    Json missing = vm.qmp->cmd(R"({"execute": "qom-list"})");
    EXPECT_EQ(missing["error"]["desc"], "Parameter 'path' is missing");
    Json type = vm.qmp->cmd(R"({"execute": "qom-list", "arguments": {"path": 5}})");
    EXPECT_EQ(type["error"]["desc"], "Invalid parameter type for 'path', expected: string");
    // Two requests in one write, no separator.
    vm.qmp->socket().send(R"({"execute": "query-version", "id": 1}{"execute": "query-version", "id": 2})");
    EXPECT_EQ(vm.qmp->reply()["id"], 1);
    EXPECT_EQ(vm.qmp->reply()["id"], 2);
    // Still alive.
    EXPECT_TRUE(vm.qmp->cmd(R"({"execute": "query-status"})").contains("return"));
}

TEST(QmpE2E, Queries) {
    Vm vm(kX86, {"-machine", "pc", "-accel", "qtest"});
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    Json v = vm.qmp->cmd(R"({"execute": "query-version"})")["return"];
    EXPECT_TRUE(v["qemu"]["major"].is_number_integer());
    EXPECT_EQ(v["package"], "");

    Json cmds = vm.qmp->cmd(R"({"execute": "query-commands"})")["return"];
    std::set<std::string> names;
    for (const auto& c : cmds) names.insert(c["name"].get<std::string>());
    for (const char* n :
         {"qmp_capabilities", "query-version", "query-commands", "query-status", "query-machines", "query-accelerators",
          "qom-list-types", "qom-list", "qom-get", "device_add", "device_del", "object-add", "object-del", "stop",
          "cont", "system_reset", "quit", "human-monitor-command", "query-security"}) {
        EXPECT_TRUE(names.count(n)) << n;
    }

    Json machines = vm.qmp->cmd(R"({"execute": "query-machines"})")["return"];
    bool saw_pc = false, saw_isapc = false;
    for (const auto& m : machines) {
        EXPECT_TRUE(m["cpu-max"].is_number_integer());
        EXPECT_TRUE(m["deprecated"].is_boolean());
        if (m["name"] == "pc") {
            saw_pc = true;
            EXPECT_EQ(m["is-default"], true);
            EXPECT_EQ(m["secure"], true);
            EXPECT_EQ(m["security"], "secure");
        }
        if (m["name"] == "isapc") {
            saw_isapc = true;
            EXPECT_EQ(m["secure"], false);
            EXPECT_EQ(m["security"], "insecure");
        }
    }
    EXPECT_TRUE(saw_pc && saw_isapc);

    Json accels = vm.qmp->cmd(R"({"execute": "query-accelerators"})")["return"];
    int enabled = 0;
    for (const auto& a : accels) {
        if (a["enabled"] == true) {
            ++enabled;
            EXPECT_EQ(a["name"], "qtest");
            EXPECT_EQ(a["security"], "undeclared");
            EXPECT_EQ(a["present"], true);
        }
        if (a["name"] == "tcg") {
            EXPECT_EQ(a["security"], "insecure");
        }
        if (a["name"] == "kvm") {
            EXPECT_EQ(a["secure"], true);
        }
    }
    EXPECT_EQ(enabled, 1);

    Json types = vm.qmp->cmd(R"({"execute": "qom-list-types", "arguments": {"implements": "machine"}})")["return"];
    ASSERT_GE(types.size(), 5u);
    for (const auto& t : types) {
        EXPECT_EQ(t["parent"], "machine");
        EXPECT_EQ(t["abstract"], false);
    }
    Json secure = vm.qmp->cmd(
        R"({"execute": "qom-list-types", "arguments": {"implements": "machine", "secure": true}})")["return"];
    ASSERT_FALSE(secure.empty());
    EXPECT_LT(secure.size(), types.size());
    for (const auto& t : secure) EXPECT_EQ(t["security"], "secure");
    Json abstract = vm.qmp->cmd(R"({"execute": "qom-list-types", "arguments": {"abstract": true}})")["return"];
    bool saw_abstract = false;
    for (const auto& t : abstract) saw_abstract |= (t["abstract"] == true);
    EXPECT_TRUE(saw_abstract);

    Json root = vm.qmp->cmd(R"({"execute": "qom-list", "arguments": {"path": "/machine"}})")["return"];
    bool has_unattached = false;
    for (const auto& c : root) has_unattached |= (c["name"] == "unattached");
    EXPECT_TRUE(has_unattached);
    Json onboard = vm.qmp->cmd(R"({"execute": "qom-list", "arguments": {"path": "/machine/unattached"}})")["return"];
    EXPECT_GT(onboard.size(), 1u);
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}})")["return"],
              "pc-machine");
    Json nopath = vm.qmp->cmd(R"({"execute": "qom-list", "arguments": {"path": "/nowhere"}})");
    EXPECT_EQ(nopath["error"]["class"], "GenericError");
    EXPECT_EQ(nopath["error"]["desc"], "Path '/nowhere' does not exist");

    Json sec = vm.qmp->cmd(R"({"execute": "query-security"})")["return"];
    EXPECT_EQ(sec["level"], "accept");
    EXPECT_EQ(sec["verdict"], "undecided");  // qtest has no statement, nothing insecure
    ASSERT_GE(sec["objects"].size(), 3u);
    EXPECT_EQ(sec["objects"][0]["kind"], "machine");
    EXPECT_EQ(sec["objects"][1]["type"], "qtest-accel");

    Json hmp = vm.qmp->cmd(R"({"execute": "human-monitor-command", "arguments": {"command-line": "info status"}})");
    EXPECT_EQ(hmp["return"], "VM status: running\n");
}

TEST(QmpE2E, DevicesAndObjects) {
    Vm vm(kX86, {"-machine", "pc,prohibit-insecure=on", "-accel", "qtest"});
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    Json rejected = vm.qmp->cmd(R"({"execute": "device_add", "arguments": {"driver": "isa-debug-exit", "id": "d"}})");
    EXPECT_EQ(rejected["error"]["class"], "GenericError");
    EXPECT_EQ(rejected["error"]["desc"], "Type 'isa-debug-exit' is declared as insecure");
    Json unknown = vm.qmp->cmd(R"({"execute": "device_add", "arguments": {"driver": "flux-capacitor"}})");
    EXPECT_EQ(unknown["error"]["desc"], "'flux-capacitor' is not a valid device model name");
    Json del = vm.qmp->cmd(R"({"execute": "device_del", "arguments": {"id": "ghost"}})");
    EXPECT_EQ(del["error"]["class"], "DeviceNotFound");
    EXPECT_EQ(del["error"]["desc"], "Device 'ghost' not found");

    EXPECT_EQ(
        vm.qmp->cmd(R"({"execute": "object-add", "arguments": {"qom-type": "rng-random", "id": "rng0"}})")["return"],
        Json::object());
    Json dup = vm.qmp->cmd(R"({"execute": "object-add", "arguments": {"qom-type": "rng-random", "id": "rng0"}})");
    EXPECT_EQ(dup["error"]["class"], "GenericError");
    Json ram = vm.qmp->cmd(
        R"({"execute": "object-add", "arguments": {"qom-type": "memory-backend-ram", "id": "m0", "size": 1048576}})");
    EXPECT_EQ(ram["return"], Json::object()) << ram;
    Json objs = vm.qmp->cmd(R"({"execute": "qom-list", "arguments": {"path": "/objects"}})")["return"];
    std::set<std::string> ids;
    for (const auto& o : objs) ids.insert(o["name"].get<std::string>());
    EXPECT_TRUE(ids.count("rng0") && ids.count("m0"));
    EXPECT_EQ(
        vm.qmp->cmd(R"({"execute": "qom-get", "arguments": {"path": "/objects/rng0", "property": "type"}})")["return"],
        "rng-random");
    Json badfile = vm.qmp->cmd(
        R"({"execute": "object-add", "arguments": {"qom-type": "rng-random", "id": "r2", "filename": "/nonexistent/rng"}})");
    EXPECT_EQ(badfile["error"]["desc"], "Could not open '/nonexistent/rng': No such file or directory");
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "object-del", "arguments": {"id": "rng0"}})")["return"], Json::object());
    Json gone = vm.qmp->cmd(R"({"execute": "object-del", "arguments": {"id": "rng0"}})");
    EXPECT_EQ(gone["error"]["desc"], "object 'rng0' not found");
    Json badtype = vm.qmp->cmd(R"({"execute": "object-add", "arguments": {"qom-type": "pc-machine", "id": "x"}})");
    EXPECT_EQ(badtype["error"]["desc"], "invalid object type: pc-machine");
}

TEST(QmpE2E, RunControlEventsAndQuit) {
    Vm vm(kA64, {"-M", "virt", "-S", "-display", "none"});
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "query-status"})")["return"]["status"], "prelaunch");
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "cont"})")["return"], Json::object());
    Json resume = vm.qmp->event("RESUME");
    ASSERT_TRUE(resume.is_object());
    EXPECT_TRUE(resume["timestamp"]["seconds"].is_number_integer());
    EXPECT_TRUE(resume["timestamp"]["microseconds"].is_number_integer());
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "query-status"})")["return"]["running"], true);
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "stop"})")["return"], Json::object());
    EXPECT_TRUE(vm.qmp->event("STOP").is_object());
    Json st = vm.qmp->cmd(R"({"execute": "query-status"})")["return"];
    EXPECT_EQ(st["status"], "paused");
    EXPECT_EQ(st["running"], false);
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "quit"})")["return"], Json::object());
    Json down = vm.qmp->event("SHUTDOWN");
    ASSERT_TRUE(down.is_object());
    EXPECT_EQ(down["data"]["guest"], false);
    EXPECT_EQ(down["data"]["reason"], "host-qmp-quit");
    EXPECT_EQ(vm.child->wait(), 0) << vm.child->err();
    EXPECT_EQ(vm.child->err(), "");
}

TEST(QmpE2E, SystemResetEvent) {
    // On the qtest accelerator (its loop performs the reset).
    Vm vm(kA64, {"-M", "virt", "-accel", "qtest"});
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "system_reset", "id": "r"})")["id"], "r");
    Json reset = vm.qmp->event("RESET");
    ASSERT_TRUE(reset.is_object());
    EXPECT_EQ(reset["data"]["guest"], false);
    EXPECT_EQ(reset["data"]["reason"], "host-qmp-system-reset");
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "query-status"})")["return"]["status"], "running");
}

TEST(QmpE2E, SeveralMonitorsOverUnixAndTcp) {
    std::string dir = temp_dir();
    std::string s1 = dir + "/a.sock";
    int port = free_tcp_port();
    Child child(argv_of(kA64, {"-M", "virt", "-accel", "qtest", "-qmp", "unix:" + s1 + ",server=on,wait=off", "-qmp",
                               "tcp:127.0.0.1:" + std::to_string(port) + ",server,wait=off", "-chardev",
                               "socket,id=mon2,path=" + dir + "/c.sock,server=on,wait=off", "-mon",
                               "chardev=mon2,mode=control"}),
                dir);
    QmpClient a(LineSocket::connect_unix(s1));
    QmpClient b(LineSocket::connect_tcp(port));
    QmpClient c(LineSocket::connect_unix(dir + "/c.sock"));
    ASSERT_TRUE(a.negotiate()) << child.err();
    ASSERT_TRUE(b.negotiate()) << child.err();
    ASSERT_TRUE(c.negotiate()) << child.err();
    EXPECT_EQ(a.cmd(R"({"execute": "stop"})")["return"], Json::object());
    // Every negotiated monitor sees the event.
    EXPECT_TRUE(a.event("STOP").is_object());
    EXPECT_TRUE(b.event("STOP").is_object());
    EXPECT_TRUE(c.event("STOP").is_object());
    EXPECT_EQ(b.cmd(R"({"execute": "query-status"})")["return"]["status"], "paused");
    Json chardevs = c.cmd(R"({"execute": "query-chardev"})")["return"];
    EXPECT_EQ(chardevs.size(), 4u) << chardevs;  // serial0, two compat monitors, mon2
    EXPECT_EQ(b.cmd(R"({"execute": "quit"})")["return"], Json::object());
    EXPECT_TRUE(a.event("SHUTDOWN").is_object());
    EXPECT_EQ(child.wait(), 0);
}

TEST(QmpE2E, ReconnectGetsAFreshSession) {
    Vm vm(kA64, {"-M", "virt", "-accel", "qtest"});
    ASSERT_TRUE(vm.negotiated);
    vm.qmp.reset();  // disconnect
    QmpClient again(LineSocket::connect_unix(vm.sock));
    Json g = again.next();
    ASSERT_TRUE(g.contains("QMP"));
    EXPECT_EQ(again.cmd(R"({"execute": "query-status"})")["error"]["class"], "CommandNotFound");
}

TEST(QmpE2E, StdioQmp) {
    std::string dir = temp_dir();
    Child child(argv_of(kA64, {"-M", "virt", "-accel", "qtest", "-qmp", "stdio"}), dir);
    child.write_stdin(
        "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-status\"}\n{\"execute\": \"quit\"}\n");
    EXPECT_EQ(child.wait(), 0);
    std::istringstream out(child.out());
    std::vector<Json> lines;
    std::string l;
    while (std::getline(out, l)) lines.push_back(Json::parse(l, nullptr, false));
    ASSERT_GE(lines.size(), 4u) << child.out();
    EXPECT_TRUE(lines[0].contains("QMP"));
    EXPECT_EQ(lines[1]["return"], Json::object());
    EXPECT_EQ(lines[2]["return"]["status"], "running");
    EXPECT_EQ(lines[3]["return"], Json::object()) << child.out();
}

}  // namespace
}  // namespace corvid::testing
