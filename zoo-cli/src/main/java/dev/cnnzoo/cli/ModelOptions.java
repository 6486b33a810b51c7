package dev.cnnzoo.cli;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.nn.GlobalPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** The {@link ModelConfig} overrides, shared by every command that builds a model (zoo-spark's too). */
public final class ModelOptions {
    @Option(names = "--classes", paramLabel = "K", description = "Number of classes (replaces the classifier head).")
    Integer classes;

    @Option(names = "--input", paramLabel = "CxHxW", description = "Input channels and size, e.g. 3x224x224.")
    String input;

    @Option(names = "--no-top", description = "Drop the classifier; output pooled features.")
    boolean noTop;

    @Option(names = "--pool", paramLabel = "avg|max|none", description = "Pooling of the features without the top (default avg).")
    String pool;

    @Option(names = "--dropout", paramLabel = "RATE", description = "Dropout rate instead of the paper's.")
    Double dropout;

    @Option(names = "--aux", negatable = true, description = "Build the auxiliary classifiers, where the model has them.")
    Boolean auxiliary;

    @Option(names = "--features-only", description = "Output the feature map of every stage (stage1, stage2..., one per "
            + "reduction of the input; see `zoo info MODEL`) in place of the classifier.")
    boolean featuresOnly;

    @Option(names = "--out-indices", paramLabel = "I,J,...", split = ",",
            description = "Of the feature stages, output only these, numbered from 1 as stage1...; implies --features-only.")
    List<Integer> outIndices;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the initial weights (default 0).")
    Long seed;

    @Option(names = "--option", paramLabel = "KEY=VALUE", description = "A family option (see `zoo info MODEL`).")
    Map<String, String> options;

    public ModelConfig config() {
        ModelConfig.Builder b = ModelConfig.builder();
        if (classes != null) {
            b.classes(classes);
        }
        if (input != null) {
            int[] chw = parseShape(input, 3, "--input");
            b.input(chw[0], chw[1], chw[2]);
        }
        if (noTop) {
            b.includeTop(false);
        }
        if (pool != null) {
            try {
                b.globalPool(GlobalPool.valueOf(pool.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new ZooException("--pool must be avg, max or none, got '" + pool + "'");
            }
        }
        if (dropout != null) {
            b.dropout(dropout);
        }
        if (auxiliary != null) {
            b.auxiliary(auxiliary);
        }
        if (featuresOnly || outIndices != null) {
            b.featuresOnly(true);
        }
        if (outIndices != null) {
            b.outIndices(outIndices.stream().mapToInt(Integer::intValue).toArray());
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (options != null) {
            options.forEach(b::option);
        }
        return b.build();
    }

    /** These options as command-line arguments again (for a child process running the same command). */
    List<String> arguments() {
        List<String> a = new ArrayList<>();
        if (classes != null) {
            a.addAll(List.of("--classes", classes.toString()));
        }
        if (input != null) {
            a.addAll(List.of("--input", input));
        }
        if (noTop) {
            a.add("--no-top");
        }
        if (pool != null) {
            a.addAll(List.of("--pool", pool));
        }
        if (dropout != null) {
            a.addAll(List.of("--dropout", dropout.toString()));
        }
        if (auxiliary != null) {
            a.add(auxiliary ? "--aux" : "--no-aux");
        }
        if (featuresOnly) {
            a.add("--features-only");
        }
        if (outIndices != null) {
            a.addAll(List.of("--out-indices", outIndices.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","))));
        }
        if (seed != null) {
            a.addAll(List.of("--seed", seed.toString()));
        }
        if (options != null) {
            options.forEach((k, v) -> a.addAll(List.of("--option", k + "=" + v)));
        }
        return a;
    }

    /** "3x224x224" (also with × or ,) into its numbers, checking there are {@code count}. */
    static int[] parseShape(String text, int count, String what) {
        String[] parts = text.trim().split("[x×,]");
        if (count > 0 && parts.length != count) {
            throw new ZooException(what + " needs " + count + " numbers like 3x224x224, got '" + text + "'");
        }
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].trim();
            try {
                out[i] = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                throw new ZooException(what + (part.matches("[+-]?\\d+") ? " has a size too large to count, " + part + ", in '"
                        : " has a non-number '" + part + "' in '") + text + "'");
            }
            if (out[i] < 1) {
                throw new ZooException(what + " needs positive sizes, got '" + text + "'");
            }
        }
        return out;
    }
}
