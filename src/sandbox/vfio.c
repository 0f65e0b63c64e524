// SPDX-License-Identifier: Apache-2.0
#include "sandbox/vfio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/devmatch.h"
#include "device/vfio.h"
#include "base/status.h"

#define VFIO_NODE_MAX 32

struct vfio_fn {
	size_t dev; /* its device's index in the request */
	struct pci_addr host;
	struct pci_sysfs_path sp;
	struct dev_match match;
};

struct vfio_dev {
	bool vfio, in_guest, has_group;
	unsigned group;
	char node[VFIO_NODE_MAX];
	struct dev_match match;
};

struct vfio_set {
	char *sysroot;
	size_t n_dev, n_fn, n_grp;
	struct vfio_dev *devs;
	struct vfio_fn *fns;
	struct dev_match **pci_mp, **grp_mp;
	struct pci_map map;
};

bool vfio_type(const char *type)
{
	return !strcmp(type, "vfio-pci") || !strcmp(type, "vfio-pci-gk");
}

bool vfio_type_in_guest(const char *type)
{
	return !strcmp(type, "vfio-pci");
}

int vfio_device_validate(const Grpc__Device *d, size_t index, agent_error_t **err)
{
	size_t with_path = 0;

	if (d->n_options > VFIO_OPTIONS_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "devices[%zu].options: more than %d", index,
					      VFIO_OPTIONS_MAX);
	for (size_t j = 0; j < d->n_options; j++) {
		struct pci_addr host;
		struct pci_path path;
		bool has_path;

		if (vfio_option_parse(d->options[j], &host, &path, &has_path, err) < 0) {
			(*err)->status = GRPC_INVALID_ARGUMENT;
			return agent_error_wrap(err, "devices[%zu].options[%zu]", index, j);
		}
		with_path += has_path;
	}
	if (vfio_type_in_guest(d->type) && !with_path)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, EINVAL,
					      "devices[%zu].options: a vfio-pci device needs at "
					      "least one DDDD:BB:SS.F=<PCI path> function",
					      index);
	return 0;
}

struct vfio_set *vfio_set_free(struct vfio_set *s)
{
	if (!s)
		return NULL;
	free(s->sysroot);
	free(s->devs);
	free(s->fns);
	free(s->pci_mp);
	free(s->grp_mp);
	free(s);
	return NULL;
}

static size_t count_functions(Grpc__Device *const *d, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; vfio_type(d[i]->type) && j < d[i]->n_options; j++) {
			const char *eq = strchr(d[i]->options[j], '=');
			k += eq && eq[1];
		}
	return k;
}

static int add_function(struct vfio_set *s, size_t i, const char *opt, agent_error_t **err)
{
	struct vfio_fn *f = &s->fns[s->n_fn];
	struct pci_path path;
	char text[PCI_PATH_TEXT_MAX];
	bool has_path;
	int r;

	r = vfio_option_parse(opt, &f->host, &path, &has_path, err);
	if (r < 0 || !has_path)
		return r;
	pci_path_format(&path, text, sizeof(text));
	r = pci_path_resolve(s->sysroot, &path, &f->sp, err);
	if (r < 0)
		return r;
	r = dev_match_pci_device(&f->match, &f->sp, text, err);
	if (r < 0)
		return r;
	f->dev = i;
	s->pci_mp[s->n_fn++] = &f->match;
	return 0;
}

int vfio_set_new(const char *sysroot, Grpc__Device *const *d, size_t n, struct vfio_set **ret,
		 agent_error_t **err)
{
	struct vfio_set *s;
	size_t nf = count_functions(d, n);
	bool any = false;
	int r = 0;

	*ret = NULL;
	for (size_t i = 0; i < n; i++)
		any |= vfio_type(d[i]->type);
	if (!any)
		return 0;
	if (nf > PCI_MAP_MAX)
		return agent_error_set_status(err, GRPC_INVALID_ARGUMENT, E2BIG,
					      "more than %d VFIO functions", PCI_MAP_MAX);
	s = calloc(1, sizeof(*s));
	if (!s)
		return agent_error_set(err, ENOMEM, "out of memory");
	s->n_dev = n;
	s->sysroot = sysroot ? strdup(sysroot) : NULL;
	s->devs = calloc(n, sizeof(*s->devs));
	s->fns = calloc(nf ? nf : 1, sizeof(*s->fns));
	s->pci_mp = calloc(nf ? nf : 1, sizeof(*s->pci_mp));
	s->grp_mp = calloc(n, sizeof(*s->grp_mp));
	if ((sysroot && !s->sysroot) || !s->devs || !s->fns || !s->pci_mp || !s->grp_mp) {
		vfio_set_free(s);
		return agent_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (!vfio_type(d[i]->type))
			continue;
		s->devs[i].vfio = true;
		s->devs[i].in_guest = vfio_type_in_guest(d[i]->type);
		for (size_t j = 0; j < d[i]->n_options && r >= 0; j++) {
			r = add_function(s, i, d[i]->options[j], err);
			if (r < 0)
				agent_error_wrap(err, "devices[%zu].options[%zu]", i, j);
		}
	}
	if (r < 0) {
		vfio_set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

size_t vfio_set_pci_matches(struct vfio_set *s, struct dev_match *const **ret)
{
	*ret = s->pci_mp;
	return s->n_fn;
}

static int bind_function(struct vfio_set *s, struct vfio_fn *f, agent_error_t **err)
{
	struct vfio_dev *v = &s->devs[f->dev];
	struct pci_addr guest;
	unsigned group;
	char text[PCI_ADDR_TEXT_MAX];
	int r;

	r = vfio_guest_addr(&f->sp, &guest, err);
	if (r < 0)
		return r;
	r = pci_map_add(&s->map, &f->host, &guest, err);
	if (r < 0 || !v->in_guest)
		return r;
	r = vfio_pci_bind(s->sysroot, &guest, err);
	if (r < 0)
		return r;
	r = vfio_iommu_group(s->sysroot, &guest, &group, err);
	if (r < 0) {
		if (r == -ENOENT)
			(*err)->status = GRPC_FAILED_PRECONDITION;
		return r;
	}
	if (v->has_group && v->group != group) {
		pci_addr_format(&guest, text);
		return agent_error_set_status(err, GRPC_FAILED_PRECONDITION, EXDEV,
					      "%s is not in guest IOMMU group %u (its group: %u)",
					      text, v->group, group);
	}
	v->has_group = true;
	v->group = group;
	return 0;
}

int vfio_set_bind(struct vfio_set *s, agent_error_t **err)
{
	for (size_t k = 0; k < s->n_fn; k++) {
		int r = bind_function(s, &s->fns[k], err);
		if (r < 0)
			return agent_error_wrap(err, "devices[%zu] (%s)", s->fns[k].dev,
						s->fns[k].sp.devpath);
	}
	s->n_grp = 0;
	for (size_t i = 0; i < s->n_dev; i++) {
		struct vfio_dev *v = &s->devs[i];
		if (!v->in_guest)
			continue;
		if (!v->has_group) /* validation wants a function with a path: cannot happen */
			return agent_error_set(err, EINVAL, "devices[%zu]: no VFIO group", i);
		snprintf(v->node, sizeof(v->node), "/dev/vfio/%u", v->group);
		int r = dev_match_vfio_group(&v->match, v->group, err);
		if (r < 0)
			return r;
		s->grp_mp[s->n_grp++] = &v->match;
	}
	return 0;
}

size_t vfio_set_group_matches(struct vfio_set *s, struct dev_match *const **ret)
{
	*ret = s->grp_mp;
	return s->n_grp;
}

const char *vfio_set_node(const struct vfio_set *s, size_t i)
{
	if (!s || i >= s->n_dev || !s->devs[i].in_guest || !s->devs[i].node[0])
		return NULL;
	return s->devs[i].node;
}

const struct pci_map *vfio_set_map(const struct vfio_set *s)
{
	return s ? &s->map : NULL;
}
