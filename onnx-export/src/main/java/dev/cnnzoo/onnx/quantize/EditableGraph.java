package dev.cnnzoo.onnx.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An ONNX graph opened for rewriting: nodes in topological order with mutable inputs and outputs,
 * initializers by name, and the value infos. Producers and consumers are looked up on demand, so
 * they stay right while nodes change.
 */
final class EditableGraph {
    /** A node: its op, name, inputs and outputs ("" for an omitted optional input), attributes. */
    static final class Node {
        String name;
        final String op;
        final String domain;
        final List<String> inputs;
        final List<String> outputs;
        final List<AttributeProto> attributes;
        /** Anything else the node carried (a doc string, subgraph attributes): kept as is. */
        private final NodeProto original;

        Node(String name, String op, String domain, List<String> inputs, List<String> outputs, List<AttributeProto> attributes) {
            this(name, op, domain, inputs, outputs, attributes, null);
        }

        private Node(String name, String op, String domain, List<String> inputs, List<String> outputs, List<AttributeProto> attributes,
                NodeProto original) {
            this.name = name;
            this.op = op;
            this.domain = domain;
            this.inputs = new ArrayList<>(inputs);
            this.outputs = new ArrayList<>(outputs);
            this.attributes = new ArrayList<>(attributes);
            this.original = original;
        }

        static Node of(NodeProto n) {
            return new Node(n.getName(), n.getOpType(), n.getDomain(), n.getInputList(), n.getOutputList(), n.getAttributeList(), n);
        }

        /** The op in the default (ONNX) domain. */
        boolean isOnnx(String type) {
            return op.equals(type) && (domain.isEmpty() || domain.equals("ai.onnx"));
        }

        String input(int i) {
            return i < inputs.size() ? inputs.get(i) : "";
        }

        Optional<AttributeProto> attribute(String key) {
            return attributes.stream().filter(a -> a.getName().equals(key)).findFirst();
        }

        long intAttribute(String key, long fallback) {
            return attribute(key).map(AttributeProto::getI).orElse(fallback);
        }

        float floatAttribute(String key, float fallback) {
            return attribute(key).map(AttributeProto::getF).orElse(fallback);
        }

        NodeProto toProto() {
            NodeProto.Builder b = original != null ? original.toBuilder() : NodeProto.newBuilder();
            b.setName(name).setOpType(op).setDomain(domain);
            b.clearInput().addAllInput(inputs).clearOutput().addAllOutput(outputs).clearAttribute().addAllAttribute(attributes);
            return b.build();
        }

        @Override
        public String toString() {
            return op + " '" + name + "'";
        }
    }

    final List<Node> nodes = new ArrayList<>();
    final Map<String, TensorProto> initializers = new LinkedHashMap<>();
    final Map<String, ValueInfoProto> valueInfo = new LinkedHashMap<>();
    private final GraphProto original;

    EditableGraph(GraphProto g) {
        this.original = g;
        g.getNodeList().forEach(n -> nodes.add(Node.of(n)));
        g.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        g.getValueInfoList().forEach(v -> valueInfo.put(v.getName(), v));
        nameUnnamedNodes();
    }

    /** Some exporters leave node names empty; reports and layer selection need one per node. */
    private void nameUnnamedNodes() {
        Set<String> taken = new HashSet<>();
        nodes.forEach(n -> taken.add(n.name));
        for (Node n : nodes) {
            if (n.name.isEmpty()) {
                String base = n.outputs.isEmpty() ? n.op : n.outputs.get(0);
                String name = base;
                for (int k = 1; !taken.add(name); k++) {
                    name = base + "_" + k;
                }
                n.name = name;
            }
        }
    }

    List<ValueInfoProto> inputs() {
        return original.getInputList();
    }

    List<ValueInfoProto> outputs() {
        return original.getOutputList();
    }

    boolean isGraphOutput(String name) {
        return original.getOutputList().stream().anyMatch(v -> v.getName().equals(name));
    }

    boolean isGraphInput(String name) {
        return original.getInputList().stream().anyMatch(v -> v.getName().equals(name)) && !initializers.containsKey(name);
    }

    boolean isInitializer(String name) {
        return initializers.containsKey(name);
    }

    /** The node writing {@code tensor}, or null for graph inputs, initializers and unknown names. */
    Node producer(String tensor) {
        for (Node n : nodes) {
            if (n.outputs.contains(tensor)) {
                return n;
            }
        }
        return null;
    }

    /** Producer of every tensor, for passes that look many up. */
    Map<String, Node> producers() {
        Map<String, Node> m = new HashMap<>();
        for (Node n : nodes) {
            n.outputs.forEach(o -> m.put(o, n));
        }
        return m;
    }

    /** Consumers of every tensor, in node order (a node reading a tensor twice is listed twice). */
    Map<String, List<Node>> consumers() {
        Map<String, List<Node>> m = new HashMap<>();
        for (Node n : nodes) {
            for (String i : n.inputs) {
                if (!i.isEmpty()) {
                    m.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
                }
            }
        }
        return m;
    }

    /** Nodes that read {@code tensor}. */
    List<Node> consumersOf(String tensor) {
        return consumers().getOrDefault(tensor, List.of());
    }

    /** Replaces every read of {@code from} by {@code to}. */
    void renameUses(String from, String to) {
        for (Node n : nodes) {
            n.inputs.replaceAll(i -> i.equals(from) ? to : i);
        }
    }

    /** Removes initializers no node reads and no graph input or output names. */
    void dropUnusedInitializers() {
        Set<String> used = new HashSet<>();
        nodes.forEach(n -> used.addAll(n.inputs));
        original.getOutputList().forEach(v -> used.add(v.getName()));
        original.getInputList().forEach(v -> used.add(v.getName()));
        initializers.keySet().removeIf(k -> !used.contains(k));
    }

    /** Names in use, gathered on the first {@link #freshName} call and kept up to date by it. */
    private Set<String> taken;

    /**
     * A name no tensor, node or initializer of the graph uses yet, {@code base} where free. Every
     * name it returns counts as used from then on, so two calls never return the same name.
     */
    String freshName(String base) {
        if (taken == null) {
            taken = new HashSet<>(initializers.keySet());
            taken.addAll(valueInfo.keySet());
            for (Node n : nodes) {
                taken.add(n.name);
                taken.addAll(n.inputs);
                taken.addAll(n.outputs);
            }
            original.getInputList().forEach(v -> taken.add(v.getName()));
            original.getOutputList().forEach(v -> taken.add(v.getName()));
        }
        String name = base;
        for (int k = 1; taken.contains(name); k++) {
            name = base + "_" + k;
        }
        taken.add(name);
        return name;
    }

    GraphProto toProto() {
        GraphProto.Builder g = original.toBuilder().clearNode().clearInitializer().clearValueInfo();
        nodes.forEach(n -> g.addNode(n.toProto()));
        g.addAllInitializer(initializers.values());
        Set<String> written = new HashSet<>();
        nodes.forEach(n -> written.addAll(n.outputs));
        for (ValueInfoProto v : valueInfo.values()) {
            if (written.contains(v.getName()) && !isGraphOutput(v.getName())) {
                g.addValueInfo(v);
            }
        }
        return g.build();
    }
}
