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

    private static final Map<String, Function<Setup, SchedulingPolicy>> FACTORIES = new LinkedHashMap<>();

    static {
        register("serial", s -> new SerialPolicy());
        register("static", s -> new StaticPolicy(s.argument().isEmpty() ? "balanced" : s.argument()));
        register("s1", s -> new S1Policy());
        register("s2", s -> new S2Policy());
        register("migm", s -> new MigmPolicy(s.gpus().stream()
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

    private static void register(String name, Function<Setup, SchedulingPolicy> factory) {
        FACTORIES.put(name, factory);
    }

    public static List<String> names() {
        return List.copyOf(FACTORIES.keySet());
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
        Function<Setup, SchedulingPolicy> f = FACTORIES.get(name);
        if (f == null) {
            throw new InvalidInputException("unknown policy " + TextFiles.quote(String.valueOf(name)) + " (known: " + String.join(", ", names()) + ")");
        }
        if (!argument.isEmpty() && !name.equals("static") && !name.equals("migm")) {
            throw new InvalidInputException("policy " + TextFiles.quote(String.valueOf(name)) + " takes no argument (got " + TextFiles.quote(String.valueOf(argument)) + ")");
        }
        if (name.equals("static")) {
            for (GpuModel g : gpus) {
                LayoutSpecs.resolve(g, argument.isEmpty() ? "balanced" : argument);
            }
        }
        return f.apply(new Setup(gpus, argument, rightSizeSlack));
    }
}
