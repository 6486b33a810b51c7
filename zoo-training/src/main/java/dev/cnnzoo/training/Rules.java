package dev.cnnzoo.training;

import dev.cnnzoo.graph.Op;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/** The gradient rule of every operator the zoo's networks use. */
final class Rules {
    private static final Map<Op, GradientRule> RULES = new EnumMap<>(Op.class);

    static {
        ElementwiseRules.register(RULES);
        LinearRules.register(RULES);
        ConvRules.register(RULES);
        PoolRules.register(RULES);
        NormRules.register(RULES);
        ShapeRules.register(RULES);
        ReduceRules.register(RULES);
    }

    private Rules() {
    }

    /** The operator's gradient rule, or null if it cannot be differentiated. */
    static GradientRule of(Op op) {
        return RULES.get(op);
    }

    /** The operators that can be differentiated. */
    static Set<Op> supported() {
        return Collections.unmodifiableSet(RULES.keySet());
    }
}
