package dev.migm.gpu.smi;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.io.InvalidInputException;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Profile;
import dev.migm.gpu.ProfileName;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Turns parsed {@code nvidia-smi mig} output into GPU models and layouts, so that a GPU the catalog
 * lacks (or a driver that reports other sizes) can be used.
 *
 * <p>Placements come from {@code -lgipp}. Without it they are borrowed, profile by profile, from a
 * catalog GPU that has the same profile id and slice counts (all MIG GPUs of one generation share
 * the placement table, mig-hardware.md section 1.1); a profile that no catalog GPU explains is an
 * error asking for {@code -lgipp}.
 */
public final class SmiImport {
    /** nvidia-smi prints GiB with two decimals: two values within this much are the same size. */
    public static final double GIB_TOLERANCE = 0.01;

    private SmiImport() {
    }

    /**
     * How far a profile's memory may drift between driver releases and still be the same GPU: 10%,
     * relative to the catalog's value. Seen in public transcripts: B200 {@code 1g.23gb} at 22.00 and
     * 20.50 GiB (7.3%, gpu-operator PRs #1242 and #1351), GB200 profile ID 19 as {@code 1g.24gb} at
     * 20.00 GiB and, renamed {@code 1g.23gb}, at 22.00 (9.1% of the catalog's 22.00; gpu-operator PR
     * #1303, mig-parted issue #227; mig-hardware.md section 0). H100 NVL and H100 SXM, whose 1g
     * profiles differ by 10.3% ({@code 1g.12gb} 10.75 against {@code 1g.10gb} 9.75 GiB) and larger ones
     * by 17%, stay apart; where two catalog GPUs are within it (H200 and GH200 144GB: 8.6%) the
     * closer one wins.
     */
    public static final double DRIVER_DRIFT = 0.10;

    /**
     * An imported GPU: its model, the catalog model it matches (if any) and what differs from it
     * (driver drift: a profile's memory or name), one line each.
     */
    public record ImportedGpu(int index, GpuModel model, Optional<GpuModel> catalogMatch, List<String> differences) {
        public ImportedGpu {
            differences = List.copyOf(differences);
        }
    }

    /**
     * Builds one model per GPU index in the {@code -lgip} rows. {@code placements} may be empty (no
     * {@code -lgipp} given). Never fails on a well-formed table: a GPU the catalog does not know, or
     * a table that lists only some profiles, still becomes a usable model.
     */
    public static List<ImportedGpu> models(List<SmiParser.ProfileRow> profiles, List<SmiParser.PlacementRow> placements,
                                           Catalog catalog, String nameHint) {
        Map<Integer, List<SmiParser.ProfileRow>> byGpu = profiles.stream()
                .collect(Collectors.groupingBy(SmiParser.ProfileRow::gpu, TreeMap::new, Collectors.toList()));
        List<ImportedGpu> result = new ArrayList<>();
        for (var entry : byGpu.entrySet()) {
            int gpu = entry.getKey();
            List<SmiParser.PlacementRow> gpuPlacements = placements.stream().filter(p -> p.gpu() == gpu).toList();
            result.add(model(gpu, entry.getValue(), gpuPlacements, catalog, nameHint));
        }
        return result;
    }

    private static ImportedGpu model(int gpu, List<SmiParser.ProfileRow> rows, List<SmiParser.PlacementRow> placements,
                                     Catalog catalog, String nameHint) {
        try {
            return buildModel(gpu, rows, placements, catalog, nameHint);
        } catch (IllegalArgumentException e) {
            // The tables parse but do not describe a possible GPU (placements off the GPU, a profile
            // larger than it, two profiles of one name).
            throw new InvalidInputException("GPU " + gpu + ": the -lgip/-lgipp tables describe no possible GPU: "
                    + e.getMessage());
        }
    }

    private static ImportedGpu buildModel(int gpu, List<SmiParser.ProfileRow> rows,
                                          List<SmiParser.PlacementRow> placements, Catalog catalog, String nameHint) {
        for (SmiParser.PlacementRow p : placements) {
            if (rows.stream().noneMatch(r -> r.id() == p.profileId())) {
                throw new InvalidInputException("GPU " + gpu + ": -lgipp line " + p.line() + " names profile ID "
                        + p.profileId() + ", which -lgip does not list");
            }
        }
        Optional<GpuModel> match = bestMatch(rows, catalog);
        List<Profile> profiles = new ArrayList<>();
        int memorySlices = 0;
        long largestMib = rows.stream().mapToLong(SmiParser.ProfileRow::memoryMib).max().orElse(0);
        List<SmiParser.ProfileRow> spanning = new ArrayList<>();
        for (SmiParser.ProfileRow row : rows) {
            List<Integer> starts;
            int size;
            Optional<SmiParser.PlacementRow> placement = placements.stream()
                    .filter(p -> p.profileId() == row.id()).findFirst();
            Optional<Profile> known = match.flatMap(m -> m.profileById(row.id()));
            if (placement.isPresent()) {
                starts = placement.get().starts();
                size = placement.get().size();
            } else if (known.isPresent()) {
                starts = known.get().starts();
                size = known.get().memorySlices();
            } else {
                Optional<Profile> twin = geometryTwin(row, catalog);
                if (twin.isEmpty()) {
                    twin = siblingGeometry(row, rows, placements, catalog);
                }
                if (twin.isEmpty() && row.total() == 1 && row.memoryMib() == largestMib && !row.name().variant()) {
                    // A profile that can exist once and holds the GPU's largest memory spans the GPU:
                    // its one placement starts at slice 0 and covers every memory slice. How many
                    // there are is known once the other profiles are placed (below).
                    spanning.add(row);
                    continue;
                }
                if (twin.isEmpty()) {
                    throw new InvalidInputException("GPU " + gpu + ": no placements for profile " + row.name()
                            + " (ID " + row.id() + ") and no catalog GPU has its geometry; pass the -lgipp output too");
                }
                starts = twin.get().starts();
                size = twin.get().memorySlices();
            }
            memorySlices = Math.max(memorySlices, starts.getLast() + size);
            int nvmlEnum = known.map(Profile::nvmlEnum).orElse(-1);
            profiles.add(new Profile(row.name(), row.id(), nvmlEnum, row.name().computeSlices(), size,
                    row.memoryMib(), row.sms(), new Profile.Engines(row.copyEngines(), row.decoders(),
                    row.encoders(), row.jpeg(), row.ofa()), row.total(), starts));
        }
        if (!spanning.isEmpty()) {
            // The GPU's memory slices as the other profiles place them; with none placed, 8, the
            // memory slices of every MIG GPU but the A30 (mig-hardware.md section 1).
            int span = memorySlices > 0 ? memorySlices : SPAN_SLICES_WITHOUT_OTHERS;
            for (SmiParser.ProfileRow row : spanning) {
                profiles.add(new Profile(row.name(), row.id(), -1, row.name().computeSlices(), span, row.memoryMib(),
                        row.sms(), new Profile.Engines(row.copyEngines(), row.decoders(), row.encoders(), row.jpeg(),
                        row.ofa()), row.total(), List.of(0)));
            }
            memorySlices = span;
        }
        if (match.isPresent()) {
            GpuModel m = match.get();
            GpuModel model = new GpuModel(m.name(), m.aliases(), m.pciDeviceIds(), m.memorySlices(), m.computeSlices(),
                    m.sms(), m.memoryMib(), m.idleWatts(), m.maxWatts(),
                    "nvidia-smi -lgip import (matches catalog " + m.name() + ")", profiles);
            return new ImportedGpu(gpu, model, match, differences(rows, m));
        }
        return new ImportedGpu(gpu, unknownModel(gpu, profiles, memorySlices, catalog, nameHint), Optional.empty(),
                List.of());
    }

    /**
     * A GPU the catalog does not know. The MIG geometry comes from the table: memory slices from the
     * placements, compute slices from the largest of the profiles' compute slices and the count of
     * 1-compute-slice instances (a {@code 1g} profile fits once per compute slice: 7 on A100 to B200,
     * 4 on A30). The whole GPU's memory and SMs are those of a profile spanning all slices when the
     * table lists one; otherwise they are scaled up from the largest profile and the source says so.
     */
    private static GpuModel unknownModel(int gpu, List<Profile> profiles, int memorySlices, Catalog catalog,
                                         String nameHint) {
        int computeSlices = 0;
        for (Profile p : profiles) {
            computeSlices = Math.max(computeSlices, p.computeSlices());
            if (p.computeSlices() == 1) computeSlices = Math.max(computeSlices, p.maxCount());
        }
        // The largest instances say most about the whole GPU (small ones differ: a B200's 1g.45gb has
        // 30 SMs, its 1g.23gb 18).
        Profile byMemory = profiles.stream().max(Comparator.comparingInt(Profile::memorySlices)
                .thenComparingLong(Profile::memoryMib)).orElseThrow();
        Profile bySms = profiles.stream().max(Comparator.comparingInt(Profile::computeSlices)
                .thenComparingInt(Profile::sms)).orElseThrow();
        boolean fullMemory = byMemory.memorySlices() == memorySlices;
        boolean fullCompute = bySms.computeSlices() == computeSlices;
        long memoryMib = Math.round((double) byMemory.memoryMib() / byMemory.memorySlices() * memorySlices);
        int sms = (int) Math.round((double) bySms.sms() / bySms.computeSlices() * computeSlices);
        String name = (nameHint == null || nameHint.isBlank()) ? "imported-gpu" + gpu : nameHint;
        GpuModel powerTemplate = catalog.models().stream()
                .min(Comparator.comparingLong(m -> Math.abs(m.memoryMib() - memoryMib))).orElseThrow();
        String source = "nvidia-smi -lgip/-lgipp import; whole-GPU memory " + (fullMemory ? "and" : "scaled up from "
                + byMemory.name() + " (estimate),") + " SMs " + (fullCompute ? "from " + bySms.name()
                : "scaled up from " + bySms.name() + " (estimate)") + "; power model borrowed from " + powerTemplate.name()
                + " (assumption)";
        return new GpuModel(name, List.of(), List.of(), memorySlices, computeSlices, sms, memoryMib,
                powerTemplate.idleWatts(), powerTemplate.maxWatts(), source, profiles);
    }

    /**
     * The catalog GPU whose profiles explain every row: the same profile ID with the same compute
     * slices, SMs and instance count, and memory within {@link #DRIVER_DRIFT}; the closest in memory
     * when several do.
     */
    public static Optional<GpuModel> bestMatch(List<SmiParser.ProfileRow> rows, Catalog catalog) {
        GpuModel best = null;
        double bestDrift = Double.POSITIVE_INFINITY;
        for (GpuModel m : catalog.models()) {
            double drift = drift(rows, m);
            if (drift <= DRIVER_DRIFT && drift < bestDrift) {
                best = m;
                bestDrift = drift;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The largest relative memory difference of the rows from the model's profiles; infinity when a row does not fit. */
    private static double drift(List<SmiParser.ProfileRow> rows, GpuModel model) {
        double worst = 0;
        for (SmiParser.ProfileRow row : rows) {
            Optional<Profile> p = model.profileById(row.id());
            if (p.isEmpty() || p.get().computeSlices() != row.name().computeSlices() || p.get().sms() != row.sms()
                    || p.get().maxCount() != row.total() || p.get().name().variant() != row.name().variant()) {
                return Double.POSITIVE_INFINITY;
            }
            worst = Math.max(worst, Math.abs(row.memoryMib() - p.get().memoryMib()) / (double) p.get().memoryMib());
        }
        return worst;
    }

    /** Whether every row is one of the model's profiles exactly (memory within nvidia-smi's rounding). */
    public static boolean matches(List<SmiParser.ProfileRow> rows, GpuModel model) {
        for (SmiParser.ProfileRow row : rows) {
            Optional<Profile> p = model.findProfile(row.name());
            if (p.isEmpty() || p.get().id() != row.id() || p.get().sms() != row.sms()
                    || p.get().maxCount() != row.total()
                    || Math.abs(p.get().memoryMib() / 1024.0 - row.memoryGib()) > GIB_TOLERANCE) {
                return false;
            }
        }
        return true;
    }

    private static List<String> differences(List<SmiParser.ProfileRow> rows, GpuModel model) {
        List<String> out = new ArrayList<>();
        for (SmiParser.ProfileRow row : rows) {
            Profile p = model.profileById(row.id()).orElseThrow();
            if (!p.name().equals(row.name())) {
                out.add("profile ID " + row.id() + " is " + row.name() + " here, " + p.name() + " in the catalog");
            }
            if (Math.abs(p.memoryMib() / 1024.0 - row.memoryGib()) > GIB_TOLERANCE) {
                out.add(String.format(java.util.Locale.ROOT, "%s has %.2f GiB here, %.2f GiB in the catalog (driver drift;"
                        + " using %.2f)", row.name(), row.memoryGib(), p.memoryMib() / 1024.0, row.memoryGib()));
            }
        }
        int missing = model.profiles().size() - (int) rows.stream().map(SmiParser.ProfileRow::id).distinct().count();
        if (missing > 0) {
            out.add(missing + " catalog profile(s) not in this table (an older driver or a partial output)");
        }
        return out;
    }

    /**
     * The geometry of a variant ({@code +gfx}, {@code +me.all}) from its base profile in the same
     * table: the row of the same size (memory and compute slices) whose placements are known. A
     * variant adds engines, not slices.
     */
    private static Optional<Profile> siblingGeometry(SmiParser.ProfileRow row, List<SmiParser.ProfileRow> rows,
                                                     List<SmiParser.PlacementRow> placements, Catalog catalog) {
        for (SmiParser.ProfileRow other : rows) {
            if (other == row || other.name().variant() || other.memoryMib() != row.memoryMib()
                    || other.name().computeSlices() != row.name().computeSlices()) {
                continue;
            }
            Optional<SmiParser.PlacementRow> p = placements.stream().filter(x -> x.profileId() == other.id()).findFirst();
            if (p.isPresent()) {
                return Optional.of(new Profile(row.name(), row.id(), -1, row.name().computeSlices(), p.get().size(),
                        row.memoryMib(), row.sms(), new Profile.Engines(0, 0, 0, 0, 0), row.total(), p.get().starts()));
            }
            Optional<Profile> twin = geometryTwin(other, catalog);
            if (twin.isPresent()) {
                return twin;
            }
        }
        return Optional.empty();
    }

    /** The memory slices of a GPU whose only profile spans it (every MIG GPU but the A30 has 8). */
    static final int SPAN_SLICES_WITHOUT_OTHERS = 8;

    /** A catalog profile with the row's ID, compute slices and count: MIG GPUs of one generation share placements. */
    private static Optional<Profile> geometryTwin(SmiParser.ProfileRow row, Catalog catalog) {
        return catalog.models().stream().flatMap(m -> m.profiles().stream())
                .filter(p -> p.id() == row.id() && p.computeSlices() == row.name().computeSlices()
                        && p.maxCount() == row.total())
                .findFirst();
    }

    /** The layout of one GPU from {@code -lgi} rows, checked against the model. */
    public static Layout layout(List<SmiParser.InstanceRow> rows, int gpu, GpuModel model, String source) {
        List<Instance> instances = new ArrayList<>();
        for (SmiParser.InstanceRow row : rows) {
            if (row.gpu() != gpu) {
                continue;
            }
            Profile profile = model.profileById(row.profileId()).orElseThrow(() -> new InvalidInputException(
                    source + ":" + row.line() + ": profile ID " + row.profileId() + " is not one of " + model.name() + "'s"));
            ProfileName printed = row.name();
            if (!profile.name().equals(printed)) {
                throw new InvalidInputException(source + ":" + row.line() + ": profile ID " + row.profileId()
                        + " is " + profile.name() + " on " + model.name() + ", the line says " + printed);
            }
            if (row.placement().size() != profile.memorySlices()) {
                throw new InvalidInputException(source + ":" + row.line() + ": placement " + row.placement()
                        + " has size " + row.placement().size() + ", " + profile + " takes " + profile.memorySlices());
            }
            try {
                instances.add(new Instance(profile, row.placement().start()));
            } catch (InvalidInputException e) {
                throw new InvalidInputException(source + ":" + row.line() + ": " + e.getMessage());
            }
        }
        try {
            return new Layout(model, instances);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(source + ": GPU " + gpu + ": " + e.getMessage());
        }
    }
}
