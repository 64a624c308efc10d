/*
 * outgoing.h - what an id of the journal names, sent through its own
 * source: a digest ("digest.LIST.TIME", digest.c) or a release (relsrc.c).
 * `herald send ID` and the daemon's due work both come through here, so
 * the engine never needs to know which is which.
 */
#ifndef HERALD_OUTGOING_H
#define HERALD_OUTGOING_H

#include "delivery.h"
#include "relsrc.h"

/* As delivery_run; a->lists apply to a release only. */
void outgoing_send(const struct config *cfg, const struct relsrc_args *a,
    const struct delivery_opts *o, struct delivery_result *r, struct diag *d);

#endif
