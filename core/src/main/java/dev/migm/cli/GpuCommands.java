package dev.migm.cli;

import dev.migm.gpu.Catalog;
import dev.migm.gpu.GpuModel;
import dev.migm.gpu.Instance;
import dev.migm.io.InvalidInputException;
import dev.migm.io.TextFiles;
import dev.migm.gpu.Layout;
import dev.migm.gpu.Layouts;
import dev.migm.gpu.MigParted;
import dev.migm.gpu.Profile;
import dev.migm.gpu.smi.SmiImport;
import dev.migm.gpu.smi.SmiParser;
import dev.migm.partition.GpuState;
import dev.migm.partition.Plan;
import dev.migm.partition.PlanOp;
import dev.migm.partition.Planner;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Verbs about the hardware model: catalog, layouts, planning, nvidia-smi and mig-parted files. */
final class GpuCommands {
    private GpuCommands() {
    }


    abstract static class Base implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }
    }

    @Command(name = "gpus", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm gpus", "  migm gpus --json | jq -r '.gpus[].name'"},
        description = "List the GPU models of the catalog.")
    static final class Gpus extends Base {
        @Option(names = "--json", description = "JSON output")
        boolean json;

        @Option(names = "--backend", defaultValue = "catalog", description = "catalog (the models migm knows), nvml (the"
                + " GPUs NVML sees, with MIG mode, memory, power, energy, profiles and live layout), emulated (the"
                + " catalog and the emulated GPU's instances under --home), daemon (the running daemon's live layout with"
                + " who runs where; --socket or HOME/migm.sock), or auto (NVML when it initialises, else emulated,"
                + " saying why) (default ${DEFAULT-VALUE})")
        String backend;

        @Option(names = "--home", description = "migm's home, for --backend emulated (default: $MIGM_HOME, else ./.migm)")
        java.nio.file.Path home;

        @Option(names = "--nvml-library", defaultValue = dev.migm.nvml.Nvml.DEFAULT_LIBRARY,
                description = "the NVML library to load (default ${DEFAULT-VALUE})")
        String nvmlLibrary;

        @Option(names = "--socket", description = "the daemon's socket, for --backend daemon (default: $MIGM_SOCKET,"
                + " else HOME/migm.sock)")
        java.nio.file.Path socket;

        @Override
        public Integer call() {
            if (!List.of("catalog", "nvml", "emulated", "auto", "daemon").contains(backend)) {
                throw new InvalidInputException("--backend: expected catalog, nvml, emulated, daemon or auto, got "
                        + dev.migm.io.TextFiles.quote(backend));
            }
            if (backend.equals("daemon")) {
                ServiceCommands.Where where = new ServiceCommands.Where();
                where.home = home;
                where.socket = socket;
                return ServiceCommands.daemonGpus(out(), spec.commandLine().getErr(), where.socket(), json);
            }
            if (backend.equals("nvml") || backend.equals("auto")) {
                switch (dev.migm.nvml.Nvml.load(nvmlLibrary)) {
                    case dev.migm.nvml.Nvml.Availability.Available a -> {
                        try (dev.migm.nvml.Nvml nvml = a.nvml()) {
                            return devicesOut(out(), nvml, json);
                        }
                    }
                    case dev.migm.nvml.Nvml.Availability.Unavailable u -> {
                        if (backend.equals("nvml")) {
                            throw new InvalidInputException("NVML not available: " + u.reason());
                        }
                        spec.commandLine().getErr().println("migm: NVML not available (" + u.reason()
                                + "); showing the emulated GPU");
                    }
                }
            }
            List<GpuModel> models = Catalog.builtin().models();
            boolean emulated = !backend.equals("catalog");
            java.nio.file.Path emulatedRoot = RunCommand.home(home).resolve("emulated");
            List<dev.migm.emu.EmulatedDevices.InstanceInfo> instances = emulated
                    ? dev.migm.emu.EmulatedDevices.list(emulatedRoot) : List.of();
            if (json) {
                Map<String, Object> doc = Json.doc("gpus");
                doc.put("gpus", models.stream().map(m -> {
                    Map<String, Object> g = Json.gpu(m);
                    g.put("profiles", m.profiles().stream().map(p -> p.name().toString()).toList());
                    return g;
                }).toList());
                if (emulated) {
                    doc.put("emulated_instances", instances.stream().map(i -> {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("gpu", i.gpu());
                        m.put("model", i.gpuModel().isEmpty() ? null : i.gpuModel());
                        m.put("profile", i.profile().isEmpty() ? null : i.profile());
                        m.put("start", i.start() < 0 ? null : i.start());
                        m.put("uuid", i.uuid());
                        m.put("used_mib", dev.migm.emu.EmulatedDevices.usages(emulatedRoot, i.uuid()).values().stream()
                                .mapToLong(dev.migm.emu.EmulatedDevices.Usage::mib).sum());
                        return m;
                    }).toList());
                }
                out().println(Json.write(doc));
                return 0;
            }
            out().printf("%-16s %-6s %-7s %-5s %-10s %s%n", "GPU", "mem", "compute", "SMs", "memory", "also known as");
            for (GpuModel m : models) {
                out().printf("%-16s %-6d %-7d %-5d %-10s %s%n", m.name(), m.memorySlices(), m.computeSlices(), m.sms(),
                        m.memoryMib() + "MiB", String.join(", ", m.aliases()));
            }
            if (emulated) {
                out().println();
                if (instances.isEmpty()) {
                    out().println("emulated GPU under " + emulatedRoot + ": no instances (it holds them while migm run runs)");
                }
                for (var i : instances) {
                    var usages = dev.migm.emu.EmulatedDevices.usages(emulatedRoot, i.uuid());
                    out().printf(java.util.Locale.ROOT, "emulated gpu%d %s: %s@%d %s, %d process(es), %d MiB used%n", i.gpu(),
                            i.gpuModel(), i.profile(), i.start(), i.uuid(), usages.size(),
                            usages.values().stream().mapToLong(dev.migm.emu.EmulatedDevices.Usage::mib).sum());
                }
            }
            return 0;
        }
    }

    /**
     * A profile's name as nvidia-smi prints it: the catalog's, by profile ID, when the catalog knows
     * the GPU (NVIDIA's names are not always the memory rounded up: an H200's ID 19 holds 16 GiB and
     * is {@code 1g.18gb}); else the binding's {@code <g>g.<ceil(GiB)>gb}.
     */
    static String profileName(dev.migm.nvml.Nvml.DeviceInfo d, dev.migm.nvml.Nvml.ProfileInfo p) {
        return dev.migm.gpu.Catalog.builtin().find(d.name()).flatMap(m -> m.profiles().stream()
                .filter(q -> q.id() == p.id()).findFirst()).map(q -> q.name().toString()).orElse(p.name());
    }

    /** The GPUs NVML sees, read-only. */
    private static int devicesOut(PrintWriter out, dev.migm.nvml.Nvml nvml, boolean json) {
        List<dev.migm.nvml.Nvml.DeviceInfo> devices = nvml.devices();
        if (json) {
            Map<String, Object> doc = Json.doc("devices");
            doc.put("backend", "nvml");
            doc.put("driver_version", nvml.driverVersion());
            doc.put("gpus", devices.stream().map(d -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("index", d.index());
                m.put("name", d.name());
                m.put("uuid", d.uuid());
                m.put("pci_bus_id", d.pciBusId().orElse(null));
                m.put("memory_total_mib", d.memoryTotalMib());
                m.put("memory_used_mib", d.memoryUsedMib());
                m.put("mig_current", d.migCurrent().orElse(null));
                m.put("mig_pending", d.migPending().orElse(null));
                m.put("power_w", d.powerW().map(w -> Json.decimal(w, 3)).orElse(null));
                m.put("energy_j", d.energyJ().map(j -> Json.decimal(j, 3)).orElse(null));
                m.put("profiles", d.profiles().stream().map(p -> {
                    Map<String, Object> q = new LinkedHashMap<>();
                    q.put("name", profileName(d, p));
                    q.put("id", p.id());
                    q.put("nvml_enum", p.profileEnum());
                    q.put("compute_slices", p.sliceCount());
                    q.put("memory_slices", p.placementSize());
                    q.put("memory_mib", p.memoryMib());
                    q.put("sms", p.sms());
                    q.put("max_count", p.instanceCount());
                    q.put("starts", p.starts());
                    return q;
                }).toList());
                m.put("instances", d.instances());
                return m;
            }).toList());
            out.println(Json.write(doc));
            return 0;
        }
        out.println("NVML, driver " + nvml.driverVersion() + ": " + devices.size() + " GPU(s)");
        for (var d : devices) {
            out.printf(java.util.Locale.ROOT, "GPU %d: %s %s, %d MiB (%d used), MIG %s, %s, %s%n", d.index(), d.name(),
                    d.uuid(), d.memoryTotalMib(), d.memoryUsedMib(),
                    d.migCurrent().map(c -> c ? "on" : "off").orElse("not supported"),
                    d.powerW().map(w -> String.format(java.util.Locale.ROOT, "%.1f W", w)).orElse("power n/a"),
                    d.energyJ().map(j -> String.format(java.util.Locale.ROOT, "%.0f J since driver load", j))
                            .orElse("energy n/a"));
            d.pciBusId().ifPresent(b -> out.println("  PCI " + b));
            for (var p : d.profiles()) {
                out.printf(java.util.Locale.ROOT, "  %-10s ID %2d  %dg %dm  %6dMiB  %3d SM  max %d  starts %s%n",
                        profileName(d, p),
                        p.id(), p.sliceCount(), p.placementSize(), p.memoryMib(), p.sms(), p.instanceCount(), p.starts());
            }
            if (d.migCurrent().orElse(false)) {
                out.println("  layout now: " + (d.instances().isEmpty() ? "no instances" : String.join(",", d.instances())));
            }
        }
        return 0;
    }

    @Command(name = "profiles", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm profiles A100-40GB", "  migm profiles H100-80GB --json"},
        description = "List a GPU's instance profiles, like nvidia-smi mig -lgip/-lgipp.")
    static final class Profiles extends Base {
        @Parameters(paramLabel = "GPU", description = "GPU model, e.g. A100-40GB")
        String gpu;

        @Option(names = "--json", description = "JSON output")
        boolean json;

        @Override
        public Integer call() {
            GpuModel model = Catalog.builtin().get(gpu);
            if (json) {
                Map<String, Object> doc = Json.doc("profiles");
                doc.put("gpu", Json.gpu(model));
                doc.put("profiles", model.profiles().stream().map(Json::profile).toList());
                out().println(Json.write(doc));
                return 0;
            }
            out().println(model.name() + ": " + model.memorySlices() + " memory slices, " + model.computeSlices()
                    + " compute slices; source: " + model.source());
            out().printf("%-12s %3s %5s %3s %3s %9s %4s %3s %3s %4s %3s %3s  %s%n", "profile", "ID", "enum", "g", "m",
                    "memory", "SM", "CE", "DEC", "JPEG", "OFA", "max", "placements");
            for (Profile p : model.profiles()) {
                out().printf("%-12s %3d %5s %3d %3d %9s %4d %3d %3d %4d %3d %3d  {%s}:%d%n", p.name(), p.id(),
                        p.nvmlEnum() < 0 ? "?" : Integer.toString(p.nvmlEnum()), p.computeSlices(), p.memorySlices(),
                        p.memoryMib() + "MiB", p.sms(), p.engines().copy(), p.engines().decoders(), p.engines().jpeg(),
                        p.engines().ofa(), p.maxCount(),
                        String.join(",", p.starts().stream().map(String::valueOf).toList()), p.memorySlices());
            }
            return 0;
        }
    }

    @Command(name = "layouts", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm layouts A30", "  migm layouts A100-40GB --maximal --json | jq .count"},
        description = "Enumerate the legal layouts of a GPU.")
    static final class Layouts extends Base {
        @Parameters(paramLabel = "GPU", description = "GPU model, e.g. A100-40GB")
        String gpu;

        @Option(names = "--maximal", description = "only layouts to which no further instance can be added")
        boolean maximal;

        @Option(names = "--with-variants", description = "include +me and other variant profiles")
        boolean variants;

        @Option(names = "--json", description = "JSON: {schema, gpu, maximal, with_variants, count, layouts}; a layout is"
                + " an array of {profile, start, size}")
        boolean json;

        @Override
        public Integer call() {
            GpuModel model = Catalog.builtin().get(gpu);
            List<Layout> layouts = maximal ? dev.migm.gpu.Layouts.maximal(model, variants)
                    : dev.migm.gpu.Layouts.all(model, variants);
            if (json) {
                Map<String, Object> doc = Json.doc("layouts");
                doc.put("gpu", model.name());
                doc.put("maximal", maximal);
                doc.put("with_variants", variants);
                doc.put("count", layouts.size());
                doc.put("layouts", layouts.stream().map(Json::layout).toList());
                out().println(Json.write(doc));
            } else {
                layouts.forEach(l -> out().println(l));
                out().println("# " + layouts.size() + (maximal ? " maximal" : "") + " legal layouts of " + model.name());
            }
            return 0;
        }
    }

    @Command(name = "plan", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm plan A100-40GB --layout '1g.5gb@0,1g.5gb@1,2g.10gb@2,3g.20gb@4*' --want 4g.20gb", "  migm plan A100-40GB --layout '7g.40gb@0' --to '3g.20gb@0,3g.20gb@4' --json"},
        description = "Plan the cheapest reconfiguration that yields an idle instance of a profile,"
            + " or that reaches a target layout. Busy instances (marked *) are never touched.")
    static final class PlanCmd extends Base {
        @Parameters(paramLabel = "GPU", description = "GPU model, e.g. A100-40GB")
        String gpu;

        @Option(names = "--layout", required = true, description = "current layout, e.g. \"1g.5gb@0,2g.10gb@2*,3g.20gb@4\" (* = busy)")
        String layout;

        @Option(names = "--want", description = "wanted profile, e.g. 4g.20gb")
        String want;

        @Option(names = "--to", description = "target layout, e.g. \"3g.20gb@0,3g.20gb@4\"")
        String to;

        @Option(names = "--json", description = "JSON output")
        boolean json;

        @Override
        public Integer call() {
            GpuModel model = Catalog.builtin().get(gpu);
            if ((want == null) == (to == null)) {
                throw new InvalidInputException("plan: give exactly one of --want PROFILE or --to LAYOUT");
            }
            GpuState state = GpuState.parse(model, layout);
            Plan plan = want != null ? Planner.planFor(state, model.profile(want))
                    : Planner.transition(state, Layout.parse(model, to));
            if (json) {
                Map<String, Object> doc = Json.doc("plan");
                doc.put("gpu", model.name());
                doc.put("layout", state.toString());
                doc.put("want", want);
                doc.put("to", to);
                doc.putAll(planJson(plan, state));
                out().println(Json.write(doc));
            } else {
                out().println(describe(plan, state));
            }
            return plan instanceof Plan.Possible ? Main.OK : Main.FOUND_A_PROBLEM;
        }

        /** The result with the busy instances (kept by every plan) still marked busy. */
        static GpuState resultState(Plan.Possible p, GpuState before) {
            java.util.Set<Instance> busy = new java.util.HashSet<>(before.busy());
            busy.retainAll(p.result().instances());
            return new GpuState(p.result(), busy);
        }

        static Map<String, Object> planJson(Plan plan, GpuState before) {
            Map<String, Object> m = new LinkedHashMap<>();
            switch (plan) {
                case Plan.Possible p -> {
                    m.put("possible", true);
                    m.put("kind", p.kind().name().toLowerCase(java.util.Locale.ROOT));
                    List<Map<String, Object>> ops = new ArrayList<>();
                    for (PlanOp op : p.ops()) {
                        Map<String, Object> o = new LinkedHashMap<>();
                        o.put("op", op instanceof PlanOp.Create ? "create" : "destroy");
                        o.putAll(Json.instance(op.instance()));
                        ops.add(o);
                    }
                    m.put("ops", ops);
                    m.put("target", p.target().map(Json::instance).orElse(null));
                    GpuState after = resultState(p, before);
                    m.put("result", p.result().instances().stream().map(i -> {
                        Map<String, Object> r = Json.instance(i);
                        r.put("busy", after.isBusy(i));
                        return r;
                    }).toList());
                }
                case Plan.Impossible i -> {
                    m.put("possible", false);
                    m.put("reason", i.reason());
                    m.put("blockers", i.blockers().stream().sorted().map(Json::instance).toList());
                }
            }
            return m;
        }

        static String describe(Plan plan, GpuState before) {
            return switch (plan) {
                case Plan.Possible p -> {
                    StringBuilder sb = new StringBuilder(p.kind().name().toLowerCase(java.util.Locale.ROOT))
                            .append(": ").append(p.operationCount()).append(" operation(s)\n");
                    for (PlanOp op : p.ops()) {
                        sb.append("  ").append(op).append('\n');
                    }
                    p.target().ifPresent(t -> sb.append("  -> idle ").append(t).append('\n'));
                    sb.append("result: ").append(resultState(p, before));
                    yield sb.toString();
                }
                case Plan.Impossible i -> "impossible: " + i.reason();
            };
        }
    }

    @Command(name = "import-smi", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm import-smi --lgip examples/a100-lgip.txt --lgipp examples/a100-lgipp.txt --lgi examples/a100-lgi.txt", "  nvidia-smi mig -lgip > lgip.txt && migm import-smi --lgip lgip.txt --name B200 --json"},
        description = "Read nvidia-smi mig -lgip (and -lgipp, -lgi) output into GPU models and layouts.")
    static final class ImportSmi extends Base {
        @Option(names = "--lgip", required = true, description = "file with nvidia-smi mig -lgip output")
        Path lgip;

        @Option(names = "--lgipp", description = "file with nvidia-smi mig -lgipp output")
        Path lgipp;

        @Option(names = "--lgi", description = "file with nvidia-smi mig -lgi output (current GPU instances)")
        Path lgi;

        @Option(names = "--name", description = "name for a GPU the catalog does not know")
        String name;

        @Option(names = "--json", description = "JSON output")
        boolean json;

        @Override
        public Integer call() {
            List<SmiParser.ProfileRow> rows = SmiParser.parseLgip(Files2.read(lgip), lgip.toString());
            List<SmiParser.PlacementRow> placements = lgipp == null ? List.of()
                    : SmiParser.parseLgipp(Files2.read(lgipp), lgipp.toString());
            List<SmiParser.InstanceRow> instances = lgi == null ? List.of()
                    : SmiParser.parseLgi(Files2.read(lgi), lgi.toString());
            List<SmiImport.ImportedGpu> gpus = SmiImport.models(rows, placements, Catalog.builtin(), name);
            List<Map<String, Object>> result = new ArrayList<>();
            for (SmiImport.ImportedGpu g : gpus) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("gpu", g.index());
                m.put("model", g.model().name());
                m.put("catalog_match", g.catalogMatch().map(GpuModel::name).orElse(null));
                m.put("differences", g.differences());
                Map<String, Object> model = Json.gpu(g.model());
                model.remove("name");
                m.putAll(model);
                m.put("profiles", g.model().profiles().stream().map(Json::profile).toList());
                m.put("layout", lgi == null ? null
                        : Json.layout(SmiImport.layout(instances, g.index(), g.model(), lgi.toString())));
                result.add(m);
            }
            if (json) {
                Map<String, Object> doc = Json.doc("import-smi");
                doc.put("gpus", result);
                out().println(Json.write(doc));
                return 0;
            }
            for (SmiImport.ImportedGpu g : gpus) {
                out().println("GPU " + g.index() + ": " + g.model().name()
                        + g.catalogMatch().map(c -> " (matches catalog)").orElse(" (not in catalog: " + g.model().source() + ")"));
                for (String d : g.differences()) {
                    out().println("  differs: " + d);
                }
                for (Profile p : g.model().profiles()) {
                    out().printf("  %-12s ID %2d  %dg %dm  %6dMiB  %3d SM  max %d  starts %s%n", p.name(), p.id(),
                            p.computeSlices(), p.memorySlices(), p.memoryMib(), p.sms(), p.maxCount(), p.starts());
                }
                if (lgi != null) {
                    out().println("  layout: " + SmiImport.layout(instances, g.index(), g.model(), lgi.toString()));
                }
            }
            return 0;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm export --gpu A100-40GB --layout '3g.20gb@0,3g.20gb@4' --layout '7g.40gb@0'", "  migm export --gpu H100-80GB --layout '1g.10gb@0,1g.10gb@1' --config-name small > config.yaml"},
        description = "Export per-GPU layouts as a mig-parted v1 config (YAML).")
    static final class Export extends Base {
        @Option(names = "--format", defaultValue = "mig-parted", description = "output format: mig-parted")
        String format;

        @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, defaultValue = "A100-40GB", description = "GPU model (default ${DEFAULT-VALUE})")
        String gpu;

        @Option(names = "--layout", required = true, description = "layout of GPU 0, 1, ... (repeat per GPU), e.g. \"3g.20gb@0,3g.20gb@4\"")
        List<String> layouts;

        @Option(names = "--config-name", defaultValue = "migm", description = "config name in mig-configs")
        String configName;

        @Option(names = "--json", description = "JSON: {schema, format, gpu, config_name, gpus: [{gpu, layout}], yaml}")
        boolean json;

        @Override
        public Integer call() {
            if (!format.equals("mig-parted")) {
                throw new InvalidInputException("export: unknown format " + TextFiles.quote(format) + " (supported: mig-parted)");
            }
            GpuModel model = Catalog.builtin().get(gpu);
            List<Layout> parsed = layouts.stream().map(l -> Layout.parse(model, l)).toList();
            String yaml = MigParted.export(configName, parsed);
            if (json) {
                Map<String, Object> doc = Json.doc("export");
                doc.put("format", format);
                doc.put("gpu", model.name());
                doc.put("config_name", configName);
                List<Map<String, Object>> gpus = new ArrayList<>();
                for (int i = 0; i < parsed.size(); i++) {
                    Map<String, Object> g = new LinkedHashMap<>();
                    g.put("gpu", i);
                    g.put("layout", Json.layout(parsed.get(i)));
                    gpus.add(g);
                }
                doc.put("gpus", gpus);
                doc.put("yaml", yaml);
                out().println(Json.write(doc));
                return 0;
            }
            out().print(yaml);
            return 0;
        }
    }

    @Command(name = "import-mig-parted", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n",
        footer = {"  migm import-mig-parted examples/mig-parted.yaml --gpu A100-40GB --gpus 2", "  migm import-mig-parted config.yaml --config all-balanced --gpu A100-40GB --json"},
        description = "Read a mig-parted v1 config and place its counts as legal layouts.")
    static final class ImportMigParted extends Base {
        @Parameters(paramLabel = "FILE", description = "mig-parted config file")
        Path file;

        @Option(names = "--gpu", completionCandidates = Candidates.Gpus.class, defaultValue = "A100-40GB", description = "GPU model (default ${DEFAULT-VALUE})")
        String gpu;

        @Option(names = "--config", description = "config name (default: the only one)")
        String config;

        @Option(names = "--gpus", defaultValue = "1", description = "number of GPUs on the node (default ${DEFAULT-VALUE})")
        int gpus;

        @Option(names = "--json", description = "JSON: {schema, file, config, gpu, gpus: [{gpu, layout}]}")
        boolean json;

        @Override
        public Integer call() {
            GpuModel model = Catalog.builtin().get(gpu);
            Map<String, List<MigParted.DeviceEntry>> configs = MigParted.read(Files2.read(file), file.toString());
            String chosen = config;
            if (chosen == null) {
                if (configs.size() != 1) {
                    throw new InvalidInputException(file + ": holds configs " + configs.keySet() + "; choose one with --config");
                }
                chosen = configs.keySet().iterator().next();
            }
            List<MigParted.DeviceEntry> entries = configs.get(chosen);
            if (entries == null) {
                throw new InvalidInputException(file + ": no config " + TextFiles.quote(chosen) + " (has " + TextFiles.quote(String.join(", ", configs.keySet())) + ")");
            }
            if (gpus < 1 || gpus > 4096) {
                throw new InvalidInputException("--gpus must be between 1 and 4096, got " + gpus);
            }
            for (MigParted.DeviceEntry e : entries) {
                for (int d : e.devices().orElse(List.of())) {
                    if (d < 0 || d >= gpus) {
                        throw new InvalidInputException(file + ": config " + TextFiles.quote(chosen) + " names device " + d
                                + ", but the node has " + gpus + " GPU(s) (--gpus); no device is dropped silently");
                    }
                }
            }
            List<Map<String, Object>> result = new ArrayList<>();
            for (int i = 0; i < gpus; i++) {
                Layout l = MigParted.layoutFor(entries, i, model, file.toString());
                if (!json) {
                    out().println("GPU " + i + ": " + l);
                }
                Map<String, Object> g = new LinkedHashMap<>();
                g.put("gpu", i);
                g.put("layout", Json.layout(l));
                result.add(g);
            }
            if (json) {
                Map<String, Object> doc = Json.doc("import-mig-parted");
                doc.put("file", file.toString());
                doc.put("config", chosen);
                doc.put("gpu", model.name());
                doc.put("gpus", result);
                out().println(Json.write(doc));
            }
            return 0;
        }
    }
}
