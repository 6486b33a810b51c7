package dev.cnnzoo.cli;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.weights.Safetensors;
import dev.cnnzoo.weights.Weights;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "run", description = "Run a forward pass of a zoo model or any ONNX file on random or given input.")
final class RunCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL|FILE.onnx")
    String target;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1", description = "Batch size of the random input (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--input-file", paramLabel = "FILE", description = "A .safetensors file whose tensors, named as the model's inputs, are fed.")
    Path inputFile;

    @Option(names = "--shape", paramLabel = "NAME=DIMS", description = "Shape of an input with dynamic dimensions other than the batch, e.g. input=1x3x224x224.")
    Map<String, String> shapes;

    @Mixin
    WeightsMixin weights;

    @Mixin
    RuntimeMixin runtime;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", description = "Classes to show per image (default ${DEFAULT-VALUE}).")
    int top;

    @Mixin
    ModelOptions modelOptions;


    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (batch < 1) {
            throw new ZooException("--batch must be at least 1, got " + batch);
        }
        if (top < 1) {
            throw new ZooException("--top must be at least 1, got " + top);
        }
        RuntimeOptions options = runtime.options();
        PrintWriter out = spec.commandLine().getOut();
        Model model = zooModel();
        try (InferenceSession session = model == null ? InferenceSession.open(Path.of(target), options) : open(model, options, out)) {
            Map<String, Tensor> feeds = inputFile != null ? fromFile(session) : random(session);
            long start = System.nanoTime();
            Map<String, Tensor> results = session.run(feeds);
            double ms = (System.nanoTime() - start) / 1e6;
            feeds.forEach((name, t) -> out.printf("input  %-12s %s%n", name, t.shape()));
            results.forEach((name, t) -> {
                out.printf("output %-12s %s%n", name, t.shape());
                if (t.isFloating() && t.shape().rank() == 2) {
                    // A network without its classifier outputs features, whose largest entries are no classes.
                    boolean classes = model != null ? model.config().includeTop() && name.equals(model.graph().mainOutput().name())
                            : !name.equals("features");
                    if (classes) {
                        printTop(out, t);
                    } else {
                        printFeatures(out, t);
                    }
                }
            });
            out.printf(Locale.ROOT, "time   %.2f ms (first run, %s, batch %d)%n", ms, session.device(), feeds.values().iterator().next().shape().dim(0));
            out.flush();
        }
        return 0;
    }

    /** The zoo model the target names, or null for an ONNX file. */
    private Model zooModel() {
        if (target.endsWith(".onnx") || Files.isRegularFile(Path.of(target))) {
            return null;
        }
        return ModelZoo.load().build(target, modelOptions.config());
    }

    private InferenceSession open(Model model, RuntimeOptions options, PrintWriter out) {
        Weights w = weights.given() ? weights.resolve(ModelZoo.load(), model).weights() : Weights.initial(model.graph(), model.config().seed());
        out.printf("%s with %s%n", model.id(), weights.describe("seeded initial weights"));
        return ZooSessions.open(model, w, options);
    }

    private Map<String, Tensor> fromFile(InferenceSession session) {
        Weights tensors = Safetensors.read(inputFile);
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (InferenceSession.Port p : session.inputs()) {
            Tensor t = tensors.get(p.name());
            if (t == null) {
                throw new ZooException(inputFile + " has no tensor named '" + p.name() + "' (the model's input); it has " + tensors.names());
            }
            feeds.put(p.name(), t);
        }
        return feeds;
    }

    /**
     * Uniform [0, 1) images (zeros for integer inputs), the batch dimension set to --batch. A model
     * whose batch is fixed runs its own batch; asking it for another is refused.
     */
    private Map<String, Tensor> random(InferenceSession session) {
        boolean batchGiven = spec.commandLine().getParseResult().hasMatchedOption("--batch");
        SplittableRandom r = new SplittableRandom(0);
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (InferenceSession.Port p : session.inputs()) {
            long[] dims = p.shape().clone();
            if (shapes != null && shapes.containsKey(p.name())) {
                dims = Arrays.stream(ModelOptions.parseShape(shapes.get(p.name()), dims.length, "--shape " + p.name())).asLongStream().toArray();
            }
            if (dims.length > 0 && dims[0] >= 0 && batchGiven && dims[0] != batch) {
                throw new ZooException(target + " takes a fixed batch of " + dims[0] + " (input " + p + "), so it cannot run --batch "
                        + batch + "; export it with a dynamic batch dimension, or leave --batch out");
            }
            for (int i = 0; i < dims.length; i++) {
                if (dims[i] < 0) {
                    if (i != 0) {
                        throw new ZooException("input '" + p.name() + "' has a dynamic dimension " + i + "; give its shape with --shape "
                                + p.name() + "=...");
                    }
                    dims[i] = batch;
                }
            }
            Shape shape = Tensor.holdableShape("input '" + p.name() + "'", dims);
            if (p.dtype() == DType.FLOAT) {
                float[] a = new float[Math.toIntExact(shape.elements())];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) r.nextDouble();
                }
                feeds.put(p.name(), Tensor.of(shape, a));
            } else {
                feeds.put(p.name(), Tensor.ofLongs(shape, new long[Math.toIntExact(shape.elements())]));
            }
        }
        return feeds;
    }

    /** A feature vector per row: its size and the range of its values. */
    private static void printFeatures(PrintWriter out, Tensor features) {
        int rows = features.shape().dim(0);
        int cols = features.shape().dim(1);
        float[] a = features.floats();
        for (int n = 0; n < Math.min(rows, 4); n++) {
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < cols; k++) {
                float v = a[n * cols + k];
                sum += v;
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            out.printf(Locale.ROOT, "  image %d: %d features, mean %.4f, min %.4f, max %.4f%n", n, cols, sum / cols, min, max);
        }
        if (rows > 4) {
            out.printf("  (%d more)%n", rows - 4);
        }
    }

    /** The top classes of each row by softmax probability. */
    private void printTop(PrintWriter out, Tensor logits) {
        int rows = logits.shape().dim(0);
        int cols = logits.shape().dim(1);
        float[] a = logits.floats();
        for (int n = 0; n < Math.min(rows, 4); n++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < cols; k++) {
                max = Math.max(max, a[n * cols + k]);
            }
            double sum = 0;
            for (int k = 0; k < cols; k++) {
                sum += Math.exp(a[n * cols + k] - max);
            }
            final int row = n;
            final double m = max;
            final double z = sum;
            Integer[] order = new Integer[cols];
            Arrays.setAll(order, i -> i);
            Arrays.sort(order, (i, j) -> Float.compare(a[row * cols + j], a[row * cols + i]));
            StringBuilder sb = new StringBuilder(String.format("  image %d:", n));
            for (int k = 0; k < Math.min(top, cols); k++) {
                int c = order[k];
                sb.append(String.format(Locale.ROOT, "  class %d %.3f", c, Math.exp(a[row * cols + c] - m) / z));
            }
            out.println(sb);
        }
        if (rows > 4) {
            out.printf("  (%d more)%n", rows - 4);
        }
    }
}
