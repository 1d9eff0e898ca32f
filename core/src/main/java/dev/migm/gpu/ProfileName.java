package dev.migm.gpu;

import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The short name of a GPU-instance profile as nvidia-smi prints it: {@code <g>g.<n>gb[attributes]},
 * e.g. {@code 3g.20gb}, {@code 1g.5gb+me}, {@code 1g.10gb+me.all}, {@code 1g.24gb-me}.
 * {@link #parse} accepts the "MIG " prefix of nvidia-smi's Name column and round-trips with
 * {@link #toString}. The memory in the name is nominal (rounded, see go-nvlib
 * {@code getMigMemorySizeGB}); the real size lives in {@link Profile#memoryMib()}.
 */
public record ProfileName(int computeSlices, int memoryGb, String attributes) implements Comparable<ProfileName> {
    private static final Pattern SHAPE = Pattern.compile("(\\d+)g\\.(\\d+)gb((?:[+-][a-z]+(?:\\.[a-z]+)?)*)");
    private static final Pattern COMPUTE_INSTANCE = Pattern.compile("\\d+c\\.\\d+g\\.\\d+gb.*");

    public ProfileName {
        if (computeSlices < 1 || computeSlices > 8) {
            throw new IllegalArgumentException("compute slices must be 1..8, got " + computeSlices);
        }
        if (memoryGb < 1) {
            throw new IllegalArgumentException("memory GB must be positive, got " + memoryGb);
        }
        attributes = attributes == null ? "" : attributes;
    }

    /** Parses {@code 3g.20gb}, {@code MIG 1g.5gb+me}; rejects anything else with a message naming the text. */
    public static ProfileName parse(String text) {
        String trimmed = text == null ? "" : text.trim();
        if (trimmed.regionMatches(true, 0, "MIG ", 0, 4)) {
            trimmed = trimmed.substring(4).trim();
        }
        String lower = trimmed.toLowerCase(java.util.Locale.ROOT);
        if (COMPUTE_INSTANCE.matcher(lower).matches()) {
            throw new InvalidInputException("profile " + TextFiles.quote(String.valueOf(text))
                    + " names a compute-instance profile; migm manages whole GPU instances (expected e.g. 3g.20gb)");
        }
        Matcher m = SHAPE.matcher(lower);
        if (!m.matches()) {
            throw new InvalidInputException("bad profile " + TextFiles.quote(String.valueOf(text)) + ": expected <g>g.<n>gb[+me], e.g. 3g.20gb or 1g.5gb+me");
        }
        try {
            return new ProfileName(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(3));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("bad profile " + TextFiles.quote(String.valueOf(text)) + ": " + e.getMessage());
        }
    }

    /** Whether this is a media-extension variant ({@code +me}, {@code +me.all}). */
    public boolean mediaExtension() {
        return attributes.contains("+me");
    }

    /** Whether the name carries any attribute (+me, +gfx, -me, ...): such profiles are variants. */
    public boolean variant() {
        return !attributes.isEmpty();
    }

    @Override
    public int compareTo(ProfileName o) {
        int c = Integer.compare(computeSlices, o.computeSlices);
        if (c != 0) return c;
        c = Integer.compare(memoryGb, o.memoryGb);
        return c != 0 ? c : attributes.compareTo(o.attributes);
    }

    @Override
    public String toString() {
        return computeSlices + "g." + memoryGb + "gb" + attributes;
    }
}
