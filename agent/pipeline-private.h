/* mailsift - the pipeline's internals, shared by pipeline.c (plan and
 * execute) and pipeline-policy.c (the policy applied to the script's
 * actions). Included by those two files only: the API is pipeline.h. */
#pragma once

#include "pipeline.h"

/* Add a note to @plan: why it differs from what the script said. */
void ms_plan_note (MsPlan *plan, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* The header as action @a saw it: with the header edits the script made
 * before it. Transfer none. */
const MsHeaderView *ms_plan_view_for (MsPlan *plan, const MsAction *a);

/* Make the filter's result in @plan safe to carry out: each action
 * passes the policy for its kind, or is changed or dropped with a note. */
void ms_pipeline_apply_policy (MsPipeline *pipeline, MsPlan *plan);
