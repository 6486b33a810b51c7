package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.serve.BenchFigures;
import dev.cnnzoo.serve.ModelServer;
import dev.cnnzoo.serve.ServeOptions;
import dev.cnnzoo.serve.ServedModel;
import dev.cnnzoo.runtime.interchange.WeightsResolver;
import dev.cnnzoo.runtime.interchange.WeightsSource;
import dev.cnnzoo.weights.Weights;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "serve", description = {"Serve models over HTTP: the Open Inference Protocol (KServe v2) REST API with dynamic batching, "
        + "Prometheus metrics at /metrics, and a catalog of every model at / with a try-it box.",
        "Without MODEL, the models that ship pretrained weights are served with them. SIGTERM or Ctrl-C stops gracefully: "
                + "requests in flight are answered, then the command exits 0."})
final class ServeCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "MODEL|FILE.onnx", description = "Zoo ids (served under their id) or ONNX files (served under the file's name).")
    List<String> targets;

    @Option(names = "--weights", paramLabel = "[ID=]FILE|pretrained", description = "Weights for a zoo model: ID=FILE.safetensors, ID=pretrained, "
            + "or without ID= for every zoo model given. Models without weights are served with seeded initial weights.")
    List<String> weights;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}: this machine only).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", description = "TCP port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--max-batch", paramLabel = "B", defaultValue = "8", description = "Most rows per batch (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-delay-ms", paramLabel = "MS", defaultValue = "5", description = "How long a request waits for others to join its batch (default ${DEFAULT-VALUE}).")
    long maxDelayMs;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "256", description = "Requests queued per model before 429 (default ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-body-mb", paramLabel = "MB", defaultValue = "64", description = "Largest request body before 413 (default ${DEFAULT-VALUE}).")
    int maxBodyMb;

    @Option(names = "--load", paramLabel = "eager|lazy", defaultValue = "eager", description = "Load models at start or on first use (default ${DEFAULT-VALUE}).")
    String load;

    @Option(names = "--bench", paramLabel = "FILE.json", description = "A zoo bench --out report whose figures the catalog shows.")
    Path bench;

    @Mixin
    RuntimeMixin runtime;

    @Mixin
    WeightCheckOptions weightChecks;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Weights resolved for one model, with the class names they carry. */
    private record Resolved(Weights weights, List<String> labels, String description) {
    }

    @Override
    public Integer call() {
        String mode = load.toLowerCase(Locale.ROOT);
        if (!mode.equals("eager") && !mode.equals("lazy")) {
            throw new ZooException("--load must be eager or lazy, got '" + load + "'");
        }
        if (maxBodyMb < 1) {
            throw new ZooException("--max-body-mb must be at least 1, got " + maxBodyMb);
        }
        RuntimeOptions sessions = runtime.options();
        ServeOptions options;
        try {
            options = ServeOptions.defaults().host(host).port(port).maxBatch(maxBatch).maxDelay(Duration.ofMillis(maxDelayMs)).queueCapacity(queue)
                    .maxRequestBytes((long) maxBodyMb << 20).eager(mode.equals("eager")).runtime(sessions);
        } catch (IllegalArgumentException e) {
            throw new ZooException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ModelZoo zoo = ModelZoo.load();
        BenchFigures figures = bench == null ? BenchFigures.none() : BenchFigures.read(bench);

        Map<String, String> weightsById = new LinkedHashMap<>();
        String weightsForAll = null;
        for (String w : weights == null ? List.<String>of() : weights) {
            int eq = w.indexOf('=');
            if (eq > 0 && !Files.exists(Path.of(w))) {
                weightsById.put(w.substring(0, eq), w.substring(eq + 1));
            } else {
                weightsForAll = w;
            }
        }
        List<String> ids = targets == null || targets.isEmpty() ? zoo.idsWithPretrained() : targets;
        if (targets == null || targets.isEmpty()) {
            weightsForAll = "pretrained";
        }
        for (String id : weightsById.keySet()) {
            if (!ids.contains(id)) {
                throw new ZooException("--weights names " + id + ", which is not among the models to serve " + ids);
            }
        }
        List<ServedModel> served = new ArrayList<>();
        for (String target : ids) {
            Path file = Path.of(target);
            if (target.endsWith(".onnx") || Files.isRegularFile(file)) {
                String name = file.getFileName().toString().replaceFirst("\\.onnx$", "");
                served.add(ServedModel.onnx(name, file));
                continue;
            }
            Model model = zoo.build(target);
            String spec = weightsById.getOrDefault(target, weightsForAll);
            Resolved r = resolve(zoo, model, spec, err);
            served.add(ServedModel.zoo(model, r.weights(), r.labels(), r.description()));
        }
        ModelServer server = ModelServer.start(served, options, zoo, figures);
        out.printf("zoo serve: %s on %s (catalog), Open Inference Protocol at %sv2, metrics at %smetrics%n",
                served.isEmpty() ? "no model" : String.join(", ", served.stream().map(ServedModel::origin).toList()), server.uri(), server.uri(),
                server.uri());
        out.printf("zoo serve: batches of up to %d within %d ms, %s, %s loading; SIGTERM or Ctrl-C stops%n", maxBatch, maxDelayMs,
                sessions.device(), mode);
        out.flush();
        server.serveUntilSignalled();
        out.println("zoo serve: stopped");
        out.flush();
        return 0;
    }

    /** The weights (and class names) a zoo model is served with, read by the resolver every command uses. */
    private Resolved resolve(ModelZoo zoo, Model model, String spec, PrintWriter err) {
        if (spec == null) {
            err.printf("zoo serve: %s has no --weights; serving it with seeded initial weights (its answers mean nothing)%n", model.id());
            err.flush();
            return new Resolved(Weights.initial(model.graph(), model.config().seed()), null, "seeded initial weights");
        }
        WeightsSource source = WeightsSource.parse(spec);
        WeightsResolver.Resolved r = WeightsMixin.resolver(zoo, weightChecks).resolve(source, model);
        if (!r.unused().isEmpty()) {
            err.printf("zoo serve: %d tensor(s) in %s are not used by %s%n", r.unused().size(), source.describe(), model.id());
            err.flush();
        }
        return new Resolved(r.weights(), r.labels(), source.describe());
    }
}
