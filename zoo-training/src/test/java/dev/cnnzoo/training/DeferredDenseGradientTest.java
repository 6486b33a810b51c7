package dev.cnnzoo.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Net;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A large dense layer's weight gradient (2^24 values or more) is computed after every other gradient of the backward pass. */
class DeferredDenseGradientTest {

    @Test
    void largeDenseWeightGradientsDependOnEveryOtherGradient() {
        Net net = new Net("conv-bn-dense");
        Value x = net.input(3, 8, 8);
        Value h = net.relu(net.batchNorm("bn1", net.conv("conv1", x, Conv.of(64, 3).pad(1))));
        h = net.relu(net.dense("fc1", net.flatten(h), 4096));        // 4,096 × 4,096 weights: 2^24 (only shapes are built)
        net.output(Net.LOGITS, net.dense("fc2", h, 3));
        TrainingGraph training = TrainingGraph.build(net.build(), Loss.crossEntropy(), Set.of(), false, TrainingGraph.Activations.KEEP);
        assertEquals(java.util.List.of("fc1.weight"), training.deferredGradients());
        Graph tg = training.graph();

        Set<Value> before = ancestors(tg, output(tg, "fc1.weight" + TrainingGraph.GRAD));
        for (String other : new String[] {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "fc1.bias", "fc2.weight", "fc2.bias"}) {
            assertTrue(before.contains(output(tg, other + TrainingGraph.GRAD)), "fc1.weight's gradient does not wait for " + other + "'s");
        }
        // nothing waits for it, and fc2's 4,096 × 3 weights are not deferred
        assertEquals(false, ancestors(tg, output(tg, "conv1.weight" + TrainingGraph.GRAD)).contains(output(tg, "fc1.weight" + TrainingGraph.GRAD)));
        assertEquals(false, ancestors(tg, output(tg, "fc2.weight" + TrainingGraph.GRAD)).contains(output(tg, "conv1.weight" + TrainingGraph.GRAD)));
    }

    private static Value output(Graph g, String name) {
        return g.outputs().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow().value();
    }

    private static Set<Value> ancestors(Graph g, Value v) {
        Set<Value> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Value> todo = new ArrayDeque<>(java.util.List.of(v));
        while (!todo.isEmpty()) {
            Node p = g.producer(todo.pop());
            if (p == null) {
                continue;
            }
            for (Value in : p.inputs()) {
                if (in != null && seen.add(in)) {
                    todo.push(in);
                }
            }
        }
        return seen;
    }
}
