package dev.cnnzoo.googlenet;

import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.Net;

/** The classifier heads' shared first step. */
final class Heads {
    private Heads() {
    }

    /** Global average pooling, flattened, in its own scope so summaries show it as a layer. */
    static Value globalAverage(Net net, String name, Value x) {
        try (var s = net.scope(name)) {
            return net.flatten(net.globalAvgPool(x));
        }
    }
}
