/*
 * members.h - a list as its readers have it: the subscribers of its file
 * plus the members the journal keeps for it (those who joined: store.h),
 * minus suppressions. The file wins: a member whose address the file has
 * is that subscriber, as the file says.
 *
 * Every reader of a whole list keeps that rule here, the same way: it
 * opens the list's members, tells members_file each address of the file
 * as it reads the file, then takes the members that remain from
 * members_each. Sends, their dry runs and digests do so; herald
 * subscribers and export walk the whole list with members_walk.
 *
 * And members_import: a CSV file into the list's members.
 *
 * Memory: 16 bytes a member (a hash of its address), and the file's
 * addresses that hash like a member's, kept to tell them apart exactly.
 */
#ifndef HERALD_MEMBERS_H
#define HERALD_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "list.h"
#include "store.h"

struct members {
	struct store *st;		/* NULL: no journal, no members */
	char *list;
	uint64_t *hash;			/* the members' addresses, hashed; 0 empty */
	size_t nhash, caphash;
	char **shadow;			/* addresses of the file that hash like a member's */
	size_t nshadow, capshadow;
	int sorted;
};

/*
 * Reads the hashes of list's members from st (NULL: there are none).
 * 0, or -1 on a journal error (store_error). members_close it either way.
 */
int members_open(struct members *m, struct store *st, const char *list);
/* How many members the list has. */
size_t members_count(const struct members *m);
/* One address (canonical) of the list's file: a member with it is not handed out. */
void members_file(struct members *m, const char *address);
/*
 * Each member whose address the file does not have, in the order they
 * joined, as store_member_each hands them (nonzero from fn stops: 1).
 * 0, or -1 on a journal error.
 */
int members_each(struct members *m, int (*fn)(void *arg, const struct store_member *mb),
    void *arg);
/* Accepts a zeroed struct. */
void members_close(struct members *m);

/* One subscriber of a whole list, valid during the callback only. */
struct members_entry {
	const char *email;		/* canonical */
	const char *name, *lang, *tz;	/* NULL: none */
	int digest;			/* delivery: digest */
	const struct ynode *fields;	/* the mapping templates see: email, name, fields */
	unsigned line;			/* from the file: its line; 0 for a member */
	const struct store_member *member;	/* a member: its consent record; else NULL */
	int suppressed;			/* for the list or for every list */
	const char *reason;		/* the suppression's reason, when suppressed */
};

/*
 * Every subscriber of list list_id, whose file is list_path, to fn: the
 * file's first, in its order, then the members it does not have, each
 * with its suppression when st is not NULL. fn returns nonzero to stop.
 * The file is read as fn is called: read it once with list_load first
 * when an error must come before any output. info is the file's
 * (list_info_free it whatever the result). 0; 1 stopped; -1 after
 * reporting the list's errors to d, or on a journal error (store_error;
 * d unchanged).
 */
int members_walk(const char *list_path, const char *list_id, struct store *st,
    struct list_info *info,
    int (*fn)(void *arg, const struct list_info *info, const struct members_entry *e),
    void *arg, struct diag *d);

/* What an import did. */
struct members_import {
	size_t rows;			/* rows below the header, blank ones not counted */
	size_t added, updated, same;	/* of the good rows */
	size_t bad;			/* reported and skipped */
	size_t suppressed;		/* good rows whose address is suppressed (and stays so) */
	int header_bad;			/* nothing imported: the header is wrong */
};

/*
 * Imports the CSV file at path into the members of the list info
 * describes (list_load's, whole), in one transaction of st, at now: a
 * header row (email required; name, lang, tz, delivery herald's own, in
 * any case; every other column a template field, as the list allows),
 * then a member a row, how "import" with ref "PATH:LINE". An empty cell
 * is no value. Each bad row is reported to d as PATH:LINE: message and
 * skipped; a bad header imports nothing. A member already there gets the
 * row's name, fields, lang, tz and delivery, and keeps how it joined.
 * 0 (see *res), or -1: the file cannot be read (reported to d) or the
 * journal failed (store_error; nothing imported).
 */
int members_import(struct store *st, const struct list_info *info, const char *path,
    long long now, struct members_import *res, struct diag *d);

#endif
