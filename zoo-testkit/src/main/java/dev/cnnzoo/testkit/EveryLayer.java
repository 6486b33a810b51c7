package dev.cnnzoo.testkit;

import dev.cnnzoo.graph.DType;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.graph.GraphBuilder;
import dev.cnnzoo.graph.Op;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Value;
import dev.cnnzoo.nn.BatchNorm;
import dev.cnnzoo.nn.Conv;
import dev.cnnzoo.nn.Lrn;
import dev.cnnzoo.nn.Net;
import dev.cnnzoo.nn.Pool;

/** One small graph that uses every layer of the graph language, for exporter and runtime tests. */
public final class EveryLayer {
    private EveryLayer() {
    }

    /**
     * Inputs {@code input} (N×3×16×16), {@code sequence} (N×2×20) and {@code volume} (N×2×6×8×8);
     * outputs {@code logits} (N×5), {@code seq_out}, {@code vol_out}, and an auxiliary {@code aux}.
     */
    public static Graph build() {
        Net net = new Net("every-layer");
        GraphBuilder g = net.graph();
        Value x = net.input(3, 16, 16);
        Value c = net.relu(net.conv("conv_same", x, Conv.of(8, 3).stride(2).same()));            // 8×8×8
        c = net.lrn("lrn", c, Lrn.ofRadius(2, 2e-5, 0.75, 1));
        Value atrous = net.conv("atrous", c, Conv.of(8, 3).dilation(2).pad(2));                   // 8×8×8
        Value depthwise = net.conv("depthwise", c, Conv.depthwise(3).same().noBias());           // 8×8×8
        Value separable = net.separableConv("separable", c, Conv.of(8, 3).same());              // 8×8×8
        Value grouped = net.conv("grouped", c, Conv.of(8, 1).groups(4));                          // 8×8×8
        Value merged = net.add(net.concat(atrous, depthwise), net.concat(separable, grouped));    // 16×8×8
        merged = net.batchNorm("bn", merged, BatchNorm.defaults().epsilon(1e-3));
        merged = net.tanh(merged);
        Value pooled = net.maxPool("maxpool", merged, Pool.of(3).stride(2).pad(1));               // 16×4×4
        Value avg = net.avgPool("avgpool", merged, Pool.of(3).stride(2).pad(1).countIncludePad());// 16×4×4
        Value ceil = net.maxPool("ceilpool", merged, Pool.of(3).stride(2).ceil());                // 16×4×4
        Value depth = net.depthMaxPool("depthpool", net.concat(pooled, avg, ceil), 3);            // 16×4×4
        Value up = net.sigmoid(net.convTranspose("up", depth, Conv.of(4, 3).stride(2).same()));   // 4×8×8
        Value padded = net.zeroPad(up, 1);                                                        // 4×10×10
        Value gap = net.flatten(net.globalAvgPool(padded));                                       // 4
        Value gmp = net.flatten(net.globalMaxPool(depth));                                        // 16
        Value features = g.op(Op.CONCAT, dev.cnnzoo.graph.Attributes.of("axis", 1), gap, gmp);   // 20
        Value hidden = net.dropout(net.relu(net.dense("fc1", features, 12)), 0.3);
        net.output(Net.LOGITS, net.dense("fc2", hidden, 5));
        net.auxiliaryOutput("aux", net.softmax(net.dense("aux_fc", gmp, 3)));

        Value seq = g.input("sequence", DType.FLOAT, Shape.batched(2, 20));
        net.output("seq_out", net.conv("conv1d", seq, Conv.of(3, 5).stride(2).same()));
        Value vol = g.input("volume", DType.FLOAT, Shape.batched(2, 6, 8, 8));
        Value v = net.conv("conv3d", vol, Conv.of(2, 3).pad(1));
        net.output("vol_out", net.maxPool("pool3d", v, Pool.of(2)));
        return net.build();
    }
}
