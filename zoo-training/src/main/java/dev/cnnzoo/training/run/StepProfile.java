package dev.cnnzoo.training.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a training step's time goes, from ONNX Runtime's profile of a {@link StepEngine} session
 * (opened with a profile path): per node, the median of its kernel times over the profiled runs
 * (the median keeps a run that lost the CPU to another process from counting), summed by phase
 * (forward, backward, optimizer, loss: the training graph's scopes say which), by operator type,
 * and by layer.
 */
public final class StepProfile {
    /** One node: its name, operator type (after ONNX Runtime's fusions) and median kernel time. */
    public record Node(String name, String op, double millis) {
        /** The training graph's phase of the node: backward rules emit into {@code <layer>/grad}, the optimizer into {@code optimizer}. */
        public String phase() {
            if (name.startsWith("optimizer")) {
                return "optimizer";
            }
            if (name.startsWith("loss")) {
                return "loss";
            }
            return name.contains("/grad") ? "backward" : "forward";
        }

        /** The network layer the node belongs to (its scope before the first '/'). */
        public String layer() {
            int slash = name.indexOf('/');
            return slash < 0 ? name : name.substring(0, slash);
        }
    }

    private final List<Node> nodes;
    private final int runs;
    private final double runMillis;

    private StepProfile(List<Node> nodes, int runs, double runMillis) {
        this.nodes = List.copyOf(nodes);
        this.runs = runs;
        this.runMillis = runMillis;
    }

    /** Reads a profile ONNX Runtime wrote (a JSON array of trace events). */
    public static StepProfile read(Path file) {
        JsonNode events;
        try {
            events = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ZooException("cannot read ONNX Runtime's profile " + file + ": " + e.getMessage(), e);
        }
        Map<String, List<Double>> times = new LinkedHashMap<>();
        Map<String, String> ops = new LinkedHashMap<>();
        List<Double> runTimes = new ArrayList<>();
        for (JsonNode e : events) {
            String cat = e.path("cat").asText();
            String name = e.path("name").asText();
            double millis = e.path("dur").asDouble() / 1000;
            if (cat.equals("Session") && name.equals("model_run")) {
                runTimes.add(millis);
            } else if (cat.equals("Node") && name.endsWith("_kernel_time")) {
                String node = name.substring(0, name.length() - "_kernel_time".length());
                times.computeIfAbsent(node, k -> new ArrayList<>()).add(millis);
                ops.put(node, e.path("args").path("op_name").asText("?"));
            }
        }
        if (runTimes.isEmpty()) {
            throw new ZooException(file + " holds no run of the model: was the engine stepped before its profile ended?");
        }
        List<Node> nodes = new ArrayList<>();
        times.forEach((name, t) -> nodes.add(new Node(name, ops.get(name), median(t))));
        return new StepProfile(nodes, runTimes.size(), median(runTimes));
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Comparator.naturalOrder());
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** Runs profiled (warm-up runs included: each node's time is its median over them). */
    public int runs() {
        return runs;
    }

    /** The median wall time of a whole run, kernels and what lies between them. */
    public double runMillis() {
        return runMillis;
    }

    /** The sum of the nodes' median kernel times: a step's time spent in kernels. */
    public double kernelMillis() {
        return nodes.stream().mapToDouble(Node::millis).sum();
    }

    /** Kernel milliseconds per phase, then per operator type within it, largest first. */
    public Map<String, Map<String, Double>> byPhaseAndOperator() {
        Map<String, Map<String, Double>> out = new TreeMap<>();
        for (Node n : nodes) {
            out.computeIfAbsent(n.phase(), k -> new TreeMap<>()).merge(n.op(), n.millis(), Double::sum);
        }
        Map<String, Map<String, Double>> sorted = new LinkedHashMap<>();
        out.entrySet().stream().sorted((a, b) -> Double.compare(total(b.getValue()), total(a.getValue())))
                .forEach(e -> sorted.put(e.getKey(), sortedByValue(e.getValue())));
        return sorted;
    }

    /** Kernel milliseconds per layer and phase ("layer3.0.conv2 backward"), largest first. */
    public Map<String, Double> byLayer() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Node n : nodes) {
            out.merge(n.layer() + " " + n.phase(), n.millis(), Double::sum);
        }
        return sortedByValue(out);
    }

    private static double total(Map<String, Double> m) {
        return m.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    private static Map<String, Double> sortedByValue(Map<String, Double> m) {
        Map<String, Double> sorted = new LinkedHashMap<>();
        m.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    /** A plain-text report: the phases with their operator types, then the {@code topLayers} costliest layers. */
    public String report(String title, int topLayers) {
        StringBuilder sb = new StringBuilder();
        double kernels = kernelMillis();
        sb.append(String.format(Locale.ROOT, "# %s: %d runs profiled; per step %.1f ms (median run), %.1f ms in kernels (sum of each node's median)%n",
                title, runs, runMillis, kernels));
        for (Map.Entry<String, Map<String, Double>> phase : byPhaseAndOperator().entrySet()) {
            double t = total(phase.getValue());
            sb.append(String.format(Locale.ROOT, "%-10s %9.1f ms %5.1f%%%n", phase.getKey(), t, 100 * t / kernels));
            phase.getValue().entrySet().stream().limit(8).forEach(op -> sb.append(String.format(Locale.ROOT, "    %-22s %9.1f ms %5.1f%%%n",
                    op.getKey(), op.getValue(), 100 * op.getValue() / kernels)));
        }
        sb.append(String.format(Locale.ROOT, "%ncostliest layers%n"));
        byLayer().entrySet().stream().limit(topLayers).forEach(l -> sb.append(String.format(Locale.ROOT, "    %-40s %9.1f ms %5.1f%%%n",
                l.getKey(), l.getValue(), 100 * l.getValue() / kernels)));
        return sb.toString();
    }
}
