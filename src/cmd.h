/*
 * cmd.h - the commands; main.c dispatches to them. Each returns an exit
 * status (sysexits) and prints its own errors.
 */
#ifndef HERALD_CMD_H

#include <stdio.h>
#define HERALD_CMD_H

struct segment;

struct global_opts {
	const char *config;	/* -c FILE, or NULL */
	int verbose;
};

struct command {
	const char *name;
	const char *synopsis;	/* after "herald NAME" */
	const char *summary;
	const char *help;	/* the rest of `herald NAME --help` */
	int (*run)(const struct global_opts *g, int argc, char **argv);
};

int cmd_init(const struct global_opts *g, int argc, char **argv);
int cmd_check(const struct global_opts *g, int argc, char **argv);
int cmd_preview(const struct global_opts *g, int argc, char **argv);
int cmd_send(const struct global_opts *g, int argc, char **argv);
int cmd_schedule(const struct global_opts *g, int argc, char **argv);
int cmd_reschedule(const struct global_opts *g, int argc, char **argv);
int cmd_cancel(const struct global_opts *g, int argc, char **argv);
int cmd_status(const struct global_opts *g, int argc, char **argv);
int cmd_suppress(const struct global_opts *g, int argc, char **argv);
int cmd_unsuppress(const struct global_opts *g, int argc, char **argv);
int cmd_suppressed(const struct global_opts *g, int argc, char **argv);
int cmd_classify(const struct global_opts *g, int argc, char **argv);
int cmd_poll(const struct global_opts *g, int argc, char **argv);
int cmd_run(const struct global_opts *g, int argc, char **argv);
int cmd_digest(const struct global_opts *g, int argc, char **argv);
int cmd_dkim_record(const struct global_opts *g, int argc, char **argv);
int cmd_archive(const struct global_opts *g, int argc, char **argv);
int cmd_subscribers(const struct global_opts *g, int argc, char **argv);
int cmd_import(const struct global_opts *g, int argc, char **argv);
int cmd_export(const struct global_opts *g, int argc, char **argv);

/*
 * herald send RELEASE --test EMAIL... [--as SUBSCRIBER] [--where KEY=VALUE]...:
 * the message that SUBSCRIBER (default: the first of the release's first
 * list in the segment) would get, "[TEST] " before its subject, to each
 * EMAIL; not a delivery. In cmd_preview.c, which renders it. Returns an
 * exit status.
 */
int cmd_send_test(const struct global_opts *g, const char *release_arg, const char *as,
    char **tests, size_t ntests, const struct segment *where);

/*
 * --where KEY=VALUE (send, preview, schedule): adds it to sg. 0, or
 * EXIT_USAGE after saying what is wrong.
 */
int cmd_where(struct segment *sg, const char *arg);

/*
 * Parses a command's options with getopt_long (argv[0] is the command);
 * handles -h/--help itself. Returns the option character, -1 at the end,
 * or '?' after printing a usage error.
 */
extern const struct command *cmd_current;
void cmd_usage(const struct command *c, FILE *out);
/*
 * For a command whose only option is --help: parses it. Returns -1 to go
 * on (optind at the first operand), else the exit status to return: 0
 * after printing the help, 64 after a usage error.
 */
int cmd_help_only(int argc, char **argv);

#endif
