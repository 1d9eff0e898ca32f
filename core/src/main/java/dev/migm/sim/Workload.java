package dev.migm.sim;

import dev.migm.workload.TraceJob;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A trace's jobs as the simulator takes them: in arrival order (submit time; jobs submitted at the
 * same time in trace order), one pass per run. A workload in memory ({@link #of}) holds its jobs; a
 * trace file sorted by submit time is streamed ({@link TraceReader#open}), so that a run holds only
 * the jobs that arrived and have not ended.
 */
public interface Workload {
    /** How many jobs. */
    int size();

    /** The jobs in arrival order; close the stream when done (a file-backed workload holds the file open). */
    Stream<TraceJob> arrivals();

    /** The same jobs, each changed by {@code change} (a what-if about the workload; ids and times kept). */
    default Workload map(UnaryOperator<TraceJob> change) {
        Workload inner = this;
        return new Workload() {
            @Override
            public int size() {
                return inner.size();
            }

            @Override
            public Stream<TraceJob> arrivals() {
                return inner.arrivals().map(change);
            }
        };
    }

    /** Jobs held in memory, in any order; ids must be unique (the engine forgets ended jobs' ids). */
    static Workload of(List<TraceJob> jobs) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (TraceJob j : jobs) {
            if (!ids.add(j.id())) throw new IllegalArgumentException("duplicate job id " + j.id());
        }
        List<TraceJob> sorted = jobs.stream().sorted(Comparator.comparingDouble(j -> j.spec().submitS())).toList();
        return new Workload() {
            @Override
            public int size() {
                return sorted.size();
            }

            @Override
            public Stream<TraceJob> arrivals() {
                return sorted.stream();
            }
        };
    }
}
