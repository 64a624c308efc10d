/*
 * outgoing.c - a release or a digest, by its id; see outgoing.h.
 */
#include "outgoing.h"

#include "digest.h"

void
outgoing_send(const struct config *cfg, const struct relsrc_args *a,
    const struct delivery_opts *o, struct delivery_result *r, struct diag *d)
{
	if (digest_is_id(a->release_arg))
		digest_resume(cfg, a->release_arg, o, r, d);
	else
		relsrc_send(cfg, a, o, r, d);
}
