/* SPDX-License-Identifier: Apache-2.0 */
/* JSON <-> protobuf through descriptors: round trips over the wire, and every error path. */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "base/macro.h"
#include "harness.h"
#include "jsonpb.h"

/* gnu11 predefines "linux" as 1, which breaks the generated grpc.Spec's Linux member. */
#undef linux
#include "agent.pb-c.h"
#include "health.pb-c.h"
#include "types.pb-c.h"

/* ---- a hand-made descriptor for what the agent protos lack: floats, sint/fixed, proto2
 * optional, int map keys, and recursion (for the depth bound) ---------------------------- */

typedef struct TestNode TestNode;
typedef struct {
	ProtobufCMessage base;
	int32_t key;
	char *value;
} TestLabelsEntry;

struct TestNode {
	ProtobufCMessage base;
	float f;
	double d;
	int32_t s32;
	int64_t s64;
	uint32_t fx32;
	uint64_t fx64;
	int32_t sf32;
	int64_t sf64;
	protobuf_c_boolean has_opt;
	int32_t opt;
	TestNode *child;
	size_t n_ds;
	double *ds;
	size_t n_labels;
	TestLabelsEntry **labels;
	size_t n_flags;
	protobuf_c_boolean *flags;
};

static const ProtobufCMessageDescriptor test_node_descriptor;
static const ProtobufCMessageDescriptor test_labels_entry_descriptor;

static void test_node_init(ProtobufCMessage *m)
{
	TestNode *n = (TestNode *)m;
	memset(n, 0, sizeof(*n));
	n->base.descriptor = &test_node_descriptor;
}

static void test_labels_entry_init(ProtobufCMessage *m)
{
	static const TestLabelsEntry init = {PROTOBUF_C_MESSAGE_INIT(&test_labels_entry_descriptor),
					     0, (char *)protobuf_c_empty_string};
	memcpy(m, &init, sizeof(init));
}

#define FIELD(nm, num, lbl, typ, q, member, desc, def)                                   \
	{                                                                                \
		.name = nm, .id = num, .label = PROTOBUF_C_LABEL_##lbl,                  \
		.type = PROTOBUF_C_TYPE_##typ, .quantifier_offset = q, .offset = member, \
		.descriptor = desc, .default_value = def                                 \
	}

static const ProtobufCFieldDescriptor test_labels_entry_fields[] = {
	FIELD("key", 1, NONE, INT32, 0, offsetof(TestLabelsEntry, key), NULL, NULL),
	FIELD("value", 2, NONE, STRING, 0, offsetof(TestLabelsEntry, value), NULL,
	      &protobuf_c_empty_string),
};
static const unsigned test_labels_entry_by_name[] = {0, 1};
static const ProtobufCIntRange test_labels_entry_ranges[] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor test_labels_entry_descriptor = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
	"test.Node.LabelsEntry",
	"LabelsEntry",
	"TestLabelsEntry",
	"test",
	sizeof(TestLabelsEntry),
	2,
	test_labels_entry_fields,
	test_labels_entry_by_name,
	1,
	test_labels_entry_ranges,
	test_labels_entry_init,
	NULL,
	NULL,
	NULL,
};

static const ProtobufCFieldDescriptor test_node_fields[] = {
	FIELD("f", 1, NONE, FLOAT, 0, offsetof(TestNode, f), NULL, NULL),
	FIELD("d", 2, NONE, DOUBLE, 0, offsetof(TestNode, d), NULL, NULL),
	FIELD("s32", 3, NONE, SINT32, 0, offsetof(TestNode, s32), NULL, NULL),
	FIELD("s64", 4, NONE, SINT64, 0, offsetof(TestNode, s64), NULL, NULL),
	FIELD("fx32", 5, NONE, FIXED32, 0, offsetof(TestNode, fx32), NULL, NULL),
	FIELD("fx64", 6, NONE, FIXED64, 0, offsetof(TestNode, fx64), NULL, NULL),
	FIELD("sf32", 7, NONE, SFIXED32, 0, offsetof(TestNode, sf32), NULL, NULL),
	FIELD("sf64", 8, NONE, SFIXED64, 0, offsetof(TestNode, sf64), NULL, NULL),
	FIELD("opt", 9, OPTIONAL, INT32, offsetof(TestNode, has_opt), offsetof(TestNode, opt), NULL,
	      NULL),
	FIELD("child", 10, NONE, MESSAGE, 0, offsetof(TestNode, child), &test_node_descriptor,
	      NULL),
	FIELD("ds", 11, REPEATED, DOUBLE, offsetof(TestNode, n_ds), offsetof(TestNode, ds), NULL,
	      NULL),
	FIELD("labels", 12, REPEATED, MESSAGE, offsetof(TestNode, n_labels),
	      offsetof(TestNode, labels), &test_labels_entry_descriptor, NULL),
	FIELD("flags", 13, REPEATED, BOOL, offsetof(TestNode, n_flags), offsetof(TestNode, flags),
	      NULL, NULL),
};
/* Field indices in strcmp order of their names (checked by a test below). */
static const unsigned test_node_by_name[] = {9, 1, 10, 0, 12, 4, 5, 11, 8, 2, 3, 6, 7};
static const ProtobufCIntRange test_node_ranges[] = {{1, 0}, {0, 13}};
static const ProtobufCMessageDescriptor test_node_descriptor = {
	PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
	"test.Node",
	"Node",
	"TestNode",
	"test",
	sizeof(TestNode),
	ARRAY_SIZE(test_node_fields),
	test_node_fields,
	test_node_by_name,
	1,
	test_node_ranges,
	test_node_init,
	NULL,
	NULL,
	NULL,
};

/* ---- helpers ------------------------------------------------------------------------------ */

/* LeakSanitizer's entry point when built with SAN=1; the harness _exit()s, so ask explicitly. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static void assert_no_leaks(void)
{
	if (__lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check())
		FAIL("memory leaked (see the LeakSanitizer report above)");
}

static ProtobufCMessage *parse_ok(const ProtobufCMessageDescriptor *d, const char *json,
				  unsigned flags)
{
	struct jsonpb_options o = {.flags = flags};
	ProtobufCMessage *m = NULL;
	agent_error_t *err = NULL;
	int r = jsonpb_parse(json, strlen(json), d, &o, &m, &err);
	if (r < 0)
		FAIL("parsing %s as %s: %s", json, d->name, err && err->msg ? err->msg : "?");
	ASSERT_NOT_NULL(m);
	return m;
}

/* Expects failure with errnum and a message containing each of the given substrings. */
static void parse_fails(const ProtobufCMessageDescriptor *d, const char *json, int errnum,
			const char *want1, const char *want2)
{
	ProtobufCMessage *m = NULL;
	agent_error_t *err = NULL;
	int r = jsonpb_parse(json, strlen(json), d, NULL, &m, &err);
	if (r >= 0)
		FAIL("parsing %s as %s succeeded, want errno %d", json, d->name, errnum);
	ASSERT_NULL(m);
	ASSERT_NOT_NULL(err);
	if (r != -errnum)
		FAIL("parsing %s: errno %d (%s), want %d", json, -r, err->msg, errnum);
	if (want1 && !strstr(err->msg, want1))
		FAIL("error \"%s\" does not mention \"%s\"", err->msg, want1);
	if (want2 && !strstr(err->msg, want2))
		FAIL("error \"%s\" does not mention \"%s\"", err->msg, want2);
	agent_error_free(err);
}

/* Through the wire format and back, so the message really holds what JSON said. */
static ProtobufCMessage *wire_roundtrip(const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n + 1);
	ASSERT_NOT_NULL(buf);
	ASSERT_EQ(protobuf_c_message_pack(m, buf), n);
	ProtobufCMessage *back = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
	free(buf);
	ASSERT_NOT_NULL(back);
	return back;
}

static void assert_json_eq(const char *got, const char *want)
{
	struct json_object *g = json_tokener_parse(got), *w = json_tokener_parse(want);
	if (!g || !w)
		FAIL("unparsable JSON: got %s want %s", got, want);
	if (!json_object_equal(g, w))
		FAIL("JSON differs:\n got:  %s\n want: %s", got, want);
	json_object_put(g);
	json_object_put(w);
}

static char *print_ok(const ProtobufCMessage *m, unsigned flags)
{
	char *out = NULL;
	agent_error_t *err = NULL;
	if (jsonpb_print(m, flags, &out, &err) < 0)
		FAIL("printing %s: %s", m->descriptor->name, err->msg);
	return out;
}

/* in -> message -> wire -> message -> JSON, compared with want (in when NULL). */
static void roundtrip(const ProtobufCMessageDescriptor *d, const char *in, const char *want,
		      unsigned flags)
{
	ProtobufCMessage *m = parse_ok(d, in, 0);
	ProtobufCMessage *back = wire_roundtrip(m);
	char *out = print_ok(back, flags);
	assert_json_eq(out, want ? want : in);
	free(out);
	protobuf_c_message_free_unpacked(m, NULL);
	protobuf_c_message_free_unpacked(back, NULL);
}

/* ---- round trips -------------------------------------------------------------------------- */

static const char create_container_json[] =
	"{\"container_id\": \"c1\", \"exec_id\": \"c1\", \"sandbox_pidns\": true,"
	" \"storages\": [{\"driver\": \"virtio-fs\", \"source\": \"kataShared\","
	"   \"fstype\": \"virtiofs\", \"options\": [\"dax\", \"ro\"],"
	"   \"mount_point\": \"/run/kata-containers/shared/containers/\"}],"
	" \"devices\": [{\"id\": \"0000:00:02.0\", \"type\": \"blk\", \"vm_path\": \"/dev/vda\","
	"   \"container_path\": \"/dev/xda\", \"options\": [\"rw\"]}],"
	" \"OCI\": {\"Version\": \"1.0.2\", \"Hostname\": \"box\","
	"  \"Process\": {\"Terminal\": true, \"User\": {\"UID\": 1000, \"GID\": 100,"
	"     \"AdditionalGids\": [1, 2, 3]}, \"Args\": [\"/bin/sh\", \"-c\", \"echo \\\"hi\\\"\"],"
	"   \"Env\": [\"PATH=/bin\", \"A=\\u00e9\"], \"Cwd\": \"/\", \"NoNewPrivileges\": true,"
	"   \"OOMScoreAdj\": \"-500\", \"Capabilities\": {\"Bounding\": [\"CAP_KILL\"],"
	"     \"Effective\": [\"CAP_KILL\", \"CAP_CHOWN\"]},"
	"   \"Rlimits\": [{\"Type\": \"RLIMIT_NOFILE\", \"Hard\": \"1048576\", \"Soft\": "
	"\"1024\"}]},"
	"  \"Root\": {\"Path\": \"/run/kata-containers/shared/containers/c1/rootfs\","
	"    \"Readonly\": true},"
	"  \"Mounts\": [{\"destination\": \"/proc\", \"source\": \"proc\", \"type\": \"proc\"},"
	"    {\"destination\": \"/dev\", \"source\": \"tmpfs\", \"type\": \"tmpfs\","
	"     \"options\": [\"nosuid\", \"mode=755\"]}],"
	"  \"Annotations\": {\"io.kubernetes.cri.container-type\": \"sandbox\", \"x\": \"\"},"
	"  \"Linux\": {\"Namespaces\": [{\"Type\": \"pid\"}, {\"Type\": \"ipc\","
	"     \"Path\": \"/var/run/sandbox-ns/ipc\"}], \"Sysctl\": {\"net.ipv4.ip_forward\": "
	"\"1\"},"
	"   \"CgroupsPath\": \"/kubepods/c1\", \"MaskedPaths\": [\"/proc/kcore\"],"
	"   \"UIDMappings\": [{\"HostID\": 100000, \"ContainerID\": 1, \"Size\": 65536}],"
	"   \"Devices\": [{\"Path\": \"/dev/xda\", \"Type\": \"b\", \"Major\": \"253\","
	"     \"Minor\": \"1\", \"FileMode\": 432}],"
	"   \"Resources\": {\"Memory\": {\"Limit\": \"1073741824\", \"Swappiness\": \"60\","
	"       \"DisableOOMKiller\": true}, \"CPU\": {\"Shares\": \"1024\", \"Quota\": \"-1\","
	"       \"Period\": \"100000\", \"Cpus\": \"0-1\"}, \"Pids\": {\"Limit\": \"100\"},"
	"     \"Devices\": [{\"Access\": \"rwm\"},"
	"       {\"Allow\": true, \"Type\": \"c\", \"Major\": \"1\", \"Minor\": \"3\","
	"        \"Access\": \"rw\"}],"
	"     \"HugepageLimits\": [{\"Pagesize\": \"2MB\", \"Limit\": \"1024\"}]},"
	"   \"Seccomp\": {\"DefaultAction\": \"SCMP_ACT_ERRNO\", \"Architectures\":"
	"     [\"SCMP_ARCH_X86_64\"], \"Syscalls\": [{\"Names\": [\"read\", \"write\"],"
	"       \"Action\": \"SCMP_ACT_ALLOW\"}, {\"Names\": [\"ptrace\"],"
	"       \"Action\": \"SCMP_ACT_ERRNO\", \"errnoret\": 1, \"Args\": [{\"Index\": \"1\","
	"         \"Value\": \"18446744073709551615\", \"Op\": \"SCMP_CMP_EQ\"}]}]}}}}";

TEST(create_container_request_roundtrip)
{
	roundtrip(&grpc__create_container_request__descriptor, create_container_json, NULL, 0);
	assert_no_leaks();
}

TEST(create_container_request_fields_land_in_the_struct)
{
	Grpc__CreateContainerRequest *req = (Grpc__CreateContainerRequest *)parse_ok(
		&grpc__create_container_request__descriptor, create_container_json, 0);
	ASSERT_STREQ(req->container_id, "c1");
	ASSERT_TRUE(req->sandbox_pidns);
	ASSERT_EQ(req->n_storages, 1);
	ASSERT_EQ(req->storages[0]->n_options, 2);
	ASSERT_STREQ(req->storages[0]->options[1], "ro");
	Grpc__Spec *s = req->oci;
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(s->process->user->uid, 1000);
	ASSERT_EQ(s->process->user->n_additionalgids, 3);
	ASSERT_EQ(s->process->user->additionalgids[2], 3);
	ASSERT_STREQ(s->process->args[2], "echo \"hi\"");
	ASSERT_STREQ(s->process->env[1], "A=\xc3\xa9");
	ASSERT_EQ(s->process->oomscoreadj, -500);
	ASSERT_EQ(s->process->rlimits[0]->hard, 1048576);
	ASSERT_EQ(s->n_annotations, 2);
	ASSERT_EQ(s->linux->n_namespaces, 2);
	ASSERT_STREQ(s->linux->namespaces[1]->path, "/var/run/sandbox-ns/ipc");
	ASSERT_EQ(s->linux->resources->memory->limit, 1073741824LL);
	ASSERT_EQ(s->linux->resources->cpu->quota, -1);
	ASSERT_EQ(s->linux->devices[0]->filemode, 432);
	Grpc__LinuxSyscall *sc = s->linux->seccomp->syscalls[1];
	ASSERT_EQ(sc->errno_ret_case, GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET);
	ASSERT_EQ(sc->errnoret, 1);
	ASSERT_EQ(s->linux->seccomp->syscalls[0]->errno_ret_case,
		  GRPC__LINUX_SYSCALL__ERRNO_RET__NOT_SET);
	ASSERT_TRUE(sc->args[0]->value == UINT64_MAX);
	protobuf_c_message_free_unpacked(&req->base, NULL);
	assert_no_leaks();
}

TEST(int64_printed_as_string_accepted_as_number_or_string)
{
	const ProtobufCMessageDescriptor *d = &grpc__linux_memory__descriptor;
	roundtrip(d, "{\"Limit\": 5, \"Swap\": -1, \"Swappiness\": 18446744073709551615}",
		  "{\"Limit\": \"5\", \"Swap\": \"-1\", \"Swappiness\": \"18446744073709551615\"}",
		  0);
	roundtrip(d, "{\"Limit\": \"-9223372036854775808\", \"Kernel\": \"9223372036854775807\"}",
		  NULL, 0);
	/* Exponent and integral floats are integers too. */
	roundtrip(d, "{\"Limit\": 1e3, \"Swap\": 7.0}", "{\"Limit\": \"1000\", \"Swap\": \"7\"}",
		  0);
}

TEST(bytes_as_base64)
{
	const ProtobufCMessageDescriptor *d = &grpc__write_stream_request__descriptor;
	Grpc__WriteStreamRequest *w = (Grpc__WriteStreamRequest *)parse_ok(
		d, "{\"container_id\": \"c\", \"data\": \"aGVsbG8gd29ybGQ=\"}", 0);
	ASSERT_EQ(w->data.len, 11);
	ASSERT_TRUE(memcmp(w->data.data, "hello world", 11) == 0);
	protobuf_c_message_free_unpacked(&w->base, NULL);

	/* URL-safe alphabet and missing padding are accepted; output is standard and padded. */
	roundtrip(d, "{\"data\": \"-_8\"}", "{\"data\": \"+/8=\"}", 0);
	roundtrip(d, "{\"data\": \"aGVsbG8gd29ybGQ\"}", "{\"data\": \"aGVsbG8gd29ybGQ=\"}", 0);

	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	for (size_t n = 0; n <= sizeof(all); n++) {
		char *s = jsonpb_base64_encode(all, n);
		ASSERT_NOT_NULL(s);
		ASSERT_EQ(strlen(s), (n + 2) / 3 * 4);
		uint8_t *back = NULL;
		size_t len = 0;
		ASSERT_EQ(jsonpb_base64_decode(s, strlen(s), &back, &len), 0);
		ASSERT_EQ(len, n);
		ASSERT_TRUE(n == 0 || memcmp(back, all, n) == 0);
		free(back);
		free(s);
	}
	assert_no_leaks();
}

TEST(enums_by_name_or_number)
{
	const ProtobufCMessageDescriptor *d = &types__interface__descriptor;
	roundtrip(d,
		  "{\"name\": \"eth0\", \"mtu\": 1500, \"hwAddr\": \"02:00:ca:fe:00:01\","
		  " \"IPAddresses\": [{\"family\": 1, \"address\": \"fd00::2\", \"mask\": \"64\"},"
		  " {\"family\": \"v4\", \"address\": \"10.0.0.2\", \"mask\": \"24\"}]}",
		  "{\"name\": \"eth0\", \"mtu\": \"1500\", \"hwAddr\": \"02:00:ca:fe:00:01\","
		  " \"IPAddresses\": [{\"family\": \"v6\", \"address\": \"fd00::2\", \"mask\": "
		  "\"64\"},"
		  " {\"address\": \"10.0.0.2\", \"mask\": \"24\"}]}",
		  0);
	roundtrip(&grpc__health_check_response__descriptor, "{\"status\": \"SERVING\"}", NULL, 0);
	roundtrip(&grpc__health_check_response__descriptor, "{\"status\": 2}",
		  "{\"status\": \"NOT_SERVING\"}", 0);
	/* Open enums: an unnamed number survives, printed as a number. */
	roundtrip(&grpc__health_check_response__descriptor, "{\"status\": 7}", NULL, 0);
	ProtobufCMessage *m =
		parse_ok(&grpc__health_check_response__descriptor, "{\"status\": 1}", 0);
	char *out = print_ok(m, JSONPB_ENUMS_AS_INTS);
	assert_json_eq(out, "{\"status\": 1}");
	free(out);
	protobuf_c_message_free_unpacked(m, NULL);
	parse_fails(&grpc__health_check_response__descriptor, "{\"status\": \"SERVIN\"}", EINVAL,
		    "SERVIN", "status");
	parse_fails(&grpc__health_check_response__descriptor, "{\"status\": true}", EINVAL,
		    "status", NULL);
	assert_no_leaks();
}

TEST(maps_as_objects)
{
	const ProtobufCMessageDescriptor *d = &grpc__memory_stats__descriptor;
	roundtrip(d, "{\"cache\": \"1\", \"stats\": {\"rss\": \"4096\", \"pgfault\": \"0\"}}", NULL,
		  0);
	roundtrip(d, "{\"stats\": {\"rss\": 4096}}", "{\"stats\": {\"rss\": \"4096\"}}", 0);
	parse_fails(d, "{\"stats\": [\"rss\"]}", EINVAL, "stats", "object");
	parse_fails(d, "{\"stats\": {\"rss\": \"x\"}}", EINVAL, "stats[\"rss\"]", NULL);
	/* int keys, message values */
	roundtrip(&test_node_descriptor, "{\"labels\": {\"-3\": \"minus\", \"7\": \"seven\"}}",
		  NULL, 0);
	parse_fails(&test_node_descriptor, "{\"labels\": {\"x\": \"y\"}}", EINVAL, "labels", NULL);
	assert_no_leaks();
}

TEST(oneof_member_printed_even_when_zero)
{
	const ProtobufCMessageDescriptor *d = &grpc__linux_syscall__descriptor;
	roundtrip(d, "{\"Names\": [\"kill\"], \"errnoret\": 0}", NULL, 0);
	roundtrip(d, "{\"Names\": [\"kill\"]}", NULL, 0);
	Grpc__LinuxSyscall *sc = (Grpc__LinuxSyscall *)parse_ok(d, "{\"errnoret\": 0}", 0);
	ASSERT_EQ(sc->errno_ret_case, GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET);
	protobuf_c_message_free_unpacked(&sc->base, NULL);
}

TEST(defaults_omitted_unless_asked)
{
	ProtobufCMessage *m = parse_ok(&grpc__root__descriptor, "{\"Path\": \"\"}", 0);
	char *out = print_ok(m, 0);
	assert_json_eq(out, "{}");
	free(out);
	out = print_ok(m, JSONPB_EMIT_DEFAULTS);
	assert_json_eq(out, "{\"Path\": \"\", \"Readonly\": false}");
	free(out);
	protobuf_c_message_free_unpacked(m, NULL);

	m = parse_ok(&grpc__linux_memory__descriptor, "{}", 0);
	out = print_ok(m, JSONPB_EMIT_DEFAULTS);
	assert_json_eq(out, "{\"Limit\": \"0\", \"Reservation\": \"0\", \"Swap\": \"0\","
			    " \"Kernel\": \"0\", \"KernelTCP\": \"0\", \"Swappiness\": \"0\","
			    " \"DisableOOMKiller\": false}");
	free(out);
	protobuf_c_message_free_unpacked(m, NULL);

	m = parse_ok(&grpc__user__descriptor, "{\"UID\": 0}", 0);
	out = print_ok(m, JSONPB_EMIT_DEFAULTS | JSONPB_PRETTY);
	ASSERT_NOT_NULL(strchr(out, '\n'));
	assert_json_eq(out, "{\"UID\": 0, \"GID\": 0, \"AdditionalGids\": [], \"Username\": \"\"}");
	free(out);
	protobuf_c_message_free_unpacked(m, NULL);

	/* Absent sub-messages print as null and read back as absent. */
	m = parse_ok(&grpc__process__descriptor, "{\"User\": null, \"Args\": null}", 0);
	out = print_ok(m, JSONPB_EMIT_DEFAULTS);
	struct json_object *j = json_tokener_parse(out);
	ASSERT_NOT_NULL(j);
	struct json_object *user = NULL;
	ASSERT_TRUE(json_object_object_get_ex(j, "User", &user));
	ASSERT_NULL(user);
	json_object_put(j);
	ProtobufCMessage *again = parse_ok(&grpc__process__descriptor, out, 0);
	ASSERT_NULL(((Grpc__Process *)again)->user);
	free(out);
	protobuf_c_message_free_unpacked(again, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	assert_no_leaks();
}

TEST(json_names_and_loose_matching)
{
	Grpc__CreateContainerRequest *r = (Grpc__CreateContainerRequest *)parse_ok(
		&grpc__create_container_request__descriptor,
		"{\"containerId\": \"c2\", \"sandboxPidns\": true}", 0);
	ASSERT_STREQ(r->container_id, "c2");
	ASSERT_TRUE(r->sandbox_pidns);
	protobuf_c_message_free_unpacked(&r->base, NULL);

	parse_fails(&grpc__create_container_request__descriptor,
		    "{\"container_id\": \"a\", \"containerId\": \"b\"}", EINVAL, "twice",
		    "container_id");
	/* OCI spelling needs the case-insensitive mode. */
	parse_fails(&grpc__spec__descriptor, "{\"process\": {}}", EINVAL, "process", NULL);
	Grpc__Spec *s = (Grpc__Spec *)parse_ok(
		&grpc__spec__descriptor,
		"{\"process\": {\"args\": [\"true\"], \"oomScoreAdj\": 5},"
		" \"linux\": {\"uidMappings\": [{\"hostID\": 1, \"containerID\": 0, \"size\": 1}],"
		"  \"resources\": {\"hugepageLimits\": [{\"pageSize\": \"1GB\"}],"
		"   \"blockIO\": {\"throttleReadIOPSDevice\": [{\"major\": 8, \"rate\": 10}]}}}}",
		JSONPB_CASE_INSENSITIVE);
	ASSERT_STREQ(s->process->args[0], "true");
	ASSERT_EQ(s->process->oomscoreadj, 5);
	ASSERT_EQ(s->linux->uidmappings[0]->hostid, 1);
	ASSERT_STREQ(s->linux->resources->hugepagelimits[0]->pagesize, "1GB");
	ASSERT_EQ(s->linux->resources->blockio->throttlereadiopsdevice[0]->rate, 10);
	protobuf_c_message_free_unpacked(&s->base, NULL);
	assert_no_leaks();
}

static void collect_unknown(const char *path, void *userdata)
{
	char *buf = userdata;
	size_t n = strlen(buf);
	snprintf(buf + n, 256 - n, "%s;", path);
}

TEST(unknown_members_ignored_on_request)
{
	char seen[256] = "";
	struct jsonpb_options o = {.flags = JSONPB_IGNORE_UNKNOWN | JSONPB_CASE_INSENSITIVE,
				   .on_unknown = collect_unknown,
				   .userdata = seen};
	const char *json = "{\"ociVersion\": \"1.1.0\", \"hostname\": \"h\","
			   " \"linux\": {\"personality\": {\"domain\": \"LINUX\"}}}";
	ProtobufCMessage *m = NULL;
	agent_error_t *err = NULL;
	ASSERT_EQ(jsonpb_parse(json, strlen(json), &grpc__spec__descriptor, &o, &m, &err), 0);
	ASSERT_STREQ(((Grpc__Spec *)m)->hostname, "h");
	ASSERT_STREQ(seen, "ociVersion;linux.personality;");
	protobuf_c_message_free_unpacked(m, NULL);
	assert_no_leaks();
}

/* ---- errors ------------------------------------------------------------------------------- */

TEST(unknown_field_is_named)
{
	const ProtobufCMessageDescriptor *d = &grpc__create_container_request__descriptor;
	parse_fails(d, "{\"container_id\": \"c\", \"bogus\": 1}", EINVAL, "\"bogus\"",
		    "grpc.CreateContainerRequest");
	parse_fails(d, "{\"OCI\": {\"Process\": {\"Argz\": []}}}", EINVAL, "OCI.Process.Argz",
		    "grpc.Process");
}

TEST(type_mismatch_names_the_path)
{
	const ProtobufCMessageDescriptor *d = &grpc__create_container_request__descriptor;
	parse_fails(d, "{\"OCI\": {\"Process\": {\"Args\": [\"a\", 5]}}}", EINVAL,
		    "OCI.Process.Args[1]", "string");
	parse_fails(d, "{\"container_id\": 5}", EINVAL, "container_id", NULL);
	parse_fails(d, "{\"sandbox_pidns\": \"yes\"}", EINVAL, "sandbox_pidns", NULL);
	parse_fails(d, "{\"sandbox_pidns\": 1}", EINVAL, "sandbox_pidns", NULL);
	parse_fails(d, "{\"OCI\": []}", EINVAL, "OCI", "object");
	parse_fails(d, "{\"storages\": {}}", EINVAL, "storages", "array");
	parse_fails(d, "{\"storages\": [null]}", EINVAL, "storages[0]", NULL);
	parse_fails(d, "{\"OCI\": {\"Mounts\": [{}, {\"options\": [\"a\", null]}]}}", EINVAL,
		    "OCI.Mounts[1].options[1]", NULL);
	parse_fails(d, "[]", EINVAL, "top level", NULL);
	parse_fails(d, "{\"container_id\": \"a\\u0000b\"}", EINVAL, "container_id", "NUL");
	parse_fails(&grpc__linux_memory__descriptor, "{\"Limit\": 1.5}", EINVAL, "Limit", NULL);
	parse_fails(&grpc__linux_memory__descriptor, "{\"Limit\": \"12abc\"}", EINVAL, "Limit",
		    NULL);
	parse_fails(&grpc__linux_memory__descriptor, "{\"Limit\": \" 1\"}", EINVAL, "Limit", NULL);
	parse_fails(&grpc__linux_memory__descriptor, "{\"Limit\": true}", EINVAL, "Limit", NULL);
	assert_no_leaks();
}

TEST(bad_base64)
{
	const ProtobufCMessageDescriptor *d = &grpc__write_stream_request__descriptor;
	parse_fails(d, "{\"data\": \"!!!!\"}", EINVAL, "data", "base64");
	parse_fails(d, "{\"data\": \"a\"}", EINVAL, "data", "base64");
	parse_fails(d, "{\"data\": \"ab=c\"}", EINVAL, "data", "base64");
	parse_fails(d, "{\"data\": \"abc==\"}", EINVAL, "data", "base64");
	parse_fails(d, "{\"data\": \"ab c\"}", EINVAL, "data", "base64");
	parse_fails(d, "{\"data\": \"aGk=\\n\"}", EINVAL, "data", "base64");
	parse_fails(d, "{\"data\": 12}", EINVAL, "data", NULL);
	/* Non-zero leftover bits are not the encoding of anything. */
	parse_fails(d, "{\"data\": \"aGl=\"}", EINVAL, "data", "base64");
	assert_no_leaks();
}

TEST(integer_overflow)
{
	const ProtobufCMessageDescriptor *d = &grpc__create_container_request__descriptor;
	parse_fails(d, "{\"OCI\": {\"Process\": {\"User\": {\"UID\": 4294967296}}}}", ERANGE,
		    "OCI.Process.User.UID", "range");
	parse_fails(d, "{\"OCI\": {\"Process\": {\"User\": {\"UID\": -1}}}}", ERANGE,
		    "OCI.Process.User.UID", NULL);
	parse_fails(d, "{\"OCI\": {\"Process\": {\"User\": {\"GID\": \"-1\"}}}}", ERANGE,
		    "OCI.Process.User.GID", NULL);
	const ProtobufCMessageDescriptor *mem = &grpc__linux_memory__descriptor;
	parse_fails(mem, "{\"Limit\": \"9223372036854775808\"}", ERANGE, "Limit", NULL);
	parse_fails(mem, "{\"Limit\": 9223372036854775808}", ERANGE, "Limit", NULL);
	parse_fails(mem, "{\"Limit\": -9223372036854775809}", ERANGE, NULL, NULL);
	parse_fails(mem, "{\"Swappiness\": \"18446744073709551616\"}", ERANGE, "Swappiness", NULL);
	parse_fails(mem, "{\"Swappiness\": 99999999999999999999}", ERANGE, "99999999999999999999",
		    NULL);
	parse_fails(mem, "{\"Swappiness\": 1e20}", ERANGE, "Swappiness", NULL);
	parse_fails(&test_node_descriptor, "{\"s32\": 2147483648}", ERANGE, "s32", "int32");
	parse_fails(&test_node_descriptor, "{\"sf32\": -2147483649}", ERANGE, "sf32", NULL);
	roundtrip(&test_node_descriptor, "{\"s32\": -2147483648, \"sf32\": 2147483647}", NULL, 0);
	assert_no_leaks();
}

TEST(too_deep)
{
	char buf[2048];
	size_t n = 0;

	/* JSONPB_MAX_DEPTH nested messages are fine, one more is not. */
	for (int depth = JSONPB_MAX_DEPTH; depth <= JSONPB_MAX_DEPTH + 1; depth++) {
		n = 0;
		for (int i = 0; i < depth - 1; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"child\": ");
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"s32\": 1}");
		for (int i = 0; i < depth - 1; i++)
			buf[n++] = '}';
		buf[n] = '\0';
		ProtobufCMessage *m = NULL;
		agent_error_t *err = NULL;
		int r = jsonpb_parse(buf, n, &test_node_descriptor, NULL, &m, &err);
		if (depth == JSONPB_MAX_DEPTH) {
			ASSERT_EQ(r, 0);
			/* and printing it is fine too */
			char *out = print_ok(m, 0);
			free(out);
			protobuf_c_message_free_unpacked(m, NULL);
		} else {
			ASSERT_EQ(r, -ELOOP);
			ASSERT_NOT_NULL(strstr(err->msg, "child.child.child"));
			agent_error_free(err);
		}
	}

	/* Printing a message built deeper than the bound by hand fails too. */
	TestNode nodes[JSONPB_MAX_DEPTH + 1];
	for (int i = 0; i <= JSONPB_MAX_DEPTH; i++) {
		test_node_init(&nodes[i].base);
		nodes[i].child = i < JSONPB_MAX_DEPTH ? &nodes[i + 1] : NULL;
	}
	char *out = NULL;
	agent_error_t *err = NULL;
	ASSERT_EQ(jsonpb_print(&nodes[0].base, 0, &out, &err), -ELOOP);
	ASSERT_NULL(out);
	agent_error_free(err);

	/* Raw JSON nesting is bounded by the tokenizer, whatever the schema. */
	n = 0;
	memcpy(buf, "{\"ds\": ", 7);
	n = 7;
	for (int i = 0; i < 500; i++)
		buf[n++] = '[';
	for (int i = 0; i < 500; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	buf[n] = '\0';
	parse_fails(&test_node_descriptor, buf, EINVAL, "JSON", NULL);
	assert_no_leaks();
}

TEST(invalid_json_text)
{
	const ProtobufCMessageDescriptor *d = &grpc__root__descriptor;
	parse_fails(d, "{", EINVAL, "end of input", NULL);
	parse_fails(d, "", EINVAL, "JSON", NULL);
	parse_fails(d, "{} x", EINVAL, "JSON", "offset 3");
	parse_fails(d, "{\"Path\": 'x'}", EINVAL, "JSON", NULL);
	parse_fails(d, "{\"Path\": \"x\",}", EINVAL, "JSON", NULL);
	parse_fails(d, "5", EINVAL, "top level", NULL);
	/* Whitespace around the value is fine, and so is null for "all defaults". */
	ProtobufCMessage *m = parse_ok(d, "  \n{\"Path\": \"/x\"}\n\t", 0);
	ASSERT_STREQ(((Grpc__Root *)m)->path, "/x");
	protobuf_c_message_free_unpacked(m, NULL);
	m = parse_ok(d, "null", 0);
	ASSERT_STREQ(((Grpc__Root *)m)->path, "");
	protobuf_c_message_free_unpacked(m, NULL);

	/* The text bound is checked before anything is parsed. */
	ProtobufCMessage *big = NULL;
	agent_error_t *err = NULL;
	ASSERT_EQ(jsonpb_parse("{}", (size_t)JSONPB_MAX_TEXT + 1, d, NULL, &big, &err), -E2BIG);
	agent_error_free(err);
	assert_no_leaks();
}

TEST(nulls_mean_default)
{
	Grpc__CreateContainerRequest *r = (Grpc__CreateContainerRequest *)parse_ok(
		&grpc__create_container_request__descriptor,
		"{\"container_id\": null, \"OCI\": null, \"storages\": null,"
		" \"sandbox_pidns\": null}",
		0);
	ASSERT_STREQ(r->container_id, "");
	ASSERT_NULL(r->oci);
	ASSERT_EQ(r->n_storages, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- floats, sint/fixed, proto2 optional (hand-made descriptor) --------------------------- */

TEST(test_descriptor_is_sane)
{
	for (size_t i = 1; i < ARRAY_SIZE(test_node_by_name); i++)
		ASSERT_TRUE(strcmp(test_node_fields[test_node_by_name[i - 1]].name,
				   test_node_fields[test_node_by_name[i]].name) < 0);
	for (size_t i = 0; i < ARRAY_SIZE(test_node_fields); i++)
		ASSERT_EQ(test_node_fields[i].id, i + 1);
}

TEST(floats_and_doubles)
{
	const ProtobufCMessageDescriptor *d = &test_node_descriptor;
	roundtrip(d, "{\"f\": 0.1, \"d\": 0.1}", NULL, 0);
	roundtrip(d, "{\"f\": -1.5e10, \"d\": 1e-300}", NULL, 0);
	roundtrip(d, "{\"d\": 2.5, \"ds\": [1, 0.5, -3]}", "{\"d\": 2.5, \"ds\": [1, 0.5, -3]}", 0);
	roundtrip(d, "{\"f\": \"Infinity\", \"d\": \"-Infinity\", \"ds\": [\"NaN\"]}", NULL, 0);
	roundtrip(d, "{\"d\": \"1.25\"}", "{\"d\": 1.25}", 0);
	TestNode *n = (TestNode *)parse_ok(d, "{\"f\": 3.4028234e38, \"d\": 123456789.125}", 0);
	ASSERT_TRUE(n->f == 3.4028234e38f);
	ASSERT_TRUE(n->d == 123456789.125);
	protobuf_c_message_free_unpacked(&n->base, NULL);
	parse_fails(d, "{\"f\": 1e39}", ERANGE, "f", "float");
	parse_fails(d, "{\"d\": 1e400}", ERANGE, "d", NULL);
	parse_fails(d, "{\"d\": \"1e400\"}", ERANGE, "d", NULL);
	parse_fails(d, "{\"d\": \"nan\"}", EINVAL, "d", NULL);
	parse_fails(d, "{\"d\": \"0x10\"}", EINVAL, "d", NULL);
	parse_fails(d, "{\"d\": \"\"}", EINVAL, "d", NULL);
	parse_fails(d, "{\"d\": true}", EINVAL, "d", NULL);
	assert_no_leaks();
}

TEST(sint_fixed_and_bools)
{
	const ProtobufCMessageDescriptor *d = &test_node_descriptor;
	roundtrip(d,
		  "{\"s32\": -7, \"s64\": \"-9000000000\", \"fx32\": 4294967295,"
		  " \"fx64\": \"18446744073709551615\", \"sf32\": -1, \"sf64\": \"-1\","
		  " \"flags\": [true, false, true]}",
		  NULL, 0);
	roundtrip(d, "{\"s32\": \"12\"}", "{\"s32\": 12}", 0);
	parse_fails(d, "{\"flags\": [1]}", EINVAL, "flags[0]", NULL);
}

TEST(proto2_optional_presence)
{
	const ProtobufCMessageDescriptor *d = &test_node_descriptor;
	/* An explicitly set zero is kept: that is what presence is for. */
	TestNode *n = (TestNode *)parse_ok(d, "{\"opt\": 0}", 0);
	ASSERT_TRUE(n->has_opt);
	protobuf_c_message_free_unpacked(&n->base, NULL);
	roundtrip(d, "{\"opt\": 0}", NULL, 0);
	roundtrip(d, "{}", NULL, 0);
	n = (TestNode *)parse_ok(d, "{}", 0);
	ASSERT_FALSE(n->has_opt);
	char *out = print_ok(&n->base, JSONPB_EMIT_DEFAULTS);
	assert_json_eq(out, "{\"f\": 0, \"d\": 0, \"s32\": 0, \"s64\": \"0\", \"fx32\": 0,"
			    " \"fx64\": \"0\", \"sf32\": 0, \"sf64\": \"0\", \"opt\": 0,"
			    " \"child\": null, \"ds\": [], \"labels\": {}, \"flags\": []}");
	free(out);
	protobuf_c_message_free_unpacked(&n->base, NULL);
	assert_no_leaks();
}

/* A failure deep inside leaves nothing behind (checked by ASan in the SAN build). */
TEST(failure_half_way_frees_everything)
{
	parse_fails(
		&grpc__create_container_request__descriptor,
		"{\"container_id\": \"c\", \"storages\": [{\"source\": \"a\"}, {\"source\": \"b\","
		" \"options\": [\"x\", 1]}], \"OCI\": {\"Annotations\": {\"a\": \"b\"}}}",
		EINVAL, "storages[1].options[1]", NULL);
	parse_fails(&grpc__spec__descriptor, "{\"Annotations\": {\"a\": \"b\", \"c\": 5}}", EINVAL,
		    "Annotations[\"c\"]", NULL);
	parse_fails(&grpc__linux_syscall__descriptor, "{\"errnoret\": \"x\"}", EINVAL, "errnoret",
		    NULL);
	assert_no_leaks();
}
