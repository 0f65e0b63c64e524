/* SPDX-License-Identifier: Apache-2.0 */
/* CreateContainer's devices: the paths they name follow the storages' rule below /dev. */
#include "agent.pb-c.h"
#include "base/error.h"
#include "harness.h"
#include "sandbox/devices.h"

static int validate_paths(const char *container_path, const char *vm_path)
{
	Grpc__Device d = GRPC__DEVICE__INIT;
	Grpc__Device *v[] = {&d};
	agent_error_t *err = NULL;
	d.type = "blk";
	d.id = "";
	d.vm_path = (char *)vm_path;
	d.container_path = (char *)container_path;
	int r = devices_validate(v, 1, &err);
	agent_error_free(err);
	return r;
}

TEST(device_paths_follow_the_rule_below_dev)
{
	static const struct {
		const char *path;
		bool ok;
	} cases[] = {
		{"/dev/vda", true},	 {"/dev/disk/by-id/x", true}, {"/dev", false},
		{"/dev/", false},	 {"/dev/vda/", false},	      {"/dev/../etc/shadow", false},
		{"/dev/./vda", false},	 {"/dev//vda", false},	      {"/dev/x/..", false},
		{"/devices/vda", false}, {"/etc/shadow", false},      {"dev/vda", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* As the container's path, and as the guest's node. */
		if ((validate_paths(cases[i].path, "/dev/vda") == 0) != cases[i].ok)
			FAIL("container_path \"%s\": expected %s", cases[i].path,
			     cases[i].ok ? "accepted" : "refused");
		if ((validate_paths("/dev/xda", cases[i].path) == 0) != cases[i].ok)
			FAIL("vm_path \"%s\": expected %s", cases[i].path,
			     cases[i].ok ? "accepted" : "refused");
	}
}
