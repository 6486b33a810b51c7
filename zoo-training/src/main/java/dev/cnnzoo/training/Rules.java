package dev.cnnzoo.training;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** The gradient rule of every operator type the zoo's networks use. */
final class Rules {
    private static final Map<String, GradientRule> RULES = new HashMap<>();

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

    static GradientRule of(String op) {
        return RULES.get(op);
    }

    /** The operator types that can be differentiated. */
    static Set<String> supported() {
        return RULES.keySet();
    }
}
