package dev.migm.schedule;

import dev.migm.engine.SchedulingPolicy;
import dev.migm.gpu.GpuModel;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The scheduling policies, by name. Explicit registration, no classpath scanning (the Caffeine
 * simulator's {@code Registry}). A name may carry an argument after a colon: {@code static:7x1g}
 * (the layout), {@code migm:5} (the whole-GPU delay bound).
 */
public final class PolicyRegistry {
    /** What a policy factory gets: the node's GPUs, the name's argument (may be empty), migm's right-size slack. */
    public record Setup(List<GpuModel> gpus, String argument, double rightSizeSlack) {
    }

    /**
     * A policy by name: what its argument after the colon means ({@code null}: it takes none), and
     * its factory, which checks the argument itself and throws {@link InvalidInputException} naming it.
     */
    private record Entry(String argument, Function<Setup, SchedulingPolicy> factory) {
    }

    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

    static {
        register("serial", null, s -> new SerialPolicy());
        register("static", "the layout (default balanced)", s -> {
            String layout = s.argument().isEmpty() ? "balanced" : s.argument();
            for (GpuModel g : s.gpus()) {
                LayoutSpecs.resolve(g, layout);
            }
            return new StaticPolicy(layout);
        });
        register("s1", null, s -> new S1Policy());
        register("s2", null, s -> new S2Policy());
        register("migm", "the whole-GPU delay bound (default " + MigmPolicy.DEFAULT_WHOLE_GPU_DELAY + ")",
                s -> new MigmPolicy(s.gpus().stream()
                        .mapToLong(g -> g.plainProfiles().stream().mapToLong(p -> p.memoryMib())
                                .filter(m -> m < g.largestProfile().memoryMib()).max().orElse(0))
                        .min().orElse(0), s.argument().isEmpty() ? MigmPolicy.DEFAULT_WHOLE_GPU_DELAY : delay(s.argument()),
                        s.rightSizeSlack()));
    }

    private PolicyRegistry() {
    }

    private static double delay(String argument) {
        try {
            double d = Double.parseDouble(argument);
            if (d >= 0) return d;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new InvalidInputException("policy migm: the argument is the whole-GPU delay bound, a number >= 0"
                + " (multiples of the waiting job's run time), got " + TextFiles.quote(String.valueOf(argument)) + "");
    }

    private static void register(String name, String argument, Function<Setup, SchedulingPolicy> factory) {
        ENTRIES.put(name, new Entry(argument, factory));
    }

    public static List<String> names() {
        return List.copyOf(ENTRIES.keySet());
    }

    /** The policy a name denotes, e.g. {@code migm} or {@code static:balanced}. */
    public static SchedulingPolicy create(String nameWithArgument, List<GpuModel> gpus) {
        return create(nameWithArgument, gpus, MigmPolicy.DEFAULT_RIGHT_SIZE_SLACK);
    }

    /** As {@link #create(String, List)}, with migm's right-size slack set (sweeps). */
    public static SchedulingPolicy create(String nameWithArgument, List<GpuModel> gpus, double rightSizeSlack) {
        String text = nameWithArgument.trim();
        int colon = text.indexOf(':');
        String name = colon < 0 ? text : text.substring(0, colon);
        String argument = colon < 0 ? "" : text.substring(colon + 1);
        Entry entry = ENTRIES.get(name);
        if (entry == null) {
            throw new InvalidInputException("unknown policy " + TextFiles.quote(String.valueOf(name)) + " (known: " + String.join(", ", names()) + ")");
        }
        if (!argument.isEmpty() && entry.argument() == null) {
            throw new InvalidInputException("policy " + TextFiles.quote(String.valueOf(name)) + " takes no argument (got " + TextFiles.quote(String.valueOf(argument)) + ")");
        }
        return entry.factory().apply(new Setup(gpus, argument, rightSizeSlack));
    }
}
