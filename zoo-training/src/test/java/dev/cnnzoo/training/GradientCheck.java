package dev.cnnzoo.training;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Parameter;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.OnnxExporter;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.testkit.TestTensors;
import dev.cnnzoo.weights.Weights;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Compares the training graph's gradients with central finite differences of its own loss, both
 * computed by ONNX Runtime in float32.
 *
 * <p>Tolerance: with a step of h = 1e-3 the truncation error is O(h²·f‴); the rounding error is one
 * unit in the last place of the float32 loss over 2h: for a loss near 2 that is 2.4e-7/2e-3, so
 * differences resolve a gradient only to about 1.2e-4. The check asserts
 * |fd − ad| ≤ 1e-2 · max|ad| + 3e-4 over the sampled elements of each gradient, max|ad| taken over
 * those elements. Piecewise-linear operators (ReLU, max pooling) are exercised on random inputs
 * whose kinks are farther than h from the sampled points with overwhelming probability.
 */
final class GradientCheck {
    static final double STEP = 1e-3;
    private double step = STEP;
    static final double RELATIVE = 1e-2;
    static final double ABSOLUTE = 3e-4;

    private final Graph forward;
    private Loss loss = Loss.crossEntropy();
    private Set<String> frozen = Set.of();
    private int batch = 2;
    private int samples = 24;
    private long seed = 7;
    private TrainingGraph.Activations activations = TrainingGraph.Activations.KEEP;

    private GradientCheck(Graph forward) {
        this.forward = forward;
    }

    static GradientCheck of(Graph forward) {
        return new GradientCheck(forward);
    }

    GradientCheck loss(Loss l) {
        this.loss = l;
        return this;
    }

    GradientCheck frozen(Set<String> f) {
        this.frozen = f;
        return this;
    }

    /**
     * A larger step for a network whose loss is far from 1: the float32 loss resolves changes of
     * one unit in its last place, ulp(51) = 3.8e-6 for LeNet-5's RBF loss, too coarse over 2·1e-3.
     */
    GradientCheck step(double h) {
        this.step = h;
        return this;
    }

    GradientCheck activations(TrainingGraph.Activations a) {
        this.activations = a;
        return this;
    }

    GradientCheck batch(int b) {
        this.batch = b;
        return this;
    }

    GradientCheck samples(int s) {
        this.samples = s;
        return this;
    }

    /** Runs the check; returns the names of the gradients checked. */
    List<String> run() {
        return onSession((tg, s) -> {
            Map<String, Tensor> feeds = feeds(tg);
            Map<String, Tensor> out = s.run(feeds);
            List<String> checked = new ArrayList<>();
            for (String name : targets(tg)) {
                compare(s, feeds, name, out.get(name + TrainingGraph.GRAD));
                checked.add(name);
            }
            for (String f : tg.frozen()) {
                if (out.containsKey(f + TrainingGraph.GRAD)) {
                    throw new AssertionError("frozen parameter " + f + " has a gradient output");
                }
            }
            return checked;
        });
    }

    /** The training graph's gradients of every trainable parameter and of the inputs, by name, on the check's feeds. */
    Map<String, Tensor> gradients() {
        return onSession((tg, s) -> {
            Map<String, Tensor> out = s.run(feeds(tg));
            Map<String, Tensor> grads = new LinkedHashMap<>();
            targets(tg).forEach(name -> grads.put(name, out.get(name + TrainingGraph.GRAD)));
            return grads;
        });
    }

    /** {@code body} on a one-thread session of the checked network's training graph. */
    private <T> T onSession(java.util.function.BiFunction<TrainingGraph, InferenceSession, T> body) {
        TrainingGraph tg = TrainingGraph.build(forward, loss, frozen, true, activations);
        byte[] model = OnnxExporter.toBytes(tg.graph(), null, ExportOptions.defaults().asBuilt().weightsAsInputs(true));
        try (InferenceSession s = InferenceSession.open(model, RuntimeOptions.cpu(1))) {
            return body.apply(tg, s);
        }
    }

    /** The trainable parameters and the inputs with gradients. */
    private static List<String> targets(TrainingGraph tg) {
        List<String> targets = new ArrayList<>(tg.trainable());
        targets.addAll(tg.inputGradients());
        return targets;
    }

    private void compare(InferenceSession s, Map<String, Tensor> feeds, String name, Tensor analytic) {
        Tensor original = feeds.get(name);
        float[] values = original.floats();
        SplittableRandom r = new SplittableRandom(seed + name.hashCode());
        int n = values.length;
        int count = Math.min(samples, n);
        int[] idx = new int[count];
        for (int i = 0; i < count; i++) {
            idx[i] = count == n ? i : r.nextInt(n);
        }
        double[] fd = new double[count];
        double scale = 0;
        for (int i = 0; i < count; i++) {
            int k = idx[i];
            float saved = values[k];
            float[] copy = values.clone();
            copy[k] = (float) (saved + step);
            double plus = lossWith(s, feeds, name, Tensor.of(original.shape(), copy));
            copy[k] = (float) (saved - step);
            double minus = lossWith(s, feeds, name, Tensor.of(original.shape(), copy));
            fd[i] = (plus - minus) / (2 * step);
            scale = Math.max(scale, Math.abs(analytic.floats()[k]));
        }
        for (int i = 0; i < count; i++) {
            double ad = analytic.floats()[idx[i]];
            double err = Math.abs(fd[i] - ad);
            if (err > RELATIVE * scale + ABSOLUTE) {
                throw new AssertionError(String.format("%s: d loss / d %s[%d] is %.6g by autodiff but %.6g by finite differences "
                        + "(error %.3g > %.0e × %.3g + %.0e)", forward.name(), name, idx[i], ad, fd[i], err, RELATIVE, scale, ABSOLUTE));
            }
        }
    }

    private static double lossWith(InferenceSession s, Map<String, Tensor> feeds, String name, Tensor value) {
        Map<String, Tensor> f = new HashMap<>(feeds);
        f.put(name, value);
        return s.run(f, Set.of(TrainingGraph.LOSS)).get(TrainingGraph.LOSS).floats()[0];
    }

    private Map<String, Tensor> feeds(TrainingGraph tg) {
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (Value v : forward.inputs()) {
            feeds.put(v.name(), TestTensors.uniform(v.shape().withBatch(batch), seed + v.name().hashCode()));
        }
        int classes = forward.mainOutput().shape().dim(1);
        SplittableRandom r = new SplittableRandom(seed);
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = r.nextInt(classes);
        }
        feeds.put(TrainingGraph.LABELS, Tensor.ofLongs(Shape.of(batch), labels));
        for (TrainingGraph.DropoutMask m : tg.masks()) {
            float[] mask = new float[Math.toIntExact(m.shape().elements(batch))];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = r.nextDouble() < m.rate() ? 0f : (float) (1 / (1 - m.rate()));
            }
            feeds.put(m.input(), Tensor.of(m.shape().withBatch(batch), mask));
        }
        Weights w = Weights.initial(forward, seed);
        for (Parameter p : forward.parameters().values()) {
            Tensor t = w.get(p.name());
            if (p.trainable()) {
                // Move every parameter off its initial constants (zero biases, unit scales) so each term matters.
                Tensor noise = TestTensors.uniform(p.shape(), seed ^ p.name().hashCode());
                float[] a = t.floats().clone();
                for (int i = 0; i < a.length; i++) {
                    a[i] += 0.3f * noise.floats()[i];
                }
                t = Tensor.of(p.shape(), a);
            } else {
                // Running statistics: positive variances, small means.
                Tensor noise = TestTensors.uniform(p.shape(), seed ^ p.name().hashCode());
                float[] a = t.floats().clone();
                for (int i = 0; i < a.length; i++) {
                    a[i] = p.name().endsWith("var") ? 0.5f + Math.abs(noise.floats()[i]) : 0.2f * noise.floats()[i];
                }
                t = Tensor.of(p.shape(), a);
            }
            feeds.put(p.name(), t);
        }
        return feeds;
    }
}
