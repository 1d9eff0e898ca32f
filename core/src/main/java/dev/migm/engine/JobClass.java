package dev.migm.engine;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.Locale;

/** Workload classes; each has its own memory estimators (paper, "dynamic memory estimation"). */
public enum JobClass {
    SCIENTIFIC, ML, LLM, OTHER;

    public static JobClass parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("unknown job class " + TextFiles.quote(text) + " (expected scientific, ml, llm or other)");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
