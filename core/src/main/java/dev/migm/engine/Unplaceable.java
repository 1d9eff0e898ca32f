package dev.migm.engine;

import java.util.List;

/**
 * Why a job does not run now, in the shape of Fenzo's {@code AssignmentFailure}: the resource asked
 * for, what could be had, and what stands in the way.
 *
 * @param jobId         the job
 * @param needMib       memory the job needs
 * @param largestNowMib the largest instance memory that could exist now on any GPU without touching
 *                      a busy instance (0 when none)
 * @param blockers      busy instances in the way, as {@code gpuN:profile@start (job id)}
 * @param refusal       the policy's own reason from its last round, or null where it gave none
 * @param message       one line for people (the policy's reason first, then the capacity side)
 */
public record Unplaceable(String jobId, long needMib, long largestNowMib, List<String> blockers, Refusal refusal,
                          String message) {
    public Unplaceable {
        blockers = List.copyOf(blockers);
    }
}
