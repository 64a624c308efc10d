#include "project.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "list.h"

static int
project_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
project_files(const char *dir, char ***paths, size_t *n, struct diag *d)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t cap = 0, len;

	*paths = NULL;
	*n = 0;
	if (dp == NULL) {
		diag_error(d, dir, 0, 0, "cannot read directory: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		*paths = xgrow(*paths, &cap, *n + 1, sizeof(**paths));
		(*paths)[(*n)++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(dp);
	if (*n)
		qsort(*paths, *n, sizeof(**paths), project_cmp);
	return 0;
}

void
project_files_free(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* The list's id, read by streaming the file without its subscribers' details. */
static char *
project_list_id(const char *path)
{
	struct list_info info;
	struct diag quiet;
	char *id = NULL;

	diag_init(&quiet, EXIT_DATAERR);
	if (list_load(path, &info, NULL, NULL, &quiet) != -1 || info.id != NULL)
		id = info.id ? xstrdup(info.id) : NULL;
	list_info_free(&info);
	diag_free(&quiet);
	return id;
}

char *
project_list_path(const struct config *c, const char *id, struct diag *d)
{
	char *path = xasprintf("%s/%s.yaml", c->lists_dir, id), *found = NULL, *lid;
	char **files;
	size_t i, n;

	if (access(path, F_OK) == 0) {
		lid = project_list_id(path);
		if (lid == NULL || strcmp(lid, id) == 0) {
			free(lid);
			return path;
		}
		free(lid);
	}
	free(path);
	if (project_files(c->lists_dir, &files, &n, d) == -1)
		return NULL;
	for (i = 0; i < n && found == NULL; i++) {
		lid = project_list_id(files[i]);
		if (lid && strcmp(lid, id) == 0)
			found = xstrdup(files[i]);
		free(lid);
	}
	project_files_free(files, n);
	if (found == NULL)
		diag_error(d, NULL, 0, 0, "unknown list '%s': no list in %s/ has that id",
		    id, c->lists_dir);
	return found;
}
