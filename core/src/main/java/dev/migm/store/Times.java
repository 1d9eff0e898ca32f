package dev.migm.store;

import java.time.Instant;
import java.util.Locale;

/**
 * Times as people read them: wall-clock ISO-8601 in UTC to the millisecond, with the engine's
 * modelled time beside it where the two differ (an emulated GPU run faster than the clock).
 */
public final class Times {
    private Times() {
    }

    /** A Unix time as ISO-8601 UTC, {@code 2026-12-07T01:23:45.678Z}. */
    public static String iso(double unixS) {
        return ISO.format(Instant.ofEpochMilli(Math.round(unixS * 1000)));
    }

    private static final java.time.format.DateTimeFormatter ISO = java.time.format.DateTimeFormatter
            .ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(java.time.ZoneOffset.UTC);

    /**
     * One event's line: its wall-clock time, the modelled time when it is more than a second away
     * from it, its kind and its words.
     */
    public static String line(double wallS, double modelledS, String kind, String text) {
        String model = Math.abs(modelledS - wallS) > 1 ? " (modelled " + iso(modelledS) + ")" : "";
        return String.format(Locale.ROOT, "%s%s %s: %s", iso(wallS), model, kind, text);
    }
}
