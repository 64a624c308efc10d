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

/* NAME.yaml or NAME.yml, not hidden: the length of NAME, else 0. */
static size_t
project_stem_len(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.')
		return 0;
	if (len > 5 && strcmp(name + len - 5, ".yaml") == 0)
		return len - 5;
	if (len > 4 && strcmp(name + len - 4, ".yml") == 0)
		return len - 4;
	return 0;
}

/* 1 when paths a and b are NAME.yaml and NAME.yml of one folder. */
static int
project_twins(const char *a, const char *b)
{
	const char *ba = strrchr(a, '/') + 1, *bb = strrchr(b, '/') + 1;
	size_t sa = project_stem_len(ba), sb = project_stem_len(bb);

	return a != b && sa == sb && ba - a == bb - b && strcmp(ba + sa, bb + sb) != 0 &&
	    strncmp(a, b, (size_t)(ba - a) + sa) == 0;
}

/* Drops both files of a NAME that has both endings, after saying so. */
static void
project_drop_pairs(char **paths, size_t *n, struct diag *d)
{
	char *twin = xcalloc(*n ? *n : 1, 1);
	size_t i, j, out = 0, stem;

	for (i = 0; i < *n; i++)
		for (j = 0; j < *n && !twin[i]; j++)
			twin[i] = project_twins(paths[i], paths[j]);
	for (i = 0; i < *n; i++) {
		if (!twin[i]) {
			paths[out++] = paths[i];
			continue;
		}
		stem = project_stem_len(strrchr(paths[i], '/') + 1);
		if (strcmp(paths[i] + strlen(paths[i]) - 4, ".yml") == 0)
			diag_error(d, paths[i], 0, 0, "both %.*s.yaml and %.*s.yml: keep one",
			    (int)stem, strrchr(paths[i], '/') + 1, (int)stem,
			    strrchr(paths[i], '/') + 1);
		free(paths[i]);
	}
	free(twin);
	*n = out;
}

int
project_files(const char *dir, char ***paths, size_t *n, struct diag *d)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*paths = NULL;
	*n = 0;
	if (dp == NULL) {
		diag_error(d, dir, 0, 0, "cannot read directory: %s", strerror(errno));
		return -1;
	}
	while ((de = readdir(dp)) != NULL) {
		if (project_stem_len(de->d_name) == 0)
			continue;
		*paths = xgrow(*paths, &cap, *n + 1, sizeof(**paths));
		(*paths)[(*n)++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(dp);
	if (*n)
		qsort(*paths, *n, sizeof(**paths), project_cmp);
	project_drop_pairs(*paths, n, d);
	return 0;
}

int
project_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && name[0] != '.' && strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

char *
project_yaml_path(const char *dir, const char *name)
{
	char *yaml = xasprintf("%s/%s.yaml", dir, name), *yml;

	if (access(yaml, F_OK) == 0)
		return yaml;
	yml = xasprintf("%s/%s.yml", dir, name);
	if (access(yml, F_OK) == 0) {
		free(yaml);
		return yml;
	}
	free(yml);
	return yaml;
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
	char *path = project_yaml_path(c->lists_dir, id), *found = NULL, *lid;
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
