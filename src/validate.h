/*
 * validate.h - the whole project checked at once: templates (with their
 * partials), lists, releases and what they refer to. Every problem goes
 * to d; nothing stops at the first.
 */
#ifndef HERALD_VALIDATE_H
#define HERALD_VALIDATE_H

#include <stddef.h>

#include "config.h"
#include "diag.h"
#include "list.h"
#include "project.h"
#include "release.h"
#include "schema.h"
#include "tmplfile.h"

struct validate_summary {
	size_t lists, subscribers, templates, releases;
};

/* sum may be NULL. */
void validate_project(const struct config *cfg, struct diag *d, struct validate_summary *sum);

#endif
