package dev.migm.service;

import dev.migm.engine.JobState;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.store.NodeJournal;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which jobs a client asked for ({@code GET /v1/jobs?user=U&state=S,S&since=T}, {@code migm queue
 * --user --state --since}): a job passes when it is the user's, in one of the states, and was
 * submitted or ended at or after {@code since} (seconds on the journal's clock, the Unix epoch). An
 * ended state asked for by name brings ended jobs in without {@code all}.
 */
public record JobFilter(Optional<String> user, Set<String> states, OptionalDouble sinceS) {
    public static final JobFilter NONE = new JobFilter(Optional.empty(), Set.of(), OptionalDouble.empty());

    public JobFilter {
        states = Set.copyOf(states);
    }

    /** The filter of a request's parameters (each may be absent); a bad value is refused with one line. */
    public static JobFilter of(String user, String states, String since) {
        Set<String> wanted = new TreeSet<>();
        if (states != null && !states.isBlank()) {
            for (String s : states.split(",")) {
                String label = s.strip().toLowerCase(Locale.ROOT);
                if (java.util.Arrays.stream(JobState.values()).noneMatch(js -> js.label().equals(label))) {
                    throw new InvalidInputException("state: expected one or more of " + String.join(", ",
                            java.util.Arrays.stream(JobState.values()).map(JobState::label).toList()) + ", got "
                            + TextFiles.quote(s.strip()));
                }
                wanted.add(label);
            }
        }
        OptionalDouble sinceS = OptionalDouble.empty();
        if (since != null && !since.isBlank()) {
            double s;
            try {
                s = Double.parseDouble(since);
            } catch (NumberFormatException e) {
                s = Double.NaN;
            }
            if (!Double.isFinite(s)) {
                throw new InvalidInputException("since: expected seconds since the Unix epoch, got " + TextFiles.quote(since));
            }
            sinceS = OptionalDouble.of(s);
        }
        return new JobFilter(Optional.ofNullable(user).filter(u -> !u.isBlank()), wanted, sinceS);
    }

    /** Whether ended jobs must be read to answer it. */
    public boolean wantsEnded() {
        return states.stream().anyMatch(s -> JobState.valueOf(s.toUpperCase(Locale.ROOT)).ended());
    }

    public boolean matches(NodeJournal.JobRow job) {
        if (user.isPresent() && !user.get().equals(job.user())) return false;
        if (!states.isEmpty() && !states.contains(job.state())) return false;
        if (sinceS.isPresent()) {
            double t = sinceS.getAsDouble();
            return job.submittedAtS() >= t || (job.endedAtS() != null && job.endedAtS() >= t);
        }
        return true;
    }
}
