/*
 * project.h - the files of one herald project folder, found by id:
 * lists, templates and releases, as the configuration places them.
 */
#ifndef HERALD_PROJECT_H
#define HERALD_PROJECT_H

#include <stddef.h>

#include "config.h"
#include "diag.h"

/*
 * The NAME.yaml and NAME.yml files of dir, sorted, as paths
 * "dir/NAME.yaml". Both endings of one NAME is an error (which one is
 * meant?), reported in d; neither is listed then. Returns 0, or -1 when
 * dir cannot be read (reported). The caller frees with project_files_free.
 */
int project_files(const char *dir, char ***paths, size_t *n, struct diag *d);
void project_files_free(char **paths, size_t n);

/*
 * 1 when name can name a file of a project folder: letters, digits, '-',
 * '_' and '.', not starting with '.'. A template named '../x' or 'a/b'
 * would be read from outside templates/.
 */
int project_name_ok(const char *name);

/*
 * The file of name in dir: "dir/NAME.yaml", or "dir/NAME.yml" when only
 * that one exists. The caller owns it.
 */
char *project_yaml_path(const char *dir, const char *name);

/*
 * The path of list `id`: lists/ID.yaml when its id is ID, else the file
 * whose `id:` is ID. NULL when none (reported in d). The caller owns it.
 */
char *project_list_path(const struct config *c, const char *id, struct diag *d);

#endif
