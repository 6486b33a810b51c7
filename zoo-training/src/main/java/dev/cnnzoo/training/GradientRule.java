package dev.cnnzoo.training;

import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Value;
import java.util.List;

/**
 * How one operator type trains: its forward computation in training mode (usually the node as it
 * is) and the gradients of its inputs given the gradients of its outputs, emitted as standard ONNX
 * operators into the training graph.
 */
interface GradientRule {
    /**
     * Emits the node's training-mode forward computation.
     *
     * @param inputs the node's inputs in the training graph (null for an omitted optional input)
     * @return the node's outputs in the training graph, aligned with {@code node.outputs()}
     */
    default List<Value> forward(GradientEmitter d, Node node, List<Value> inputs) {
        return d.copy(node, inputs);
    }

    /**
     * Emits the gradients of the inputs.
     *
     * @param outputGrads gradient of each output (null for an output nothing depends on)
     * @param needed      which inputs need a gradient (they depend on a trainable parameter)
     * @return a gradient per input, null where not needed
     */
    List<Value> backward(GradientEmitter d, Node node, List<Value> inputs, List<Value> outputs, List<Value> outputGrads,
            boolean[] needed);
}
