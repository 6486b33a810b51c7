package dev.cnnzoo.weights;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Named tensors: a network's parameters and state, as a state dict holds them. */
public final class Weights {
    private final Map<String, Tensor> tensors;

    private Weights(Map<String, Tensor> tensors) {
        this.tensors = tensors;
    }

    public static Weights of(Map<String, Tensor> tensors) {
        return new Weights(new LinkedHashMap<>(tensors));
    }

    /**
     * First values of every parameter and piece of state of {@code graph}, each drawn by its
     * initialiser from a stream seeded by {@code seed} and the parameter's name, so one layer's
     * values do not depend on which other layers exist.
     */
    public static Weights initial(Graph graph, long seed) {
        checkHoldable(graph);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Parameter p : graph.parameters().values()) {
            SplittableRandom random = new SplittableRandom(seed ^ fnv1a(p.name()));
            m.put(p.name(), Tensor.of(p.shape(), p.init().sample(p.shape(), random)));
        }
        return new Weights(m);
    }

    /**
     * Refuses, before anything is allocated, a graph whose weights no Java process could hold: a
     * tensor beyond an array's 2^31 − 1 elements, or weights beyond the heap's limit (a class count or
     * input size typed with a few zeros too many).
     */
    public static void checkHoldable(Graph graph) {
        long total = 0;
        for (Parameter p : graph.parameters().values()) {
            long n;
            try {
                n = p.shape().elements();
            } catch (ArithmeticException e) {
                n = Long.MAX_VALUE;
            }
            if (n > Integer.MAX_VALUE) {
                throw new ZooException(graph.name() + "'s tensor '" + p.name() + "' (" + p.shape() + ") would hold "
                        + String.format(java.util.Locale.ROOT, "%,d", n) + " values, more than one tensor can (2,147,483,647)");
            }
            total += n;                  // at most a few thousand tensors of < 2^31: no overflow
        }
        long bytes = total * 4;
        long heap = Runtime.getRuntime().maxMemory();
        if (heap != Long.MAX_VALUE && bytes > heap) {
            double gib = 1L << 30;
            throw new ZooException(String.format(java.util.Locale.ROOT, "%s's weights need %.1f GiB (%,d values) but this Java process "
                    + "may use at most %.1f GiB of memory; raise the limit with -Xmx", graph.name(), bytes / gib, total, heap / gib));
        }
    }

    public Tensor get(String name) {
        return tensors.get(name);
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    public int size() {
        return tensors.size();
    }

    public Map<String, Tensor> asMap() {
        return Collections.unmodifiableMap(tensors);
    }

    /** A copy with {@code name} set to {@code value}. */
    public Weights with(String name, Tensor value) {
        Map<String, Tensor> m = new LinkedHashMap<>(tensors);
        m.put(name, value);
        return new Weights(m);
    }

    /**
     * Exactly the tensors {@code graph} needs, taken from these weights by name, in the graph's order,
     * each {@linkplain WeightChecks#strict() checked}: floating point and finite.
     *
     * @throws ZooException naming a missing tensor, or a tensor whose shape differs, with both shapes,
     *                      or a tensor that fails the checks
     */
    public Weights bind(Graph graph) {
        return bind(graph, WeightChecks.strict());
    }

    /** {@link #bind(Graph)} with the given checks (to accept non-finite values, say). */
    public Weights bind(Graph graph, WeightChecks checks) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (Parameter p : graph.parameters().values()) {
            Tensor t = tensors.get(p.name());
            if (t == null) {
                missing.add(p.name() + " (" + p.shape() + ")");
                continue;
            }
            if (!t.shape().equals(p.shape())) {
                throw new ZooException("tensor '" + p.name() + "' has shape " + t.shape() + " in the weights but "
                        + p.shape() + " in " + graph.name());
            }
            checks.check(p.name(), t);
            m.put(p.name(), t);
        }
        if (!missing.isEmpty()) {
            throw new ZooException("the weights lack " + missing.size() + " tensor(s) that " + graph.name() + " needs: "
                    + String.join(", ", missing.subList(0, Math.min(8, missing.size()))) + (missing.size() > 8 ? ", …" : ""));
        }
        return new Weights(m);
    }

    /** What {@link #transfer} took and left. */
    public record Transfer(Weights weights, List<String> loaded, List<String> kept) {
    }

    /**
     * Fine-tuning's start: every tensor of {@code graph} that these weights hold with the same shape,
     * the graph's seeded initial value for the rest (a classifier replaced for other classes, say).
     * {@code kept} names what was not loaded, with both shapes where they differ.
     */
    public Transfer transfer(Graph graph, long seed) {
        return transfer(graph, seed, WeightChecks.strict());
    }

    /** {@link #transfer(Graph, long)} with the given checks on the tensors taken. */
    public Transfer transfer(Graph graph, long seed, WeightChecks checks) {
        Weights initial = initial(graph, seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        List<String> loaded = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        for (Parameter p : graph.parameters().values()) {
            Tensor t = tensors.get(p.name());
            if (t != null && t.shape().equals(p.shape())) {
                checks.check(p.name(), t);
                m.put(p.name(), t);
                loaded.add(p.name());
            } else {
                m.put(p.name(), initial.get(p.name()));
                kept.add(t == null ? p.name() + " (not in the weights)" : p.name() + " (" + t.shape() + " in the weights, " + p.shape() + " in the model)");
            }
        }
        return new Transfer(new Weights(m), loaded, kept);
    }

    /** Names in these weights that {@code graph} has no parameter for. */
    public List<String> unused(Graph graph) {
        return tensors.keySet().stream().filter(n -> !graph.parameters().containsKey(n)).toList();
    }

    /** Bit-for-bit equality of every tensor and of the names. */
    public boolean bitEquals(Weights other) {
        if (!tensors.keySet().equals(other.tensors.keySet())) {
            return false;
        }
        return tensors.entrySet().stream().allMatch(e -> e.getValue().bitEquals(other.tensors.get(e.getKey())));
    }

    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
