package dev.migm.schedule;

import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Layouts;
import dev.migm.gpu.Profile;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names for fixed layouts, resolved per GPU model:
 * <ul>
 *   <li>{@code balanced}: gpu-operator's {@code all-balanced} (2 x the 1-slice 1g, 1 x 2g, 1 x 3g;
 *       A30: 2 x 1g + 1 x 2g), mig-hardware.md section 1.3;</li>
 *   <li>{@code 7x1g}, {@code 2x3g}, {@code 4x1g.10gb}, {@code 2x1g.5gb,1x2g.10gb}: counts of profiles,
 *       where {@code Ng} alone means the plain profile with N compute slices and the fewest memory slices;</li>
 *   <li>{@code 3g.20gb@0,3g.20gb@4}: explicit placements ({@code +} before a digit may stand for the comma, so that
 *       the spec fits in a comma-separated policy list: {@code static:3g.20gb@0+3g.20gb@4});</li>
 *   <li>{@code full}: the largest profile.</li>
 * </ul>
 */
public final class LayoutSpecs {
    private static final Pattern COUNT = Pattern.compile("(\\d+)x(.+)");

    private LayoutSpecs() {
    }

    public static Layout resolve(GpuModel gpu, String spec) {
        String s = spec.trim().replaceAll("\\+(?=\\d)", ",");
        if (s.contains(",,") || s.startsWith(",")) {
            throw new InvalidInputException("layout " + TextFiles.quote(String.valueOf(spec)) + ": empty entry");
        }
        if (s.contains("@")) {
            return Layout.parse(gpu, s);
        }
        if (s.equals("balanced")) {
            Map<Profile, Integer> counts = new LinkedHashMap<>();
            counts.put(bySlices(gpu, 1, spec), 2);
            counts.put(bySlices(gpu, 2, spec), 1);
            if (gpu.computeSlices() >= 7) {
                counts.put(bySlices(gpu, 3, spec), 1);
            }
            return place(gpu, counts, spec);
        }
        if (s.equals("full")) {
            return Layout.empty(gpu).with(new dev.migm.gpu.Instance(gpu.largestProfile(), gpu.largestProfile().starts().getFirst()));
        }
        Map<Profile, Integer> counts = new LinkedHashMap<>();
        for (String part : s.split(",")) {
            Matcher m = COUNT.matcher(part.trim());
            if (!m.matches()) {
                throw new InvalidInputException("layout " + TextFiles.quote(String.valueOf(spec)) + ": expected balanced, full, counts like 7x1g or"
                        + " 2x1g.5gb,1x3g.20gb, or placements like 3g.20gb@0,3g.20gb@4");
            }
            int n;
            try {
                n = Integer.parseInt(m.group(1));
            } catch (NumberFormatException e) {
                n = Integer.MAX_VALUE;
            }
            if (n < 1 || n > 64) {
                throw new InvalidInputException("layout " + TextFiles.quote(spec) + ": a count must be 1 to 64,"
                        + " got " + TextFiles.quote(m.group(1)));
            }
            String name = m.group(2).trim();
            Profile p = name.matches("\\d{1,2}g") ? bySlices(gpu, Integer.parseInt(name.substring(0, name.length() - 1)), spec)
                    : gpu.profile(name);
            counts.merge(p, n, Integer::sum);
        }
        return place(gpu, counts, spec);
    }

    private static Layout place(GpuModel gpu, Map<Profile, Integer> counts, String spec) {
        return Layouts.placeCounts(gpu, counts).orElseThrow(() -> new InvalidInputException(
                "layout " + TextFiles.quote(String.valueOf(spec)) + ": no legal layout of " + gpu.name() + " holds " + counts));
    }

    private static Profile bySlices(GpuModel gpu, int computeSlices, String spec) {
        return gpu.plainProfiles().stream().filter(p -> p.computeSlices() == computeSlices).findFirst()
                .orElseThrow(() -> new InvalidInputException("layout " + TextFiles.quote(String.valueOf(spec)) + ": " + gpu.name()
                        + " has no " + computeSlices + "g profile"));
    }
}
