package dev.cnnzoo.training;

import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.graph.Value;

/** Softmax cross-entropy of one head, emitted as standard operators. */
final class Losses {
    /** The head's mean loss (times its weight) and the gradient of that with respect to its logits. */
    record Head(Value loss, Value logitsGradient) {
    }

    private Losses() {
    }

    /**
     * −mean_n Σ_k t_nk·log softmax(z)_nk with t the one-hot labels smoothed by ε (ε/K everywhere, plus
     * 1 − ε on the label); its gradient is (softmax(z) − t)·weight/N.
     */
    static Head crossEntropy(GraphBuilder g, Value logits, Value labels, double smoothing, double weight, boolean withGradient) {
        GradientEmitter d = new GradientEmitter(g, java.util.Set.of());
        int classes = logits.shape().dim(1);
        Value target = g.op(Op.ONE_HOT, Attributes.of("axis", -1), labels, g.int64s(classes),
                g.constant(Tensor.of(Shape.of(2), new float[] {(float) (smoothing / classes), (float) (1 - smoothing + smoothing / classes)})));
        Value logp = g.op(Op.LOG_SOFTMAX, Attributes.of("axis", 1), logits);
        Value perImage = d.neg(d.reduceSum(d.mul(target, logp), false, 1));
        Value loss = d.scale(d.reduceMean(perImage, false, 0), weight);
        Value grad = withGradient ? d.div(d.scale(d.sub(d.op(Op.EXP, logp), target), weight), d.batchSize(logits)) : null;
        return new Head(loss, grad);
    }
}
