#!/usr/bin/python3
# Rewrites every LRN node of a float ONNX file as its formula, the way `zoo quantize` prepares a float
# model before quantizing it (Mul, a 1x1 Conv whose banded weight sums the channel window scaled by
# alpha/size with the bias as its bias, Pow, Div), so that INT8 can be timed against a float file whose
# LRNs run the same way: `zoo bench googlenet-int8.onnx --vs googlenet-lrn-formula.onnx`.
# Usage: tools/lrn_as_formula.py IN.onnx OUT.onnx   (Debian's python3-onnx)
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference


def main(src, dst):
    model = onnx.load(src)
    channels = {}
    inferred = shape_inference.infer_shapes(model).graph
    for v in list(inferred.value_info) + list(inferred.input):
        dims = v.type.tensor_type.shape.dim
        if len(dims) >= 2 and dims[1].dim_value:
            channels[v.name] = dims[1].dim_value
    graph, nodes, rewritten = model.graph, [], 0
    for n in graph.node:
        if n.op_type != "LRN" or n.input[0] not in channels:
            nodes.append(n)
            continue
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        size, alpha, beta, bias = a["size"], a.get("alpha", 1e-4), a.get("beta", 0.75), a.get("bias", 1.0)
        x, c, p = n.input[0], channels[n.input[0]], n.name
        below = (size - 1) // 2
        window = np.zeros((c, c, 1, 1), np.float32)
        for o in range(c):
            window[o, max(0, o - below):min(c, o + size - below), 0, 0] = alpha / size
        graph.initializer.extend([numpy_helper.from_array(window, p + ".window"),
                                  numpy_helper.from_array(np.full(c, bias, np.float32), p + ".bias"),
                                  numpy_helper.from_array(np.array(beta, np.float32), p + ".beta")])
        nodes += [helper.make_node("Mul", [x, x], [p + ".squares"], name=p + "/squares"),
                  helper.make_node("Conv", [p + ".squares", p + ".window", p + ".bias"], [p + ".base"], name=p + "/window_sum"),
                  helper.make_node("Pow", [p + ".base", p + ".beta"], [p + ".denominator"], name=p + "/power"),
                  helper.make_node("Div", [x, p + ".denominator"], list(n.output), name=p + "/divide")]
        rewritten += 1
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, dst + ".tmp")
    os.replace(dst + ".tmp", dst)
    print("rewrote %d LRN node(s); wrote %s" % (rewritten, dst))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: lrn_as_formula.py IN.onnx OUT.onnx")
    main(sys.argv[1], sys.argv[2])
