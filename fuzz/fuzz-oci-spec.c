/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI specs as the host sends them in CreateContainer (a Spec message), in a
 * scratch tree (fuzz/fuzz-scratch.h): spec_validate under the confined and the
 * unconfined policy, against container roots below /run/kata-containers (a
 * plain one, one whose /proc is a symlink out, one with symlinks inside), then
 * the in-root path resolution the container set-up uses (src/container/
 * pathsafe.c, with openat2 and with the fallback walk) for every mount
 * destination, device path and masked/read-only path, and the bind sources
 * the set-up opens below /run/kata-containers.
 *
 * Invariants: a refusal carries a message (INVALID_ARGUMENT when -EINVAL); an
 * accepted confined spec has a canonical root below /run/kata-containers and
 * only bind sources there or below /dev; every fd pathsafe hands back lies in
 * its root; openat2 and the walk agree; lexical cleaning is idempotent; the
 * guest directory outside the share never changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/pathsafe.h"
#include "container/rootfs-internal.h"
#include "container/validate.h"
#include "fuzz-scratch.h"
#include "oci.pb-c.h"

#define ROOT_PLAIN SCRATCH_SHARED "/c1/rootfs"
#define ROOT_PROCLINK SCRATCH_SHARED "/c2/rootfs"
#define HOOK_DIR "/run/kata-containers/hooks"
#define PATHS_MAX 32 /* paths resolved per input, to keep each run short */

static bool ready;

static void scratch_rootfs(const char *root)
{
	static const char *const dirs[] = {"proc", "sys", "dev", "etc", "tmp", "bin", "data/sub"};
	char p[PATH_MAX];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		if (mkdir_p(p, 0755) < 0)
			scratch_die(p);
	}
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	scratch_put(p, "root:x:0:0:root:/root:/bin/sh\n");
	/* Symlinks a hostile image holds: out by absolute path, out by "..", and in. */
	snprintf(p, sizeof(p), "%s/abs", root);
	if (symlink(SCRATCH_OUTSIDE, p) < 0)
		scratch_die(p);
	snprintf(p, sizeof(p), "%s/up", root);
	if (symlink("../../../../../../..", p) < 0)
		scratch_die(p);
	snprintf(p, sizeof(p), "%s/in", root);
	if (symlink("data", p) < 0)
		scratch_die(p);
	snprintf(p, sizeof(p), "%s/file", root);
	scratch_put(p, "f");
}

static void tree_reset(void)
{
	char p[PATH_MAX];

	scratch_reset();
	scratch_rootfs(ROOT_PLAIN);
	scratch_rootfs(ROOT_PROCLINK);
	snprintf(p, sizeof(p), "%s/proc", ROOT_PROCLINK);
	if (rmdir(p) < 0 || symlink(SCRATCH_OUTSIDE, p) < 0)
		scratch_die(p);
	if (mkdir_p(HOOK_DIR, 0755) < 0)
		scratch_die(HOOK_DIR);
}

/* An fd from pathsafe: below root (as the kernel names it), never the guest directory. */
static void check_fd_in(int fd, const char *root)
{
	char real[PATH_MAX];

	if (fd < 0)
		return;
	if (pathsafe_fd_path(fd, real, sizeof(real)) < 0)
		abort();
	if (!rootfs_path_under(real, root) || rootfs_path_under(real, SCRATCH_OUTSIDE))
		abort();
}

/* openat2 and the walk resolve alike (both succeed on the same object, or both fail). */
static void resolve_both(int rootfd, const char *root, const char *path, unsigned how)
{
	int a = pathsafe_open(rootfd, path, O_PATH, how);
	int b = pathsafe_open(rootfd, path, O_PATH, how | PATHSAFE_FORCE_WALK);
	struct stat sa, sb;

	check_fd_in(a, root);
	check_fd_in(b, root);
	if (a >= 0 && b >= 0) {
		if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0 || sa.st_dev != sb.st_dev ||
		    sa.st_ino != sb.st_ino) {
			char ra[PATH_MAX] = "", rb[PATH_MAX] = "";
			pathsafe_fd_path(a, ra, sizeof(ra));
			pathsafe_fd_path(b, rb, sizeof(rb));
			fprintf(stderr,
				"openat2 and the walk reach different objects for \"%s\" in %s "
				"(how %#x): %s, %s\n",
				path, root, how, ra, rb);
			abort();
		}
	} else if ((a >= 0) != (b >= 0) && a != -ELOOP && b != -ELOOP && a != -ENAMETOOLONG &&
		   b != -ENAMETOOLONG) {
		fprintf(stderr, "openat2 and the walk disagree on \"%s\" in %s (how %#x): %d, %d\n",
			path, root, how, a < 0 ? a : 0, b < 0 ? b : 0);
		abort();
	}
	safe_close(a);
	safe_close(b);
}

static void clean_idempotent(const char *path)
{
	char a[PATH_MAX], b[PATH_MAX];

	rootfs_clean_path(path, a, sizeof(a));
	rootfs_clean_path(a, b, sizeof(b));
	if (a[0] != '/' || strcmp(a, b) != 0 || strstr(a, "//") || strstr(a, "/./"))
		abort();
}

/* The set-up's resolutions of what the spec names inside the root. */
static void resolve_in_root(const Grpc__Spec *spec, const char *root)
{
	_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const Grpc__Linux *l = spec->linux;
	size_t budget = PATHS_MAX;

	if (rootfd < 0)
		abort();
	for (size_t i = 0; i < spec->n_mounts && budget; i++, budget--) {
		const char *d = spec->mounts[i]->destination;
		if (d[0] != '/')
			continue;
		clean_idempotent(d);
		resolve_both(rootfd, root, d, 0);
		resolve_both(rootfd, root, d, PATHSAFE_NOFOLLOW);
		int fd = pathsafe_mkdir_p(rootfd, d, 0755, (i & 1) ? PATHSAFE_FORCE_WALK : 0);
		check_fd_in(fd, root);
		safe_close(fd);
		fd = pathsafe_create(rootfd, d, false, (i & 2) ? PATHSAFE_FORCE_WALK : 0);
		check_fd_in(fd, root);
		safe_close(fd);
		/* A bind source the set-up opens below /run/kata-containers. */
		const char *s = spec->mounts[i]->source;
		if (pathsafe_lexically_below(s, PATHSAFE_CONFINE_DIR)) {
			fd = pathsafe_open_below(PATHSAFE_CONFINE_DIR, s, O_PATH, 0);
			check_fd_in(fd, PATHSAFE_CONFINE_DIR);
			safe_close(fd);
		}
	}
	if (!l)
		return;
	for (size_t i = 0; i < l->n_devices && budget; i++, budget--)
		if (l->devices[i]->path[0] == '/')
			resolve_both(rootfd, root, l->devices[i]->path, PATHSAFE_NOFOLLOW);
	for (size_t i = 0; i < l->n_maskedpaths && budget; i++, budget--)
		resolve_both(rootfd, root, l->maskedpaths[i], 0);
	for (size_t i = 0; i < l->n_readonlypaths && budget; i++, budget--)
		resolve_both(rootfd, root, l->readonlypaths[i], 0);
}

/* What an accepted spec promises under the confined policy. */
static void check_confined(const Grpc__Spec *spec)
{
	const char *root = spec->root->path;
	char real[PATH_MAX];

	if (!pathsafe_lexically_below(root, PATHSAFE_CONFINE_DIR) || !realpath(root, real) ||
	    strcmp(real, root) != 0)
		abort();
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const Grpc__Mount *m = spec->mounts[i];
		if (mount_type_is_special(m->type))
			continue;
		if (!pathsafe_lexically_below(m->source, PATHSAFE_CONFINE_DIR) &&
		    !pathsafe_lexically_below(m->source, "/dev"))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		scratch_setup();
		ready = true;
	}
	if (size < 1)
		return 0;
	/* The first byte: the policy (bit 0: unconfined; bit 1: a hook dir) and the root. */
	uint8_t sel = data[0];
	Grpc__Spec *spec = grpc__spec__unpack(NULL, size - 1, data + 1);
	if (!spec)
		return 0;
	tree_reset();
	char *given = NULL;
	if (spec->root && (sel & 4)) {
		/* Point the root at one of the scratch roots whatever the input said. */
		given = spec->root->path;
		spec->root->path = (sel & 8) ? ROOT_PROCLINK : ROOT_PLAIN;
	}
	struct spec_policy pol = {.unconfined = sel & 1, .hook_dir = (sel & 2) ? HOOK_DIR : NULL};
	agent_error_t *err = NULL;
	int r = spec_validate(spec, &pol, &err);
	if (r < 0) {
		if (!err || !err->msg || (r == -EINVAL && err->status != 3))
			abort();
	} else {
		if (!pol.unconfined)
			check_confined(spec);
		/* Only below the scratch share: an unconfined root may be any guest path. */
		if (pathsafe_lexically_below(spec->root->path, SCRATCH_SHARED))
			resolve_in_root(spec, spec->root->path);
	}
	agent_error_free(err);
	/* Resolution inside the plain root, whether the spec was accepted or not. */
	if (!(sel & 16))
		resolve_in_root(spec, ROOT_PLAIN);
	if (given)
		spec->root->path = given;
	grpc__spec__free_unpacked(spec, NULL);
	scratch_check_outside();
	return 0;
}
