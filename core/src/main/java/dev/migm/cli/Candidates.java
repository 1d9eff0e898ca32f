package dev.migm.cli;

import java.util.Iterator;
import java.util.List;

/**
 * The values shell completion offers for options that name something from a registry (picocli's
 * {@code completionCandidates}): read from the registry itself, so a GPU, policy or suite added there
 * completes without a change here.
 */
final class Candidates {
    private Candidates() {
    }

    /** GPU models by their short names (A100-40GB, H100-80GB, ...), as --gpu takes them. */
    static final class Gpus implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return dev.migm.gpu.Catalog.builtin().models().stream()
                    .map(m -> m.aliases().isEmpty() ? m.name() : m.aliases().getFirst()).iterator();
        }
    }

    /** Scheduling policies, from the registry. */
    static final class Policies implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return dev.migm.schedule.PolicyRegistry.names().iterator();
        }
    }

    /** The bundled suites. */
    static final class Suites implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return dev.migm.sim.Suites.NAMES.iterator();
        }
    }

    /** What --estimate takes (SimulateCommand.options reads the same names). */
    static final class Estimates implements Iterable<String> {
        static final List<String> NAMES = List.of("default", "declared", "oracle", "oracle-memory");

        @Override
        public Iterator<String> iterator() {
            return NAMES.iterator();
        }
    }

    /** Job states, as queue --state takes them. */
    static final class States implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return java.util.Arrays.stream(dev.migm.engine.JobState.values()).map(dev.migm.engine.JobState::label).iterator();
        }
    }
}
