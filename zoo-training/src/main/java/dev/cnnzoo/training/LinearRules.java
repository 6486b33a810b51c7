package dev.cnnzoo.training;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Attributes;
import dev.cnnzoo.graph.Node;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Dense layers: Gemm and MatMul. */
final class LinearRules {
    private LinearRules() {
    }

    static void register(Map<Op, GradientRule> rules) {
        rules.put(Op.GEMM, LinearRules::gemm);
        rules.put(Op.MAT_MUL, LinearRules::matMul);
    }

    /**
     * Y = α·op(A)·op(B) + β·C with op a transpose when transA/transB is set:
     * d op(A) = α·G·op(B)ᵀ, d op(B) = α·op(A)ᵀ·G, dC = β·G summed over broadcast axes.
     */
    private static List<Value> gemm(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        Attributes at = node.attributes();
        boolean ta = at.getInt("transA", 0) == 1;
        boolean tb = at.getInt("transB", 0) == 1;
        double alpha = at.getFloat("alpha", 1f);
        double beta = at.getFloat("beta", 1f);
        Value g = d.scale(grads.get(0), alpha);
        Value a = in.get(0);
        Value b = in.get(1);
        Value da = null;
        Value db = null;
        if (needed[0]) {
            // dA = G·op(B)ᵀ, or its transpose when A is transposed.
            da = ta ? d.op(Op.GEMM, Attributes.of("transA", tb ? 1 : 0, "transB", 1), b, g)
                    : d.op(Op.GEMM, Attributes.of("transB", tb ? 0 : 1), g, b);
        }
        if (needed[1]) {
            db = tb ? d.op(Op.GEMM, Attributes.of("transA", 1, "transB", ta ? 1 : 0), g, a)
                    : d.op(Op.GEMM, Attributes.of("transA", ta ? 0 : 1), a, g);
        }
        Value dc = in.size() > 2 && in.get(2) != null && needed[2] ? d.unbroadcast(d.scale(grads.get(0), beta), in.get(2).shape()) : null;
        return Arrays.asList(da, db, dc);
    }

    /** Y = A·B over the last two axes, batch axes broadcast: dA = G·Bᵀ, dB = Aᵀ·G, reduced over broadcasting. */
    private static List<Value> matMul(GradientEmitter d, Node node, List<Value> in, List<Value> out, List<Value> grads, boolean[] needed) {
        Value a = in.get(0);
        Value b = in.get(1);
        if (a.shape().rank() < 2 || b.shape().rank() < 2) {
            throw new ZooException("node " + node.name() + ": MatMul gradients need operands of rank 2 or more");
        }
        Value g = grads.get(0);
        Value da = needed[0] ? d.unbroadcast(d.op(Op.MAT_MUL, g, swapLast(d, b)), a.shape()) : null;
        Value db = needed[1] ? d.unbroadcast(d.op(Op.MAT_MUL, swapLast(d, a), g), b.shape()) : null;
        return Arrays.asList(da, db);
    }

    private static Value swapLast(GradientEmitter d, Value v) {
        int r = v.shape().rank();
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) {
            perm[i] = i;
        }
        perm[r - 2] = r - 1;
        perm[r - 1] = r - 2;
        return d.transpose(v, perm);
    }
}
