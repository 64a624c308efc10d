/*
 * skeleton.h - the files of a new project, carried inside the binary for
 * `herald init`. The build makes their definitions (scripts/embed) from
 * skel/ and from the sample templates/, so a new project starts with the
 * very templates the samples use. Static data: nobody frees anything.
 */
#ifndef HERALD_SKELETON_H
#define HERALD_SKELETON_H

#include <stddef.h>

struct skel_file {
	const char *path;		/* relative to the project folder */
	const unsigned char *data;
	size_t len;
};

extern const struct skel_file skel_files[];
extern const size_t skel_nfiles;

#endif
