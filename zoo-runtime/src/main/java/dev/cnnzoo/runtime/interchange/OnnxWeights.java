package dev.cnnzoo.runtime.interchange;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.onnx.OnnxFiles;
import dev.cnnzoo.graph.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The floating-point initializers of an ONNX file and the nodes that use them: what
 * {@link WeightImport} maps onto a zoo model. Weights stored as external data are read from their
 * side files; {@code Identity} nodes (PyTorch's exporter writes one for each duplicate of a tensor)
 * are followed back to the initializer they copy.
 */
final class OnnxWeights {
    /** A node input that is a weight: the node, its operator, which input, and the initializer's name. */
    record Use(String node, Op op, int input, String initializer, Map<String, Long> intAttributes) {
    }

    private final Map<String, Tensor> tensors;
    private final List<Use> uses;

    private OnnxWeights(Map<String, Tensor> tensors, List<Use> uses) {
        this.tensors = tensors;
        this.uses = uses;
    }

    Map<String, Tensor> tensors() {
        return tensors;
    }

    List<Use> uses() {
        return uses;
    }

    static OnnxWeights read(Path file) {
        ModelProto model = OnnxFiles.read(file);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (TensorProto t : model.getGraph().getInitializerList()) {
            if (!names.add(t.getName())) {
                throw new ZooException(file + " names the initializer '" + t.getName() + "' twice; which copy is meant cannot be told");
            }
            if (OnnxFiles.isFloating(t.getDataType())) {
                Shape shape = Tensor.holdableShape(file + ": initializer '" + t.getName() + "'",
                        t.getDimsList().stream().mapToLong(Long::longValue).toArray());
                tensors.put(t.getName(), Tensor.of(shape, OnnxFiles.floats(t)));
            }
        }
        // Identity nodes copying an initializer: their output stands for it.
        Map<String, String> alias = new HashMap<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            if (Op.IDENTITY.opType().equals(n.getOpType()) && n.getInputCount() == 1 && n.getOutputCount() == 1) {
                String source = alias.getOrDefault(n.getInput(0), n.getInput(0));
                if (tensors.containsKey(source)) {
                    alias.put(n.getOutput(0), source);
                }
            }
        }
        List<Use> uses = new ArrayList<>();
        for (NodeProto n : model.getGraph().getNodeList()) {
            Op op = Op.find(n.getOpType()).orElse(null);
            if (op == null || op == Op.IDENTITY) {
                continue;       // an operator the zoo never writes holds none of its weights; identities are followed above
            }
            Map<String, Long> ints = new HashMap<>();
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getType() == AttributeProto.AttributeType.INT) {
                    ints.put(a.getName(), a.getI());
                }
            }
            for (int i = 0; i < n.getInputCount(); i++) {
                String name = alias.getOrDefault(n.getInput(i), n.getInput(i));
                if (tensors.containsKey(name)) {
                    uses.add(new Use(n.getName(), op, i, name, ints));
                }
            }
        }
        return new OnnxWeights(tensors, uses);
    }
}
