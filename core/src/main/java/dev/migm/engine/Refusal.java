package dev.migm.engine;

/**
 * A policy's reason for leaving a waiting job waiting in a round, as data, in the shape of Fenzo's
 * {@code AssignmentFailure} (the resource that fell short, what the job asked, what was free, and a
 * line for people). The engine keeps what the last round said, until the next; {@code queue} and
 * {@code show} print it. It changes no decision.
 *
 * @param resource what fell short
 * @param asked    what the job asked, in the resource's unit
 * @param free     what was free, in the same unit
 * @param detail   what names the obstacle: for {@link Resource#RESERVED_SLICES_S} the reservation's job
 *                 and GPU ({@code b on gpu0}), for the others the line for people itself (a policy says
 *                 this of many jobs each round: the line is made only when someone reads it)
 */
public record Refusal(Resource resource, double asked, double free, String detail) {
    public Refusal {
        java.util.Objects.requireNonNull(resource, "resource");
        java.util.Objects.requireNonNull(detail, "detail");
    }

    /** One line for people, naming the job or GPU in the way where there is one. */
    public String why() {
        return switch (resource) {
            case RESERVED_SLICES_S -> "would run past the reservation for " + detail + " (expected " + Math.round(asked)
                    + " s, its slices are needed in " + Math.round(free) + " s)";
            default -> detail;
        };
    }

    /** What a job may wait for, with the unit of {@code asked} and {@code free}. */
    public enum Resource {
        /** Instance memory, MiB: the job's need against the largest instance that could exist now. */
        MEMORY_MIB,
        /**
         * Time before reserved slices, seconds: the job's expected run time on the instances it could
         * take now against the time left before a blocked job's reservation needs their slices.
         */
        RESERVED_SLICES_S,
        /** Right-sized instances, a count: those that hold the job at a cost within the policy's slack. */
        RIGHT_SIZED_INSTANCE,
        /** GPUs, a count: a whole GPU (MIG off), one of which is switching its mode for the job. */
        WHOLE_GPU,
        /** Places in the queue, a count: the job waits behind the head of a queue that is not backfilled. */
        QUEUE_ORDER;

        /** The name in JSON: {@code memory_mib}, {@code reserved_slices_s}, .... */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
