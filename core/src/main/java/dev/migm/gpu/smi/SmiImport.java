package dev.migm.gpu.smi;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.gpu.InvalidInputException;
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

    /** An imported GPU: its model, and the catalog model it matches, if any. */
    public record ImportedGpu(int index, GpuModel model, Optional<GpuModel> catalogMatch) {
    }

    /**
     * Builds one model per GPU index in the {@code -lgip} rows. {@code placements} may be empty (no
     * {@code -lgipp} given).
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
        Optional<GpuModel> match = catalog.models().stream().filter(m -> matches(rows, m)).findFirst();
        List<Profile> profiles = new ArrayList<>();
        int memorySlices = 0;
        for (SmiParser.ProfileRow row : rows) {
            List<Integer> starts;
            int size;
            Optional<SmiParser.PlacementRow> placement = placements.stream()
                    .filter(p -> p.profileId() == row.id()).findFirst();
            if (placement.isPresent()) {
                starts = placement.get().starts();
                size = placement.get().size();
            } else {
                Optional<Profile> twin = geometryTwin(row, catalog);
                if (twin.isEmpty()) {
                    throw new InvalidInputException("GPU " + gpu + ": no placements for profile " + row.name()
                            + " (ID " + row.id() + ") and no catalog GPU has its geometry; pass the -lgipp output too");
                }
                starts = twin.get().starts();
                size = twin.get().memorySlices();
            }
            memorySlices = Math.max(memorySlices, starts.getLast() + size);
            int nvmlEnum = match.flatMap(m -> m.profileById(row.id())).map(Profile::nvmlEnum).orElse(-1);
            profiles.add(new Profile(row.name(), row.id(), nvmlEnum, row.name().computeSlices(), size,
                    row.memoryMib(), row.sms(), new Profile.Engines(row.copyEngines(), row.decoders(),
                    row.encoders(), row.jpeg(), row.ofa()), row.total(), starts));
        }
        for (SmiParser.PlacementRow p : placements) {
            if (rows.stream().noneMatch(r -> r.id() == p.profileId())) {
                throw new InvalidInputException("GPU " + gpu + ": -lgipp line " + p.line() + " names profile ID "
                        + p.profileId() + ", which -lgip does not list");
            }
        }
        Profile largest = profiles.stream().max(Comparator.comparingLong(Profile::memoryMib)).orElseThrow();
        int computeSlices = largest.computeSlices();
        String name;
        if (match.isPresent()) {
            name = match.get().name();
        } else {
            name = (nameHint == null || nameHint.isBlank()) ? "imported-gpu" + gpu : nameHint;
        }
        GpuModel powerTemplate = match.orElseGet(() -> catalog.models().stream()
                .min(Comparator.comparingLong(m -> Math.abs(m.largestProfile().memoryMib() - largest.memoryMib())))
                .orElseThrow());
        String source = match.map(m -> "nvidia-smi -lgip/-lgipp import (matches catalog " + m.name() + ")")
                .orElse("nvidia-smi -lgip/-lgipp import; whole-GPU SMs and memory taken from the largest profile,"
                        + " power model borrowed from " + powerTemplate.name() + " (assumption)");
        GpuModel model = new GpuModel(name, List.of(), match.map(GpuModel::pciDeviceIds).orElse(List.of()),
                memorySlices, computeSlices, match.map(GpuModel::sms).orElse(largest.sms()),
                match.map(GpuModel::memoryMib).orElse(largest.memoryMib()), powerTemplate.idleWatts(),
                powerTemplate.maxWatts(), source, profiles);
        return new ImportedGpu(gpu, model, match);
    }

    /** Whether every profile in the rows is one of the model's, with its id, SMs, count and memory. */
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
            instances.add(new Instance(profile, row.placement().start()));
        }
        return new Layout(model, instances);
    }
}
